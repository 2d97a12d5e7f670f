// Durations as kubectl shows them (apimachinery's duration.HumanDuration) and as people type them
// (Go-style `24h`, `1h30m`, `600s`, plus `7d`). One implementation for the TUI, the commands, health and the sandbox.

/** apimachinery duration.HumanDuration of `ms`: `45s`, `10m`, `3h20m`, `5d`, `2y34d`; `<invalid>` for clear negatives. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(seconds / 3600);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** The same for a number of seconds (e.g. spec.expirationSeconds). */
export function humanDurationSeconds(seconds: number): string {
  return humanDuration(seconds * 1000);
}

/** Age of a timestamp as kubectl shows it, `<unknown>` when absent or unreadable. */
export function age(time: Date | string | undefined, now: number = Date.now()): string {
  if (time === undefined) return '<unknown>';
  const t = typeof time === 'string' ? Date.parse(time) : time.getTime();
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
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
