// Output and input paths that are not regular files, as a user gives them to the built CLI
// (subprocesses, with a timeout: a FIFO read by mistake would hang). Outputs: a FIFO or a
// device at the name is refused and left as it was (the temp-file-and-rename writer would
// replace it), a symlink is written through and stays a link. The FIFO and the device are made
// here (mknod needs root; without it the device case is skipped), never the system's own.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-special-'));
const at = (name: string) => path.join(DIR, name);
const ENV = { ...process.env, FMC_CACHE_DIR: at('cache') };

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: DIR, encoding: 'utf8', env: ENV, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const TINY = `import { relu } from "std/act"
import { Linear } from "std/nn"

model Tiny(pixels = 4, hidden = 8, classes = 3) {
  @quantize(int8)
  fc1 = Linear(pixels, hidden)
  fc2 = Linear(hidden, classes)
  fn forward(images: f32[B, pixels]) -> (logits: f32[B, classes]) {
    return fc2(relu(fc1(images)))
  }
}
`;
fs.writeFileSync(at('tiny.fm'), TINY);

/** A FIFO at `name` (made fresh). */
function fifo(name: string): string {
  fs.rmSync(at(name), { force: true });
  spawnSync('mkfifo', [at(name)]);
  return at(name);
}

/** A character device at `name`, like /dev/null (1, 3) or /dev/zero (1, 5); undefined where mknod is not allowed. */
function device(name: string, minor = '3'): string | undefined {
  fs.rmSync(at(name), { force: true });
  return spawnSync('mknod', [at(name), 'c', '1', minor]).status === 0 ? at(name) : undefined;
}

describe('output files that are not regular files', () => {
  const writers: [string, (out: string) => string[]][] = [
    ['export --onnx', (out) => ['export', 'tiny.fm', '--onnx', out]],
    ['run --save-outputs', (out) => ['run', 'tiny.fm', '--save-outputs', out]],
    ['run --save-inputs', (out) => ['run', 'tiny.fm', '--save-inputs', out]],
    ['calibrate -o', (out) => ['calibrate', 'tiny.fm', '--data', 'iris', '--batches', '1', '-o', out]],
  ];

  it.each(writers)('%s refuses a FIFO and a device, and leaves them as they were', (_, args) => {
    const p = fifo('out.fifo');
    let r = fmc(...args(p));
    expect(r.err).toContain(`cannot write ${p}: it is a named pipe (FIFO), not a regular file`);
    expect(r.code).toBe(1);
    expect(fs.lstatSync(p).isFIFO()).toBe(true);
    const d = device('out.dev');
    if (d === undefined) return;
    r = fmc(...args(d));
    expect(r.err).toContain(`cannot write ${d}: it is a device, not a regular file`);
    expect(r.code).toBe(1);
    expect(fs.lstatSync(d).isCharacterDevice()).toBe(true);
  });

  it.each(writers)('%s writes through a symlink, which stays a link', (_, args) => {
    fs.rmSync(at('link'), { force: true });
    fs.mkdirSync(at('real'), { recursive: true });
    fs.writeFileSync(at('real/target'), 'keep');
    fs.symlinkSync('real/target', at('link'));
    const r = fmc(...args(at('link')));
    expect(r.err).not.toContain('cannot write');
    expect(r.code).toBe(0);
    expect(fs.lstatSync(at('link')).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(at('real/target'), 'utf8')).not.toBe('keep');
    // No temp file is left beside the link or the target.
    expect(fs.readdirSync(at('real'))).toEqual(['target']);
    // A link to a file not there yet creates it.
    fs.rmSync(at('dangling'), { force: true });
    fs.symlinkSync('real/new', at('dangling'));
    expect(fmc(...args(at('dangling'))).code).toBe(0);
    expect(fs.lstatSync(at('dangling')).isSymbolicLink()).toBe(true);
    expect(fs.statSync(at('real/new')).size).toBeGreaterThan(0);
    fs.rmSync(at('real/new'));
  });
});

