// Discovery documents: /version, /api, /apis, /apis/GROUP, /api/v1 and /apis/GROUP/VERSION (APIResourceList).
import { apiVersionOf, GROUP_ORDER, groupVersions, RESOURCES, type ResourceDef } from './resources.js';

export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-certdesk-sandbox' };

export function versionDoc(): unknown {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersionsDoc(serverAddress: string): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(group: string): unknown {
  const versions = groupVersions(group).map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export function apiGroupListDoc(enabled: (group: string) => boolean): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: GROUP_ORDER.filter((g) => g !== '' && enabled(g)).map(groupDoc),
  };
}

export function apiGroupDoc(group: string): unknown {
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(group) as object) };
}

export function isKnownGroup(group: string): boolean {
  return GROUP_ORDER.includes(group) && group !== '';
}

function resourceEntries(def: ResourceDef): unknown[] {
  const main: Record<string, unknown> = {
    name: def.resource,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.verbs,
  };
  if (def.shortNames) main.shortNames = def.shortNames;
  if (def.categories) main.categories = def.categories;
  const subs = Object.entries(def.subresources).map(([sub, verbs]) => ({
    name: `${def.resource}/${sub}`,
    singularName: '',
    namespaced: def.namespaced,
    kind: def.kind,
    verbs,
  }));
  return [main, ...subs];
}

export function apiResourceListDoc(group: string, version: string): unknown {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  const first = defs[0];
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: first ? apiVersionOf(first) : `${group}/${version}`,
    resources: defs.flatMap(resourceEntries),
  };
}

// ------------------------------------------------------------------------------------------------ OpenAPI v3
// Just enough for kubectl: the root lists one document per group/version, and each document declares the PATCH
// operation of every kind with the `fieldValidation` query parameter, so kubectl leaves validation to the server
// instead of downloading full schemas (it then sends fieldValidation=Strict, which the sandbox accepts).

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

export function openApiRootDoc(enabled: (group: string) => boolean): unknown {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const group of GROUP_ORDER) {
    if (group && !enabled(group)) continue;
    for (const version of groupVersions(group)) {
      const p = gvPath(group, version);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=certdesk-sandbox-1` };
    }
  }
  return { paths };
}

export function openApiGroupVersionDoc(group: string, version: string): unknown | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const def of defs) {
    const base = `/${gvPath(group, version)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.resource}/{name}`;
    paths[base] = {
      patch: {
        operationId: `patch${def.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group, version, kind: def.kind },
        parameters: [
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}
