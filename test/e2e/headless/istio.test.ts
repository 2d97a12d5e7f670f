// The Istio document (seed 004) with the built binary on the sandbox: one CA per tenant signer (foo, bar); workloads'
// CSRs signed by their own CA; mutual TLS succeeds within foo and fails between foo and bar (test/helpers/istio-flow.ts,
// which the real-server tier runs too).
import { after, before, test } from 'node:test';
import { istioMtlsFlow } from '../../helpers/istio-flow.js';
import { type E2eEnv, startE2e } from './helpers.js';

let e: E2eEnv;

before(async () => {
  e = await startE2e();
});
after(async () => {
  await e?.stop();
});

test('foo and bar workloads: mTLS within foo succeeds, between foo and bar fails', async () => {
  await istioMtlsFlow(e);
});
