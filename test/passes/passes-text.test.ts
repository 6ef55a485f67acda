// Pass tests in the TVM style: an IR text before, the pass, and the IR text expected after
// (reviewed by hand: each expectation is derived in a comment). Plus the pipeline: the
// verifier after every pass of every target and mode on every seed model, and the names
// --dump-after sees.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lowerFile } from '../../src/frontend/lower.js';
import { NO_HINTS } from '../../src/ir/module.js';
import { parseGraph } from '../../src/ir/parse.js';
import { printGraph } from '../../src/ir/print.js';
import { verifyProblems } from '../../src/ir/verify.js';
import { autodiff } from '../../src/passes/autodiff/index.js';
import { MODES, type Pass, type PassContext, TARGETS } from '../../src/passes/pass.js';
import { passesFor, runPipeline } from '../../src/passes/pipeline.js';
import { defaultTrainConfig } from '../../src/runtime/schedule.js';
import { simplify } from '../../src/passes/simplify.js';

const ctx: PassContext = { target: 'reference', mode: 'grad', hints: NO_HINTS, options: {} };
const text = (s: string): string => s.replace(/^\n/, '').replace(/^ {4}/gm, '');

function expectPass(pass: Pass, before: string, expected: string): void {
  const g = pass.run(parseGraph(text(before)), ctx);
  expect(verifyProblems(g)).toEqual([]);
  expect(printGraph(g)).toBe(text(expected));
}

describe('autodiff', () => {
  it('a linear layer: the weight gradient is a contraction, the bias gradient an unbroadcast sum', () => {
    // d sum(x w^T + b) / dw = 1^T x (einsum "bo,bi->oi"); / db = sum over B of 1.
    expectPass(
      autodiff,
      `
    graph loss(x: f32[B, 4]) -> (loss: f32[]) dims [B]
      %0 = input "x" #0 : f32[B, 4]
      %1 = param "w" normal() : f32[3, 4] @"fc"
      %2 = einsum {spec: "bi,oi->bo"} (%0, %1) : f32[B, 3] @"fc"
      %3 = param "b" zeros() : f32[3] @"fc"
      %4 = binary.add (%2, %3) : f32[B, 3] @"fc"
      %5 = reduce.sum {axes: [0, 1], keepdim: false} (%4) : f32[]
      return loss = %5
    `,
      `
    graph loss(x: f32[B, 4]) -> (loss: f32[], grad.w: f32[3, 4], grad.b: f32[3]) dims [B]
      %0 = input "x" #0 : f32[B, 4]
      %1 = param "w" normal() : f32[3, 4] @"fc"
      %2 = einsum {spec: "bi,oi->bo"} (%0, %1) : f32[B, 3] @"fc"
      %3 = param "b" zeros() : f32[3] @"fc"
      %4 = binary.add (%2, %3) : f32[B, 3] @"fc"
      %5 = reduce.sum {axes: [0, 1], keepdim: false} (%4) : f32[]
      %6 = full {value: 1} : f32[]
      %7 = reshape (%6) : f32[1, 1] @"/grad"
      %8 = expand (%7) : f32[B, 3] @"/grad"
      %9 = einsum {spec: "bo,bi->oi"} (%8, %0) : f32[3, 4] @"fc/grad"
      %10 = reduce.sum {axes: [0], keepdim: false} (%8) : f32[3] @"fc/grad"
      return loss = %5
      return grad.w = %9
      return grad.b = %10
    `,
    );
  });

  it('a strided slice used twice: both contributions summed, then spread and shifted by index math', () => {
    // d sum(s * s) / ds = s + s; slice start 1 step 3 of 7: back at positions 1 and 4.
    expectPass(
      autodiff,
      `
    graph loss() -> (loss: f32[])
      %0 = param "x" normal() : f32[7]
      %1 = slice {starts: [1], steps: [3]} (%0) : f32[2]
      %2 = binary.mul (%1, %1) : f32[2]
      %3 = reduce.sum {axes: [0], keepdim: false} (%2) : f32[]
      return loss = %3
    `,
      `
    graph loss() -> (loss: f32[], grad.x: f32[7])
      %0 = param "x" normal() : f32[7]
      %1 = slice {starts: [1], steps: [3]} (%0) : f32[2]
      %2 = binary.mul (%1, %1) : f32[2]
      %3 = reduce.sum {axes: [0], keepdim: false} (%2) : f32[]
      %4 = full {value: 1} : f32[]
      %5 = reshape (%4) : f32[1] @"/grad"
      %6 = expand (%5) : f32[2] @"/grad"
      %7 = binary.mul (%6, %1) : f32[2] @"/grad"
      %8 = binary.add (%7, %7) : f32[2] @"/grad"
      %9 = reshape (%8) : f32[2, 1] @"/grad"
      %10 = pad {pads: [[0, 0], [0, 2]], value: 0} (%9) : f32[2, 3] @"/grad"
      %11 = reshape (%10) : f32[6] @"/grad"
      %12 = pad {pads: [[1, 0]], value: 0} (%11) : f32[7] @"/grad"
      return loss = %3
      return grad.x = %12
    `,
    );
  });

  it('reduce max: the gradient shared by the tied maxima, counted in f32', () => {
    expectPass(
      autodiff,
      `
    graph loss() -> (loss: f32[])
      %0 = param "x" normal() : f32[4]
      %1 = reduce.max {axes: [0], keepdim: false} (%0) : f32[]
      return loss = %1
    `,
      `
    graph loss() -> (loss: f32[], grad.x: f32[4])
      %0 = param "x" normal() : f32[4]
      %1 = reduce.max {axes: [0], keepdim: false} (%0) : f32[]
      %2 = reshape (%1) : f32[1] @"/grad"
      %3 = expand (%2) : f32[4] @"/grad"
      %4 = binary.eq (%0, %3) : bool[4] @"/grad"
      %5 = full {value: 1} : f32[]
      %6 = reshape (%5) : f32[1] @"/grad"
      %7 = cast (%4) : f32[4] @"/grad"
      %8 = reduce.sum {axes: [0], keepdim: true} (%7) : f32[1] @"/grad"
      %9 = binary.div (%6, %8) : f32[1] @"/grad"
      %10 = expand (%9) : f32[4] @"/grad"
      %11 = full {value: 0} : f32[] @"/grad"
      %12 = where (%4, %10, %11) : f32[4] @"/grad"
      return loss = %1
      return grad.x = %12
    `,
    );
  });
});

