// Findings that need the cluster around a request, each checked today by one automated approver or by none
// (docs/policy.md names them): the Node's addresses, in-cluster names, the pod's IPs, SPIFFE identities, newer
// requests for the same identity, a key seen under another identity, and requesters asking too often. Each is made
// only when its input is known (nodes listed, other requests indexed); none makes a network call.
import { digestsOf } from '../pki/decode.js';
import type { DecodedCsr } from '../pki/types.js';
import type { DnsChecks } from './dns.js';
import { ipInCidr, ipToBytes, type Policy } from './policy.js';
import { identityKey, type RequestIndex, requesterKey, requestingPod } from './requests.js';
import type { Finding } from './types.js';

export interface NodeLike {
  metadata?: { name?: string };
  status?: { addresses?: { type?: string; address?: string }[] };
}

/** What the desk knows of the cluster around a request; each part is optional and its findings need it. */
export interface ClusterFacts {
  /** The context the request is in (other requests of the index are told apart by it). */
  context?: string;
  /** The cluster's Nodes (node-addresses); undefined when not followed or not listed yet. */
  nodes?: Iterable<NodeLike>;
  /** Why the Nodes are not known although followed (e.g. listing them is forbidden): node-addresses then warns. */
  nodesUnknown?: string;
  /** Every request the desk has seen, all contexts and the audit log (superseded, key-reuse, request-storm). */
  requests?: RequestIndex;
  /** The DNS answers (dns-resolution, when the policy turns it on): asked here, answered in the background. */
  dns?: DnsChecks;
}

/** The parts of a request these findings read beyond findings.ts's CsrLike. */
export interface ClusterCsr {
  metadata?: { name?: string; uid?: string; creationTimestamp?: Date | string };
  spec: { signerName: string; username?: string; extra?: Record<string, string[]> };
}

export interface PodFacts {
  metadata?: { name?: string; namespace?: string; uid?: string };
  status?: { podIP?: string; podIPs?: { ip?: string }[] };
}

const NODE_PREFIX = 'system:node:';
const SA_PREFIX = 'system:serviceaccount:';
const POD_UID_KEY = 'authentication.kubernetes.io/pod-uid';
const POD_NAME_KEY = 'authentication.kubernetes.io/pod-name';
const API_SERVER_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc'];

const f = (level: Finding['level'], code: string, message: string): Finding => ({ level, code, message });

function some(values: readonly string[], n = 3): string {
  return `${values.slice(0, n).join(', ')}${values.length > n ? ', …' : ''}`;
}

/** An IP in one canonical text form (IPv6 zero runs, IPv4-mapped), for comparing addresses. */
function canonicalIp(ip: string): string {
  return (ipToBytes(ip) ?? []).join('.') || ip.toLowerCase();
}

function normalDns(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 1 ? `${Math.round(ms / 1000)} s` : `${m} min`;
}

/** node-addresses: a node's serving certificate names only that Node's addresses (status.addresses). */
export function nodeAddresses(csr: ClusterCsr, decoded: DecodedCsr, policy: Policy, facts?: ClusterFacts) {
  const user = csr.spec.username ?? '';
  if (!policy.nodeServingSigners.includes(csr.spec.signerName) || !user.startsWith(NODE_PREFIX)) return undefined;
  if (!facts?.nodes)
    return facts?.nodesUnknown
      ? f('warn', 'node-addresses', `The names were not checked against the Node: ${facts.nodesUnknown}.`)
      : undefined;
  const nodeName = user.slice(NODE_PREFIX.length);
  let node: NodeLike | undefined;
  for (const n of facts.nodes) if (n.metadata?.name === nodeName) node = n;
  if (!node)
    return f(
      'fail',
      'node-addresses',
      `No Node named "${nodeName}" exists, so nothing vouches for the names ${user} asks for.`,
    );
  const addresses = (node.status?.addresses ?? []).map((a) => a.address ?? '').filter(Boolean);
  const known = new Set(addresses.flatMap((a) => [normalDns(a), canonicalIp(a)]));
  const outside = [
    ...decoded.sans.dns.filter((d) => !known.has(normalDns(d))),
    ...decoded.sans.ip.filter((ip) => !known.has(canonicalIp(ip))),
  ];
  const listed = addresses.length ? addresses.join(', ') : 'none';
  if (outside.length)
    return f(
      'fail',
      'node-addresses',
      `${some(outside)} ${outside.length > 1 ? 'are' : 'is'} not among Node ${nodeName}'s addresses (${listed}).`,
    );
  return f('ok', 'node-addresses', `Every name is one of Node ${nodeName}'s addresses (${listed}).`);
}

