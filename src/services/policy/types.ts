// Findings: what a careful approver notices about one CSR, each with a level and a sentence for a person.

export type FindingLevel = 'ok' | 'warn' | 'fail';

export interface Finding {
  level: FindingLevel;
  /** Stable machine code, e.g. `proof-of-possession`, `key-strength`, `requestor-mismatch`. */
  code: string;
  /** One sentence a person understands. Not terminal-safe (may quote CSR text): sanitize before display. */
  message: string;
}

/** The worst level among the findings (`ok` for none). */
export function worstLevel(findings: readonly Finding[]): FindingLevel {
  if (findings.some((f) => f.level === 'fail')) return 'fail';
  if (findings.some((f) => f.level === 'warn')) return 'warn';
  return 'ok';
}
