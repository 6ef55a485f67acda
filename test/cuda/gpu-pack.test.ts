// scripts/gpu-pack.mjs: a checkout without node_modules (what travels to a lent GPU machine)
// plus the pack runs dist/bench/gpu-check.js: every module it imports resolves. Here, without a
// GPU, that script then stops at its no-GPU line, which it can only print once all its imports
// have loaded. Without the pack the same copy fails to load (so the check is not vacuous).
// Node.js itself is left out of the pack here (--no-node): compressing it takes a minute.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../src/runtime/native.js';

const ROOT = path.resolve(__dirname, '../..');
const driver = native().cudaStatus().driver;
if (driver) console.warn(`skipping the gpu-pack check: a CUDA driver is here (${driver}), so gpu-check would run`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-gpu-pack-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) =>
  spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: '' }, timeout: 120_000 });

describe.skipIf(driver !== '')('scripts/gpu-pack.mjs', () => {
  it('packs what gpu-check imports, so a checkout without node_modules runs it', { timeout: 180_000 }, () => {
    // The checkout as it travels: tracked files (those gpu-check reads) and the carried builds.
    const root = path.join(tmp, 'checkout');
    for (const p of ['package.json', 'std', 'models', 'scripts/gpu-check', 'dist'])
      fs.cpSync(path.join(ROOT, p), path.join(root, p), { recursive: true });
    const addon = 'runtime-native/build/Release/fmc_native.node';
    fs.cpSync(path.join(ROOT, addon), path.join(root, addon));

    const bare = run(process.execPath, ['dist/bench/gpu-check.js'], root);
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);

    const pack = run(
      process.execPath,
      ['scripts/gpu-pack.mjs', '--out', path.join(root, '.gpu-pack'), '--no-node'],
      ROOT,
    );
    expect(pack.stderr).toBe('');
    expect(pack.status).toBe(0);
    expect(pack.stdout).toMatch(/packages \(.*\bchevrotain\b.*\)/);
    expect(pack.stdout).toMatch(/what travels: [\d.]+ MiB/);
    expect(fs.existsSync(path.join(root, '.gpu-pack', 'node.xz'))).toBe(false);

    // The pack's run script puts node_modules in place and runs scripts/gpu-check, unbuilt.
    const viaRun = run('bash', [path.join(root, '.gpu-pack', 'run')], root);
    expect(viaRun.stdout).toMatch(/^no GPU: libcuda\.so\.1 not found/);
    expect(viaRun.status).toBe(2);
    expect(fs.existsSync(path.join(root, 'node_modules', 'chevrotain', 'package.json'))).toBe(true);

    // The Node script itself (past the bash pre-check): all its imports load.
    const full = run(process.execPath, ['dist/bench/gpu-check.js'], root);
    expect(full.stderr).toBe('');
    expect(full.stdout).toMatch(/^no GPU: libcuda\.so\.1 not found \(dlopen: .*\)\n$/);
    expect(full.status).toBe(2);
  });
});
