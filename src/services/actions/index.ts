// The actions shared by the headless commands, the TUI and the controller: the rules and the audit live here once.
export { type ApprovalActionOptions, approveWithAudit, denyWithAudit } from './approval.js';
export { type DeleteActionOptions, deleteWithAudit } from './delete.js';
export { type ActionContextOptions, type AuditSink, outcomeOf } from './audit-helpers.js';
export {
  buildKubeconfigForCsr,
  type ExportCaConfigMapOptions,
  type ExportFilesOptions,
  type ExportResult,
  type ExportSecretOptions,
  exportCaConfigMap,
  exportFiles,
  exportTlsSecret,
  issuedCertificate,
  type KubeconfigOptions,
} from './export.js';
export {
  defaultUsages,
  generateNameFrom,
  type RequestCertificateOptions,
  type RequestCertificateResult,
  requestCertificate,
} from './request.js';
export {
  type ApproveAndSignOptions,
  type ApproveAndSignOutcome,
  approveAndSignCsr,
  decodeCsrOf,
  SIGNER_VALIDATION_FAILURE,
  type SignRefusalReason,
  type SignOptions,
  type SignOutcome,
  signCsr,
  signRefusal,
} from './sign.js';
