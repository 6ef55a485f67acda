// What the api tests share: the built CLI as a subprocess, a private compile cache (so tests
// neither depend on nor fill ~/.cache/fmc), and temp folders removed at exit.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';

export const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');

/** A temp folder for this test file, removed after it. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `fmc-${prefix}-`));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One compile cache per test file. */
export const CACHE = tempDir('api-cache');

export interface Result {
  code: number | null;
  out: string;
  err: string;
}

/** Runs a command with the private cache, from the repository root. */
export function sh(cmd: string, args: readonly string[], cwd = ROOT): Result {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, FMC_CACHE_DIR: CACHE } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `fmc ARGS...` through bin/fmc.js (the built CLI, as users run it). */
export const fmc = (...args: string[]): Result => sh(process.execPath, [BIN, ...args]);

/** All files of a folder with their bytes, by name. */
export function readFolder(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
}

/** The error `f` throws (fails the test if it returns). */
export function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}
