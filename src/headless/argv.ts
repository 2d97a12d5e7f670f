// argv as kubectl users write it, before commander reads it.
/**
 * kubectl (pflag) reads `-n=NS` and `-o=json` as `-n NS` and `-o json`; commander would take `=NS` as the value
 * (`get pods-in-init -n=calico-system` listed namespace "=calico-system" and said "No pods in Init."). Nothing after
 * `--` is touched.
 */
export function splitShortAssignments(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^(-[A-Za-z])=(.*)$/s.exec(arg);
    if (m) out.push(m[1] ?? '', m[2] ?? '');
    else out.push(arg);
  }
  return out;
}
