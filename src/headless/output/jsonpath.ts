// kubectl's JSONPath templates (k8s.io/client-go/util/jsonpath) for `-o jsonpath=…`, `-o custom-columns=…` and
// `--sort-by`: text with `{…}` actions; `.field`, `..field`, `[*]`/`.*`, `[n]`, `[a:b:c]`, `['a','b']`, `[0,2]`,
// filters `[?(@.x == "y")]` (==, !=, <, <=, >, >=, or existence), `{range …}…{end}`, string literals `{"\n"}`.
// Several results of one action print separated by a space; strings print raw, everything else as JSON. Missing
// keys give nothing (kubectl's --allow-missing-template-keys=true). No dependency: the JSONPath packages on npm
// implement Goessner's JSONPath, not kubectl's template language (range/end, literals, output rules).
import { terminalSafe } from '../../services/text/sanitize.js';
import { CliError } from '../cli-error.js';

type Segment =
  | { kind: 'field'; name: string }
  | { kind: 'recursive'; name: string | undefined }
  | { kind: 'wildcard' }
  | { kind: 'index'; indexes: number[] }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'keys'; names: string[] }
  | { kind: 'filter'; left: Path; op?: string; right?: Path | { literal: unknown } };

interface Path {
  literal?: string;
  segments: Segment[];
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; paths: Path[] }
  | { kind: 'range'; path: Path; body: Node[] };

export class JsonPathError extends CliError {}

function fail(template: string, why: string): never {
  throw new JsonPathError(`invalid jsonpath template "${template}": ${why}`);
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', "'": "'", '\\': '\\' };

/** Parses one path expression (inside `{}`), e.g. `.items[*].metadata.name` or `"\t"`. */
function parsePath(src: string, template: string): Path {
  let i = 0;
  const s = src.trim();
  const segments: Segment[] = [];
  if (s.startsWith('"') || s.startsWith("'")) {
    const q = s[0];
    let text = '';
    for (i = 1; i < s.length && s[i] !== q; i++) {
      if (s[i] === '\\' && i + 1 < s.length) text += ESCAPES[s[++i] ?? ''] ?? s[i];
      else text += s[i];
    }
    if (i !== s.length - 1) fail(template, `unterminated string ${s}`);
    return { literal: text, segments };
  }
  if (s[i] === '$' || s[i] === '@') i++;
  const name = (): string => {
    let out = '';
    while (i < s.length && !'.[ ,)='.includes(s[i] ?? '') && !'!<>'.includes(s[i] ?? '')) {
      if (s[i] === '\\' && i + 1 < s.length) i++;
      out += s[i++];
    }
    return out;
  };
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      if (s[i + 1] === '.') {
        i += 2;
        if (s[i] === '*') {
          i++;
          segments.push({ kind: 'recursive', name: undefined });
        } else segments.push({ kind: 'recursive', name: name() || undefined });
        continue;
      }
      i++;
      if (s[i] === '*') {
        i++;
        segments.push({ kind: 'wildcard' });
        continue;
      }
      if (s[i] === '[' || i >= s.length) continue;
      segments.push({ kind: 'field', name: name() });
      continue;
    }
    if (c === '[') {
      let depth = 0;
      let j = i;
      let quote: string | undefined;
      for (; j < s.length; j++) {
        const ch = s[j];
        if (quote) {
          if (ch === '\\') j++;
          else if (ch === quote) quote = undefined;
        } else if (ch === '"' || ch === "'") quote = ch;
        else if (ch === '[') depth++;
        else if (ch === ']' && --depth === 0) break;
      }
      if (j >= s.length) fail(template, 'unclosed [');
      segments.push(parseBracket(s.slice(i + 1, j).trim(), template));
      i = j + 1;
      continue;
    }
    if (c === ' ') {
      i++;
      continue;
    }
    // A bare name at the start (kubectl accepts `{metadata.name}` relaxed, and custom-columns `metadata.name`).
    if (segments.length === 0) {
      segments.push({ kind: 'field', name: name() });
      continue;
    }
    fail(template, `unexpected "${c}" in ${s}`);
  }
  return { segments };
}

