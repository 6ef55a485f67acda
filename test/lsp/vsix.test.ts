// The packaged extension's server, started as a user's VS Code starts it: build the .vsix
// (`npm run package:vscode`, the same script), unzip it into an empty folder outside the
// repository, run `node extension/server/fmc.js lsp --stdio` from there (as extension.js
// does with VS Code's Node when no project fmc is found) and speak LSP to it. Needs the
// build (`npm test` builds first) and `unzip`.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LspClient, ROOT } from './client.js';

const BROKEN = `import { Linear } from "std/nn"

model Net(d = 4) {
  proj = Linear(d, d)

  fn forward(x: f32[B, d]) -> f32[B, d] {
    let h = proj(x)
    return h + gelu(h)
  }
}
`;

interface Diag {
  code: string;
  message: string;
  codeDescription?: { href: string };
  range: { start: { line: number; character: number } };
}

describe('the server inside the .vsix', () => {
  let dir: string;
  let client: LspClient;
  const uri = () => pathToFileURL(path.join(dir, 'work', 'net.fm')).href;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-vsix-'));
    const vsix = path.join(dir, 'fm.vsix');
    // The packaging script, as `npm run package:vscode` runs it, writing the package here.
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package-vscode.mjs'), '--out', vsix], {
      cwd: ROOT,
      stdio: 'pipe',
    });
    execFileSync('unzip', ['-q', vsix, '-d', path.join(dir, 'unzipped')]);
    fs.mkdirSync(path.join(dir, 'work'));
    fs.writeFileSync(path.join(dir, 'work', 'net.fm'), BROKEN);
    const server = path.join(dir, 'unzipped', 'extension', 'server', 'fmc.js');
    client = new LspClient(['lsp', '--stdio'], process.env, server, path.join(dir, 'work'));
  }, 120_000);

  afterAll(async () => {
    await client?.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('contains the server and none of the compiler it does not load', () => {
    const ext = path.join(dir, 'unzipped', 'extension');
    const files = fs.readdirSync(path.join(ext, 'server'), { recursive: true }).map(String);
    expect(files).toContain(path.join('dist', 'src', 'lsp', 'server.js'));
    expect(files).toContain(path.join('std', 'nn.fm'));
    expect(files.some((f) => f.endsWith('.node'))).toBe(false); // no native addon
    expect(files.some((f) => f.startsWith(path.join('dist', 'src', 'cli')))).toBe(false);
    expect(files.some((f) => f.startsWith(path.join('dist', 'src', 'codegen')))).toBe(false);
    expect(fs.existsSync(path.join(ext, 'extension.js'))).toBe(true);
  });

  it('answers diagnostics, completion, hover and a quick fix', async () => {
    const init = (await client.initialize(pathToFileURL(path.join(dir, 'work')).href)) as {
      capabilities: Record<string, unknown>;
    };
    expect(Object.keys(init.capabilities)).toEqual(
      expect.arrayContaining(['completionProvider', 'renameProvider', 'inlayHintProvider', 'codeActionProvider']),
    );
    client.notify('textDocument/didOpen', { textDocument: { uri: uri(), languageId: 'fm', version: 1, text: BROKEN } });
    const published = await client.waitFor<{ uri: string; diagnostics: Diag[] }>(
      'textDocument/publishDiagnostics',
      (p) => p.uri === uri(),
    );
    expect(published.diagnostics.map((d) => [d.code, d.range.start.line, d.range.start.character])).toEqual([
      ['FM0200', 7, 15],
    ]);
    // The code links to the page shipped inside the package.
    expect(published.diagnostics[0]!.codeDescription?.href).toBe(
      `${pathToFileURL(path.join(dir, 'unzipped', 'extension', 'server', 'docs', 'diagnostics.md')).href}#names-and-imports`,
    );

    const hover = await client.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri: uri() },
      position: { line: 6, character: 8 },
    });
    expect(hover.contents.value).toContain('(let) h: f32[B, 4]');

    const list = await client.request<{ items: { label: string; detail?: string }[] }>('textDocument/completion', {
      textDocument: { uri: uri() },
      position: { line: 7, character: 11 },
    });
    expect(list.items.find((i) => i.label === 'proj')?.detail).toBe(
      '(child) proj = Linear(in_dim = 4, out_dim = 4, bias = true)',
    );

    const actions = await client.request<{ title: string }[]>('textDocument/codeAction', {
      textDocument: { uri: uri() },
      range: { start: { line: 7, character: 15 }, end: { line: 7, character: 19 } },
      context: { diagnostics: [] },
    });
    expect(actions.map((a) => a.title)).toEqual(['Import `gelu` from "std/act"']);

    const formatted = await client.request<{ newText: string }[]>('textDocument/formatting', {
      textDocument: { uri: uri() },
      options: { tabSize: 2, insertSpaces: true },
    });
    expect(formatted).toEqual([]); // already formatted: prettier's core loaded from the package
  });
});
