// The tuning cache: entries round-trip, a tampered, foreign, unreadable or group-writable entry
// is ignored with a warning, a tuned schedule is what the generated GEMM kernel uses, and the
// tuned kernel's outputs still agree with the interpreter.

import { chmodSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderC } from '../../src/codegen/c.js';
import { Builder } from '../../src/ir/build.js';
import { lowerGraph } from '../../src/kernels/lower.js';
import { type GemmSchedule, hostSchedule } from '../../src/kernels/schedule.js';
import { readTuned, scheduleProblem, tunedHostSchedule, writeTuned } from '../../src/runtime/tune-cache.js';
import { CBatch, assertClean, runAndCompare } from '../kernels/c-harness.js';

const CPU = 'test-cpu|model|flags';
const fresh = (): string => mkdtempSync(join(tmpdir(), 'fmc-tune-test-'));
const host = (): GemmSchedule => {
  const { tuned: _, ...s } = hostSchedule();
  return s;
};
const tunedOf = (s: GemmSchedule): GemmSchedule => ({ ...s, KC: 48, NC: s.NR * 3, MSPLIT: 3 });

function gemmGraph() {
  const g = new Builder();
  const x = g.input('x', 'f32', ['M', 100]);
  const w = g.param('lin.weight', 'f32', [70, 100]);
  return g.graph('forward', { y: g.einsum('mk,nk->mn', x, w) });
}

/** The GEMM shape keys the lowering asks the tuning cache about. */
function shapeKeys(): string[] {
  const keys: string[] = [];
  lowerGraph(gemmGraph(), { gemm: { ...host(), tuned: (k) => (keys.push(k), undefined) } });
  return keys;
}

describe('tuning cache', () => {
  it('round-trips an entry, private (0600) under a hashed name', () => {
    const cacheDir = fresh();
    const path = writeTuned('gemm M=T N=8 K=8', tunedOf(host()), 'test', { cacheDir, cpu: CPU });
    expect(readTuned('gemm M=T N=8 K=8', { cacheDir, cpu: CPU, warn: () => {} })).toEqual(tunedOf(host()));
    expect(path).toMatch(/tune\/[0-9a-f]{64}\.json$/);
    expect((readdirSync(join(cacheDir, 'tune')).length, readFileSync(path, 'utf8'))).toContain('"checksum"');
    // Another CPU or shape finds nothing.
    expect(readTuned('gemm M=T N=8 K=8', { cacheDir, cpu: 'other', warn: () => {} })).toBeUndefined();
    expect(readTuned('gemm M=T N=9 K=8', { cacheDir, cpu: CPU, warn: () => {} })).toBeUndefined();
  });

  it('ignores a tampered, damaged, group-writable or invalid entry with a warning', () => {
    const cacheDir = fresh();
    const path = writeTuned('gemm K', tunedOf(host()), 'test', { cacheDir, cpu: CPU });
    const good = readFileSync(path, 'utf8');
    const cases: [string, () => void, RegExp][] = [
      ['edited KC', () => writeFileSync(path, good.replace('"KC": 48', '"KC": 64')), /checksum/],
      ['not JSON', () => writeFileSync(path, good.slice(0, 20)), /not JSON/],
      ['bad tile', () => writeFileSync(path, good.replace(/"MR": \d+/, '"MR": 3')), /unknown tile/],
      ['group-writable', () => (writeFileSync(path, good), chmodSync(path, 0o666)), /writable by others/],
    ];
    for (const [what, tamper, why] of cases) {
      chmodSync(path, 0o600);
      tamper();
      const warnings: string[] = [];
      expect(readTuned('gemm K', { cacheDir, cpu: CPU, warn: (m) => warnings.push(m) }), what).toBeUndefined();
      expect(warnings.join('\n'), what).toMatch(why);
    }
    expect(scheduleProblem({ ...host(), MC: host().MR + 1 })).toMatch(/multiples/);
  });

  it('a tuned schedule is the one the generated GEMM kernel uses, and its outputs agree', () => {
    const cacheDir = fresh();
    const [key] = shapeKeys();
    expect(key).toMatch(/^gemm M=M N=70 K=100 batch=1 a=mk b=nk weight$/);
    writeTuned(key!, tunedOf(host()), 'test', { cacheDir, cpu: CPU });
    const gemm = tunedHostSchedule({ cacheDir, cpu: CPU });
    const plan = lowerGraph(gemmGraph(), { gemm });
    expect(plan.kernels[0]!.schedule).toMatchObject({ KC: 48, tuned: 'yes' });
    const source = renderC(plan.kernels, 'tuned');
    // K = 100 in blocks of about KC: two with the tuned KC of 48, one with the default 256.
    expect(source).toMatch(/nk_\d+ = 2;/);
    expect(renderC(lowerGraph(gemmGraph(), { gemm: host() }).kernels, 'default')).toMatch(/nk_\d+ = 1;/);
    const batch = CBatch.build([gemmGraph()], { lower: () => ({ gemm }) });
    for (const M of [1, 5, 31, 97]) {
      const r = runAndCompare(batch, 0, { dims: { M }, seed: M });
      assertClean(batch.graphs[0]!, r.problems, `M = ${M}`);
    }
  });
});
