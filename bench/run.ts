// `npm run bench [name…]`: runs bench/<name>.bench.ts (all of them by default). Each exports
// `run(): Promise<string>` returning a markdown section; it is saved as docs/benchmarks/<name>.md and
// docs/benchmarks.md is rebuilt from all saved sections, with the machine and the date.
// `--assemble-only` rebuilds docs/benchmarks.md from the saved sections without running anything.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const benchDir = new URL('.', import.meta.url).pathname;
const sectionsDir = join(benchDir, '..', 'docs', 'benchmarks');
const assembleOnly = process.argv.includes('--assemble-only');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const all = (await readdir(benchDir)).filter((f) => f.endsWith('.bench.ts')).map((f) => basename(f, '.bench.ts'));
const names = assembleOnly ? [] : wanted.length ? wanted : all;
await mkdir(sectionsDir, { recursive: true });

const machine = `${os.cpus().length}× ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
for (const name of names) {
  if (!all.includes(name)) throw new Error(`no bench/${name}.bench.ts (have: ${all.join(', ')})`);
  const mod = (await import(pathToFileURL(join(benchDir, `${name}.bench.ts`)).href)) as { run: () => Promise<string> };
  console.error(`bench ${name}…`);
  const body = await mod.run();
  const stamp = `_Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}, with \`npm run bench ${name}\`._`;
  await writeFile(join(sectionsDir, `${name}.md`), `${body.trim()}\n\n${stamp}\n`);
  console.log(body);
}

const sections = (await readdir(sectionsDir)).filter((f) => f.endsWith('.md')).sort();
const parts = await Promise.all(sections.map((f) => readFile(join(sectionsDir, f), 'utf8')));
await writeFile(
  join(benchDir, '..', 'docs', 'benchmarks.md'),
  `# Benchmarks\n\nEvery figure below was measured by \`npm run bench\` (sections in docs/benchmarks/, one per bench file). The machines are shared and noisy, so each figure stands next to a reference measured in the same run, and the ratio is what to compare. Nothing here is asserted in tests.\n\n${parts.join('\n')}`,
);
