// The syntax error Go's encoding/json reports for a malformed body (its scanner's messages), which kube-apiserver
// passes on as `couldn't get version/kind; json parse error: <message>`.

/** Go's quoteChar: 'x', '\'', '"', '\n', '\x00'. */
function quoteChar(c: string): string {
  if (c === "'") return "'\\''";
  if (c === '"') return "'\"'";
  const code = c.codePointAt(0) ?? 0;
  const named: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r' };
  if (named[code]) return `'${named[code]}'`;
  if (code < 0x20 || code === 0x7f) return `'\\x${code.toString(16).padStart(2, '0')}'`;
  if (c === '\\') return "'\\\\'";
  return `'${c}'`;
}

const WS = new Set([' ', '\t', '\n', '\r']);

/** Undefined when the text is valid JSON as Go reads it; otherwise Go's error message. */
export function goJsonSyntaxError(text: string): string | undefined {
  const chars = [...text];
  let i = 0;
  const bad = (context: string): string => `invalid character ${quoteChar(chars[i] ?? '')} ${context}`;
  const END = 'unexpected end of JSON input';
  const skipWs = (): void => {
    while (i < chars.length && WS.has(chars[i] ?? '')) i++;
  };

  const literal = (word: string): string | undefined => {
    for (let k = 0; k < word.length; k++, i++) {
      if (i >= chars.length) return END;
      if (chars[i] !== word[k]) return bad(`in literal ${word} (expecting ${quoteChar(word[k] ?? '')})`);
    }
    return undefined;
  };

  const string = (): string | undefined => {
    i++; // opening quote
    for (;;) {
      if (i >= chars.length) return END;
      const c = chars[i] ?? '';
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === '\\') {
        i++;
        if (i >= chars.length) return END;
        const e = chars[i] ?? '';
        if (e === 'u') {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= chars.length) return END;
            if (!/[0-9a-fA-F]/.test(chars[i] ?? '')) return bad('in \\u hexadecimal character escape');
          }
        } else if (!'"\\/bfnrt'.includes(e)) {
          return bad('in string escape code');
        }
        i++;
        continue;
      }
      if ((c.codePointAt(0) ?? 0) < 0x20) return bad('in string literal');
      i++;
    }
  };

  const number = (): string | undefined => {
    if (chars[i] === '-') {
      i++;
      if (i >= chars.length) return END;
      if (!/[0-9]/.test(chars[i] ?? '')) return bad('in numeric literal');
    }
    if (chars[i] === '0') i++;
    else while (/[0-9]/.test(chars[i] ?? '')) i++;
    if (chars[i] === '.') {
      i++;
      if (i >= chars.length) return END;
      if (!/[0-9]/.test(chars[i] ?? '')) return bad('after decimal point in numeric literal');
      while (/[0-9]/.test(chars[i] ?? '')) i++;
    }
    if (chars[i] === 'e' || chars[i] === 'E') {
      i++;
      if (chars[i] === '+' || chars[i] === '-') i++;
      if (i >= chars.length) return END;
      if (!/[0-9]/.test(chars[i] ?? '')) return bad('in exponent of numeric literal');
      while (/[0-9]/.test(chars[i] ?? '')) i++;
    }
    return undefined;
  };

  const value = (): string | undefined => {
    skipWs();
    if (i >= chars.length) return END;
    const c = chars[i] ?? '';
    if (c === '{') {
      i++;
      skipWs();
      if (i >= chars.length) return END;
      if (chars[i] === '}') {
        i++;
        return undefined;
      }
      for (;;) {
        skipWs();
        if (i >= chars.length) return END;
        if (chars[i] !== '"') return bad('looking for beginning of object key string');
        const e = string();
        if (e) return e;
        skipWs();
        if (i >= chars.length) return END;
        if (chars[i] !== ':') return bad('after object key');
        i++;
        const v = value();
        if (v) return v;
        skipWs();
        if (i >= chars.length) return END;
        if (chars[i] === '}') {
          i++;
          return undefined;
        }
        if (chars[i] !== ',') return bad('after object key:value pair');
        i++;
      }
    }
    if (c === '[') {
      i++;
      skipWs();
      if (i >= chars.length) return END;
      if (chars[i] === ']') {
        i++;
        return undefined;
      }
      for (;;) {
        const v = value();
        if (v) return v;
        skipWs();
        if (i >= chars.length) return END;
        if (chars[i] === ']') {
          i++;
          return undefined;
        }
        if (chars[i] !== ',') return bad('after array element');
        i++;
      }
    }
    if (c === '"') return string();
    if (c === '-' || /[0-9]/.test(c)) return number();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    return bad('looking for beginning of value');
  };

  const err = value();
  if (err) return err;
  skipWs();
  if (i < chars.length) return bad('after top-level value');
  return undefined;
}
