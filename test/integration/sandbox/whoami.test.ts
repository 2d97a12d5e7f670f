// authentication.k8s.io/v1 SelfSubjectReview, which `kubectl auth whoami` uses (GA since 1.28, so a 1.32 server has
// it): the user, groups and extras the server authenticated, impersonation included.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { type Sandbox, startTestSandbox } from '../../helpers/sandbox.js';

function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('SelfSubjectReview', async () => {
  const hasKubectl = (await kubectl(['version', '--client'])).code === 0;
  let sb: Sandbox;

  before(async () => {
    sb = await startTestSandbox(undefined);
  });
  after(() => sb.stop());

  it('answers with the authenticated user over client-node', async () => {
    const kc = sb.cluster('east').kubeConfigFor('jane', ['developers']);
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    assert.equal(review.kind, 'SelfSubjectReview');
    assert.equal(review.status?.userInfo?.username, 'jane');
    assert.deepEqual(review.status?.userInfo?.groups, ['developers', 'system:authenticated']);
  });

  it('kubectl auth whoami, also with --as', { skip: !hasKubectl && 'kubectl is not installed' }, async () => {
    const me = await kubectl(['--kubeconfig', sb.kubeconfigPath, 'auth', 'whoami']);
    assert.equal(me.code, 0, me.stderr);
    assert.match(me.stdout, /Username\s+admin/);
    assert.match(me.stdout, /Groups\s+\[system:masters system:authenticated\]/);
    const as = await kubectl(['--kubeconfig', sb.kubeconfigPath, 'auth', 'whoami', '--as', 'bob', '-o', 'json']);
    assert.equal(as.code, 0, as.stderr);
    const body = JSON.parse(as.stdout) as { status: { userInfo: { username: string } } };
    assert.equal(body.status.userInfo.username, 'bob');
  });
});
