// load() on hostile folders (issue 17, item 10): plan.json, a C source or the weights that is
// a symlink to /dev/zero, a FIFO, a folder, or far larger than fmc ever writes. Each is refused
// at once with an error naming the file; none hangs or reads without bound.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { load, PlanFormatError } from '../../src/index.js';
import { MAX_MODULE_TEXT_BYTES } from '../../src/api/load.js';
import { CACHE, fmc, tempDir, thrown } from './helpers.js';

const DIR = tempDir('load-hostile');
const MODULE = path.join(DIR, 'mlp');
const opts = { cacheDir: CACHE };
/** Every refusal is immediate: far below this. */
const QUICK = 10_000;

let copies = 0;
function copy(edit: (dir: string) => void): string {
  const dir = path.join(DIR, `copy${copies++}`);
  fs.cpSync(MODULE, dir, { recursive: true });
  edit(dir);
  return dir;
}

const replaceWith = {
  devZero: (file: string) => {
    fs.rmSync(file, { force: true });
    fs.symlinkSync('/dev/zero', file);
  },
  fifo: (file: string) => {
    fs.rmSync(file, { force: true });
    const r = spawnSync('mkfifo', [file]);
    expect(r.status, String(r.stderr)).toBe(0);
  },
  folder: (file: string) => {
    fs.rmSync(file, { force: true });
    fs.mkdirSync(file);
  },
  huge: (file: string) => {
    // Sparse: no disk space used.
    fs.truncateSync(file, MAX_MODULE_TEXT_BYTES + 1);
  },
};
const WHY: Record<keyof typeof replaceWith, RegExp> = {
  devZero: /it is a device, not a regular file/,
  fifo: /it is a named pipe \(FIFO\), not a regular file/,
  folder: /it is a folder/,
  huge: /over the limit of \d+ bytes/,
};

let cSource = '';

beforeAll(() => {
  const r = fmc('compile', 'models/mlp.fm', '--target', 'c', '-o', MODULE, '--seed', '3');
  expect(r.code, r.err).toBe(0);
  const manifest = JSON.parse(fs.readFileSync(path.join(MODULE, 'plan.json'), 'utf8')) as {
    sources: Record<string, { file: string }>;
  };
  cSource = Object.values(manifest.sources)[0]!.file;
}, 120_000);

describe('load() refuses special files', () => {
  for (const kind of Object.keys(replaceWith) as (keyof typeof replaceWith)[]) {
    it(
      `plan.json that is ${kind}`,
      () => {
        const dir = copy((d) => replaceWith[kind](path.join(d, 'plan.json')));
        const e = thrown(() => load(dir, opts));
        expect(e).toBeInstanceOf(PlanFormatError);
        expect(e.message).toContain(path.join(dir, 'plan.json'));
        expect(e.message).toMatch(WHY[kind]);
      },
      QUICK,
    );
    it(
      `a C source that is ${kind}`,
      () => {
        const dir = copy((d) => replaceWith[kind](path.join(d, cSource)));
        const e = thrown(() => load(dir, opts));
        expect(e).toBeInstanceOf(PlanFormatError);
        expect(e.message).toContain(path.join(dir, cSource));
        expect(e.message).toMatch(WHY[kind]);
      },
      QUICK,
    );
  }
  for (const kind of ['devZero', 'fifo', 'folder'] as const) {
    it(
      `weights that are ${kind}`,
      () => {
        const dir = copy((d) => replaceWith[kind](path.join(d, 'weights.safetensors')));
        const e = thrown(() => load(dir, opts));
        expect(e.message).toContain(path.join(dir, 'weights.safetensors'));
        expect(e.message).toMatch(WHY[kind]);
      },
      QUICK,
    );
  }

  it(
    'a module folder that is a FIFO, or a file',
    () => {
      const fifo = path.join(DIR, 'fifo-module');
      replaceWith.fifo(fifo);
      expect(thrown(() => load(fifo, opts))).toBeInstanceOf(PlanFormatError);
      const file = path.join(DIR, 'file-module');
      fs.writeFileSync(file, 'x');
      expect(thrown(() => load(file, opts))).toBeInstanceOf(PlanFormatError);
    },
    QUICK,
  );

  it('symlinks to regular files are read as those files', () => {
    const dir = copy((d) => {
      for (const f of ['plan.json', cSource, 'weights.safetensors']) {
        const real = path.join(d, `real-${f}`);
        fs.renameSync(path.join(d, f), real);
        fs.symlinkSync(real, path.join(d, f));
      }
    });
    expect(load(dir, opts).functions.length).toBeGreaterThan(0);
  }, 120_000);
});
