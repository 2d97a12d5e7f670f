// The `certificates` scenario, for the renewal radar: TLS and Opaque Secrets, CA ConfigMaps (kube-root-ca.crt
// too), webhook configurations, a CRD conversion webhook and an APIService, with certificates at a spread of expiry
// times and some broken in each way the radar reports (expired, expiring, not yet valid, CA ends first, foreign
// signer, key mismatch, unreadable). Written as admin, as the operators that own them would.
import {
  AdmissionregistrationV1Api,
  ApiextensionsV1Api,
  ApiregistrationV1Api,
  type V1ConfigMap,
  type V1Pod,
  type V1Secret,
} from '@kubernetes/client-node';
import { type MadeCert, makeCert, window } from './cert-factory.js';
import type { Scenario } from './index.js';
import { clientsFor, createIfAbsent, nodeAddress, nodeIdentity, registerNode } from './kube.js';
import { applyManifests } from './manifests.js';
import { SCENARIO_LABEL } from './types.js';

export const CERTS_NAMESPACE = 'certs-demo';
export const CERTS_SIGNER = 'example.com/certs-demo';
const CERTS_NODE = 'certs-node-1';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const labels = { [SCENARIO_LABEL]: 'certificates' };
const GARBAGE = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';

function tlsSecret(name: string, leaf: MadeCert, ca: MadeCert | undefined, extra: Partial<V1Secret> = {}): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    ...extra,
    metadata: { name, namespace: CERTS_NAMESPACE, labels, ...extra.metadata },
    data: {
      'tls.crt': b64(leaf.certPem),
      'tls.key': b64(leaf.keyPem),
      ...(ca ? { 'ca.crt': b64(ca.certPem) } : {}),
      ...extra.data,
    },
  };
}

