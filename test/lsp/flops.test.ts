// FLOPs in hovers: the symbolic count per block path of a lowered model (checked against
// counts derived by hand), how a hover on a child block maps to paths, and the server's
// background lowering over stdio: a hover never waits for it, and an edit drops FLOPs that
// were computed for older text.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowerFile } from '../../src/frontend/lower.js';
import { type Host, nodeHost } from '../../src/frontend/program.js';
import { nodeFlops, nodeFlopsDim } from '../../src/ir/cost.js';
import { dimConstValue, dimSubst, dimConst, dimToString } from '../../src/ir/dims.js';
import { liveNodes } from '../../src/ir/graph.js';
import { analyze, type Analysis } from '../../src/lsp/analysis.js';
import { Uris } from '../../src/lsp/convert.js';
import { flopsText, lowerFlops, type ModelFlops, modelNames } from '../../src/lsp/flops.js';
import { hoverAt } from '../../src/lsp/hover.js';
import { BackgroundLowering } from '../../src/lsp/lowering.js';
import { LspClient, ROOT, uriOf } from './client.js';

const uris = new Uris(ROOT);

// By hand (einsum: 2 × the index space; elementwise: one per output element):
//   proj  Linear(4, 8) on [B, 4]:       2·B·4·8 + 8·B (bias)              =   72·B
//   Mlp(8, 16), each of 2:  up  2·B·8·16 + 16·B = 272·B, relu 16·B,
//                           down (no bias) 2·B·16·8 = 256·B               =  544·B
//   head  Linear(8, 2):                 2·B·8·2 + 2·B                     =   34·B
//   forward                             72 + 2·544 + 34                   = 1194·B
const SAMPLE = `import { Linear } from "std/nn"
import { relu } from "std/act"

block Mlp(d: int, h: int) {
  up = Linear(d, h)
  down = Linear(h, d, bias = false)

  fn forward(x: f32[B, d]) -> f32[B, d] {
    return down(relu(up(x)))
  }
}

model Net(width = 8) {
  proj = Linear(4, 8)
  mlps = repeat 2 Mlp(width, 16)
  head = Linear(width, 2)

  fn forward(x: f32[B, 4]) -> f32[B, 2] {
    return head(mlps(proj(x)))
  }
}
`;

// Fixed input sizes: the count is a number. 2·8·1024·1024 + 8·1024 = 16,785,408.
const FIXED = `import { Linear } from "std/nn"

model Fixed() {
  fc = Linear(1024, 1024)

  fn forward(x: f32[8, 1024]) -> f32[8, 1024] {
    return fc(x)
  }
}
`;

function hostFor(abs: string, text: string): Host {
  return {
    read: (p) => (p === abs ? new TextEncoder().encode(text) : nodeHost.read(p)),
    display: (p) => uris.display(p),
  };
}

