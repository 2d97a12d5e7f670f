// Durations for command output: kubectl's HumanDuration of seconds, ages, and typed durations.
export { age, humanDurationSeconds as humanDuration, parseDurationSeconds } from '../../services/text/duration.js';
