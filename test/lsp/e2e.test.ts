// The language server end to end, as an editor drives it: `node bin/fmc.js lsp` over
// stdio with Content-Length framing. Needs the build (`npm test` builds first).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LspClient, ROOT } from './client.js';

interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  code: string;
  message: string;
  severity: number;
  source: string;
  relatedInformation?: { location: { uri: string; range: unknown }; message: string }[];
}
interface Published {
  uri: string;
  version?: number;
  diagnostics: LspDiagnostic[];
}

const BROKEN = `import { Linear } from "std/nn"

block Mlp(d: int) {
  up = Linear(d, 4 * d)
  down = Linear(4 * d, d)

  fn forward(x: f32[B, d]) -> f32[B, d] {
    let h = up(x)
    return down(up(h))
  }
}

model Net(d = 64) {
  mlp = Mlp(d)

  fn forward(x: f32[B, d]) -> f32[B, d] {
    return mlp(x)
  }
}
`;
const FIXED = BROKEN.replace('down(up(h))', 'down(h)');

/** The line and character of the `n`th occurrence of `needle` (plus `delta` characters). */
function pos(text: string, needle: string, delta = 0, n = 0): { line: number; character: number } {
  let off = -1;
  for (let i = 0; i <= n; i++) off = text.indexOf(needle, off + 1);
  expect(off, needle).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, off + delta).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length };
}

