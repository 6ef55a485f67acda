// The language server under hostile input (issue 17, item 11): malformed frames are skipped
// to the next valid header and later requests are answered; a document whose check takes
// seconds does not hold up hovers in other documents, an edit cancels its stale check, and a
// check over the time limit is stopped with a diagnostic. Needs the build, like e2e.test.ts.

import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameSanitizer, MAX_BODY_BYTES } from '../../src/lsp/framing.js';
import { LspClient, uriOf } from './client.js';

const clients: LspClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.kill();
});
function start(env: NodeJS.ProcessEnv = process.env): LspClient {
  const c = new LspClient(['lsp', '--stdio'], env);
  clients.push(c);
  return c;
}

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const msg = (o: object) => JSON.stringify({ jsonrpc: '2.0', ...o });

const SMALL = 'const K = 4\n\nfn f(x: f32[K]) -> f32[K] {\n  let y = x * 2.0\n  return y\n}\n';

/** Compile-time integers that double in size each line: seconds to check (issue 17, item 8). */
const SQUARES = ['const C0 = 3', ...Array.from({ length: 25 }, (_, i) => `const C${i + 1} = C${i} * C${i}`)].join('\n');
/** Linear but long: 30,000 constants, about a second or more to check whatever budgets apply. */
const LONG = ['const K0 = 1', ...Array.from({ length: 30_000 }, (_, i) => `const K${i + 1} = K${i} + ${i}`)].join('\n');

function open(c: LspClient, uri: string, text: string, version = 1): void {
  c.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'fm', version, text } });
}

/** How long a hover on `y` in the small document takes (ms), with its result. */
async function timedHover(c: LspClient, uri: string): Promise<{ ms: number; value: string }> {
  const t0 = performance.now();
  const h = await c.request<{ contents: { value: string } } | null>('textDocument/hover', {
    textDocument: { uri },
    position: { line: 3, character: 6 },
  });
  return { ms: performance.now() - t0, value: h?.contents.value ?? '' };
}

const GARBAGE: [string, string][] = [
  ['a header without Content-Length', `Content-Type: application/json\r\n\r\n${msg({ id: 900, method: 'x' })}`],
  ['a negative Content-Length', `Content-Length: -5\r\n\r\n${msg({ id: 901, method: 'x' })}`],
  ['a non-numeric Content-Length', `Content-Length: lots\r\n\r\n${msg({ id: 902, method: 'x' })}`],
  ['a Content-Length over the limit', `Content-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n{}`],
  ['a Content-Length of 10^15', 'Content-Length: 999999999999999\r\n\r\n{}'],
  ['a Content-Length longer than the body', `Content-Length: 5000\r\n\r\n${msg({ id: 903, method: 'x' })}`],
  ['a Content-Length shorter than the body', `Content-Length: 10\r\n\r\n${msg({ id: 904, method: 'x' })}`],
  ['a body that is not JSON', frame('{"jsonrpc": "2.0", "id": 9')],
  ['binary garbage', String.fromCharCode(...Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256))],
  ['a header that never ends', `Content-Length: 12\r\nX-Junk: ${'a'.repeat(10_000)}`],
];

