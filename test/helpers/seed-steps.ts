// Steps of the seed documents' flows shared by the sandbox e2e tier and the real-server tier (test/e2e/headless and
// test/real), so both run the same workflow against their own server.
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ok, type RunResult } from '../e2e/headless/helpers.js';

interface Env {
  dir: string;
  run(args: string[], extraEnv?: NodeJS.ProcessEnv, timeoutMs?: number): Promise<RunResult>;
}

/** "Manage TLS Certificates": the document's local CA for example.com/serving (`ca init`, RSA 2048). */
export async function initServingCa(e: Env, signer: string): Promise<void> {
  ok(
    await e.run(['ca', 'init', '--signer', signer, '--cn', 'My Example Signer', '--key-algorithm', 'RSAWithSize2048']),
  );
}

/** A CoreV1 client on a kubeconfig's `east` context (admin). */
export function coreApi(kubeconfigPath: string): CoreV1Api {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  kc.setCurrentContext('east');
  return kc.makeApiClient(CoreV1Api);
}

/**
 * The onboarding notes (seed 003): `request --wait` for jane's kube-apiserver-client certificate while an approver
 * runs `approve jane` as soon as the CSR exists (polled with a deadline). Returns the finished request and the
 * directory holding jane's key, CSR and certificate.
 */
export async function requestJaneAndApprove(
  e: Env,
  waitSeconds: number,
): Promise<{ requested: RunResult; out: string }> {
  const out = join(e.dir, 'jane');
  const waiting = e.run(
    [
      ...['request', '--cn', 'jane', '--signer', 'kubernetes.io/kube-apiserver-client', '--expiration', '10m'],
      ...['--name', 'jane', '--file-prefix', 'jane', '--out-dir', out, '--wait', '--timeout', `${waitSeconds}s`],
    ],
    {},
    (waitSeconds + 30) * 1000,
  );
  const deadline = Date.now() + waitSeconds * 1000;
  let approved = false;
  while (!approved && Date.now() < deadline) approved = (await e.run(['approve', 'jane'])).code === 0;
  if (!approved) throw new Error('jane was never approved');
  return { requested: ok(await waiting), out };
}
