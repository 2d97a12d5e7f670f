// Watches over HTTPS: chunked JSON lines, ADDED/MODIFIED/DELETED, start at a resourceVersion, bookmarks,
// timeoutSeconds, 410 Expired as an ERROR event (kube-api.md §5), selector transitions, pause/resume.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type CertificatesV1Api, type KubeConfig, Watch } from '@kubernetes/client-node';
import type { SandboxCluster } from '../../../src/services/sandbox/index.js';
import {
  apiError,
  clients,
  csrObject,
  makeCsrPem,
  type Sandbox,
  startTestSandbox,
  waitFor,
} from '../../helpers/sandbox.js';

let sb: Sandbox;
let east: SandboxCluster;
let kc: KubeConfig;
let certs: CertificatesV1Api;
const pem = makeCsrPem({ commonName: 'w' }).pem;
const CSRS = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

before(async () => {
  sb = await startTestSandbox(undefined, { watchHistorySize: 50, bookmarkIntervalMs: 100 });
  east = sb.cluster('east');
  kc = east.kubeConfigFor('admin', ['system:masters']);
  certs = clients(kc).certs;
});
after(() => sb.stop());

interface Event {
  type: string;
  object: {
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    reason?: string;
    code?: number;
    message?: string;
    kind?: string;
  };
}

/** A raw watch: returns the events as they arrive, and whether the stream ended. */
function rawWatch(path: string): {
  events: Event[];
  ended: () => boolean;
  headers: () => Record<string, unknown>;
  abort: () => void;
} {
  const cert = east.clientCert('admin', ['system:masters']);
  const events: Event[] = [];
  let done = false;
  let headers: Record<string, unknown> = {};
  let buffer = '';
  const req = request(
    { host: '127.0.0.1', port: east.port, path, ca: east.caCertPem, cert: cert.certPem, key: cert.keyPem },
    (res) => {
      headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let i = buffer.indexOf('\n');
        while (i >= 0) {
          events.push(JSON.parse(buffer.slice(0, i)) as Event);
          buffer = buffer.slice(i + 1);
          i = buffer.indexOf('\n');
        }
      });
      res.on('end', () => {
        done = true;
      });
      res.on('close', () => {
        done = true;
      });
    },
  );
  req.on('error', () => {
    done = true;
  });
  req.end();
  return { events, ended: () => done, headers: () => headers, abort: () => req.destroy() };
}

