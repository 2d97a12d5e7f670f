// kubeconfig loading as kubectl does it: the KUBECONFIG list merged (first definition wins), current-context,
// --context, --all-contexts, and one KubeConfig per context.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { KubeConfigError, loadContexts } from '../../../src/services/kube/contexts.js';

describe('loadContexts', () => {
  let dir: string;
  let a: string;
  let b: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kube-contexts-'));
    a = join(dir, 'a.yaml');
    b = join(dir, 'b.yaml');
    writeFileSync(
      a,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'east',
        clusters: [
          { name: 'east', cluster: { server: 'https://east.example:6443/', 'certificate-authority': 'ca.crt' } },
          { name: 'shared', cluster: { server: 'https://first.example' } },
        ],
        users: [{ name: 'alice', user: { token: 'alice-token' } }],
        contexts: [
          { name: 'east', context: { cluster: 'east', user: 'alice', namespace: 'calico-system' } },
          { name: 'shared', context: { cluster: 'shared', user: 'alice' } },
        ],
      }),
    );
    writeFileSync(
      b,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'west',
        clusters: [
          { name: 'west', cluster: { server: 'https://west.example' } },
          { name: 'shared', cluster: { server: 'https://second.example' } },
        ],
        users: [{ name: 'bob', user: { token: 'bob-token' } }],
        contexts: [
          { name: 'west', context: { cluster: 'west', user: 'bob' } },
          { name: 'shared', context: { cluster: 'shared', user: 'bob' } },
          { name: 'orphan', context: { cluster: 'nowhere', user: 'bob' } },
        ],
      }),
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const env = (kubeconfig: string) => ({ KUBECONFIG: kubeconfig, HOME: dir });

  it('uses the current-context of the first file that sets one', () => {
    const [ctx] = loadContexts({ env: env(`${a}:${b}`) });
    assert.equal(ctx?.name, 'east');
    assert.equal(ctx?.server, 'https://east.example:6443');
    assert.equal(ctx?.namespace, 'calico-system');
    assert.equal(ctx?.user, 'alice');
    const [other] = loadContexts({ env: env(`${b}:${a}`) });
    assert.equal(other?.name, 'west');
  });

  it('lets the first file win for a name defined twice, and skips missing files in the list', () => {
    const [shared] = loadContexts({ env: env(`${join(dir, 'missing.yaml')}:${a}:${b}`), contexts: ['shared'] });
    assert.equal(shared?.server, 'https://first.example');
    assert.equal(shared?.user, 'alice');
  });

  it('pins one KubeConfig per context, so credentials never cross', () => {
    const ctxs = loadContexts({ env: env(`${a}:${b}`), contexts: ['east', 'west', 'east'] });
    assert.deepEqual(
      ctxs.map((c) => c.name),
      ['east', 'west'],
    );
    for (const c of ctxs) {
      assert.equal(c.kubeConfig.getContexts().length, 1);
      assert.equal(c.kubeConfig.getCurrentContext(), c.name);
      assert.equal(c.kubeConfig.getUsers().length, 1);
    }
    assert.equal(ctxs[0]?.kubeConfig.getCurrentUser()?.token, 'alice-token');
    assert.equal(ctxs[1]?.kubeConfig.getCurrentUser()?.token, 'bob-token');
    // Relative paths are resolved against the file that named them.
    assert.equal(ctxs[0]?.kubeConfig.getCurrentCluster()?.caFile, join(dir, 'ca.crt'));
  });

  it('loads every context with allContexts, and an explicit --kubeconfig wins over KUBECONFIG', () => {
    const names = loadContexts({ env: env(`${a}:${b}`), allContexts: true, contexts: undefined }).map((c) => c.name);
    assert.ok(names.includes('east') && names.includes('west'));
    const warnings: string[] = [];
    const fromB = loadContexts({ env: env(b), allContexts: true, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(
      fromB.map((c) => c.name),
      ['west', 'shared'],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /Skipping context "orphan".*cluster "nowhere"/);
    assert.throws(() => loadContexts({ env: env(b), contexts: ['orphan'] }), /cluster "nowhere"/);
    const [fromFlag] = loadContexts({ env: env(b), kubeconfig: a });
    assert.equal(fromFlag?.name, 'east');
  });

  it('fails with one sentence for a missing file, an unknown context, or no kubeconfig', () => {
    assert.throws(
      () => loadContexts({ env: env(a), kubeconfig: join(dir, 'nope.yaml') }),
      (e: unknown) => e instanceof KubeConfigError && /does not exist/.test(e.message),
    );
    assert.throws(
      () => loadContexts({ env: env(`${a}:${b}`), contexts: ['south'] }),
      (e: unknown) =>
        e instanceof KubeConfigError && /"south" is not in the kubeconfig \(known: east, shared, west/.test(e.message),
    );
    assert.throws(
      () => loadContexts({ env: { HOME: join(dir, 'empty-home') } }),
      (e: unknown) => e instanceof KubeConfigError && /No kubeconfig found/.test(e.message),
    );
  });
});
