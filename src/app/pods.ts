// A pod of the Pods in Init pane as the `d` (describe), `y` (YAML) and `l` (logs) views show it. Raw strings:
// the selectors make them terminal-safe.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { withTypeMeta } from '../services/kube/wire.js';
import { humanDuration } from '../services/health/index.js';

/** The init container the pod waits on: the first that has not exited 0 (Calico's key-cert-provisioner). */
export function waitingInitContainer(pod: V1Pod | undefined): string | undefined {
  const specs = pod?.spec?.initContainers ?? [];
  const statuses = new Map((pod?.status?.initContainerStatuses ?? []).map((s) => [s.name, s]));
  const waiting = specs.find((c) => statuses.get(c.name)?.state?.terminated?.exitCode !== 0);
  return (waiting ?? specs[0])?.name;
}

function stateText(state: V1ContainerStatus): string {
  const st = state.state;
  if (st?.running) return 'Running';
  if (st?.terminated) return `Terminated (${st.terminated.reason ?? 'exit'} ${st.terminated.exitCode})`;
  if (st?.waiting) return `Waiting (${st.waiting.reason ?? 'waiting'})`;
  return 'unknown';
}

/** `kubectl describe pod`, the parts that matter for a pod held in Init. */
export function describePod(pod: V1Pod, now: number): string[] {
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : undefined;
  const lines = [
    `Name:          ${pod.metadata?.name ?? ''}`,
    `Namespace:     ${pod.metadata?.namespace ?? ''}`,
    `Node:          ${pod.spec?.nodeName ?? '<none>'}`,
    `Service Account: ${pod.spec?.serviceAccountName ?? 'default'}`,
    `Created:       ${created ? `${new Date(created).toISOString()} (${humanDuration(now - created)} ago)` : '<unknown>'}`,
    `Status:        ${pod.status?.phase ?? 'Unknown'}`,
    `UID:           ${pod.metadata?.uid ?? ''}`,
  ];
  const section = (title: string, specs: { name: string; image?: string }[], statuses?: V1ContainerStatus[]) => {
    if (specs.length === 0) return;
    lines.push(`${title}:`);
    for (const c of specs) {
      const status = statuses?.find((s) => s.name === c.name);
      lines.push(`  ${c.name}:`);
      lines.push(`    Image:    ${c.image ?? ''}`);
      lines.push(`    State:    ${status ? stateText(status) : 'unknown'}`);
      if (status) lines.push(`    Ready:    ${status.ready}   Restart Count: ${status.restartCount}`);
    }
  };
  section('Init Containers', pod.spec?.initContainers ?? [], pod.status?.initContainerStatuses);
  section('Containers', pod.spec?.containers ?? [], pod.status?.containerStatuses);
  const conditions = pod.status?.conditions ?? [];
  if (conditions.length) {
    lines.push('Conditions:', '  Type              Status');
    for (const c of conditions) lines.push(`  ${c.type.padEnd(17)} ${c.status}`);
  }
  return lines;
}

/** As `kubectl get pod -o yaml` prints it: apiVersion and kind first (a listed pod has them last, or not at all). */
export function podYaml(pod: V1Pod): string[] {
  return stringify(withTypeMeta(pod, 'v1', 'Pod'))
    .trimEnd()
    .split('\n');
}