describe('fmc lsp over stdio', () => {
  let dir: string;
  let file: string;
  let uri: string;
  let client: LspClient;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-lsp-'));
    file = path.join(dir, 'net.fm');
    fs.writeFileSync(file, BROKEN);
    uri = pathToFileURL(file).href;
    client = new LspClient();
  });
  afterAll(() => {
    client.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('initializes with its capabilities', async () => {
    const r = (await client.initialize(pathToFileURL(dir).href)) as { capabilities: Record<string, unknown> };
    expect(r.capabilities).toMatchObject({
      hoverProvider: true,
      definitionProvider: true,
      documentSymbolProvider: true,
      documentFormattingProvider: true,
    });
  });

  it('publishes the shape error of `fmc check` on open, with its range and code', async () => {
    client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'fm', version: 1, text: BROKEN } });
    const p = await client.waitFor<Published>('textDocument/publishDiagnostics', (x) => x.uri === uri);
    // What `fmc check --json` says about the same file, from the same directory.
    let json: string;
    try {
      json = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'fmc.js'), 'check', '--json', 'net.fm'], {
        cwd: dir,
        encoding: 'utf8',
      });
    } catch (e) {
      json = (e as { stdout: string }).stdout; // exit code 1: errors found
    }
    const cli = JSON.parse(json) as {
      diagnostics: { code: string; message: string; line: number; col: number; endLine: number; endCol: number }[];
    };
    expect(cli.diagnostics.map((d) => d.code)).toEqual(['FM0422']);
    expect(p.diagnostics).toHaveLength(1);
    const d = p.diagnostics[0]!;
    const c = cli.diagnostics[0]!;
    expect(d.code).toBe('FM0422');
    expect(d.source).toBe('fmc');
    expect(d.severity).toBe(1);
    expect(d.message.split('\n')[0]).toBe(c.message);
    // 0-based: the `h` in `down(up(h))`.
    expect(d.range).toEqual({
      start: { line: c.line - 1, character: c.col - 1 },
      end: { line: c.endLine - 1, character: c.endCol - 1 },
    });
    expect(d.range.start).toEqual(pos(BROKEN, 'up(h)', 3));
    // The note becomes related information pointing at `up(x)`.
    expect(d.relatedInformation?.[0]?.message).toBe('f32[B, 4*d] comes from here');
    expect(d.relatedInformation?.[0]?.location.range).toEqual({
      start: pos(BROKEN, 'up(x)'),
      end: pos(BROKEN, 'up(x)', 5),
    });
  });

  it('publishes empty diagnostics once a change fixes it', async () => {
    const start = pos(BROKEN, 'down(up(h))');
    const end = pos(BROKEN, 'down(up(h))', 'down(up(h))'.length);
    client.notify('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ range: { start, end }, text: 'down(h)' }],
    });
    const p = await client.waitFor<Published>(
      'textDocument/publishDiagnostics',
      (x) => x.uri === uri && x.version === 2,
    );
    expect(p.diagnostics).toEqual([]);
  });

  it('hovers a binding with its inferred shape', async () => {
    const h = await client.request<{ contents: { kind: string; value: string }; range: unknown }>(
      'textDocument/hover',
      {
        textDocument: { uri },
        position: pos(FIXED, 'let h', 4),
      },
    );
    expect(h.contents.kind).toBe('markdown');
    expect(h.contents.value).toContain('(let) h: f32[B, 4*d]');
    // The model instantiates Mlp(d = 64): the concrete shape is listed too.
    expect(h.contents.value).toContain('f32[B, 256]');
    expect(h.range).toEqual({ start: pos(FIXED, 'let h', 4), end: pos(FIXED, 'let h', 5) });
  });

  it('hovers a child block call with its parameter count', async () => {
    const h = await client.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri },
      position: pos(FIXED, 'mlp(x)', 1),
    });
    // Mlp(d = 64): up 64·256 + 256, down 256·64 + 64.
    expect(h.contents.value).toContain('(child) mlp = Mlp(d = 64)');
    expect(h.contents.value).toContain('Parameters: 33,088');
    expect(h.contents.value).toContain('Call result: `f32[B, 64]`');
  });

  it('jumps to the definition of a block, here and in std', async () => {
    const local = await client.request<{ uri: string; range: unknown }>('textDocument/definition', {
      textDocument: { uri },
      position: pos(FIXED, 'Mlp(d)', 1),
    });
    expect(local).toEqual({ uri, range: { start: pos(FIXED, 'Mlp(d: int)'), end: pos(FIXED, 'Mlp(d: int)', 3) } });
    const std = await client.request<{ uri: string; range: { start: { line: number } } }>('textDocument/definition', {
      textDocument: { uri },
      position: pos(FIXED, 'Linear(d', 2),
    });
    expect(std.uri).toBe(pathToFileURL(path.join(ROOT, 'std', 'nn.fm')).href);
    const nn = fs.readFileSync(path.join(ROOT, 'std', 'nn.fm'), 'utf8');
    expect(std.range.start).toEqual(pos(nn, 'Linear(in_dim'));
  });

  it('jumps from an import string to the file', async () => {
    const r = await client.request<{ uri: string }>('textDocument/definition', {
      textDocument: { uri },
      position: pos(FIXED, '"std/nn"', 3),
    });
    expect(r.uri).toBe(pathToFileURL(path.join(ROOT, 'std', 'nn.fm')).href);
  });

  it('lists the outline', async () => {
    const syms = await client.request<{ name: string; kind: number; children: { name: string }[] }[]>(
      'textDocument/documentSymbol',
      { textDocument: { uri } },
    );
    expect(syms.map((s) => [s.name, s.kind, s.children.map((c) => c.name)])).toEqual([
      ['Mlp', 5, ['d', 'up', 'down', 'forward']],
      ['Net', 2, ['d', 'mlp', 'forward']],
    ]);
  });

  it('formats through the formatter', async () => {
    const messy = 'const  X=1\nblock B(d:int){param w:f32[d]=ones()}\n';
    const other = pathToFileURL(path.join(dir, 'messy.fm')).href;
    client.notify('textDocument/didOpen', { textDocument: { uri: other, languageId: 'fm', version: 1, text: messy } });
    const edits = await client.request<{ range: unknown; newText: string }[]>('textDocument/formatting', {
      textDocument: { uri: other },
      options: { tabSize: 2, insertSpaces: true },
    });
    const { formatFm } = await import('../../src/format/format.js');
    expect(edits).toEqual([
      {
        range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } },
        newText: await formatFm(messy, 'messy.fm'),
      },
    ]);
    // Formatted text needs no edits; text with syntax errors gets none.
    const formatted = await client.request('textDocument/formatting', {
      textDocument: { uri },
      options: { tabSize: 2, insertSpaces: true },
    });
    expect(formatted).toEqual([]);
    client.notify('textDocument/didClose', { textDocument: { uri: other } });
  });

  it('shuts down cleanly', async () => {
    expect(await client.shutdown()).toBe(0);
  });
});

