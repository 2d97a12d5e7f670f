// Global options work before or after the subcommand, as kubectl's do: `certdesk --context west approve jane` is
// `certdesk approve jane --context west`. A value given in both places that differs is an error, and a global
// option the subcommand has no use for is refused, so nothing is ever silently ignored.
import type { Command, Option } from 'commander';
import { parseDurationSeconds } from '../services/text/duration.js';
import { terminalSafe } from '../services/text/sanitize.js';
import { CliError } from './cli-error.js';

/** Root options that change nothing in a headless command (they only style the TUI). */
const PRESENTATION_ONLY = new Set(['color']);

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function shown(value: unknown): string {
  return terminalSafe(Array.isArray(value) ? value.join(',') : String(value));
}

function flagOf(option: Option): string {
  return option.short && option.long ? `${option.short}/${option.long}` : (option.long ?? option.flags);
}

/** kubectl's `--request-timeout` value: `0` (no deadline), a bare number of seconds, or `1s`, `2m`, `500ms`. */
export function parseRequestTimeoutMs(text: string): number {
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined) {
    throw new CliError(
      `invalid --request-timeout "${terminalSafe(text)}"; use a duration such as 5s, 1m or 0 (no deadline)`,
    );
  }
  return Math.round(seconds * 1000);
}

/** Copies the root's global options given on the command line into the command that runs (a preAction hook). */
export function applyGlobalOptions(root: Command, action: Command): void {
  if (action === root) return;
  for (const option of root.options) {
    const key = option.attributeName();
    if (root.getOptionValueSource(key) !== 'cli' || PRESENTATION_ONLY.has(key)) continue;
    const value = root.getOptionValue(key) as unknown;
    const own = action.options.find((o) => o.attributeName() === key);
    if (!own) {
      throw new CliError(
        `${flagOf(option)} does not apply to '${commandPath(action)}'; remove it (see 'certdesk ${commandPath(action).replace(/^\S+\s*/, '')} --help')`,
      );
    }
    // A repeatable option (--context) on the root; a command that takes it once gets the single value.
    let given: unknown = value;
    if (Array.isArray(value) && !own.parseArg) {
      if (value.length > 1) throw new CliError(`'${commandPath(action)}' works on one context; pass ${own.long} once`);
      given = value[0];
    }
    if (action.getOptionValueSource(key) === 'cli') {
      const there = action.getOptionValue(key) as unknown;
      if (!same(there, given)) {
        throw new CliError(
          `${flagOf(option)} is given before '${action.name()}' (${shown(given)}) and after it (${shown(there)}); give it once`,
        );
      }
      continue;
    }
    action.setOptionValueWithSource(key, given, 'cli');
  }
}