describe('input files that are not regular files', () => {
  // Each reads its file before any long work: a FIFO would hang, a device like /dev/zero would
  // be read until memory runs out. Both are refused before a byte is read.
  const readers: [string, string, (file: string) => string[], number, (file: string) => string][] = [
    [
      'run --calibration',
      'json',
      (f) => ['run', 'tiny.fm', '--target', 'c', '--calibration', f],
      1,
      (f) => `${f}: cannot read the calibration: `,
    ],
    [
      'compile --calibration',
      'json',
      (f) => ['compile', 'tiny.fm', '--target', 'c', '-o', at('mod'), '--calibration', f],
      1,
      (f) => `${f}: cannot read the calibration: `,
    ],
    [
      'compile --device-profile',
      'json',
      (f) => ['compile', 'tiny.fm', '--target', 'wgsl', '-o', at('mod'), '--device-profile', f],
      2,
      (f) => `--device-profile ${f}: `,
    ],
    ['fmt', 'fm', (f) => ['fmt', f], 1, (f) => `cannot read ${f}: `],
    ['fmt --check', 'fm', (f) => ['fmt', '--check', f], 1, (f) => `cannot read ${f}: `],
    ['plot', 'jsonl', (f) => ['plot', f, '-o', at('plot.svg')], 1, (f) => `${f}: cannot read the file: `],
  ];

  it.each(readers)('%s refuses a FIFO and a symlink to a device', (_, ext, args, code, prefix) => {
    const p = fifo(`in.${ext}`);
    let r = fmc(...args(p));
    expect(r.err).toContain(`${prefix(p)}it is a named pipe (FIFO), not a regular file`);
    expect(r.code).toBe(code);
    const zero = device('zero', '5');
    if (zero === undefined) return;
    const link = at(`z.${ext}`);
    fs.rmSync(link, { force: true });
    fs.symlinkSync(zero, link);
    r = fmc(...args(link));
    expect(r.err).toContain(`${prefix(link)}it is a device, not a regular file`);
    expect(r.code).toBe(code);
  });
});

describe('a --out folder that exists as something else', () => {
  fs.writeFileSync(
    at('train.fm'),
    TINY.replace(
      'import { Linear } from "std/nn"',
      'import { Linear } from "std/nn"\nimport { cross_entropy } from "std/loss"',
    ).replace(
      /\n  }\n}\n$/,
      `\n  }\n  fn loss(images: f32[B, pixels], labels: i32[B]) -> f32[] {\n    return cross_entropy(forward(images), labels)\n  }\n  train {\n    optimizer = adam(lr = 0.01)\n    batch = 16\n    steps = 2\n  }\n}\n`,
    ),
  );

  it('train --out refuses a file, a FIFO and a device as a usage error', () => {
    fs.writeFileSync(at('plain'), 'keep');
    const outs: [string | undefined, string][] = [
      [at('plain'), 'a file'],
      [fifo('out.fifo'), 'a named pipe (FIFO)'],
      [device('out.dev'), 'a device'],
    ];
    for (const [out, kind] of outs) {
      if (out === undefined) continue;
      const r = fmc('train', 'train.fm', '--data', 'iris', '--out', out);
      expect(r.err).toContain(`--out ${out}: it is ${kind}, not a folder`);
      expect(r.err).not.toContain('EEXIST');
      expect(r.code).toBe(2);
    }
    expect(fs.readFileSync(at('plain'), 'utf8')).toBe('keep');
    // A file on the way to --out (ENOTDIR, which statSync throws whatever throwIfNoEntry says).
    const under = path.join(at('plain'), 'run');
    const r = fmc('train', 'train.fm', '--data', 'iris', '--out', under);
    expect(r.err).toContain(`--out ${under}: ENOTDIR: cannot use it as a folder`);
    expect(r.code).toBe(2);
  });
});

describe('imports of files that are not regular files', () => {
  it('say FM0700 "not a regular file", not FM0202 "cannot find module"', () => {
    fs.mkdirSync(at('imp'));
    const zero = device('imp/zdev', '5');
    if (zero !== undefined) fs.symlinkSync('zdev', at('imp/z.fm'));
    fifo('imp/f.fm');
    fs.mkdirSync(at('imp/d.fm'));
    fs.writeFileSync(at('imp/main.fm'), 'import "z"\nimport "f"\nimport "d"\nimport "nope"\n');
    const r = fmc('check', 'imp/main.fm');
    expect(r.code).toBe(1);
    if (zero !== undefined)
      expect(r.err).toContain('main.fm:1:8: error FM0700: cannot read `imp/z.fm`: it is not a regular file');
    expect(r.err).toContain('main.fm:2:8: error FM0700: cannot read `imp/f.fm`: it is not a regular file');
    expect(r.err).toContain('main.fm:3:8: error FM0700: cannot read `imp/d.fm`: it is a directory');
    expect(r.err).toContain('main.fm:4:8: error FM0202: cannot find module `nope`');
    expect(r.err).not.toContain('cannot find module `z`');
  });
});