/** Why an in-cluster DNS name is not for this requester, or undefined when it may have it. */
function reservedBecause(name: string, domain: string, namespace: string | undefined): string | undefined {
  const n = normalDns(name);
  const local = n === domain || n.endsWith(`.${domain}`) ? n.slice(0, Math.max(0, n.length - domain.length - 1)) : n;
  if (API_SERVER_NAMES.includes(local) || local.startsWith('kubernetes.default.svc')) return `${name} (the API server)`;
  const inCluster = n === domain || n.endsWith(`.${domain}`) || /(^|\.)(svc|pod)$/.test(local);
  if (!inCluster) return undefined;
  // <service>.<namespace>.svc or <ip>.<namespace>.pod: a pod may name its own namespace's services.
  const labels = local.split('.');
  const kindAt = labels.length - 1;
  const ns = labels[kindAt - 1];
  if (namespace && ns === namespace && (labels[kindAt] === 'svc' || labels[kindAt] === 'pod') && kindAt >= 2)
    return undefined;
  return `${name} (${ns && (labels[kindAt] === 'svc' || labels[kindAt] === 'pod') ? `namespace ${ns}` : 'the cluster domain'})`;
}

/** reserved-names: a node or a pod asking for the API server's names, another namespace's services, or service IPs. */
export function reservedNames(csr: ClusterCsr, decoded: DecodedCsr, policy: Policy): Finding | undefined {
  const user = csr.spec.username ?? '';
  const isNode = user.startsWith(NODE_PREFIX);
  const isPod = user.startsWith(SA_PREFIX);
  if (!isNode && !isPod) return undefined;
  const namespace = isPod ? user.slice(SA_PREFIX.length).split(':')[0] : undefined;
  const domain = normalDns(policy.reservedNames.clusterDomain);
  const bad = decoded.sans.dns.map((d) => reservedBecause(d, domain, namespace)).filter((x) => x !== undefined);
  for (const ip of decoded.sans.ip)
    if (policy.reservedNames.serviceCidrs.some((c) => ipInCidr(ip, c))) bad.push(`${ip} (the service CIDR)`);
  const who = isNode ? `Node ${user.slice(NODE_PREFIX.length)}` : `service account ${user.slice(SA_PREFIX.length)}`;
  if (bad.length)
    return f(
      policy.reservedNames.level,
      'reserved-names',
      `${who} asks for in-cluster names it does not own: ${some(bad)}; a certificate for them lets it pose as that service.`,
    );
  return decoded.sans.dns.length + decoded.sans.ip.length
    ? f('ok', 'reserved-names', `No in-cluster name of another namespace or the API server is requested.`)
    : undefined;
}

