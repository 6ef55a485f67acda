// `fmc compile --target wgsl --explain-limits` (golden/wgsl/limits/): each kernel's use of the
// device profile's limits, kernels near or over a limit marked, for a model split to fit (at
// the default and the swiftshader profiles), a seed model, and a model that cannot fit (its
// table, then its FM diagnostic); and the usage errors of --device-profile.

import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';
import { expectGolden, ROOT } from '../golden/golden.js';

async function fmc(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const io: Io = { out: (s) => (out += s), err: (s) => (err += s), color: false };
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const code = await run(args, io);
    return { out, err, code };
  } finally {
    process.chdir(cwd);
  }
}

const WIDE = path.join('test', 'wgsl', 'limits', 'wide.fm');
const PICK = path.join('test', 'golden', 'compile', 'wgsl-too-many-buffers.fm');
const THREE = path.join('test', 'golden', 'compile', 'three-buffers.json');

describe('fmc compile --explain-limits', () => {
  it.each([
    ['wide-default', [WIDE], 0],
    ['wide-swiftshader', [WIDE, '--device-profile', 'swiftshader'], 0],
    ['cnn-default', [path.join('models', 'cnn.fm'), '--fn', 'forward'], 0],
    ['pick-over', [PICK, '--device-profile', THREE], 1],
  ] as const)('%s', async (name, args, want) => {
    const r = await fmc(['compile', ...args, '--target', 'wgsl', '--explain-limits']);
    expect(r.code).toBe(want);
    expectGolden(`wgsl/limits/${name}.txt`, `${r.out}${r.err ? `--- stderr\n${r.err}` : ''}`);
  });
  it.each([
    [['--device-profile', 'swiftshader'], 2, /only the WGSL target has device limits/],
    [
      ['--target', 'wgsl', '--device-profile', 'nope.json'],
      2,
      /--device-profile nope\.json: no such file \(give a JSON file, adapter, or a built-in: default, swiftshader\)/,
    ],
    [
      ['--target', 'wgsl', '--device-profile', 'package.json', '--explain-limits'],
      1,
      /--device-profile package\.json: unknown key "name"/,
    ],
  ] as const)('refuses %j', async (args, code, message) => {
    const r = await fmc(['compile', WIDE, ...args, '-o', path.join('/tmp', 'fmc-never-written')]);
    expect(r.code).toBe(code);
    expect(r.err).toMatch(message);
  });
});
