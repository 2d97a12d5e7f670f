// The Istio document's flow (seed 004) with the built binary, shared by the sandbox and real-server tiers: one CA per
// tenant signer (foo, bar); workloads' CSRs signed by their own CA; mutual TLS succeeds within foo and fails between
// foo and bar; --signer pins the CA.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { ok, type RunResult } from '../e2e/headless/helpers.js';

const USAGES = 'digital signature,key encipherment,server auth,client auth';

interface Env {
  dir: string;
  run(args: string[]): Promise<RunResult>;
}

interface Workload {
  name: string;
  cert: string;
  key: string;
  ca: string;
}

async function workload(e: Env, tenant: string, app: string): Promise<Workload> {
  const out = join(e.dir, tenant, app);
  const name = `csr-workload-${tenant}-${app}`;
  ok(
    await e.run([
      'request',
      '--cn',
      `${app}.${tenant}.svc.cluster.local`,
      '--host',
      `${app}.${tenant}.svc.cluster.local`,
      '--host',
      `spiffe://cluster.local/ns/${tenant}/sa/${app}`,
      '--signer',
      `clusterissuers.cert-manager.io/${tenant}`,
      '--usages',
      USAGES,
      '--expiration',
      '24h',
      '--name',
      name,
      '--out-dir',
      out,
    ]),
  );
  return { name, cert: '', key: join(out, 'server-key.pem'), ca: out };
}

function handshake(server: Workload, client: Workload): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    const srv = createServer(
      {
        cert: readFileSync(server.cert),
        key: readFileSync(server.key),
        ca: readFileSync(join(server.ca, 'ca.crt')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => socket.end('hello'),
    );
    srv.on('tlsClientError', () => {});
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      const sock: TLSSocket = connect({
        host: '127.0.0.1',
        port,
        servername: 'httpbin',
        cert: readFileSync(client.cert),
        key: readFileSync(client.key),
        ca: readFileSync(join(client.ca, 'ca.crt')),
        checkServerIdentity: () => undefined,
      });
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      const finish = (result: { ok: boolean; error?: string }) => {
        sock.destroy();
        srv.close();
        resolve(result);
      };
      sock.on('end', () => finish(data === 'hello' ? { ok: true } : { ok: false, error: 'no data' }));
      sock.on('error', (err) => finish({ ok: false, error: err.message }));
    });
  });
}

/** Two tenant CAs, three workloads' CSRs signed by their own tenant's CA; mTLS within foo works, foo↔bar fails. */
export async function istioMtlsFlow(e: Env): Promise<void> {
  for (const tenant of ['foo', 'bar']) {
    ok(await e.run(['ca', 'init', '--signer', `clusterissuers.cert-manager.io/${tenant}`, '--cn', `${tenant} CA`]));
  }
  const wl: Record<string, Workload> = {
    fooHttpbin: await workload(e, 'foo', 'httpbin'),
    fooSleep: await workload(e, 'foo', 'sleep'),
    barHttpbin: await workload(e, 'bar', 'httpbin'),
  };
  const names = Object.values(wl).map((w) => w.name);
  ok(await e.run(['approve', ...names]));
  // One command signs all three; each CSR is signed by the CA registered for its own signerName.
  ok(await e.run(['sign', ...names]));
  for (const w of Object.values(wl)) {
    ok(await e.run(['export', 'files', '--csr', w.name, '--out-dir', w.ca]));
    w.cert = join(w.ca, 'server.crt');
  }
  const fooCa = readFileSync(join(wl.fooHttpbin?.ca ?? '', 'ca.crt'), 'utf8');
  const barCa = readFileSync(join(wl.barHttpbin?.ca ?? '', 'ca.crt'), 'utf8');
  assert.notEqual(fooCa, barCa);

  const within = await handshake(wl.fooHttpbin as Workload, wl.fooSleep as Workload);
  assert.ok(within.ok, within.error);
  const across = await handshake(wl.barHttpbin as Workload, wl.fooSleep as Workload);
  assert.equal(across.ok, false);

  // --signer pins the CA: foo's CA refuses a request made for bar's signer.
  ok(
    await e.run([
      'request',
      '--cn',
      'late.bar.svc.cluster.local',
      '--signer',
      'clusterissuers.cert-manager.io/bar',
      '--usages',
      USAGES,
      '--name',
      'csr-workload-bar-late',
      '--out-dir',
      join(e.dir, 'bar', 'late'),
    ]),
  );
  ok(await e.run(['approve', 'csr-workload-bar-late']));
  const refused = await e.run(['sign', 'csr-workload-bar-late', '--signer', 'clusterissuers.cert-manager.io/foo']);
  assert.notEqual(refused.code, 0);
  assert.match(
    refused.stderr,
    /asks for signer clusterissuers.cert-manager.io\/bar, not clusterissuers.cert-manager.io\/foo/,
  );
}
