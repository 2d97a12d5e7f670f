// Label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors (=, ==, !=), parsed once per request.
import { badRequest } from './errors.js';

export type Matcher = (values: Record<string, string>) => boolean;

const always: Matcher = () => true;

function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

export function parseLabelSelector(selector: string | null | undefined): Matcher {
  if (!selector?.trim()) return always;
  const tests: Matcher[] = [];
  for (const term of splitTerms(selector)) {
    let m = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const key = m[1] ?? '';
      const values = new Set((m[3] ?? '').split(',').map((v) => v.trim()));
      const negate = m[2] === 'notin';
      tests.push((l) => {
        const v = l[key];
        return negate ? v === undefined || !values.has(v) : v !== undefined && values.has(v);
      });
      continue;
    }
    m = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=()]*)$/.exec(term);
    if (m) {
      const key = m[1] ?? '';
      const value = m[3] ?? '';
      if (m[2] === '!=') tests.push((l) => l[key] !== value);
      else tests.push((l) => l[key] === value);
      continue;
    }
    m = /^(!?)([^\s!=()]+)$/.exec(term);
    if (m) {
      const key = m[2] ?? '';
      if (m[1]) tests.push((l) => l[key] === undefined);
      else tests.push((l) => l[key] !== undefined);
      continue;
    }
    throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
  }
  return (labels) => tests.every((t) => t(labels));
}

/** Field selectors; `supported` lists the field labels the kind accepts (others: 400 "field label not supported"). */
export function parseFieldSelector(selector: string | null | undefined, supported: readonly string[]): Matcher {
  if (!selector?.trim()) return always;
  const tests: Matcher[] = [];
  for (const term of splitTerms(selector)) {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const key = (m[1] ?? '').trim();
    const value = (m[3] ?? '').trim();
    if (!supported.includes(key)) {
      // Kinds without their own field label conversion get apimachinery's default one, worded differently (1.37).
      if (supported.every((l) => l === 'metadata.name' || l === 'metadata.namespace'))
        throw badRequest(`"${key}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
      throw badRequest(`field label not supported: ${key}`);
    }
    if (m[2] === '!=') tests.push((f) => f[key] !== value);
    else tests.push((f) => f[key] === value);
  }
  return (fields) => tests.every((t) => t(fields));
}
