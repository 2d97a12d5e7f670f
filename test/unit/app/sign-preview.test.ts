// The sign dialog's preview of the certificate about to be issued: its validity says where it comes from, and
// says so when the CA's own expiry cuts it short (a 1-day CA with the default profile's 8760 h).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openVerb } from '../../../src/app/dialogs.js';
import type { InsightCache } from '../../../src/app/insights.js';
import { csrKey, initialState, reducer } from '../../../src/app/store.js';
import { initCa } from '../../../src/services/config/ca-registry.js';
import { decodeCsr } from '../../../src/services/pki/decode.js';
import { generateKeyAndCsr } from '../../../src/services/pki/generate.js';
import { csr, NOW, snapshot } from './fixtures.js';

async function preview(caDays: number, expirationSeconds?: number): Promise<string> {
  const registryDir = mkdtempSync(join(tmpdir(), 'certdesk-sign-preview-'));
  await initCa({ signerName: 'example.com/calico', days: caDays, keyAlgorithm: 'ECDSAWithCurve256', cwd: registryDir });
  const { csrPem } = await generateKeyAndCsr({ cn: 'typha-client', hosts: ['typha-client'] });
  const decoded = await decodeCsr(csrPem);
  const object = csr('to-sign', { state: 'Approved' });
  object.spec.request = Buffer.from(csrPem).toString('base64');
  if (expirationSeconds) object.spec.expirationSeconds = expirationSeconds;
  let state = initialState({ contexts: ['east'], columns: 140, rows: 40, now: NOW });
  state = reducer(state, { type: 'snapshots', snapshots: { east: snapshot('east', [object]) } });
  assert.equal(state.cursor.csrs ?? csrKey('east', 'to-sign'), csrKey('east', 'to-sign'));
  const insights = {
    insightNow: async () => ({ decoded, findings: [], worst: 'ok' as const }),
    capability: () => undefined,
  };
  const dialog = await openVerb('sign', state, {
    insights: insights as unknown as InsightCache,
    registryDir,
    now: () => new Date(),
  });
  assert.ok('details' in dialog, 'status' in dialog ? dialog.status : 'no dialog');
  assert.equal(dialog.blocked, undefined);
  const lines = dialog.details.flatMap((s) => s.lines.map((l) => ('text' in l ? l.text : '')));
  const validity = lines.find((l) => l.startsWith('validity'));
  assert.ok(validity, lines.join('\n'));
  return validity;
}

describe('sign dialog: validity preview', () => {
  it("says when the CA's expiry cuts the certificate short", async () => {
    assert.match(await preview(1), /default of profile default: 8760 h, cut to the CA's expiry\)$/);
  });

  it('says nothing of the CA when the certificate ends before it', async () => {
    const line = await preview(3650, 3600);
    assert.match(line, /\(backdated 5 min; requested 1 h\)$/);
  });
});
