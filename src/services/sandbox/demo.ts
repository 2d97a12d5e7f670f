// `certdesk demo`'s data: a sandbox with clusters east and west running every scenario but scale, and a demo CA
// per non-kubernetes.io signer written under a temp dir (keys 0600) and registered in a demo-only CA registry, so
// the TUI's sign command works out of the box. The kubernetes.io signers are the clusters' own (cluster-signer.ts).
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { putCa, signerDirName } from '../config/ca-registry.js';
import { createCa } from '../pki/index.js';
import { type Sandbox, startSandbox } from './index.js';
import { scenarios } from './scenarios/index.js';
import { allowManyListeners } from './scenarios/kube.js';
import { istioSignerFor } from './scenarios/istio-signers.js';
import { PC_SIGNER } from './scenarios/pod-certificates.js';

export const DEMO_CALICO_SIGNER = 'example.com/calico';
export const DEMO_SIGNERS = [DEMO_CALICO_SIGNER, istioSignerFor('foo'), istioSignerFor('bar'), PC_SIGNER];

/** Which scenarios run where (all but scale, split so each cluster tells its own story). */
export const DEMO_LAYOUT: Record<string, Array<{ scenario: string; options?: Record<string, unknown> }>> = {
  east: [
    { scenario: 'calico-rollout', options: { nodes: 3 } },
    { scenario: 'istio-signers' },
    { scenario: 'hostile', options: { signerName: DEMO_CALICO_SIGNER } },
    { scenario: 'certificates' },
  ],
  west: [
    { scenario: 'calico-rollout', options: { nodes: 2 } },
    { scenario: 'onboarding' },
    { scenario: 'certificates' },
    { scenario: 'pod-certificates' },
  ],
};

export interface DemoOptions {
  kubeconfigOut?: string;
  port?: number;
  log?: (line: string) => void;
  /**
   * Point CERTDESK_CONFIG_DIR and CERTDESK_STATE_DIR of this process at the demo's temp dir (restored by stop()),
   * so the TUI and commands started from it find the demo CAs and keep the demo's audit log apart. @default true
   */
  setEnv?: boolean;
}

export interface SignerCa {
  signerName: string;
  certPath: string;
  keyPath: string;
}

export interface Demo {
  sandbox: Sandbox;
  /** The temp dir holding the demo CAs (<signer>/ca.crt, ca.key), config/ (the CA registry), state/ and jane.key. */
  caDir: string;
  /** The CA registry's directory (what CERTDESK_CONFIG_DIR is set to). */
  configDir: string;
  signerCas: SignerCa[];
  /** Where the onboarding scenario keeps jane's private key (0600). */
  janeKeyPath: string;
  stop(): Promise<void>;
}

async function writeDemoCa(caDir: string, configDir: string, signerName: string): Promise<SignerCa> {
  const dir = join(caDir, signerDirName(signerName));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await createCa({ cn: `certdesk demo CA for ${signerName}`, days: 30 });
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  await writeFile(certPath, ca.certPem, { mode: 0o644 });
  await writeFile(keyPath, ca.keyPem, { mode: 0o600 });
  await chmod(keyPath, 0o600);
  putCa({ signerName, certPath, keyPath, source: 'import', addedAt: new Date().toISOString() }, { cwd: configDir });
  return { signerName, certPath, keyPath };
}

/** Starts the demo: two clusters, the scenarios of DEMO_LAYOUT, and the demo CAs. */
export async function startDemo(opts: DemoOptions = {}): Promise<Demo> {
  const log = opts.log ?? (() => {});
  const caDir = await mkdtemp(join(tmpdir(), 'certdesk-demo-'));
  await chmod(caDir, 0o700);
  const configDir = join(caDir, 'config');
  const stateDir = join(caDir, 'state');
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const janeKeyPath = join(caDir, 'jane.key');
  const savedEnv = { config: process.env.CERTDESK_CONFIG_DIR, state: process.env.CERTDESK_STATE_DIR };
  const setEnv = opts.setEnv !== false;
  const abort = new AbortController();
  allowManyListeners(abort.signal);
  let sandbox: Sandbox | undefined;

  const stop = async (): Promise<void> => {
    abort.abort();
    await sandbox?.stop();
    if (setEnv) {
      restore('CERTDESK_CONFIG_DIR', savedEnv.config);
      restore('CERTDESK_STATE_DIR', savedEnv.state);
    }
    await rm(caDir, { recursive: true, force: true });
  };

  try {
    // putCa is synchronous, so the registry's read-modify-write never interleaves.
    const signerCas = await Promise.all(DEMO_SIGNERS.map((signer) => writeDemoCa(caDir, configDir, signer)));
    if (setEnv) {
      process.env.CERTDESK_CONFIG_DIR = configDir;
      process.env.CERTDESK_STATE_DIR = stateDir;
    }
    const calicoCa = await readFile(signerCas[0]!.certPath, 'utf8');

    const sandboxOptions: Parameters<typeof startSandbox>[0] = { clusters: Object.keys(DEMO_LAYOUT), log };
    if (opts.port !== undefined) sandboxOptions.port = opts.port;
    if (opts.kubeconfigOut !== undefined) sandboxOptions.kubeconfigOut = opts.kubeconfigOut;
    sandbox = await startSandbox(sandboxOptions);
    const running = sandbox;

    await Promise.all(
      Object.entries(DEMO_LAYOUT).map(async ([clusterName, entries]) => {
        const cluster = running.cluster(clusterName);
        await Promise.all(
          entries.map(({ scenario, options }) => {
            const extra: Record<string, unknown> =
              scenario === 'calico-rollout'
                ? { caCertPem: calicoCa, signerName: DEMO_CALICO_SIGNER }
                : scenario === 'onboarding'
                  ? { keyOut: janeKeyPath }
                  : {};
            return scenarios[scenario]!.start({
              cluster: cluster.scenarioCluster(),
              signal: abort.signal,
              log: (line) => log(`[${clusterName}] ${scenario}: ${line}`),
              options: { ...options, ...extra },
            });
          }),
        );
      }),
    );
    return { sandbox: running, caDir, configDir, signerCas, janeKeyPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** What to print after startDemo: where everything is and what to try. */
export function describeDemo(demo: Demo): string {
  const { sandbox } = demo;
  const lines = [
    'certdesk demo: two simulated clusters are serving.',
    '',
    ...sandbox.clusters.map((c) => {
      const names = (DEMO_LAYOUT[c.name] ?? []).map((e) => e.scenario).join(', ');
      return `  ${c.name.padEnd(6)} ${c.server}   scenarios: ${names}`;
    }),
    '',
    `kubeconfig:  ${sandbox.kubeconfigPath}   (contexts ${sandbox.clusters.map((c) => `${c.name}, ${c.name}-viewer`).join(', ')})`,
    `demo CAs:    ${demo.caDir} (registered in ${demo.configDir}; CERTDESK_CONFIG_DIR points there)`,
    ...demo.signerCas.map((s) => `  ${s.signerName.padEnd(36)} ${s.certPath}`),
    `jane's key:  ${demo.janeKeyPath}`,
    '',
    'Try:',
    `  export KUBECONFIG=${sandbox.kubeconfigPath} CERTDESK_CONFIG_DIR=${demo.configDir}`,
    '  kubectl get csr',
    '  kubectl get pods -n calico-system',
    '  kubectl get tigerastatus',
    '  kubectl get pcr -n workloads --context west',
    '  kubectl certificate approve jane --context west',
    '  certdesk check certs -A --all-contexts',
    '',
    'Everything (the CAs included) is deleted when the demo stops. Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}
