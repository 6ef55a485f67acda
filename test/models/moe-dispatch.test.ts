// std/moe.fm's capacity dispatch (route first: slots by a prefix sum, rows gathered in and
// out) against the one-hot formulation it replaced (dispatch and combine tensors contracted
// with x): the same numbers bit for bit on the reference interpreter, with assignments
// dropped past capacity, for top_k 1 to 3 and several sequence lengths; and on C against
// the interpreter.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModel } from '../../src/api/compile.js';
import { lowerFile } from '../../src/frontend/lower.js';
import { initParam, randomInput } from '../../src/ir/init.js';
import { evaluate } from '../../src/ir/interp.js';
import { fromHost, toHost } from '../../src/runtime/tensor.js';
import { CACHE_DIR, MODEL_TOL, compare } from '../kernels/c-harness.js';

const SOURCE = `import { one_hot, triu_mask } from "std/math"
import { MoE } from "std/moe"

model Both(d = 8, experts = 4, top_k = 2) {
  moe = MoE(d, 12, experts = experts, top_k = top_k, capacity_factor = 0.5)

  fn forward(x: f32[B, T, d]) -> (routed: f32[B, T, d], onehot: f32[B, T, d], kept: f32[]) {
    let (_, gates, idx) = moe.router(x)
    let y = moe.route_capacity(x, gates, idx)
    // How many tokens got no expert at all (every choice dropped): rows of y that are 0.
    let none = sum(cast(sum(cast(y == 0.0, f32), -1) == d, f32))
    return (y, dense_onehot(x, gates, idx), none)
  }

  // The O(T²) one-hot dispatch of the earlier std/moe.fm, at capacity factor 0.5.
  fn dense_onehot(x: f32[B, T, d], gates: f32[B, T, top_k], idx: i32[B, T, top_k]) -> f32[B, T, d] {
    let slots = ceildiv(top_k * T * 50, 100 * experts)
    let n = top_k * T
    let choice = reshape(permute(one_hot(idx, experts), [0, 2, 1, 3]), [B, n, experts])
    let before = einsum("bme,mn->bne", choice, cast(triu_mask(n, 1), f32))
    let pos = sum(before * choice, -1)
    let assign = einsum("bne,bnc->bnec", choice, one_hot(cast(pos, i32), slots))
    let gate_n = reshape(permute(gates, [0, 2, 1]), [B, n])
    let disp = sum(reshape(assign, [B, top_k, T, experts, slots]), 1)
    let comb = sum(reshape(assign * reshape(gate_n, [B, n, 1, 1]), [B, top_k, T, experts, slots]), 1)
    let ye = moe.expert(einsum("btec,btd->ebcd", disp, x))
    return einsum("btec,ebcd->btd", comb, ye)
  }
}
`;

const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-moe-')), 'both.fm');
fs.writeFileSync(file, SOURCE);

describe('MoE capacity dispatch: routed first = the one-hot formulation', () => {
  for (const topK of [1, 2, 3])
    it(`top_k ${topK}: bit for bit on the interpreter`, () => {
      const r = lowerFile(file, { set: { top_k: topK } });
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      const g = r.lowered.graph;
      let dropped = 0;
      for (const [B, T] of [
        [1, 1],
        [2, 9],
        [3, 16],
      ] as const) {
        const dims = new Map([
          ['B', B],
          ['T', T],
        ]);
        const params = new Map(r.lowered.params.map((p) => [p.path, initParam(p, dims, 11)]));
        const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 5 + T)]));
        const out = evaluate(g, { inputs, params, dims }).outputs;
        expect([...out.get('routed')!.data]).toEqual([...out.get('onehot')!.data]);
        dropped += out.get('kept')!.data[0]!;
      }
      // Capacity 0.5 leaves tokens with no expert: the dropping path is exercised.
      expect(dropped).toBeGreaterThan(0);
    });

  it('C agrees with the interpreter', { timeout: 300_000 }, () => {
    const compiled = compileModel(file, { cacheDir: CACHE_DIR, seed: 3 });
    const g = compiled.modules[0]!.graph;
    const dims = new Map([
      ['B', 2],
      ['T', 12],
    ]);
    const inputs = new Map(g.inputs.map((n) => [n.args.name, randomInput(n, dims, 9)]));
    const got = compiled.model.run(Object.fromEntries([...inputs].map(([k, v]) => [k, fromHost(v)])));
    const want = evaluate(g, { inputs, params: compiled.weights, dims }).outputs;
    const problems = ['routed', 'onehot'].flatMap((o) => compare(o, toHost(got[o]!), want.get(o)!, MODEL_TOL));
    expect(problems).toEqual([]);
  });
});
