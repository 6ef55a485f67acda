// `fmc run`, `fmc inspect` and `fmc export` as a user runs them (subprocesses of the built
// CLI): saved inputs and outputs, ONNX Runtime on the exported model agreeing with the
// interpreter across processes, and clear errors with exit 1 (or 2) on bad input.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { readSafetensorsFile, writeSafetensors } from '../../src/runtime/safetensors.js';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'fmc.js');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-run-'));
const at = (name: string) => path.join(DIR, name);

function fmc(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface RunJson {
  model: string;
  dims: Record<string, number>;
  outputs: { name: string; dtype: string; shape: number[]; mean: number; std: number; first: number[] }[];
}

describe('fmc run / export / inspect', () => {
  it('runs a model with seeded inputs, saves them, and reruns from the saved inputs', () => {
    const r = fmc('run', 'models/mlp.fm', '--save-inputs', at('in.st'), '--save-outputs', at('out.st'), '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as RunJson;
    expect(j.dims).toEqual({ B: 2 });
    expect(j.outputs.map((o) => [o.name, o.dtype, o.shape])).toEqual([['logits', 'f32', [2, 10]]]);
    const ins = readSafetensorsFile(at('in.st')).tensors;
    expect([...ins.keys()]).toEqual(['images']);
    expect(ins.get('images')!.shape).toEqual([2, 784]);
    const outs = readSafetensorsFile(at('out.st')).tensors;
    expect(outs.get('logits')!.data[0]).toBeCloseTo(j.outputs[0]!.first[0]!, 5);
    const again = JSON.parse(fmc('run', 'models/mlp.fm', '--inputs', at('in.st'), '--json').out) as RunJson;
    expect(again.outputs).toEqual(j.outputs);
    const other = JSON.parse(fmc('run', 'models/mlp.fm', '--seed', '5', '--json').out) as RunJson;
    expect(other.outputs[0]!.mean).not.toBe(j.outputs[0]!.mean);
  });

  it('exports ONNX that ONNX Runtime runs to the outputs fmc run saved', async () => {
    const args = ['--dims', 'B=1,T=8'];
    expect(
      fmc('run', 'models/swa_lm.fm', ...args, '--save-inputs', at('lm-in.st'), '--save-outputs', at('lm-out.st')).code,
    ).toBe(0);
    const e = fmc('export', 'models/swa_lm.fm', '--onnx', at('lm.onnx'));
    expect(e.code).toBe(0);
    expect(e.err).toMatch(/wrote .*lm\.onnx \(SlidingWindowLM\.forward: inputs tokens; outputs logits/);
    const tokens = readSafetensorsFile(at('lm-in.st')).tensors.get('tokens')!;
    expect(tokens.dtype).toBe('i32');
    expect(Math.max(...tokens.data)).toBeGreaterThan(1); // token ids span the vocabulary, not just 0/1
    const session = await ort.InferenceSession.create(at('lm.onnx'));
    const got = await session.run({ tokens: new ort.Tensor('int32', Int32Array.from(tokens.data), [...tokens.shape]) });
    const want = readSafetensorsFile(at('lm-out.st')).tensors.get('logits')!;
    expect(got.logits!.dims).toEqual(want.shape);
    const data = got.logits!.data as Float32Array;
    let worst = 0;
    want.data.forEach((w, i) => (worst = Math.max(worst, Math.abs(data[i]! - w) - 1e-3 * Math.abs(w))));
    expect(worst).toBeLessThan(1e-4);
    await session.release();
  });

  it('warns about --dims a model does not use, and defaults the rest', () => {
    const r = fmc('run', 'models/mlp.fm', '--dims', 'B=3,T=16', '--json');
    expect(r.code).toBe(0);
    expect(r.err).toContain('warning: --dims T: `forward` has no dim named T (it uses B)');
    expect((JSON.parse(r.out) as RunJson).outputs[0]!.shape).toEqual([3, 10]);
    const d = fmc('run', 'models/mlp.fm');
    expect(d.err).toContain('note: B=2 by default (set with --dims)');
    expect(d.out).toMatch(/^MLP\.forward on reference \(B=2; seed 0; \d+ ms\)\n {2}logits: f32\[2, 10\] {2}mean /);
  });

  it('rejects malformed safetensors with a clear error and exit 1', () => {
    const bad: [string, Uint8Array][] = [
      ['short.st', new Uint8Array([1, 2, 3])],
      ['huge-header.st', new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 0])],
      ['not-json.st', new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7b])],
    ];
    for (const [name, bytes] of bad) {
      fs.writeFileSync(at(name), bytes);
      const r = fmc('run', 'models/mlp.fm', '--inputs', at(name));
      expect(r.code, name).toBe(1);
      expect(r.err, name).toMatch(new RegExp(`^fmc: .*${name.replace('.', '\\.')}: safetensors: `));
      expect(r.err, name).not.toMatch(/\n\s+at /);
    }
  });

  it('rejects inputs and weights that do not fit the model', () => {
    const f32 = (shape: number[]) => ({
      dtype: 'f32' as const,
      shape,
      data: new Float64Array(shape.reduce((a, b) => a * b, 1)),
    });
    fs.writeFileSync(at('wrong-name.st'), writeSafetensors([['pixels', f32([2, 784])]]));
    let r = fmc('run', 'models/mlp.fm', '--inputs', at('wrong-name.st'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no tensor "images" (an input of forward)');
    fs.writeFileSync(at('wrong-dim.st'), writeSafetensors([['images', f32([2, 783])]]));
    r = fmc('run', 'models/mlp.fm', '--inputs', at('wrong-dim.st'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^fmc: .*images.*784/);
    fs.writeFileSync(at('weights.st'), writeSafetensors([['fc1.w', f32([512, 784])]]));
    r = fmc('run', 'models/mlp.fm', '--weights', at('weights.st'));
    expect(r.code).toBe(1);
    expect(r.err).toContain('no tensor "fc1.b" (a param of MLP)');
  });

  it('refuses sizes beyond the interpreter, and non-files, with exit 1', () => {
    const big = fmc('run', 'models/mlp.fm', '--dims', 'B=1000000000');
    expect(big.code).toBe(1);
    expect(big.err).toContain('more than the reference interpreter takes');
    const dev = fmc('run', 'models/mlp.fm', '--inputs', '/dev/zero');
    expect(dev.code).toBe(1);
    expect(dev.err).toContain('/dev/zero: safetensors: not a regular file');
    const dir = fmc('run', 'models/mlp.fm', '--save-outputs', DIR);
    expect(dir.code).toBe(1);
    expect(dir.err).toContain(`cannot write ${DIR}: it is a folder`);
  });

  it('gives usage errors exit 2', () => {
    expect(fmc('run', 'models/mlp.fm', '--dims', 'B=1,B=2').code).toBe(2);
    expect(fmc('inspect', 'models/mlp.fm', '--weights', 'w.st').code).toBe(2);
    expect(fmc('inspect', 'models/mlp.fm', '--depth', '1e1').code).toBe(2);
    expect(fmc('run', 'models/mlp.fm', '--save-inputs', at('same.st'), '--save-outputs', at('same.st')).code).toBe(2);
    expect(fmc('run', 'models/mlp.fm', '--target', 'tpu').code).toBe(2);
    expect(fmc('run', 'models/mlp.fm', '--dims', 'B=two').code).toBe(2);
    expect(fmc('run', 'models/mlp.fm', '--seed', '-1').code).toBe(2);
    expect(fmc('export', 'models/mlp.fm').code).toBe(2);
  });

  it('inspects a model: params and FLOPs per block, with totals', () => {
    const r = fmc('inspect', 'models/mlp.fm', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      rows: { path: string; type: string; output: string; shape: string; params: number; flops: number }[];
      totals: { params: number; flops: number };
    };
    // 784·512 + 512 + 512·256 + 256 + 256·10 + 10
    expect(j.totals.params).toBe(535_818);
    // B = 2: matmuls 2·B·(784·512 + 512·256 + 256·10), bias adds B·(512 + 256 + 10), relus B·(512 + 256)
    expect(j.totals.flops).toBe(2_143_252);
    expect(j.rows.find((x) => x.path === 'fc1')).toMatchObject({
      type: 'Linear',
      output: 'f32[B, 512]',
      shape: 'f32[2, 512]',
      params: 401_920,
      flops: 1_606_656,
    });
    const t = fmc('inspect', 'models/bert.fm', '--depth', '2');
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/Block \(path\) +Type +Output shape +Params +FLOPs +Activations/);
    // The layer type of each block; a repeated member says how many.
    expect(t.out).toMatch(/\n {2}emb_norm +LayerNorm +f32\[B, T, 256\]/);
    expect(t.out).toMatch(/\n {2}encoder +repeat 4 × EncoderLayer /);
    // Concrete shapes at --dims.
    const d = fmc('inspect', 'models/bert.fm', '--depth', '1', '--dims', 'B=3,T=5');
    expect(d.out).toMatch(/\n {2}mlm_dense +Linear +f32\[3, 5, 256\]/);
    expect(t.out).toMatch(/Params: [\d,]+ \(/);
  });

  it('draws the graph as DOT, SVG and HTML', () => {
    for (const ext of ['dot', 'svg', 'html']) {
      const out = at(`mlp.${ext}`);
      expect(fmc('inspect', 'models/mlp.fm', '--graph', out).code).toBe(0);
      const text = fs.readFileSync(out, 'utf8');
      expect(text).toContain(ext === 'dot' ? 'digraph "forward"' : '<svg');
      // Layers by their type, ReLU by name, the param inside Linear's hover text, shapes on edges.
      expect(text).toContain('fc1.w f32[512, 784]');
      expect(text).toMatch(ext === 'dot' ? /label="ReLU"/ : />ReLU</);
      expect(text).toContain('f32[B, 512]');
      expect(text).not.toContain('binary max');
    }
    // With --dims, edges carry concrete shapes.
    const out = at('mlp-dims.svg');
    expect(fmc('inspect', 'models/mlp.fm', '--graph', out, '--dims', 'B=8').code).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toContain('f32[8, 512]');
    expect(fmc('inspect', 'models/mlp.fm', '--graph', at('mlp.png')).code).toBe(2);
  });
});