/** The analysis of `text` as the file `rel`, and the FLOPs of its models. */
function setup(rel: string, text: string): { a: Analysis; flops: ModelFlops[] } {
  const abs = path.join(ROOT, rel);
  const host = hostFor(abs, text);
  const a = analyze(abs, host);
  expect(a.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
  return { a, flops: lowerFlops(abs, host, modelNames(a.root!)) };
}

function hover(a: Analysis, flops: ModelFlops[] | undefined, needle: string, delta = 0): string {
  const text = a.root!.parse.source.text;
  const off = text.indexOf(needle);
  expect(off, needle).toBeGreaterThanOrEqual(0);
  return hoverAt(a, a.root!, off + delta, flops)?.markdown ?? '';
}

describe('symbolic FLOPs of IR nodes', () => {
  it('agree with the concrete count at every node of every model', () => {
    for (const f of fs.readdirSync(path.join(ROOT, 'models')).filter((x) => x.endsWith('.fm'))) {
      const r = lowerFile(path.join(ROOT, 'models', f));
      expect(r.ok, f).toBe(true);
      if (!r.ok) continue;
      const g = r.lowered.graph;
      const env = new Map(g.dims.map((d, i) => [d, 3 + 2 * i]));
      const subst = new Map([...env].map(([k, v]) => [k, dimConst(v)]));
      for (const n of liveNodes(g)) {
        const sym = nodeFlopsDim(n);
        expect(dimConstValue(dimSubst(sym, subst)), `${f} %${n.id} ${n.op} ${dimToString(sym)}`).toBe(
          nodeFlops(n, env),
        );
      }
    }
  });

  it('count the sample by hand', () => {
    const { flops } = setup('test/lsp/flops-sample.fm', SAMPLE);
    expect(flops.map((m) => [m.model, m.fn, m.error])).toEqual([['Net', 'forward', undefined]]);
    const by = new Map([...flops[0]!.byPath!].map(([k, v]) => [k, dimToString(v)]));
    expect(by.get('')).toBe('1194*B');
    expect(by.get('proj')).toBe('72*B');
    expect(by.get('mlps')).toBe('1088*B');
    expect(by.get('mlps.1')).toBe('544*B');
    expect(by.get('mlps.0.up')).toBe('272*B');
    expect(by.get('mlps.0.down')).toBe('256*B');
    expect(by.get('head')).toBe('34*B');
  });

  it('print constants with SI units', () => {
    expect(flopsText(dimConst(72))).toBe('72');
    expect(flopsText(dimConst(16_785_408))).toBe('16,785,408 (16.79 M)');
    expect(flopsText(dimConst(3_200_000_000))).toBe('3,200,000,000 (3.20 G)');
  });
});

describe('hover with FLOPs', () => {
  const { a, flops } = setup('test/lsp/flops-sample.fm', SAMPLE);

  it('shows a child call of the model with its FLOPs per call of forward', () => {
    const h = hover(a, flops, 'proj(x)))');
    expect(h).toContain('Parameters: 40');
    expect(h).toContain('FLOPs: `72*B` per call of `Net.forward`');
    expect(hover(a, flops, 'head(mlps')).toContain('FLOPs: `34*B` per call of `Net.forward`');
    // A repeat: all its instances.
    expect(hover(a, flops, 'mlps(proj')).toContain('FLOPs: `1088*B` per call of `Net.forward`');
  });

  it('shows the FLOPs on the child declaration and the model declaration', () => {
    expect(hover(a, flops, 'proj = Linear')).toContain('FLOPs: `72*B` per call of `Net.forward`');
    expect(hover(a, flops, 'model Net', 6)).toContain('FLOPs: `1194*B` per call of `Net.forward`');
  });

  it('shows the first instance and the sum for a child of a block placed several times', () => {
    expect(hover(a, flops, 'up(x)')).toContain(
      'FLOPs: `272*B` at `mlps.0.up` (the first of 2 instances), `544*B` for all 2, per call of `Net.forward`',
    );
    expect(hover(a, flops, 'down = Linear')).toContain('`256*B` at `mlps.0.down`');
  });

  it('shows nothing before the lowering is done', () => {
    const h = hover(a, undefined, 'proj(x)))');
    expect(h).toContain('Parameters: 40');
    expect(h).not.toContain('FLOPs');
  });

  it('shows a number when every input size is fixed', () => {
    const f = setup('test/lsp/flops-fixed.fm', FIXED);
    expect(hover(f.a, f.flops, 'fc(x)')).toContain('FLOPs: `16,785,408 (16.79 M)` per call of `Fixed.forward`');
  });

  it('answers on every identifier of every model with FLOPs, within the hover budget', () => {
    for (const file of fs.readdirSync(path.join(ROOT, 'models')).filter((x) => x.endsWith('.fm'))) {
      const rel = `models/${file}`;
      const { a: m, flops: fl } = setup(rel, fs.readFileSync(path.join(ROOT, rel), 'utf8'));
      expect(
        fl.every((x) => x.byPath),
        rel,
      ).toBe(true);
      const text = m.root!.parse.source.text;
      let shown = 0;
      const ms: number[] = [];
      for (const x of text.matchAll(/[A-Za-z_]\w*/g)) {
        const t0 = performance.now();
        const h = hoverAt(m, m.root!, x.index, fl)?.markdown ?? '';
        ms.push(performance.now() - t0);
        if (h.includes('FLOPs: ')) shown++;
      }
      expect(shown, rel).toBeGreaterThan(0);
      ms.sort((x, y) => x - y);
      expect(ms[Math.floor(ms.length / 2)], rel).toBeLessThan(100);
      expect(ms[Math.floor(ms.length * 0.95)], rel).toBeLessThan(100);
    }
  });
});

describe('the lowering worker', () => {
  // The worker is the built one (dist/), as `fmc lsp` runs it.
  const workerUrl = pathToFileURL(path.join(ROOT, 'dist', 'src', 'lsp', 'lower-worker.js'));
  const job = (text: string) => {
    const abs = path.join(ROOT, 'test/lsp/flops-sample.fm');
    return { abs, root: ROOT, models: ['Net'], files: [[abs, text]] as const };
  };

  it('runs the newest job of a key and drops the ones it replaced', async () => {
    const logs: string[] = [];
    const bg = new BackgroundLowering<string>(workerUrl, (m) => logs.push(m));
    const results: string[] = [];
    const done = new Promise<void>((resolve) => {
      bg.submit('a', job(SAMPLE), () => results.push('first'));
      bg.submit('a', job(SAMPLE.replace('Linear(4, 8)', 'Linear(4, 8, bias = false)')), (models) => {
        results.push(dimToString(models[0]!.byPath!.get('proj')!));
        resolve();
      });
    });
    await done;
    bg.dispose();
    expect(results).toEqual(['64*B']);
    expect(logs).toEqual([]);
  });

  it('turns itself off when the worker cannot start, without throwing', async () => {
    const logs: string[] = [];
    const bg = new BackgroundLowering<string>(pathToFileURL(path.join(ROOT, 'no-such-worker.js')), (m) => logs.push(m));
    let called = false;
    bg.submit('a', job(SAMPLE), () => (called = true));
    bg.submit('b', job(SAMPLE), () => (called = true));
    for (let i = 0; i < 100 && !logs.some((l) => l.includes('off')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(logs.at(-1)).toBe('FLOPs in hovers are off: the lowering worker keeps failing');
    bg.submit('c', job(SAMPLE), () => (called = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(called).toBe(false);
    bg.dispose();
  });
});

/** The latest `lowered ...` log line of the server for `file`. */
function loweredLog(client: LspClient, file: string) {
  return client.waitFor<{ message: string }>(
    'window/logMessage',
    (p) => p.message.startsWith(`lowered ${file} `) && !p.message.includes('stale'),
  );
}

describe('fmc lsp lowers in the background', () => {
  let client: LspClient;
  beforeAll(async () => {
    client = new LspClient();
    await client.initialize();
  });
  afterAll(async () => {
    await client.shutdown();
  });

  const rel = 'test/lsp/flops-sample.fm';
  const uri = uriOf(rel);
  const text = (s: string): Promise<string> =>
    client
      .request<{ contents: { value: string } } | null>('textDocument/hover', {
        textDocument: { uri },
        position: positionOf(SAMPLE, s),
      })
      .then((h) => h?.contents.value ?? '');

  it('answers a hover at once, adds FLOPs when the lowering is done and drops them after an edit', async () => {
    const lowered = loweredLog(client, rel);
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'fm', version: 1, text: SAMPLE } });
    // The first hover runs the check itself; the lowering starts only after it.
    const t0 = performance.now();
    const first = await text('proj(x)))');
    const ms = performance.now() - t0;
    expect(first).toContain('Parameters: 40');
    expect(first).not.toContain('FLOPs');
    const log = (await lowered).message;
    expect(log).toMatch(/^lowered test\/lsp\/flops-sample\.fm Net\.forward \(version 1\) in [\d.]+ ms/);
    expect(log).toContain('FLOPs 1194*B');
    expect(await text('proj(x)))')).toContain('FLOPs: `72*B` per call of `Net.forward`');
    process.stdout.write(`first hover ${ms.toFixed(1)} ms; ${log}\n`);

    // An edit: the FLOPs of version 1 are gone at once; version 2's come later.
    const at = SAMPLE.indexOf('Linear(4, 8)') + 'Linear(4, 8'.length;
    const edited = SAMPLE.slice(0, at) + ', bias = false' + SAMPLE.slice(at);
    const again = loweredLog(client, rel);
    client.notify('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: edited }],
    });
    const stale = await text('proj(x)))');
    expect(stale).toContain('Parameters: 32');
    expect(stale).not.toContain('FLOPs');
    expect((await again).message).toContain('(version 2)');
    expect(await text('proj(x)))')).toContain('FLOPs: `64*B` per call of `Net.forward`');

    // Text with an error is not lowered, and shows no FLOPs.
    client.notify('textDocument/didChange', {
      textDocument: { uri, version: 3 },
      contentChanges: [{ text: edited.replace('Linear(4, 8', 'Linear(5, 8') }],
    });
    const diags = await client.waitFor<{ version: number; diagnostics: unknown[] }>(
      'textDocument/publishDiagnostics',
      (p) => p.version === 3,
    );
    expect(diags.diagnostics.length).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 600));
    expect(await text('proj(x)))')).not.toContain('FLOPs');
  });
});

function positionOf(text: string, needle: string): { line: number; character: number } {
  const off = text.indexOf(needle);
  const before = text.slice(0, off).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length };
}