function parseBracket(inner: string, template: string): Segment {
  if (inner === '*') return { kind: 'wildcard' };
  if (inner.startsWith('?(') && inner.endsWith(')')) {
    const body = inner.slice(2, -1).trim();
    const m = /^(.+?)\s*(==|!=|<=|>=|<|>)\s*(.+)$/.exec(body);
    if (!m) return { kind: 'filter', left: parsePath(body, template) };
    const right = (m[3] ?? '').trim();
    const literal: unknown = /^['"]/.test(right)
      ? parsePath(right, template).literal
      : /^-?\d+(\.\d+)?$/.test(right)
        ? Number(right)
        : right === 'true' || right === 'false'
          ? right === 'true'
          : undefined;
    return {
      kind: 'filter',
      left: parsePath(m[1] ?? '', template),
      op: m[2] ?? '==',
      right: literal === undefined ? parsePath(right, template) : { literal },
    };
  }
  if (/^['"]/.test(inner)) {
    const names = inner.split(/\s*,\s*/).map((p) => parsePath(p, template).literal ?? '');
    return { kind: 'keys', names };
  }
  if (inner.includes(':')) {
    const [a, b, c] = inner.split(':').map((p) => (p.trim() === '' ? undefined : Number(p)));
    if ([a, b, c].some((n) => n !== undefined && !Number.isInteger(n))) fail(template, `bad slice [${inner}]`);
    return {
      kind: 'slice',
      ...(a !== undefined ? { start: a } : {}),
      ...(b !== undefined ? { end: b } : {}),
      ...(c !== undefined ? { step: c } : {}),
    };
  }
  const indexes = inner.split(',').map((p) => Number(p.trim()));
  if (indexes.some((n) => !Number.isInteger(n))) {
    // kubectl also accepts [name] for a key.
    return { kind: 'keys', names: inner.split(',').map((p) => p.trim()) };
  }
  return { kind: 'index', indexes };
}

/** Parses a template: text with `{…}` actions. */
export function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: { body: Node[] }[] = [{ body: root }];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const top = stack[stack.length - 1] as { body: Node[] };
    if (open < 0) {
      top.body.push({ kind: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) top.body.push({ kind: 'text', text: template.slice(i, open) });
    // Find the matching `}` outside quotes.
    let j = open + 1;
    let quote: string | undefined;
    for (; j < template.length; j++) {
      const ch = template[j];
      if (quote) {
        if (ch === '\\') j++;
        else if (ch === quote) quote = undefined;
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '}') break;
    }
    if (j >= template.length) fail(template, 'unclosed action');
    const action = template.slice(open + 1, j).trim();
    if (action.startsWith('range ') || action === 'range') {
      const node: Node = { kind: 'range', path: parsePath(action.slice(5), template), body: [] };
      top.body.push(node);
      stack.push(node);
    } else if (action === 'end') {
      if (stack.length === 1) fail(template, 'not in range, nothing to end');
      stack.pop();
    } else {
      top.body.push({ kind: 'expr', paths: splitTopLevel(action).map((p) => parsePath(p, template)) });
    }
    i = j + 1;
  }
  if (stack.length > 1) fail(template, 'range without end');
  return root;
}

/** Splits `a,b` at commas outside brackets and quotes (kubectl's union of expressions). */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function children(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v))
    return Object.keys(v)
      .sort()
      .map((k) => v[k]);
  return [];
}

function descendants(v: unknown, out: unknown[]): void {
  out.push(v);
  for (const c of children(v)) descendants(c, out);
}

function compare(a: unknown, op: string, b: unknown): boolean {
  switch (op) {
    case '==':
      return a === b || (typeof a === 'number' && Number(b) === a);
    case '!=':
      return !(a === b || (typeof a === 'number' && Number(b) === a));
    default: {
      if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
    }
  }
}