export const certificates: Scenario = {
  name: 'certificates',
  description: 'TLS Secrets, CA ConfigMaps and webhook caBundles expiring at a spread of times, some broken.',
  async start(ctx) {
    const kc = ctx.cluster.admin;
    const admin = clientsFor(kc);
    await applyManifests(admin, 'certificates');
    const now = Date.now();
    const ca = await makeCert({ cn: 'certs-demo CA', ...window(now, -30, 3650) });
    const impostor = await makeCert({ cn: 'certs-demo CA', ...window(now, -30, 3650) });
    const shortCa = await makeCert({ cn: 'certs-demo short-lived CA', ...window(now, -30, 20) });
    const calicoCa = await makeCert({ cn: 'tigera-operator-signer', ...window(now, -30, 365) });
    const leaf = (cn: string, from: number, to: number, issuer: MadeCert = ca) =>
      makeCert({ cn, hosts: [cn, `${cn}.${CERTS_NAMESPACE}.svc`], issuer, ...window(now, from, to) });
    const [web, api, legacy, future, foreign, outlives, mismatched, stray, app, typha] = await Promise.all([
      leaf('web', -10, 300),
      leaf('api', -85, 5),
      leaf('legacy', -400, -3),
      leaf('future', 2, 365),
      leaf('foreign', -5, 200, impostor),
      leaf('outlives', -5, 365, shortCa),
      leaf('mismatch', -5, 120),
      leaf('stray', -5, 120),
      leaf('app', -5, 45),
      leaf('calico-typha', -88, 2, calicoCa),
    ]);
    const expiredCa = await makeCert({ cn: 'certs-demo retired CA', ...window(now, -800, -10) });
    const webhookCa = await makeCert({ cn: 'policy-webhook CA', ...window(now, -355, 10) });
    const aggregatorCa = await makeCert({ cn: 'metrics aggregator CA', ...window(now, -400, -1) });
    const conversionCa = await makeCert({ cn: 'widgets conversion CA', ...window(now, -10, 700) });

    const secrets: V1Secret[] = [
      tlsSecret('web-tls', web, ca),
      tlsSecret('api-tls', api, ca),
      tlsSecret('legacy-tls', legacy, ca),
      tlsSecret('future-tls', future, ca),
      tlsSecret('foreign-tls', foreign, ca),
      tlsSecret('outlives-ca-tls', outlives, shortCa),
      tlsSecret('mismatch-tls', mismatched, ca, { data: { 'tls.key': b64(stray.keyPem) } }),
      tlsSecret('garbage-tls', web, undefined, { data: { 'tls.crt': b64(GARBAGE) } }),
      tlsSecret('typha-certs', typha, undefined, {
        metadata: {
          name: 'typha-certs',
          labels: { ...labels, 'certificates.operator.tigera.io/signer': 'tigera-operator-signer' },
          annotations: {
            'certificates.operator.tigera.io/issuer': 'tigera-operator-signer',
            'certificates.operator.tigera.io/expiry': new Date(now + 2 * 86_400_000)
              .toISOString()
              .replace(/\.\d{3}Z$/, 'Z'),
          },
        },
      }),
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: 'app-certs', labels, namespace: CERTS_NAMESPACE },
        data: { 'cert.pem': b64(app.certPem), 'key.pem': b64(app.keyPem), 'ca-bundle.pem': b64(ca.certPem) },
      },
    ];
    const clusterCa = Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64').toString('utf8');
    const configMaps: V1ConfigMap[] = [
      {
        metadata: {
          name: 'certs-demo-ca',
          labels,
          namespace: CERTS_NAMESPACE,
          annotations: { 'certdesk.dev/signer-name': CERTS_SIGNER },
        },
        data: { 'ca.crt': ca.certPem },
      },
      {
        metadata: { name: 'legacy-trust', labels, namespace: CERTS_NAMESPACE },
        data: { 'ca.crt': ca.certPem + expiredCa.certPem },
      },
      { metadata: { name: 'broken-bundle', labels, namespace: CERTS_NAMESPACE }, data: { 'bundle.pem': GARBAGE } },
      ...(clusterCa
        ? ['default', 'kube-system', CERTS_NAMESPACE].map(
            (namespace): V1ConfigMap => ({
              metadata: { name: 'kube-root-ca.crt', labels, namespace },
              data: { 'ca.crt': clusterCa },
            }),
          )
        : []),
    ];
    const pod: V1Pod = {
      metadata: { name: 'web-7d9f8c6b5-x2k4q', namespace: CERTS_NAMESPACE, labels: { ...labels, app: 'web' } },
      spec: {
        nodeName: CERTS_NODE,
        tolerations: [{ operator: 'Exists' }],
        containers: [{ name: 'web', image: 'nginx:1.27', volumeMounts: [{ name: 'tls', mountPath: '/etc/tls' }] }],
        volumes: [
          { name: 'tls', secret: { secretName: 'web-tls' } },
          { name: 'api', projected: { sources: [{ secret: { name: 'api-tls' } }] } },
        ],
      },
    };
    await Promise.all([
      ...secrets.map((body) =>
        createIfAbsent(() => admin.core.createNamespacedSecret({ namespace: CERTS_NAMESPACE, body })),
      ),
      ...configMaps.map((body) =>
        createIfAbsent(() =>
          admin.core.createNamespacedConfigMap({ namespace: body.metadata?.namespace ?? CERTS_NAMESPACE, body }),
        ),
      ),
      createIfAbsent(() => admin.core.createNamespacedPod({ namespace: CERTS_NAMESPACE, body: pod })),
      registerNode(ctx.cluster, CERTS_NODE, 'certificates'),
    ]);
    // Its kubelet reports it Running, with the node's host IP and a pod IP.
    const kubelet = clientsFor(ctx.cluster.as(nodeIdentity(CERTS_NODE)));
    const name = pod.metadata?.name ?? '';
    const current = await kubelet.core.readNamespacedPod({ name, namespace: CERTS_NAMESPACE });
    const hostIP = nodeAddress(CERTS_NODE);
    current.status = {
      ...current.status,
      phase: 'Running',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: '10.244.1.7',
      podIPs: [{ ip: '10.244.1.7' }],
      startTime: new Date(),
    };
    await kubelet.core.replaceNamespacedPodStatus({ name, namespace: CERTS_NAMESPACE, body: current });

    const admission = kc.makeApiClient(AdmissionregistrationV1Api);
    const service = { namespace: CERTS_NAMESPACE, name: 'policy', path: '/validate', port: 443 };
    await createIfAbsent(() =>
      admission.createValidatingWebhookConfiguration({
        body: {
          metadata: { name: 'certs-demo-policy', labels },
          webhooks: [
            {
              name: 'policy.certs-demo.example.com',
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              clientConfig: { service, caBundle: b64(webhookCa.certPem) },
            },
          ],
        },
      }),
    );
    await createIfAbsent(() =>
      admission.createMutatingWebhookConfiguration({
        body: {
          metadata: { name: 'certs-demo-injector', labels },
          webhooks: [
            {
              name: 'inject.certs-demo.example.com',
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              clientConfig: { service: { ...service, name: 'injector', path: '/mutate' }, caBundle: b64(ca.certPem) },
            },
          ],
        },
      }),
    );
    await createIfAbsent(() =>
      kc.makeApiClient(ApiregistrationV1Api).createAPIService({
        body: {
          metadata: { name: 'v1beta1.metrics.certs-demo.example.com', labels },
          spec: {
            group: 'metrics.certs-demo.example.com',
            version: 'v1beta1',
            groupPriorityMinimum: 100,
            versionPriority: 100,
            service: { namespace: CERTS_NAMESPACE, name: 'metrics' },
            caBundle: b64(aggregatorCa.certPem),
          },
        },
      }),
    );
    await createIfAbsent(() =>
      kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
        body: {
          metadata: { name: 'widgets.certs-demo.example.com', labels },
          spec: {
            group: 'certs-demo.example.com',
            names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
            scope: 'Namespaced',
            versions: [
              { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } },
              { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
            ],
            conversion: {
              strategy: 'Webhook',
              webhook: {
                conversionReviewVersions: ['v1'],
                clientConfig: {
                  service: { ...service, name: 'widgets', path: '/convert' },
                  caBundle: b64(conversionCa.certPem),
                },
              },
            },
          },
        },
      }),
    );
    ctx.log(
      `${secrets.length} Secrets, ${configMaps.length} ConfigMaps, 2 webhook configurations, an APIService and a CRD with certificates in ${CERTS_NAMESPACE}`,
    );
  },
};
