// Bundles fmc's browser entry (dist/src/browser/index.js, built by tsc) into one ES module,
// dist/browser/fmc.js, with rolldown (a dev dependency; it runs offline). `npm run build` runs
// it; `fmc compile --target wgsl --browser` copies the bundle next to a module.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const input = join(root, 'dist/src/browser/index.js');
const file = join(root, 'dist/browser/fmc.js');

let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch (e) {
  console.error(`build-browser: rolldown is not installed (npm install): ${e.message.split('\n')[0]}`);
  process.exit(1);
}
mkdirSync(dirname(file), { recursive: true });
const bundle = await rolldown({ input, platform: 'browser', logLevel: 'warn' });
const { output } = await bundle.write({ file, format: 'es', sourcemap: false });
await bundle.close();
// The bundle must stand alone: no import of Node's modules or of any package.
const imports = output.flatMap((o) => (o.type === 'chunk' ? o.imports : []));
if (imports.length > 0) {
  console.error(`build-browser: the browser bundle imports ${imports.join(', ')}: it must have no imports`);
  process.exit(1);
}
