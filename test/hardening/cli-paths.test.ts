// `fmc run FILE --target c` and `fmc bench FILE` read FILE as a path whatever its name, as the
// reference target does (issue 17, item 7): they used to take a FILE that does not end in `.fm`,
// or that holds a line break, for source text.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/io.js';
import { CACHE, tempDir } from '../api/helpers.js';

const SOURCE = `import { relu } from "std/act"
import { Linear } from "std/nn"

model Small(d = 8) {
  fc = Linear(d, d)
  fn forward(x: f32[B, d]) -> (y: f32[B, d]) {
    return relu(fc(x))
  }
}
`;

async function fmc(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let [out, err] = ['', ''];
  const io: Io = { out: (s) => void (out += s), err: (s) => void (err += s), color: false };
  const saved = process.env.FMC_CACHE_DIR;
  process.env.FMC_CACHE_DIR = CACHE;
  try {
    const code = await run(argv, io);
    return { code, out, err };
  } finally {
    if (saved === undefined) delete process.env.FMC_CACHE_DIR;
    else process.env.FMC_CACHE_DIR = saved;
  }
}

const DIR = tempDir('cli-paths');
const NAMES = ['model.txt', 'model', 'line\nbreak.fm', 'x.fm.bak'];

describe('FILE is a path whatever its name', () => {
  for (const name of NAMES)
    it(`run --target c, run and bench read ${JSON.stringify(name)}`, { timeout: 120_000 }, async () => {
      const file = path.join(DIR, name);
      fs.writeFileSync(file, SOURCE);
      const ref = await fmc('run', file, '--dims', 'B=2', '--json');
      expect(ref.err).toBe('');
      expect(ref.code).toBe(0);
      const c = await fmc('run', file, '--target', 'c', '--dims', 'B=2', '--json');
      expect(c.err).toBe('');
      expect(c.code).toBe(0);
      const [r, k] = [JSON.parse(ref.out), JSON.parse(c.out)];
      expect(k.model).toBe('Small');
      expect(k.outputs[0].mean).toBeCloseTo(r.outputs[0].mean, 4);
      const b = await fmc('bench', file, '--dims', 'B=2', '--runs', '1', '--warmup', '0', '--json');
      expect(b.err).toBe('');
      expect(b.code).toBe(0);
      expect(JSON.parse(b.out).model).toBe('Small');
    });

  it('a missing FILE is a missing file, not source text', async () => {
    const file = path.join(DIR, 'nothing here');
    for (const argv of [
      ['run', file, '--target', 'c'],
      ['bench', file],
    ]) {
      const r = await fmc(...argv);
      expect(r.code).toBe(1);
      expect(r.err).toContain('no such file');
      expect(r.err).not.toMatch(/FM\d{4}/);
    }
  });
});
