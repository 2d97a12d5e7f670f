// Durations as kubectl shows them (duration.HumanDuration) and as users type them (Go-style `24h`, `1h30m`, `600s`).

/** kubectl's HumanDuration: `45s`, `10m`, `3h20m`, `5d`, `2y34d`. */
export function humanDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60 * 2) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 10) {
    const rem = s % 60;
    return rem === 0 ? `${minutes}m` : `${minutes}m${rem}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(s / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of a timestamp as kubectl shows it, `<unknown>` when absent. */
export function age(time: Date | string | undefined, now: number = Date.now()): string {
  if (time === undefined) return '<unknown>';
  const t = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration((now - t) / 1000);
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Parses `90s`, `10m`, `1h30m`, `24h`, `7d` (or a bare number of seconds) into seconds; undefined when invalid. */
export function parseDurationSeconds(text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  return total;
}
