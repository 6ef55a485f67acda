#!/usr/bin/env node
// scripts/gpu-pack.mjs: what scripts/gpu-check needs on a GPU machine that has no npm registry
// and perhaps no Node.js (the lent GPU machines: no network, a CUDA image without Node). The
// checkout travels there without node_modules (784 MB here), so this writes a folder
// (default .gpu-pack/, git-ignored) holding:
//   node_modules/  only the packages dist/bench/gpu-check.js imports, and what they depend on;
//   node.xz        this Node.js binary, compressed (left out with --no-node, or where the binary
//                  is not self-contained);
//   run            a bash script: unpacks Node to /tmp, puts node_modules in place, adds CUDA's
//                  library folders to LD_LIBRARY_PATH and runs scripts/gpu-check without a build.
// Build first (`npm run build`); the pack goes with `dist` and `runtime-native/build/Release`
// (both git-ignored, so they travel only when named), e.g. for the device tool:
//   run(command: "bash .gpu-pack/run", carry: [".gpu-pack", "dist", "runtime-native/build/Release"])
// Prints the size of what travels (the tracked files, dist, the addon and the pack).

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..');
const ENTRY = path.join(ROOT, 'dist', 'bench', 'gpu-check.js');
const ADDON = path.join(ROOT, 'runtime-native', 'build', 'Release', 'fmc_native.node');

const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = path.resolve(outArg >= 0 ? args[outArg + 1] : path.join(ROOT, '.gpu-pack'));
const withNode = !args.includes('--no-node');

for (const [file, what] of [
  [ENTRY, 'dist/bench/gpu-check.js'],
  [ADDON, 'the native addon'],
])
  if (!fs.existsSync(file)) fail(`${what} is not built (missing ${file}): run \`npm run build\` first`);

function fail(message) {
  console.error(`gpu-pack: ${message}`);
  process.exit(1);
}

/** The specifiers a built module imports (static, dynamic, require calls as TypeScript finds them, and require.resolve). */
function specifiers(file) {
  const text = fs.readFileSync(file, 'utf8');
  const found = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  // createRequire(...).resolve('pkg...'): kept where such a package is installed
  for (const m of text.matchAll(/\brequire\.resolve\(\s*['"]([^'"\s]+)['"]/g))
    if (fs.existsSync(path.join(ROOT, 'node_modules', packageOf(m[1])))) found.push(m[1]);
  return found;
}

const builtin = new Set(builtinModules);
const SELF = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).name;
const packageOf = (spec) => {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/** The packages reachable from the entry's import graph inside dist/. */
function importedPackages() {
  const seen = new Set();
  const packages = new Set();
  const queue = [ENTRY];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiers(file)) {
      if (spec.startsWith('node:') || builtin.has(spec) || packageOf(spec) === SELF) continue;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec);
        if (target.endsWith('.js') && fs.existsSync(target)) queue.push(target);
        continue;
      }
      packages.add(packageOf(spec));
    }
  }
  return packages;
}

/** The packages with everything they depend on (npm's flat node_modules of this checkout). */
function closure(roots) {
  const all = new Set();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop();
    if (all.has(name)) continue;
    const manifest = path.join(ROOT, 'node_modules', name, 'package.json');
    if (!fs.existsSync(manifest)) fail(`${name} is imported but not installed here (run \`npm ci\`)`);
    all.add(name);
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    const has = (dep, dir) => fs.existsSync(path.join(dir, 'node_modules', dep, 'package.json'));
    const nested = path.join(ROOT, 'node_modules', name); // a nested node_modules is copied with it
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!has(dep, nested)) queue.push(dep);
    for (const dep of Object.keys(pkg.optionalDependencies ?? {}))
      if (!has(dep, nested) && has(dep, ROOT)) queue.push(dep);
  }
  return [...all].sort();
}

function bytes(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(p).reduce((sum, e) => sum + bytes(path.join(p, e)), 0);
}

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'node_modules'), { recursive: true });
const packages = closure(importedPackages());
for (const name of packages)
  fs.cpSync(path.join(ROOT, 'node_modules', name), path.join(out, 'node_modules', name), {
    recursive: true,
    dereference: true,
  });

let nodeNote = 'not packed (--no-node): the GPU machine must have Node.js 20 or newer';
if (withNode) {
  const ldd = spawnSync('ldd', [process.execPath], { encoding: 'utf8' }).stdout ?? '';
  if (/libnode\.so/.test(ldd))
    nodeNote = `not packed: ${process.execPath} links libnode (not self-contained); the GPU machine must have Node.js`;
  else {
    fs.writeFileSync(
      path.join(out, 'node.xz'),
      execFileSync('xz', ['-T0', '-4', '-c', process.execPath], { maxBuffer: 1 << 28 }),
    );
    nodeNote = `${process.version} (${(bytes(path.join(out, 'node.xz')) / 2 ** 20).toFixed(1)} MiB compressed)`;
  }
}

fs.writeFileSync(
  path.join(out, 'run'),
  `#!/usr/bin/env bash
# Written by scripts/gpu-pack.mjs: runs scripts/gpu-check from this pack, without npm or a build.
here=$(cd "\${0%/*}" && pwd)
root=$(cd "$here/.." && pwd)
if [[ -f "$here/node.xz" ]] && ! node --version >/dev/null 2>&1; then
  mkdir -p /tmp/fmc-node
  if command -v xz >/dev/null 2>&1; then xz -dc "$here/node.xz" >/tmp/fmc-node/node
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$here/node.xz" /tmp/fmc-node/node
  fi || { echo "gpu-pack: cannot unpack node.xz (no xz, no python3)" >&2; exit 2; }
  chmod +x /tmp/fmc-node/node
  export PATH="/tmp/fmc-node:$PATH"
fi
[[ -e "$root/node_modules" ]] || cp -r "$here/node_modules" "$root/node_modules"
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/nvidia/lib64; do
  [[ -d "$d" ]] && LD_LIBRARY_PATH="$d\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH
# PyTorch for the benchmarks: /usr/bin/python3's, else the first python3 on PATH that has it
if [[ -z "\${FMC_PYTHON:-}" ]] && ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 &&
  command -v python3 >/dev/null 2>&1 && python3 -c 'import torch' >/dev/null 2>&1; then
  export FMC_PYTHON="$(command -v python3)"
fi
FMC_GPU_CHECK_NO_BUILD=1 exec bash "$root/scripts/gpu-check" "$@"
`,
  { mode: 0o755 },
);

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && fs.existsSync(path.join(ROOT, f)))
  .reduce((sum, f) => sum + fs.statSync(path.join(ROOT, f)).size, 0);
const sizes = { tracked, dist: bytes(path.join(ROOT, 'dist')), addon: bytes(ADDON), pack: bytes(out) };
const total = Object.values(sizes).reduce((a, b) => a + b, 0);
const mib = (n) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.log(
  `gpu-pack: wrote ${path.relative(process.cwd(), out) || '.'}: ${packages.length} packages (${packages.join(', ')})`,
);
console.log(`gpu-pack: Node.js ${nodeNote}`);
console.log(
  `gpu-pack: what travels: ${mib(total)} (tracked files ${mib(sizes.tracked)}, dist ${mib(sizes.dist)}, addon ${mib(sizes.addon)}, pack ${mib(sizes.pack)})`,
);