describe('watch', () => {
  it('streams ADDED for existing objects, then MODIFIED and DELETED, as chunked JSON lines', async () => {
    await certs.createCertificateSigningRequest({ body: csrObject('w-existing', pem) });
    const w = rawWatch(`${CSRS}?watch=true&fieldSelector=metadata.name%3Dw-existing`);
    await waitFor(() => w.events.length >= 1, 'initial ADDED');
    assert.equal(w.headers()['transfer-encoding'], 'chunked');
    assert.match(String(w.headers()['content-type']), /^application\/json/);
    assert.equal(w.events[0]?.type, 'ADDED');
    const c = await certs.readCertificateSigningRequest({ name: 'w-existing' });
    c.metadata = { ...c.metadata, labels: { x: 'y' } };
    await certs.replaceCertificateSigningRequest({ name: 'w-existing', body: c });
    await certs.deleteCertificateSigningRequest({ name: 'w-existing' });
    await waitFor(() => w.events.length >= 3, 'MODIFIED and DELETED');
    assert.deepEqual(
      w.events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
    );
    assert.equal(w.events[2]?.object.kind, 'CertificateSigningRequest');
    w.abort();
  });

  it('starts after a resourceVersion, sends bookmarks, ends at timeoutSeconds', async () => {
    const list = await certs.listCertificateSigningRequest();
    const rv = list.metadata?.resourceVersion;
    await certs.createCertificateSigningRequest({ body: csrObject('w-after', pem) });
    const w = rawWatch(`${CSRS}?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`);
    await waitFor(() => w.ended(), 'the stream to end after timeoutSeconds', 5000);
    const added = w.events.filter((e) => e.type === 'ADDED').map((e) => e.object.metadata?.name);
    assert.deepEqual(added, ['w-after']);
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK');
    assert.ok(bookmark, 'a BOOKMARK event');
    assert.equal(bookmark.object.kind, 'CertificateSigningRequest');
    assert.ok(Number(bookmark.object.metadata?.resourceVersion) > Number(rv));
  });

  it('sendInitialEvents=true lists the current state, then the initial-events-end bookmark', async () => {
    await certs.createCertificateSigningRequest({ body: csrObject('w-initial', pem) });
    const w = rawWatch(
      `${CSRS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=0&fieldSelector=metadata.name%3Dw-initial`,
    );
    await waitFor(() => w.events.some((e) => e.type === 'BOOKMARK'), 'the initial-events-end bookmark');
    assert.equal(w.events[0]?.type, 'ADDED');
    assert.equal(w.events[1]?.type, 'BOOKMARK');
    assert.equal(w.events[1]?.object.metadata?.annotations?.['k8s.io/initial-events-end'], 'true');
    w.abort();
  });

  it('sends the ERROR 410 Expired event for a too-old resourceVersion, then ends', async () => {
    const list = await certs.listCertificateSigningRequest();
    const rv = Number(list.metadata?.resourceVersion);
    for (let i = 0; i < 55; i++) await certs.createCertificateSigningRequest({ body: csrObject(`churn-${i}`, pem) });
    const w = rawWatch(`${CSRS}?watch=true&resourceVersion=${rv}`);
    await waitFor(() => w.ended(), 'the ERROR event and the end of the stream');
    assert.equal(w.events.length, 1);
    const ev = w.events[0];
    assert.equal(ev?.type, 'ERROR');
    assert.equal(ev?.object.kind, 'Status');
    assert.equal(ev?.object.reason, 'Expired');
    assert.equal(ev?.object.code, 410);
    assert.match(String(ev?.object.message), new RegExp(`^too old resource version: ${rv} \\(\\d+\\)$`));
  });

  it('expireWatchHistory makes every older resourceVersion 410', async () => {
    const list = await certs.listCertificateSigningRequest();
    const rv = list.metadata?.resourceVersion;
    await certs.createCertificateSigningRequest({ body: csrObject('before-expire', pem) });
    east.expireWatchHistory();
    const w = rawWatch(`${CSRS}?watch=true&resourceVersion=${rv}`);
    await waitFor(() => w.ended(), 'ERROR event');
    assert.equal(w.events[0]?.object.code, 410);
  });

  it('a continue token from before expireWatchHistory gets 410 Expired with a fresh token', async () => {
    for (const n of ['cont-a', 'cont-b']) await certs.createCertificateSigningRequest({ body: csrObject(n, pem) });
    const first = await certs.listCertificateSigningRequest({ limit: 1 });
    await certs.createCertificateSigningRequest({ body: csrObject('cont-c', pem) });
    east.expireWatchHistory();
    const { code, body } = await apiError(
      certs.listCertificateSigningRequest({ limit: 1, _continue: first.metadata?._continue }),
    );
    assert.equal(code, 410);
    assert.equal(body.reason, 'Expired');
    const fresh = (body.metadata as { continue?: string }).continue;
    assert.ok(fresh);
    const rest = await certs.listCertificateSigningRequest({ limit: 1, _continue: fresh });
    assert.equal(rest.items.length, 1);
  });

  it('client-node Watch sees events; label selector transitions give ADDED and DELETED', async () => {
    const seen: string[] = [];
    const watch = new Watch(kc);
    const req = await watch.watch(
      CSRS,
      { labelSelector: 'team=a' },
      (type, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name}`),
      () => {},
    );
    const body = csrObject('sel', pem);
    await certs.createCertificateSigningRequest({ body: { ...body, metadata: { name: 'sel' } } });
    let c = await certs.readCertificateSigningRequest({ name: 'sel' });
    c.metadata = { ...c.metadata, labels: { team: 'a' } };
    c = await certs.replaceCertificateSigningRequest({ name: 'sel', body: c });
    c.metadata = { ...c.metadata, labels: { team: 'b' } };
    await certs.replaceCertificateSigningRequest({ name: 'sel', body: c });
    await waitFor(() => seen.length >= 2, 'ADDED then DELETED');
    assert.deepEqual(seen, ['ADDED sel', 'DELETED sel']);
    req.abort();
  });

  it('pause drops watches and refuses connections; createAs works while paused; resume serves the same state', async () => {
    const w = rawWatch(`${CSRS}?watch=true`);
    await waitFor(() => w.events.length > 0, 'initial events');
    await east.pause();
    await waitFor(() => w.ended(), 'the watch to be dropped');
    await assert.rejects(certs.listCertificateSigningRequest());
    await east.createAs({ name: 'kubelet', groups: ['system:masters'] }, CSRS, csrObject('while-down', pem));
    await east.resume();
    const got = await certs.readCertificateSigningRequest({ name: 'while-down' });
    assert.equal(got.spec.username, 'kubelet');
  });
});