function step(values: unknown[], seg: Segment): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    switch (seg.kind) {
      case 'field':
        if (isObject(v) && seg.name in v && v[seg.name] !== undefined) out.push(v[seg.name]);
        break;
      case 'wildcard':
        out.push(...children(v));
        break;
      case 'recursive': {
        const all: unknown[] = [];
        descendants(v, all);
        if (seg.name === undefined) out.push(...all.slice(1));
        else for (const d of all) if (isObject(d) && seg.name in d) out.push(d[seg.name]);
        break;
      }
      case 'keys':
        for (const n of seg.names) if (isObject(v) && n in v) out.push(v[n]);
        break;
      case 'index':
        if (Array.isArray(v)) {
          for (const n of seg.indexes) {
            const k = n < 0 ? v.length + n : n;
            // kubectl's jsonpath: an index past the end is an error, not nothing (a script would read an empty value).
            if (k < 0 || k >= v.length)
              throw new JsonPathError(`array index out of bounds: index ${n}, length ${v.length}`);
            out.push(v[k]);
          }
        }
        break;
      case 'slice':
        if (Array.isArray(v)) {
          const len = v.length;
          const norm = (n: number | undefined, d: number) =>
            n === undefined ? d : n < 0 ? Math.max(0, len + n) : Math.min(n, len);
          const by = seg.step ?? 1;
          for (let k = norm(seg.start, 0); k < norm(seg.end, len); k += by > 0 ? by : 1) out.push(v[k]);
        }
        break;
      case 'filter':
        for (const item of children(v)) {
          // Inside a filter an item without that element simply does not match.
          const left = evaluateOrNone(seg.left, item);
          if (seg.op === undefined) {
            if (left.length > 0 && left[0] !== false && left[0] !== null) out.push(item);
            continue;
          }
          const rightValues =
            seg.right && 'literal' in seg.right && !('segments' in seg.right)
              ? [seg.right.literal]
              : evaluateOrNone(seg.right as Path, item);
          if (left.length > 0 && rightValues.length > 0 && compare(left[0], seg.op, rightValues[0])) out.push(item);
        }
        break;
    }
  }
  return out;
}

function evaluateOrNone(path: Path, data: unknown): unknown[] {
  try {
    return evaluate(path, data);
  } catch (err) {
    if (err instanceof JsonPathError) return [];
    throw err;
  }
}

/** The values a path selects from `data` (none when a key is missing). */
export function evaluate(path: Path, data: unknown): unknown[] {
  if (path.literal !== undefined) return [path.literal];
  let values: unknown[] = [data];
  for (const seg of path.segments) values = step(values, seg);
  return values;
}

/** Go's encoding/json order: object keys sorted. */
function sortedKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedKeys);
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) out[k] = sortedKeys(v[k]);
  return out;
}

/**
 * A value as custom-columns prints it: kubectl formats cells with Go's `%v`, so a list is `[server auth client auth]`
 * and a map `map[team:a]` (keys sorted), not JSON as jsonpath prints them.
 */
export function goValueText(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValueText).join(' ')}]`;
  if (typeof v === 'object')
    return `map[${Object.keys(v)
      .sort()
      .map((k) => `${k}:${goValueText((v as Record<string, unknown>)[k])}`)
      .join(' ')}]`;
  return String(v);
}

/** How kubectl prints one value: strings raw, everything else as compact JSON with sorted keys. */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(sortedKeys(v));
}

function run(nodes: Node[], data: unknown, out: string[]): void {
  for (const node of nodes) {
    if (node.kind === 'text') out.push(node.text);
    else if (node.kind === 'expr') {
      // A literal ({"\t"}) is the user's own text; values come from the cluster and are made terminal-safe.
      out.push(
        node.paths
          .flatMap((p) =>
            p.literal !== undefined ? [p.literal] : evaluate(p, data).map((v) => terminalSafe(valueText(v))),
          )
          .join(' '),
      );
    } else {
      for (const v of evaluate(node.path, data)) {
        const items = Array.isArray(v) ? v : [v];
        for (const item of items) run(node.body, item, out);
      }
    }
  }
}

/** Executes a template on data, as `kubectl -o jsonpath=TEMPLATE` prints it (no newline added); the values are
 * terminal-safe (cluster text), the template's own text is printed as written. */
export function executeTemplate(template: string, data: unknown): string {
  const out: string[] = [];
  run(parseTemplate(template), data, out);
  return out.join('');
}

/** kubectl's relaxed form for --sort-by and custom-columns: `.a.b`, `a.b` or `{.a.b}` → one path. */
export function relaxedPath(expr: string): Path {
  let e = expr.trim();
  if (e.startsWith('{') && e.endsWith('}')) e = e.slice(1, -1);
  if (e === '') throw new JsonPathError('an empty JSONPath expression; give one such as .metadata.name');
  return parsePath(e, expr);
}