describe('fmc lsp and malformed frames', () => {
  it('answers the next valid request after each kind of malformed frame', async () => {
    const c = start();
    await c.initialize();
    const uri = uriOf('test/lsp/robust-small.fm');
    open(c, uri, SMALL);
    for (const [what, bytes] of GARBAGE) {
      c.raw(Buffer.from(bytes, 'latin1'));
      const answer = await Promise.race([
        c.request<unknown[]>('textDocument/documentSymbol', { textDocument: { uri } }),
        new Promise((resolve) => setTimeout(() => resolve('timeout'), 5000)),
      ]);
      expect(answer, what).not.toBe('timeout');
      expect(Array.isArray(answer), what).toBe(true);
    }
    expect(await c.shutdown()).toBe(0);
  }, 60_000);

  it('re-frames a byte stream: valid messages pass, whatever is split across chunks', async () => {
    const messages = [msg({ id: 1, method: 'a' }), msg({ id: 2, method: 'b', params: { s: 'Content-Length: 5' } })];
    const text = [
      'junk',
      frame(messages[0]!),
      'Content-Length: -1\r\n\r\n',
      `Content-Length: 400\r\n\r\n${msg({ id: 3 })}`,
      frame(messages[1]!),
    ].join('');
    for (const step of [1, 3, 17, text.length]) {
      const dropped: string[] = [];
      const s = new FrameSanitizer((why) => dropped.push(why));
      const out = new PassThrough();
      s.pipe(out);
      for (let i = 0; i < text.length; i += step) s.write(Buffer.from(text.slice(i, i + step), 'latin1'));
      s.end();
      const got: Buffer[] = [];
      for await (const chunk of out) got.push(chunk as Buffer);
      expect(Buffer.concat(got).toString(), `chunks of ${step}`).toBe(messages.map(frame).join(''));
      expect(dropped.length).toBeGreaterThan(0);
    }
  });
});

describe('fmc lsp and slow documents', () => {
  it('answers hovers in other documents while one document takes seconds to check', async () => {
    const c = start();
    await c.initialize();
    const small = uriOf('test/lsp/robust-small.fm');
    open(c, small, SMALL);
    expect((await timedHover(c, small)).value).toContain('(let) y: f32[4]');
    const slow = uriOf('test/lsp/robust-slow.fm');
    open(c, slow, SQUARES);
    await new Promise((r) => setTimeout(r, 300));
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const h = await timedHover(c, small);
      expect(h.value).toContain('(let) y: f32[4]');
      times.push(h.ms);
      // An edit elsewhere is checked too.
      c.notify('textDocument/didChange', {
        textDocument: { uri: small, version: i + 2 },
        contentChanges: [{ text: `${SMALL}// edit ${i}\n` }],
      });
    }
    times.sort((a, b) => a - b);
    expect(times[times.length >> 1]!).toBeLessThan(500);
    expect(times.at(-1)!).toBeLessThan(2000);
  }, 60_000);

  it('cancels the check of a slow text when it is edited', async () => {
    const c = start();
    await c.initialize();
    const slow = uriOf('test/lsp/robust-slow.fm');
    open(c, slow, SQUARES);
    await new Promise((r) => setTimeout(r, 800));
    const t0 = performance.now();
    c.notify('textDocument/didChange', {
      textDocument: { uri: slow, version: 2 },
      contentChanges: [{ text: SMALL }],
    });
    const p = await c.waitFor<{ version?: number; diagnostics: unknown[] }>(
      'textDocument/publishDiagnostics',
      (d) => d.version === 2,
      15_000,
    );
    expect(p.diagnostics).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5000);
  }, 60_000);

  it('stops a check over the time limit with a diagnostic, and checks the next edit', async () => {
    const c = start({ ...process.env, FMC_LSP_CHECK_LIMIT_MS: '200' });
    await c.initialize();
    const uri = uriOf('test/lsp/robust-long.fm');
    open(c, uri, `${LONG}\n${SQUARES.replace(/C/g, 'S')}\n`);
    const p = await c.waitFor<{ version?: number; diagnostics: { message: string; severity: number }[] }>(
      'textDocument/publishDiagnostics',
      (d) => d.version === 1,
      15_000,
    );
    expect(p.diagnostics).toHaveLength(1);
    expect(p.diagnostics[0]!.message).toMatch(/^fmc stopped checking this file: the check took over 0\.2 s/);
    // Requests on it answer (with nothing) rather than wait.
    expect(await c.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 7 } })).toBe(
      null,
    );
    c.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: SMALL }] });
    const q = await c.waitFor<{ version?: number; diagnostics: unknown[] }>(
      'textDocument/publishDiagnostics',
      (d) => d.version === 2,
      15_000,
    );
    expect(q.diagnostics).toEqual([]);
    expect(await c.shutdown()).toBe(0);
  }, 60_000);
});
