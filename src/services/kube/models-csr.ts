// The client-node model classes for CSRs, Secrets and ConfigMaps.
// Each class is imported from its own module of client-node (which has no "exports" map, so these paths resolve on
// every Node version) rather than from the package root: the root re-exports all ~2,500 models and ~70 API classes,
// and the build would put them in the chunk of every command that reads a CSR; see deserialize.ts and
// docs/performance.md ("Startup"). test/unit/kube/models.test.ts checks these are client-node's own classes and
// that the set still covers every nested type after an upgrade.
import { V1CertificateSigningRequest } from '@kubernetes/client-node/dist/gen/models/V1CertificateSigningRequest.js';
import { V1CertificateSigningRequestCondition } from '@kubernetes/client-node/dist/gen/models/V1CertificateSigningRequestCondition.js';
import { V1CertificateSigningRequestSpec } from '@kubernetes/client-node/dist/gen/models/V1CertificateSigningRequestSpec.js';
import { V1CertificateSigningRequestStatus } from '@kubernetes/client-node/dist/gen/models/V1CertificateSigningRequestStatus.js';
import { V1ConfigMap } from '@kubernetes/client-node/dist/gen/models/V1ConfigMap.js';
import { V1ManagedFieldsEntry } from '@kubernetes/client-node/dist/gen/models/V1ManagedFieldsEntry.js';
import { V1ObjectMeta } from '@kubernetes/client-node/dist/gen/models/V1ObjectMeta.js';
import { V1OwnerReference } from '@kubernetes/client-node/dist/gen/models/V1OwnerReference.js';
import { V1Secret } from '@kubernetes/client-node/dist/gen/models/V1Secret.js';
import { type ModelSet, modelSet } from './deserialize.js';

const classes = {
  V1CertificateSigningRequest,
  V1CertificateSigningRequestCondition,
  V1CertificateSigningRequestSpec,
  V1CertificateSigningRequestStatus,
  V1ConfigMap,
  V1ManagedFieldsEntry,
  V1ObjectMeta,
  V1OwnerReference,
  V1Secret,
};

export const csrType: ModelSet = modelSet('V1CertificateSigningRequest', classes);
export const secretType: ModelSet = modelSet('V1Secret', classes);
export const configMapType: ModelSet = modelSet('V1ConfigMap', classes);
