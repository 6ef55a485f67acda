// The CLI's manners: colours only on a terminal or when forced, `fmc explain`, a closed pipe,
// unknown help topics, directory arguments and outputs that would overwrite inputs.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { colorize, wantColor } from '../../src/cli/color.js';
import { normalizeCode, readExplanations } from '../../src/cli/explain.js';
import { MESSAGES } from '../../src/frontend/messages.js';
import { dimConst, dimSym } from '../../src/ir/dims.js';
import { initProgress } from '../../src/runtime/compile.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const ESC = '\u001b';

function fmc(env: Record<string, string | undefined>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const plain = (...args: string[]) => fmc({ FORCE_COLOR: undefined, NO_COLOR: undefined }, ...args);

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-usability-'));
}

const BAD = 'model M {\n  fn forward(x: f32[B, 4]) -> f32[B, 4] {\n    return x + foo\n  }\n}\n';

describe('colours', () => {
  it('are on for a terminal, off with NO_COLOR or when piped, forced by FORCE_COLOR', () => {
    expect(wantColor(true, {})).toBe(true);
    expect(wantColor(false, {})).toBe(false);
    expect(wantColor(undefined, {})).toBe(false);
    expect(wantColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(wantColor(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantColor(true, { FORCE_COLOR: '0' })).toBe(true);
  });

  it('paint diagnostics when forced and never when piped', () => {
    const f = path.join(tmpDir(), 'bad.fm');
    fs.writeFileSync(f, BAD);
    const piped = plain('check', f);
    expect(piped.code).toBe(1);
    expect(piped.err).not.toContain(ESC);
    const forced = fmc({ FORCE_COLOR: '1' }, 'check', f);
    expect(forced.code).toBe(1);
    expect(forced.err).toContain(`${ESC}[31merror FM0200:`);
    // The text is the same once the escape codes are removed.
    // eslint-disable-next-line no-control-regex
    expect(forced.err.replace(/\u001b\[\d+m/g, '')).toBe(piped.err);
  });

  it('never turn user text into escape codes: an ESC in a name stays escaped', () => {
    const painted = colorize('x.fm:1:1: error FM0200: cannot find `a\\u001b[31m` in this scope');
    // Only the codes colorize adds; the user's escape is still the six characters \u001b.
    expect(painted).toContain('a\\u001b[31m');
    expect(painted.split(ESC).length - 1).toBe(painted.match(/\u001b\[\d+m/g)!.length);
    expect(colorize('just text')).toBe('just text');
  });
});

describe('fmc explain', () => {
  it('explains every code in the message table from docs/diagnostics.md', () => {
    const table = readExplanations();
    for (const code of Object.keys(MESSAGES)) {
      const e = table.get(code);
      expect(e, code).toBeDefined();
      expect(e!.when.length, code).toBeGreaterThan(10);
    }
    const r = plain('explain', 'FM0200');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^FM0200: cannot find `\{0\}` in this scope\n\nNames and imports\. Reported when: A name/);
    expect(plain('explain', '200').out).toBe(r.out);
  });

  it('rejects an unknown code as a usage error with a suggestion', () => {
    expect(normalizeCode('fm12')).toBe('FM0012');
    expect(normalizeCode('nope')).toBeUndefined();
    const r = plain('explain', 'FM9998');
    expect(r.code).toBe(2);
    expect(r.err).toBe('fmc: no diagnostic code `FM9998`; did you mean FM9999? (see docs/diagnostics.md)\n');
  });
});

describe('usage errors', () => {
  it('an unknown help topic exits 2 and suggests the command', () => {
    const r = plain('help', 'chek');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^fmc: no help topic `chek`; did you mean `check`\?/);
    expect(plain('help', 'check').code).toBe(0);
  });

  it('a directory where a file is expected is a usage error, for every command', () => {
    const dir = tmpDir();
    for (const args of [
      ['check', dir],
      ['run', dir],
      ['inspect', dir],
      ['fmt', dir],
    ]) {
      const r = plain(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toBe(
        `fmc: \`${dir}\` is a directory; give .fm files (for example \`${path.join(dir, '*.fm')}\`)\n`,
      );
    }
  });

  it('refuses an output path that is also an input, through a symbolic link too', () => {
    const dir = tmpDir();
    const inputs = path.join(dir, 'in.safetensors');
    const before = plain('run', 'models/mlp.fm', '--save-inputs', inputs);
    expect(before.code).toBe(0);
    const bytes = fs.readFileSync(inputs);
    fs.symlinkSync(inputs, path.join(dir, 'link.safetensors'));
    for (const out of [inputs, path.join(dir, 'link.safetensors'), path.join(dir, '.', 'in.safetensors')]) {
      const r = plain('run', 'models/mlp.fm', '--inputs', inputs, '--save-outputs', out);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`fmc: --save-outputs \`${out}\` is also the input --inputs: refusing to overwrite it\n`);
    }
    expect(fs.readFileSync(inputs).equals(bytes)).toBe(true);
    const both = plain('run', 'models/mlp.fm', '--save-inputs', inputs, '--save-outputs', inputs);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--save-inputs and --save-outputs both write/);
  });

  it('a reader that closes the pipe early gets no stack trace', async () => {
    const child = spawn(process.execPath, [BIN, 'help', 'run'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // Read one chunk, then close our end as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).not.toMatch(/EPIPE|\n\s+at /);
    expect(code).toBe(0);
  });
});

describe('progress', () => {
  it('counts params and the share of values while weights are drawn', () => {
    const seen: string[] = [];
    const [three, d] = [dimConst(3), dimSym('d')];
    const params = [{ shape: [three, d] }, { shape: [d] }] as unknown as Parameters<typeof initProgress>[0];
    const tick = initProgress(params, new Map([['d', 5]]), (m) => seen.push(m));
    tick(0);
    tick(1); // within 100 ms of the first: not shown
    expect(seen).toEqual(['initializing weights: param 1/2, 0% of 20 values']);
    expect(() => initProgress(params, new Map(), undefined)(0)).not.toThrow();
  });
});