describe('simplify', () => {
  it('folds reshape chains, inverse permutes, products with one, double negation and constant broadcasts', () => {
    // %2 = reshape(reshape(x)) -> one reshape; %4 = permute(permute(x)) -> x; x * 1 -> x;
    // neg(neg(.)) -> .; the sum over the size-1 axis is kept (axis 1 of [3, 2] has size 2).
    expectPass(
      simplify,
      `
    graph f(x: f32[2, 3]) -> (y: f32[3, 2], z: f32[2, 3], c: f32[2, 3])
      %0 = input "x" #0 : f32[2, 3]
      %1 = reshape (%0) : f32[6]
      %2 = reshape (%1) : f32[3, 2]
      %3 = permute {axes: [1, 0]} (%0) : f32[3, 2]
      %4 = permute {axes: [1, 0]} (%3) : f32[2, 3]
      %5 = full {value: 1} : f32[]
      %6 = binary.mul (%4, %5) : f32[2, 3]
      %7 = unary.neg (%6) : f32[2, 3]
      %8 = unary.neg (%7) : f32[2, 3]
      %9 = reduce.sum {axes: [1], keepdim: true} (%2) : f32[3, 1]
      %10 = reshape (%9) : f32[3]
      %11 = expand (%10) : f32[2, 3]
      %12 = binary.add (%8, %11) : f32[2, 3]
      %13 = full {value: 2} : f32[]
      %14 = reshape (%13) : f32[1, 1]
      %15 = expand (%14) : f32[2, 3]
      return y = %2
      return z = %12
      return c = %15
    `,
      `
    graph f(x: f32[2, 3]) -> (y: f32[3, 2], z: f32[2, 3], c: f32[2, 3])
      %0 = input "x" #0 : f32[2, 3]
      %1 = reshape (%0) : f32[3, 2]
      %2 = reduce.sum {axes: [1], keepdim: true} (%1) : f32[3, 1]
      %3 = reshape (%2) : f32[3]
      %4 = expand (%3) : f32[2, 3]
      %5 = binary.add (%0, %4) : f32[2, 3]
      %6 = full {value: 2} : f32[2, 3]
      return y = %1
      return z = %5
      return c = %6
    `,
    );
  });

  it('keeps what is not an exact identity (x + 0 changes -0)', () => {
    const before = `
    graph f(x: f32[2]) -> (y: f32[2])
      %0 = input "x" #0 : f32[2]
      %1 = full {value: 0} : f32[]
      %2 = binary.add (%0, %1) : f32[2]
      return y = %2
    `;
    expectPass(simplify, before, before);
  });
});

describe('the pipeline', () => {
  const ROOT = path.resolve(import.meta.dirname, '../..');
  const models = fs.readdirSync(path.join(ROOT, 'models')).filter((f) => f.endsWith('.fm'));
  it('names its passes per target and mode; grad mode differentiates first', () => {
    // The C target fuses last (kernel groups for the lowering), the reference does not; the
    // precision pass runs before autodiff, so the backward runs in the forward's precision; a
    // train step first masks the uses of sparse params and, after the update, their new values;
    // quantization-aware training (`qat`, a no-op unless asked for) rewrites the gradient graph.
    for (const t of TARGETS) {
      const last = t === 'c' ? ['fusion'] : [];
      // Inference quantizes `@quantize` weights after the precision pass (no-ops without hints or
      // rules); on C the sparsity pass then marks block-sparse weights for the sparse GEMM.
      const marks = t === 'c' ? ['sparsity'] : [];
      expect(passesFor(t, 'inference').map((p) => p.name)).toEqual(['precision', 'quantize', ...marks, ...last]);
      expect(passesFor(t, 'grad').map((p) => p.name)).toEqual(['precision', 'autodiff', 'qat', 'simplify', ...last]);
      for (const m of ['train', 'accumulate'] as const)
        expect(passesFor(t, m).map((p) => p.name)).toEqual([
          'sparsity',
          'precision',
          'loss-scale',
          'autodiff',
          'qat',
          'train-step',
          ...(m === 'train' ? ['sparse-updates'] : []),
          'simplify',
          ...last,
        ]);
    }
  });
  for (const file of models)
    it(`verifies after every pass of every target and mode: ${file}`, { timeout: 60_000 }, () => {
      const r = lowerFile(path.join(ROOT, 'models', file), { fn: 'loss' });
      if (!r.ok) throw new Error(`${file} does not lower`);
      for (const target of TARGETS)
        for (const mode of MODES) {
          const seen: string[] = [];
          // An accumulate step exists when the train section accumulates.
          const train = { ...(r.lowered.train ?? defaultTrainConfig()), accumulate: 2 };
          runPipeline(
            { ...r.lowered, train },
            {
              target,
              mode,
              after: (pass, g) => {
                seen.push(pass);
                expect(verifyProblems(g), `${file} ${target} ${mode} after ${pass}`).toEqual([]);
              },
            },
          );
          expect(seen).toEqual(['lower', ...passesFor(target, mode).map((p) => p.name)]);
        }
    });
});
