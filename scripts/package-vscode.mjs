// `npm run package:vscode`: builds the VS Code extension package with the language server
// inside it, so that installing the .vsix alone gives highlighting and every server feature.
//
// The extension is staged in a temporary folder: grammar/ as it is, plus server/, which
// holds what `fmc lsp` loads and nothing else:
//   server/fmc.js            the entry (`node server/fmc.js lsp --stdio`), the language server only
//   server/dist/src/...      the compiled fmc modules reachable from src/lsp (static imports,
//                            dynamic `import()`s and worker URLs), found by reading them
//   server/node_modules/...  the packages those modules import, with their dependencies
//                            (prettier: only its core, index.mjs and doc.mjs: the formatter
//                            passes its own plugin, so prettier's language plugins never load)
//   server/std/*.fm          the standard library the checker reads
//   server/docs/diagnostics.md  the page diagnostic codes link to
//   server/package.json      `"type": "module"`, and it marks the package root (program.ts
//                            finds std/ next to a package.json)
// No native addon, no CLI: nothing the language server does not load. Then `vsce package`
// runs in the staging folder and writes grammar/fm-language-<version>.vsix.
//
// Usage (after `npm run build`): node scripts/package-vscode.mjs [--out FILE.vsix | --stage-only DIR]

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GRAMMAR = path.join(ROOT, 'grammar');
const require = createRequire(import.meta.url);

/** The files of a package that the server needs, when not all of them (see the header). */
const PACKAGE_FILES = {
  prettier: ['package.json', 'LICENSE', 'index.mjs', 'doc.mjs'],
  // src/frontend/chevrotain.ts loads the single-file build next to the entry it resolves.
  chevrotain: ['package.json', 'LICENSE.txt', 'lib/chevrotain.mjs', 'lib/src/api.js'],
};
const ENTRIES = ['dist/src/lsp/server.js', 'dist/src/lsp/check-worker.js', 'dist/src/lsp/lower-worker.js'];

const SERVER_ENTRY = `#!/usr/bin/env node
// The language server of the fm extension (written by scripts/package-vscode.mjs):
// \`node fmc.js lsp --stdio\`. Only the \`lsp\` command: this is not the whole fmc.
if (process.argv[2] !== 'lsp') {
  process.stderr.write('this is the language server bundled with the fm extension: run it as \`fmc.js lsp\`\\n');
  process.exit(2);
}
const { runLsp } = await import('./dist/src/lsp/server.js');
await runLsp();
`;

/** The relative files and bare packages that a compiled module names. */
function importsOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  const specs = new Set();
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bnew URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
    /\bcreateRequire\(import\.meta\.url\)\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\.resolve\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) specs.add(m[1]);
  return [...specs];
}

/** Every compiled module reachable from the entries, and the packages they import. */
export function serverClosure() {
  const files = new Set();
  const packages = new Set();
  const stack = ENTRIES.map((e) => path.join(ROOT, e));
  while (stack.length) {
    const f = stack.pop();
    if (files.has(f)) continue;
    if (!fs.existsSync(f)) throw new Error(`${path.relative(ROOT, f)} is missing: run \`npm run build\` first`);
    files.add(f);
    for (const spec of importsOf(f)) {
      if (spec.startsWith('.')) stack.push(path.resolve(path.dirname(f), spec));
      else if (!spec.startsWith('node:')) packages.add(packageName(spec));
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** The folder of an installed package (hoisted in the repository's node_modules). */
function packageDir(name, from) {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package ${name} is not installed (needed by the language server)`);
    dir = up;
  }
}

/** Copies the packages and, transitively, their dependencies into `dest`/node_modules. */
function copyPackages(names, dest) {
  const done = new Set();
  const stack = names.map((n) => [n, ROOT]);
  while (stack.length) {
    const [name, from] = stack.pop();
    if (done.has(name)) continue;
    done.add(name);
    const src = packageDir(name, from);
    const out = path.join(dest, 'node_modules', name);
    const only = PACKAGE_FILES[name];
    if (only) {
      // Single-file builds: their dependencies are inside them.
      for (const f of only) copy(path.join(src, f), path.join(out, f));
      continue;
    }
    fs.cpSync(src, out, { recursive: true, dereference: true, filter: (p) => !p.endsWith('.map') });
    const manifest = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
    for (const dep of Object.keys(manifest.dependencies ?? {})) stack.push([dep, src]);
  }
  return [...done].sort();
}

function copy(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

/** Writes the extension with its server into `stage`. */
export function stage(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(GRAMMAR, dir, { recursive: true, filter: (p) => !p.endsWith('.vsix') });
  const server = path.join(dir, 'server');
  const { files, packages } = serverClosure();
  for (const f of files) copy(f, path.join(server, path.relative(ROOT, f)));
  const copied = copyPackages(packages, server);
  for (const f of fs.readdirSync(path.join(ROOT, 'std'))) copy(path.join(ROOT, 'std', f), path.join(server, 'std', f));
  copy(path.join(ROOT, 'docs', 'diagnostics.md'), path.join(server, 'docs', 'diagnostics.md'));
  copy(path.join(GRAMMAR, 'LICENSE'), path.join(server, 'LICENSE'));
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const manifest = { name: 'fmc-language-server', version, private: true, type: 'module', license: 'MIT' };
  fs.writeFileSync(path.join(server, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(server, 'fmc.js'), SERVER_ENTRY);
  return { files: files.length, packages: copied };
}

function main() {
  const args = process.argv.slice(2);
  const option = (name) => (args.indexOf(name) >= 0 ? path.resolve(args[args.indexOf(name) + 1] ?? '') : undefined);
  const only = option('--stage-only');
  const dir = only ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fm-vsix-'));
  const s = stage(dir);
  console.log(`staged the extension in ${dir}: ${s.files} fmc modules, packages ${s.packages.join(', ')}`);
  if (only) return;
  const manifest = JSON.parse(fs.readFileSync(path.join(GRAMMAR, 'package.json'), 'utf8'));
  const out = option('--out') ?? path.join(GRAMMAR, `${manifest.name}-${manifest.version}.vsix`);
  const vsce = path.join(path.dirname(require.resolve('@vscode/vsce/package.json')), 'vsce');
  execFileSync(process.execPath, [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '--out', out], {
    cwd: dir,
    stdio: 'inherit',
  });
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
