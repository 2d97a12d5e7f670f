// Go encoding/json syntax error messages for malformed bodies (kube-apiserver's `json parse error: …`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goJsonSyntaxError } from '../../../src/services/sandbox/go-json.js';

describe('goJsonSyntaxError', () => {
  it('is undefined for valid JSON', () => {
    for (const ok of ['{}', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ', '[]', '"s"', '0']) {
      assert.equal(goJsonSyntaxError(ok), undefined, ok);
    }
  });

  it("gives Go's scanner messages", () => {
    const cases: [string, string][] = [
      ['', 'unexpected end of JSON input'],
      ['{"kind": ', 'unexpected end of JSON input'],
      ['{bad', "invalid character 'b' looking for beginning of object key string"],
      ['{"a" 1}', "invalid character '1' after object key"],
      ['{"a": 1 "b": 2}', `invalid character '"' after object key:value pair`],
      ['[1 2]', "invalid character '2' after array element"],
      ['{} x', "invalid character 'x' after top-level value"],
      ['{"a": tru}', "invalid character '}' in literal true (expecting 'e')"],
      ['{"a": x}', "invalid character 'x' looking for beginning of value"],
      ['{"a": "\\q"}', "invalid character 'q' in string escape code"],
      ['{"a": "x\ny"}', "invalid character '\\n' in string literal"],
      ['{"a": -x}', "invalid character 'x' in numeric literal"],
      ["{'a': 1}", "invalid character '\\'' looking for beginning of object key string"],
    ];
    for (const [text, want] of cases) assert.equal(goJsonSyntaxError(text), want, text);
  });
});