/** spiffe-identity: URI SANs spiffe://TD/ns/NS/sa/SA name the service account that asks (as istio-csr checks). */
export function spiffeIdentity(csr: ClusterCsr, decoded: DecodedCsr, policy: Policy): Finding | undefined {
  const ids = decoded.sans.uri.filter((u) => /^spiffe:\/\//i.test(u));
  if (!ids.length) return undefined;
  const user = csr.spec.username ?? '';
  if (policy.spiffe.brokers.includes(user))
    return f('ok', 'spiffe-identity', `${some(ids, 2)} asked for by "${user}", a broker of workload identities.`);
  const [namespace, account] = user.startsWith(SA_PREFIX) ? user.slice(SA_PREFIX.length).split(':') : [];
  const problems: string[] = [];
  // A person or a broker (istiod, istio-csr) asking for a workload's identity is what the Istio walkthroughs do: a
  // warning (a person decides; the controller leaves it), not a failure as a workload posing as another is.
  const onBehalf: string[] = [];
  for (const id of ids) {
    const m = /^spiffe:\/\/([^/]+)(\/.*)?$/i.exec(id);
    const domain = m?.[1] ?? '';
    const path = /^\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(m?.[2] ?? '');
    if (policy.spiffe.trustDomains.length && !policy.spiffe.trustDomains.includes(domain))
      problems.push(`${id} is in trust domain "${domain}", not ${policy.spiffe.trustDomains.join(', ')}`);
    else if (!path) problems.push(`${id} is not of the form spiffe://TRUST-DOMAIN/ns/NAMESPACE/sa/ACCOUNT`);
    else if (namespace === undefined && user.startsWith('system:node:'))
      problems.push(`${id} is asked for by node "${user}", which speaks for no workload identity`);
    else if (namespace === undefined) onBehalf.push(id);
    else if (path[1] !== namespace || path[2] !== account)
      problems.push(`${id} names service account ${path[1]}:${path[2]}, but ${namespace}:${account} asks`);
  }
  if (problems.length) return f(policy.spiffe.level, 'spiffe-identity', `${some(problems, 2)}.`);
  if (onBehalf.length) {
    const level = policy.spiffe.level === 'fail' ? 'warn' : policy.spiffe.level;
    return f(
      level,
      'spiffe-identity',
      `${some(onBehalf, 2)} is asked for by "${user}", not by that service account: check that it may speak for the workload.`,
    );
  }
  return f('ok', 'spiffe-identity', `The SPIFFE ID names the service account that asks (${some(ids, 2)}).`);
}

/** The pod named in spec.extra, looked up in the pods (namespace/name), or 'unknown' when pods are not known. */
function podOf(csr: ClusterCsr, pods: Iterable<PodFacts> | undefined): PodFacts | 'gone' | 'unknown' {
  const key = csr.spec.extra?.[POD_NAME_KEY]?.[0] ? requestingPod(csr) : undefined;
  if (!key || !pods) return 'unknown';
  for (const p of pods) if (`${p.metadata?.namespace}/${p.metadata?.name}` === key) return p;
  return 'gone';
}

/** pod-ip: IP SANs of a pod's request are the pod's own IPs (as the Tigera operator's approver checks). */
export function podIp(csr: ClusterCsr, decoded: DecodedCsr, pods?: Iterable<PodFacts>): Finding | undefined {
  if (!decoded.sans.ip.length) return undefined;
  const pod = podOf(csr, pods);
  if (typeof pod === 'string') return undefined;
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const own = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((x): x is string => !!x);
  const mine = new Set(own.map(canonicalIp));
  const outside = decoded.sans.ip.filter((ip) => !mine.has(canonicalIp(ip)));
  if (outside.length)
    return f(
      'fail',
      'pod-ip',
      `${some(outside)} ${outside.length > 1 ? 'are' : 'is'} not pod ${name}'s IP (${own.length ? [...new Set(own)].join(', ') : 'it has none yet'}).`,
    );
  return f('ok', 'pod-ip', `The IP addresses are pod ${name}'s own.`);
}

/**
 * superseded: the pod that asked is gone or replaced, or a newer request for the same identity exists. Approving
 * helps nobody: the requester waits on the newer one (Calico's provisioner gives up after 90 s and asks again with
 * a new key).
 */
export function superseded(
  csr: ClusterCsr,
  decoded: DecodedCsr,
  policy: Policy,
  pods: Iterable<PodFacts> | undefined,
  facts: ClusterFacts | undefined,
): Finding | undefined {
  const pod = podOf(csr, pods);
  const uid = csr.spec.extra?.[POD_UID_KEY]?.[0];
  const podName = requestingPod(csr);
  if (pod === 'gone')
    return f(policy.superseded, 'superseded', `Pod ${podName}, which asked, is gone: approving helps nobody.`);
  if (typeof pod !== 'string' && uid && pod.metadata?.uid && pod.metadata.uid !== uid)
    return f(
      policy.superseded,
      'superseded',
      `Pod ${podName} was replaced since it asked (another UID): approving helps nobody; the new pod asks again.`,
    );
  const created = csr.metadata?.creationTimestamp ? new Date(csr.metadata.creationTimestamp).getTime() : Number.NaN;
  const digests = digestsOf(decoded);
  if (!facts?.requests || Number.isNaN(created) || !digests) return undefined;
  const me = {
    context: facts.context ?? '',
    signerName: csr.spec.signerName,
    username: csr.spec.username ?? '',
    ...(podName ? { pod: podName } : {}),
  };
  let newest: { name: string; created: number } | undefined;
  for (const r of facts.requests.forIdentity(identityKey(me, digests))) {
    if (r.uid === csr.metadata?.uid || !(r.created > created)) continue;
    if (!newest || r.created > newest.created) newest = r;
  }
  if (newest)
    return f(
      policy.superseded,
      'superseded',
      `A newer request for the same identity exists: ${newest.name}, ${minutes(newest.created - created)} later; the requester waits on that one, approving this one helps nobody.`,
    );
  return f('ok', 'superseded', 'No newer request for the same identity.');
}

/** key-reuse: the public key is already in a request of another identity (any context, the audit log). */
export function keyReuse(csr: ClusterCsr, decoded: DecodedCsr, policy: Policy, facts?: ClusterFacts) {
  const mine = digestsOf(decoded);
  if (!facts?.requests || !mine) return undefined;
  const { count, some } = facts.requests.keyHeldByOthers(mine.key, {
    context: facts.context ?? '',
    uid: csr.metadata?.uid ?? '',
    username: csr.spec.username ?? '',
    subject: mine.subject,
  });
  if (count > 0) {
    const said = some.map(
      (r) => `${r.name} (${r.source === 'audit' ? 'audit log, ' : ''}context ${r.context}, asked by ${r.username})`,
    );
    return f(
      policy.keyReuse,
      'key-reuse',
      `The same public key is in ${count > 1 ? `${count} other requests` : 'another request'} for another identity: ${said.join('; ')}. A key belongs to one holder: someone copied a request or a key.`,
    );
  }
  return f('ok', 'key-reuse', 'The public key is in no request of another identity.');
}

/** request-storm: one requester (a pod, else a user) asking more than the policy allows within its window. */
export function requestStorm(csr: ClusterCsr, policy: Policy, facts?: ClusterFacts): Finding | undefined {
  const created = csr.metadata?.creationTimestamp ? new Date(csr.metadata.creationTimestamp).getTime() : Number.NaN;
  if (!facts?.requests || Number.isNaN(created)) return undefined;
  const pod = requestingPod(csr);
  const who = { context: facts.context ?? '', username: csr.spec.username ?? '', ...(pod ? { pod } : {}) };
  const { maxRequests, windowMinutes, level } = policy.requestStorm;
  const window = windowMinutes * 60_000;
  const near = facts.requests.createdBy(requesterKey(who)).filter((t) => Math.abs(t - created) <= window).length;
  const name = pod ? `Pod ${pod}` : `"${who.username}"`;
  if (near > maxRequests)
    return f(
      level,
      'request-storm',
      `${name} asked for ${near} certificates within ${windowMinutes} minutes of this one (the policy allows ${maxRequests}): a loop or a flood, not a person.`,
    );
  return f(
    'ok',
    'request-storm',
    `${name} asked for ${near} certificate${near === 1 ? '' : 's'} within ${windowMinutes} minutes.`,
  );
}

/**
 * dns-resolution (opt-in; postfinance/kubelet-csr-approver resolves names too): each DNS SAN's addresses against the
 * request's IP SANs and, for a node, its Node's addresses. Until the answers are in it says `resolving…` (a warning:
 * nothing is approved unchecked), and the caller is told when they arrive (DnsChecks).
 */
export function dnsResolution(csr: ClusterCsr, decoded: DecodedCsr, policy: Policy, facts?: ClusterFacts) {
  const names = decoded.sans.dns.filter((d) => !d.includes('*'));
  if (!policy.dns.enabled || !facts?.dns || !names.length) return undefined;
  const dns = facts.dns;
  const answers = names.map((name) => ({ name, answer: dns.answer(name) }));
  const resolving = answers.filter((a) => a.answer.state === 'resolving').map((a) => a.name);
  if (resolving.length)
    return f(
      'warn',
      'dns-resolution',
      `Resolving ${some(resolving)}… (at most ${policy.dns.timeoutMs / 1000} s; the policy's DNS check).`,
    );
  const user = csr.spec.username ?? '';
  const nodeName =
    policy.nodeServingSigners.includes(csr.spec.signerName) && user.startsWith(NODE_PREFIX)
      ? user.slice(NODE_PREFIX.length)
      : undefined;
  let nodeAddrs: string[] = [];
  for (const n of facts.nodes ?? [])
    if (nodeName && n.metadata?.name === nodeName)
      nodeAddrs = (n.status?.addresses ?? []).map((a) => a.address ?? '').filter(Boolean);
  const expected = [...decoded.sans.ip, ...nodeAddrs];
  const known = new Set(expected.map(canonicalIp));
  const failed: string[] = [];
  const outside: string[] = [];
  const said: string[] = [];
  for (const { name, answer } of answers) {
    if (answer.state === 'failed') failed.push(`${name} (${answer.why})`);
    if (answer.state !== 'resolved') continue;
    said.push(`${name} → ${some(answer.addresses, 2)}`);
    const elsewhere = answer.addresses.filter((ip) => !known.has(canonicalIp(ip)));
    // Nothing to compare with (no IP SAN, not a node): the answer is shown, not judged.
    if (expected.length && elsewhere.length) outside.push(`${name} → ${some(elsewhere, 2)}`);
  }
  const against = `the request's IP addresses${nodeAddrs.length ? ` and Node ${nodeName}'s` : ''}: ${expected.length ? some(expected, 4) : 'none'}`;
  const problems = [
    ...(outside.length ? [`${some(outside)} ${outside.length > 1 ? 'resolve' : 'resolves'} outside ${against}`] : []),
    ...(failed.length ? [`${some(failed)} did not resolve`] : []),
  ];
  if (problems.length) return f(policy.dns.level, 'dns-resolution', `${problems.join('; ')}.`);
  return f(
    'ok',
    'dns-resolution',
    expected.length
      ? `Every DNS name resolves within ${against} (${some(said, 2)}).`
      : `Every DNS name resolves (${some(said, 2)}); the request names no address to compare with.`,
  );
}

/** Every finding of this file, in a stable order; those whose input is unknown are left out. */
export function clusterFindings(
  csr: ClusterCsr,
  decoded: DecodedCsr,
  policy: Policy,
  pods: Iterable<PodFacts> | undefined,
  facts: ClusterFacts | undefined,
): Finding[] {
  const podList = pods ? [...pods] : undefined;
  return [
    nodeAddresses(csr, decoded, policy, facts),
    reservedNames(csr, decoded, policy),
    podIp(csr, decoded, podList),
    spiffeIdentity(csr, decoded, policy),
    superseded(csr, decoded, policy, podList, facts),
    keyReuse(csr, decoded, policy, facts),
    requestStorm(csr, policy, facts),
    dnsResolution(csr, decoded, policy, facts),
  ].filter((x): x is Finding => x !== undefined);
}
