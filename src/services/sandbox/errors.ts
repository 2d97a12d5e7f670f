// API errors as the Kubernetes API server serializes them (apimachinery/pkg/api/errors), and field errors
// rendered as apimachinery/pkg/util/validation/field does.

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason: string; message: string; field: string }[];
  retryAfterSeconds?: number;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, string>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    readonly metadata: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): StatusBody {
    const body: StatusBody = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: this.metadata,
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    // A plain Go error from an admission plugin becomes a Status without a reason (StatusReasonUnknown is "").
    if (!this.reason) delete (body as Partial<StatusBody>).reason;
    if (!this.details) return body;
    const { code, ...rest } = body;
    // Go's omitempty: an empty name, group or kind is left out of details.
    const details = { ...this.details };
    for (const k of ['name', 'group', 'kind'] as const) if (details[k] === '') delete details[k];
    return { ...rest, details, code };
  }
}

/** The group-qualified resource as errors show it: `certificatesigningrequests.certificates.k8s.io`, `pods`. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, group: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });
}

export function alreadyExists(resource: string, group: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
    name,
    group,
    kind: resource,
  });
}

export const OPTIMISTIC_LOCK =
  'the object has been modified; please apply your changes to the latest version and try again';

export function conflict(resource: string, group: string, name: string, why = OPTIMISTIC_LOCK): ApiError {
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
    {
      name,
      group,
      kind: resource,
    },
  );
}

export function forbidden(
  resource: string | undefined,
  group: string,
  name: string | undefined,
  detail: string,
): ApiError {
  if (!resource) return new ApiError(403, 'Forbidden', `forbidden: ${detail}`, {});
  const q = qualified(resource, group);
  const message = name ? `${q} "${name}" is forbidden: ${detail}` : `${q} is forbidden: ${detail}`;
  const details: StatusDetails = name ? { name, group, kind: resource } : { group, kind: resource };
  return new ApiError(403, 'Forbidden', message, details);
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

export function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function unsupportedMediaType(accepted: string[], why?: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `${why ? `${why}: ` : ''}the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

// ------------------------------------------------------------------------------------------ field errors
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'InternalError';

export interface FieldError {
  type: FieldErrorType;
  field: string;
  /** The rendered body without the field, e.g. `Invalid value: "x": must be ...`. */
  body: string;
}

/** A value rendered verbatim in a field error, e.g. `[]byte(nil)`. */
export class GoValue {
  constructor(readonly text: string) {}
}

/** Go's `%v`/`%q` rendering of a bad value. */
function render(value: unknown): string {
  if (value instanceof GoValue) return value.text;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  // kube 1.37 renders a []byte value as its JSON (base64 in quotes).
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString('base64'));
  return JSON.stringify(value);
}

const withDetail = (s: string, detail?: string): string => (detail ? `${s}: ${detail}` : s);

export const field = {
  required: (f: string, detail?: string): FieldError => ({
    type: 'FieldValueRequired',
    field: f,
    body: withDetail('Required value', detail),
  }),
  invalid: (f: string, value: unknown, detail?: string): FieldError => ({
    type: 'FieldValueInvalid',
    field: f,
    body: withDetail(`Invalid value: ${render(value)}`, detail),
  }),
  notSupported: (f: string, value: unknown, valid: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field: f,
    body: `Unsupported value: ${render(value)}${valid.length ? `: supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : ''}`,
  }),
  duplicate: (f: string, value: unknown): FieldError => ({
    type: 'FieldValueDuplicate',
    field: f,
    body: `Duplicate value: ${render(value)}`,
  }),
  forbidden: (f: string, detail: string): FieldError => ({
    type: 'FieldValueForbidden',
    field: f,
    body: withDetail('Forbidden', detail),
  }),
  tooLong: (f: string, max: number): FieldError => ({
    type: 'FieldValueTooLong',
    field: f,
    body: `Too long: must have at most ${max} bytes`,
  }),
};

export function fieldErrorString(e: FieldError): string {
  return e.field ? `${e.field}: ${e.body}` : e.body;
}

/** 422 Invalid: `Kind.group "name" is invalid: <aggregate>`; details.kind is the Kind. */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): ApiError {
  const strings = errors.map(fieldErrorString);
  const aggregate = strings.length === 1 ? (strings[0] ?? '') : `[${strings.join(', ')}]`;
  return new ApiError(422, 'Invalid', `${qualified(kind, group)} "${name}" is invalid: ${aggregate}`, {
    ...(name ? { name } : {}),
    group,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  });
}
