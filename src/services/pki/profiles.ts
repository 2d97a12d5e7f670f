// Signing profiles as data (assets/profiles/*.json, plus any JSON file a user names): allowed usages,
// default and maximum duration, RSA hash, chain appending. Like the profiles of cfssl's signing config.
import { parseDurationSeconds } from '../text/duration.js';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { BoundedReadError, MiB, readBoundedText } from '../files/read-bounded.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PkiError, type SigningProfile } from './types.js';
import { KNOWN_USAGES } from './usages.js';

const YEAR = 365 * 24 * 3600;

/** kube-controller-manager's defaults: any usage, 1 year by default and at most. */
export const DEFAULT_PROFILE: SigningProfile = Object.freeze({
  name: 'default',
  allowedUsages: [],
  defaultDurationSeconds: YEAR,
  maxDurationSeconds: YEAR,
  rsaHash: 'SHA-256',
  includeChain: false,
}) as SigningProfile;

/** Parses a Go-style duration (`8760h`, `24h`, `90m`, `1h30m`, `600s`) or days (`30d`) into seconds. */
export function parseDuration(text: string): number {
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined || text.trim() === '') {
    throw new PkiError('unsupported', `"${text}" is not a duration; write it like 24h, 90m, 8760h or 30d.`);
  }
  return Math.round(seconds);
}

function findAssetsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'assets', 'profiles');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

interface ProfileFile {
  name?: string;
  allowedUsages?: unknown;
  defaultDuration?: unknown;
  maxDuration?: unknown;
  rsaHash?: unknown;
  includeChain?: unknown;
}

/** Validates a profile document (the JSON shape of assets/profiles/*.json). */
export function profileFromJson(doc: unknown, fallbackName: string): SigningProfile {
  if (!doc || typeof doc !== 'object')
    throw new PkiError('unsupported', `Profile "${fallbackName}" is not a JSON object.`);
  const d = doc as ProfileFile;
  const name = typeof d.name === 'string' ? d.name : fallbackName;
  const usages = d.allowedUsages ?? [];
  if (!Array.isArray(usages) || usages.some((u) => typeof u !== 'string' || !KNOWN_USAGES.includes(u))) {
    throw new PkiError('unsupported', `Profile "${name}": allowedUsages must list usages the CSR API knows.`);
  }
  const dur = (v: unknown, field: string, fallback: number) => {
    if (v === undefined) return fallback;
    if (typeof v === 'number') return v;
    if (typeof v === 'string') return parseDuration(v);
    throw new PkiError('unsupported', `Profile "${name}": ${field} must be a duration such as "8760h".`);
  };
  const maxDurationSeconds = dur(d.maxDuration, 'maxDuration', YEAR);
  const defaultDurationSeconds = Math.min(dur(d.defaultDuration, 'defaultDuration', YEAR), maxDurationSeconds);
  if (maxDurationSeconds < 600)
    throw new PkiError('unsupported', `Profile "${name}": maxDuration must be at least 10m.`);
  const rsaHash = d.rsaHash ?? 'SHA-256';
  if (rsaHash !== 'SHA-256' && rsaHash !== 'SHA-384' && rsaHash !== 'SHA-512') {
    throw new PkiError('unsupported', `Profile "${name}": rsaHash must be SHA-256, SHA-384 or SHA-512.`);
  }
  return {
    name,
    allowedUsages: usages as string[],
    defaultDurationSeconds,
    maxDurationSeconds,
    rsaHash,
    includeChain: d.includeChain === true,
  };
}

/** Directories searched for `<name>.json`, in order: extra ones (e.g. the user's config dir), then assets. */
function profileDirs(extraDirs: string[]): string[] {
  const assets = findAssetsDir();
  return [...extraDirs, ...(assets ? [assets] : [])];
}

/**
 * Loads a profile by name (from `extraDirs`, then assets/profiles) or from a path ending in `.json`.
 * `default` always exists, even without the assets directory.
 */
export async function loadProfile(nameOrPath: string, extraDirs: string[] = []): Promise<SigningProfile> {
  const candidates = nameOrPath.endsWith('.json')
    ? [nameOrPath]
    : profileDirs(extraDirs).map((d) => join(d, `${nameOrPath}.json`));
  for (const file of candidates) {
    let text: string;
    try {
      text = await readBoundedText(file, { what: 'profile', limit: MiB });
    } catch (err) {
      if (err instanceof BoundedReadError && err.code === 'not-found') continue;
      throw new PkiError('not-found', (err as Error).message);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new PkiError('unsupported', `The profile file ${file} is not valid JSON.`);
    }
    return profileFromJson(doc, nameOrPath);
  }
  if (nameOrPath === 'default') return { ...DEFAULT_PROFILE };
  const known = await listProfiles(extraDirs);
  throw new PkiError('not-found', `No signing profile "${nameOrPath}"; known profiles: ${known.join(', ')}.`);
}

export async function listProfiles(extraDirs: string[] = []): Promise<string[]> {
  const names = new Set<string>(['default']);
  for (const d of profileDirs(extraDirs)) {
    try {
      for (const f of await readdir(d)) if (f.endsWith('.json')) names.add(f.slice(0, -5));
    } catch {
      // missing directory
    }
  }
  return [...names].sort();
}
