// An unknown command is named in one line with a suggestion, not opened as the TUI or reported as "too many arguments".
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const bin = new URL('../../../bin/certdesk.js', import.meta.url).pathname;

test('a misspelt command gets a suggestion and exit code 1', () => {
  const r = spawnSync(process.execPath, [bin, 'aprove', 'some-csr'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr.trim(),
    "error: unknown command 'aprove' (did you mean 'approve'?); run 'certdesk --help' for the list",
  );
});

test('an unknown command with nothing close is named', () => {
  const r = spawnSync(process.execPath, [bin, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: unknown command 'frobnicate'; run 'certdesk --help'/);
});
