// deploy/ stays consistent with itself and with the controller's options.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { parse, parseAllDocuments } from 'yaml';
import { registerControllerCommands } from '../../../src/headless/register-controller.js';
import { policyFromObject } from '../../../src/services/policy/index.js';

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

function docs(file: string): Obj[] {
  const text = readFileSync(new URL(`../../../deploy/${file}`, import.meta.url), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as Obj);
}

const deployment = docs('deployment.yaml')[0] as Obj & {
  spec: {
    replicas: number;
    template: {
      spec: {
        serviceAccountName: string;
        containers: {
          args: string[];
          env: { name: string; value?: string }[];
          volumeMounts: { name: string; mountPath: string }[];
        }[];
        volumes: { name: string; secret?: { defaultMode: number }; emptyDir?: object }[];
      };
    };
  };
};
const container = deployment.spec.template.spec.containers[0];
const args = container?.args ?? [];
const arg = (flag: string) => args.filter((a) => a.startsWith(`${flag}=`)).map((a) => a.slice(flag.length + 1));
const rbac = docs('rbac.yaml') as (Obj & {
  rules?: { resources: string[]; resourceNames?: string[]; verbs: string[] }[];
})[];

describe('deploy/', () => {
  it('runs two replicas of `certdesk controller` with options the command accepts', async () => {
    assert.equal(deployment.spec.replicas, 2);
    assert.equal(args[0], 'controller');
    const program = new Command().exitOverride();
    let seen: Record<string, unknown> | undefined;
    registerControllerCommands(program);
    const cmd = program.commands.find((c) => c.name() === 'controller');
    cmd?.action((opts: Record<string, unknown>) => {
      seen = opts;
    });
    await program.parseAsync(['node', 'certdesk', ...args]);
    assert.deepEqual(seen?.signer, arg('--signer'));
    assert.equal(seen?.approve, true);
    assert.equal(seen?.sign, true);
    assert.deepEqual(container?.env.map((e) => e.name).sort(), [
      'CERTDESK_STATE_DIR',
      'HOME',
      'POD_NAME',
      'POD_NAMESPACE',
    ]);
    // The audit log (on by default) goes to a volume: the state dir is mounted.
    const stateDir = container?.env.find((e) => e.name === 'CERTDESK_STATE_DIR')?.value;
    const mount = container?.volumeMounts.find((m) => m.mountPath === stateDir);
    assert.ok(mount && deployment.spec.template.spec.volumes.some((v) => v.name === mount.name));
    const ca = deployment.spec.template.spec.volumes.find((v) => v.name === 'ca');
    assert.equal(ca?.secret?.defaultMode, 0o400);
  });

  it('grants approve and sign on exactly the signers the Deployment serves, and only its own Lease', () => {
    const role = rbac.find((o) => o.kind === 'ClusterRole');
    const signers = role?.rules?.find((r) => r.resources.includes('signers'));
    assert.deepEqual(signers?.resourceNames, arg('--signer'));
    assert.deepEqual(signers?.verbs.sort(), ['approve', 'sign']);
    assert.ok(!role?.rules?.some((r) => r.verbs.includes('*') || r.resources.includes('*')));
    // node-addresses reads the Nodes' addresses: read only.
    const nodes = role?.rules?.filter((r) => r.resources.includes('nodes'));
    assert.deepEqual(
      nodes?.map((r) => r.verbs.sort()),
      [['get', 'list', 'watch']],
    );
    const leaseRole = rbac.find((o) => o.kind === 'Role');
    const named = leaseRole?.rules?.find((r) => r.resourceNames);
    assert.deepEqual(named?.resourceNames, arg('--lease-name'));
    const sa = docs('serviceaccount.yaml')[0];
    for (const b of rbac.filter((o) => o.kind.endsWith('Binding')) as (Obj & {
      subjects: { name: string; namespace: string }[];
    })[]) {
      assert.deepEqual(
        b.subjects.map((s) => `${s.namespace}/${s.name}`),
        [`${sa?.metadata.namespace}/${deployment.spec.template.spec.serviceAccountName}`],
      );
    }
  });

  it('ships a policy the controller accepts', () => {
    const cm = docs('policy-configmap.yaml')[0] as Obj & { data: Record<string, string> };
    const policy = policyFromObject(parse(cm.data['policy.yaml'] ?? ''));
    assert.equal(policy.name, 'calico-controller');
    assert.equal(arg('--policy')[0], '/etc/certdesk/policy/policy.yaml');
  });
});
