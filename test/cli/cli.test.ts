// The `fmc` command as a user runs it: exit codes, output shapes, help, JSON.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tmpFile(name: string, content: string | Uint8Array): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-cli-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
}

describe('fmc', () => {
  it('checks every model clean (exit 0)', () => {
    const models = fs.readdirSync(path.join(ROOT, 'models')).map((f) => `models/${f}`);
    const r = fmc('check', ...models);
    expect(r.err).toMatch(/checked \d+ files: no errors/);
    expect(r.code).toBe(0);
  });

  it('reports errors as file:line:col with a code frame (exit 1)', () => {
    const f = tmpFile('bad.fm', 'fn f(x: f32[B, 4]) -> f32[B, 5] {\n  return x\n}\n');
    const r = fmc('check', f);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /bad\.fm:2:10: error FM0404: function `f` returns f32\[B, 4\], but its signature says f32\[B, 5\]/,
    );
    expect(r.err).toContain(' 2 |   return x\n   |          ^');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('prints diagnostics as JSON with --json', () => {
    const f = tmpFile('bad.fm', 'const X = Y\n');
    const r = fmc('check', '--json', f);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out) as { errors: number; diagnostics: { code: string; line: number; col: number }[] };
    expect(j.errors).toBe(1);
    expect(j.diagnostics[0]).toMatchObject({ code: 'FM0200', line: 1, col: 11 });
  });

  it('rejects hostile files with a diagnostic, never a stack trace', () => {
    const cases = [
      tmpFile('garbage.fm', new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))),
      tmpFile('unterminated.fm', 'block A {\n  fn f(x: f32[N]) -> f32[N] {\n    return x\n'),
      tmpFile('huge.fm', `const X = 1\n${'x'.repeat(5_000_000)}\n`),
      tmpFile('deep.fm', `const X = ${'['.repeat(100_000)}`),
    ];
    for (const f of cases) {
      const r = fmc('check', f);
      expect(r.code, f).toBe(1);
      expect(r.err).toMatch(/\.fm:\d+:\d+: error FM\d{4}: /);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('exits 1 for a missing file', () => {
    const r = fmc('check', 'no/such/file.fm');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no\/such\/file\.fm:1:1: error FM0700: cannot read/);
  });

  it('exits 2 on usage errors', () => {
    expect(fmc().code).toBe(2);
    expect(fmc('frobnicate').code).toBe(2);
    expect(fmc('check').code).toBe(2);
    expect(fmc('check', '--no-such-flag', 'models/mlp.fm').code).toBe(2);
  });

  it('has help with examples', () => {
    const top = fmc('--help');
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/Examples:/);
    const check = fmc('help', 'check');
    expect(check.code).toBe(0);
    expect(check.out).toMatch(/fmc check models\/swa_lm\.fm/);
    expect(fmc('help', 'fmt').out).toMatch(/--check/);
    expect(fmc('--version').out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('fmc fmt', () => {
  it('finds std and the models canonically formatted', () => {
    const files = ['std', 'models'].flatMap((d) => fs.readdirSync(path.join(ROOT, d)).map((f) => `${d}/${f}`));
    const r = fmc('fmt', '--check', ...files);
    expect(r.err).toMatch(/formatted correctly/);
    expect(r.code).toBe(0);
  });

  it('formats a file in place and reports syntax errors instead of formatting', () => {
    const f = tmpFile('ugly.fm', 'const   X=1+2\nfn f(x:f32[N])->f32[N]{return x}\n');
    expect(fmc('fmt', f).code).toBe(0);
    expect(fs.readFileSync(f, 'utf8')).toBe('const X = 1 + 2\n\nfn f(x: f32[N]) -> f32[N] {\n  return x\n}\n');
    const bad = tmpFile('bad.fm', 'const X = (1\n');
    const r = fmc('fmt', bad);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad\.fm:1:11: error FM0105/);
  });
});
