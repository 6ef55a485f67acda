#!/usr/bin/env node
// The `fmc` command. The compiler is TypeScript built into dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('fmc: the compiler is not built yet; run `npm run build` in the fmc package first\n');
  process.exit(70);
}
// A reader that stops early (`fmc help run | head -1`) closes the pipe: stop quietly.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
try {
  const { run } = await import(main.href);
  process.exitCode = await run(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`fmc: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.stderr.write('This is a bug in fmc; please report it with the command and input that caused it.\n');
  process.exitCode = 70;
}