describe('fmc lsp with several open files', () => {
  let dir: string;
  let client: LspClient;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-lsp-'));
    // With the options vscode-languageclient adds.
    client = new LspClient(['lsp', '--stdio', `--clientProcessId=${process.pid}`]);
    await client.initialize(pathToFileURL(dir).href);
  });
  afterAll(() => {
    client.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads imported files from the editor, reports their errors at the import, and rechecks importers', async () => {
    const lib = pathToFileURL(path.join(dir, 'lib.fm')).href;
    const main = pathToFileURL(path.join(dir, 'main.fm')).href;
    // Neither file exists on disk: both come from the editor.
    const libText = 'fn twice(x: f32[N]) -> f32[N] {\n  return concat([x, x], 0)\n}\n';
    const mainText = 'import { twice } from "./lib"\n\nfn f(x: f32[4]) -> f32[4] {\n  return twice(x)\n}\n';
    client.notify('textDocument/didOpen', { textDocument: { uri: lib, languageId: 'fm', version: 1, text: libText } });
    client.notify('textDocument/didOpen', {
      textDocument: { uri: main, languageId: 'fm', version: 1, text: mainText },
    });
    const libDiags = await client.waitFor<Published>('textDocument/publishDiagnostics', (p) => p.uri === lib);
    expect(libDiags.diagnostics.map((d) => d.code)).toEqual(['FM0404']);
    const mainDiags = await client.waitFor<Published>('textDocument/publishDiagnostics', (p) => p.uri === main);
    expect(mainDiags.diagnostics).toHaveLength(1);
    const d = mainDiags.diagnostics[0]!;
    expect(d.code).toBe('FM0404');
    expect(d.message.startsWith('lib.fm:2:10: ')).toBe(true);
    expect(d.range).toEqual({ start: pos(mainText, '"./lib"'), end: pos(mainText, '"./lib"', 7) });
    expect(d.relatedInformation?.[0]?.location.uri).toBe(lib);

    // Fixing lib.fm (unsaved) rechecks main.fm.
    client.notify('textDocument/didChange', {
      textDocument: { uri: lib, version: 2 },
      contentChanges: [{ text: libText.replace('concat([x, x], 0)', 'x + x') }],
    });
    const fixed = await client.waitFor<Published>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === main && p.diagnostics.length === 0,
    );
    expect(fixed.diagnostics).toEqual([]);

    // Definition across the two in-memory files.
    const def = await client.request<{ uri: string }>('textDocument/definition', {
      textDocument: { uri: main },
      position: pos(mainText, 'twice(x)', 1),
    });
    expect(def.uri).toBe(lib);
  });

  it('rechecks a file whose missing import is then opened in the editor', async () => {
    const user = pathToFileURL(path.join(dir, 'user.fm')).href;
    const helper = pathToFileURL(path.join(dir, 'helper.fm')).href;
    const userText = 'import { half } from "./helper"\n\nfn f(x: f32[4]) -> f32[4] {\n  return half(x)\n}\n';
    client.notify('textDocument/didOpen', {
      textDocument: { uri: user, languageId: 'fm', version: 1, text: userText },
    });
    const missing = await client.waitFor<Published>('textDocument/publishDiagnostics', (p) => p.uri === user);
    expect(missing.diagnostics.map((d) => d.code)).toContain('FM0202');
    const helperText = 'fn half(x: f32[N]) -> f32[N] {\n  return x * 0.5\n}\n';
    client.notify('textDocument/didOpen', {
      textDocument: { uri: helper, languageId: 'fm', version: 1, text: helperText },
    });
    const found = await client.waitFor<Published>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === user && p.diagnostics.length === 0,
    );
    expect(found.diagnostics).toEqual([]);
  });
});
