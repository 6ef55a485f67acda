// Measures how fast `fmc lsp` answers, over stdio like an editor: for each file, the time
// from didOpen to its diagnostics, from a didChange to new diagnostics, and the latency of
// hover, definition, documentSymbol and formatting requests (at every identifier for hover
// and definition). Needs the build: `npm run build && node scripts/lsp-bench.mjs [files]`
// (default: models/*.fm). Prints a table; test/lsp/perf.test.ts asserts on the numbers.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A JSON-RPC client for a spawned `fmc lsp`. */
class Client {
  constructor() {
    this.proc = spawn(process.execPath, [path.join(ROOT, 'bin', 'fmc.js'), 'lsp', '--stdio'], { cwd: ROOT });
    this.buf = Buffer.alloc(0);
    this.id = 1;
    this.pending = new Map();
    this.waiters = [];
    /** Check times the server logs (`checked FILE (version N) in X ms (cpu Y ms)`). */
    this.checks = [];
    this.cpu = [];
    this.proc.stdout.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const sep = this.buf.indexOf('\r\n\r\n');
        if (sep < 0) return;
        const len = Number(/Content-Length: (\d+)/i.exec(this.buf.subarray(0, sep).toString())[1]);
        if (this.buf.length < sep + 4 + len) return;
        const msg = JSON.parse(this.buf.subarray(sep + 4, sep + 4 + len).toString('utf8'));
        this.buf = this.buf.subarray(sep + 4 + len);
        if (msg.id !== undefined && msg.method === undefined) {
          this.pending.get(msg.id)?.(msg);
          this.pending.delete(msg.id);
        } else if (msg.method === 'window/logMessage') {
          const m = / in ([\d.]+) ms \(cpu ([\d.]+) ms\)$/.exec(msg.params.message);
          if (m) {
            this.checks.push(Number(m[1]));
            this.cpu.push(Number(m[2]));
          }
        } else if (msg.method === 'textDocument/publishDiagnostics') {
          const w = this.waiters.find((x) => x.uri === msg.params.uri && x.version === msg.params.version);
          if (w) {
            this.waiters = this.waiters.filter((x) => x !== w);
            w.resolve(msg.params);
          }
        }
      }
    });
  }

  send(msg) {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }));
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  request(method, params) {
    const id = this.id++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
      this.send({ id, method, params });
    });
  }

  notify(method, params) {
    this.send({ method, params });
  }

  diagnostics(uri, version) {
    return new Promise((resolve) => this.waiters.push({ uri, version, resolve }));
  }

  async close() {
    await this.request('shutdown', null);
    this.notify('exit', null);
    await new Promise((resolve) => this.proc.on('exit', resolve));
  }
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { n: s.length, p50: at(0.5), p95: at(0.95), max: s.at(-1) ?? 0 };
};

async function timed(f) {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

/** Measures each file (paths relative to the repository); returns one row per file. */
export async function bench(files) {
  const client = new Client();
  await client.request('initialize', { processId: process.pid, rootUri: pathToFileURL(ROOT).href, capabilities: {} });
  client.notify('initialized', {});
  const rows = [];
  for (const rel of files) {
    const abs = path.resolve(ROOT, rel);
    const uri = pathToFileURL(abs).href;
    const text = fs.readFileSync(abs, 'utf8');
    const lines = text.split('\n');
    client.checks.length = 0;
    client.cpu.length = 0;
    const open = await timed(async () => {
      const d = client.diagnostics(uri, 1);
      client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'fm', version: 1, text } });
      await d;
    });
    // Positions: the middle of every identifier.
    const positions = [];
    lines.forEach((l, line) => {
      for (const m of l.matchAll(/[A-Za-z_]\w*/g)) positions.push({ line, character: m.index + (m[0].length >> 1) });
    });
    const hover = [];
    const definition = [];
    for (const position of positions) {
      hover.push(await timed(() => client.request('textDocument/hover', { textDocument: { uri }, position })));
      definition.push(
        await timed(() => client.request('textDocument/definition', { textDocument: { uri }, position })),
      );
    }
    const symbols = [];
    for (let i = 0; i < 20; i++)
      symbols.push(await timed(() => client.request('textDocument/documentSymbol', { textDocument: { uri } })));
    const formatting = [];
    for (let i = 0; i < 5; i++)
      formatting.push(
        await timed(() =>
          client.request('textDocument/formatting', {
            textDocument: { uri },
            options: { tabSize: 2, insertSpaces: true },
          }),
        ),
      );
    // An edit (a comment added at the end), then the first request after it: the check runs then.
    const change = [];
    const hoverAfterChange = [];
    for (let v = 2; v < 12; v++) {
      const end = { line: lines.length - 1, character: lines.at(-1).length };
      hoverAfterChange.push(
        await timed(async () => {
          client.notify('textDocument/didChange', {
            textDocument: { uri, version: v },
            contentChanges: [{ range: { start: end, end }, text: ' ' }],
          });
          await client.request('textDocument/hover', { textDocument: { uri }, position: positions[0] });
        }),
      );
      change.push(
        await timed(async () => {
          const d = client.diagnostics(uri, v + 100);
          client.notify('textDocument/didChange', {
            textDocument: { uri, version: v + 100 },
            contentChanges: [{ range: { start: end, end }, text: ' ' }],
          });
          await d;
        }),
      );
    }
    client.notify('textDocument/didClose', { textDocument: { uri } });
    rows.push({
      file: rel,
      open,
      hover: stats(hover),
      definition: stats(definition),
      symbols: stats(symbols),
      formatting: stats(formatting),
      hoverAfterChange: stats(hoverAfterChange),
      change: stats(change),
      check: stats(client.checks.slice(1)),
      checkCpu: stats(client.cpu.slice(1)),
    });
  }
  await client.close();
  return rows;
}

/**
 * The check of edited text in this process, without stdio or the server's event loop: the
 * same `analyze` the server runs, `runs` times per file (each time with one more space at
 * the end, so nothing is cached but the std library), after 20 rounds over all files that
 * warm up the JIT. The fastest run estimates an idle core.
 */
export async function checkTimes(files, runs = 30) {
  const { analyze } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'lsp', 'analysis.js')).href);
  const { nodeHost } = await import(pathToFileURL(path.join(ROOT, 'dist', 'src', 'frontend', 'program.js')).href);
  const texts = files.map((rel) => [path.resolve(ROOT, rel), fs.readFileSync(path.resolve(ROOT, rel), 'utf8')]);
  const times = files.map(() => []);
  const warmup = 20; // rounds over all files that let Node compile the checker first
  for (let i = 0; i < runs + warmup; i++) {
    texts.forEach(([abs, base], k) => {
      const text = base + ' '.repeat(i + 1);
      const host = {
        read: (p) => (p === abs ? new TextEncoder().encode(text) : nodeHost.read(p)),
        display: nodeHost.display,
      };
      const t0 = performance.now();
      analyze(abs, host);
      if (i >= warmup) times[k].push(performance.now() - t0);
    });
  }
  return files.map((file, k) => ({ file, ...stats(times[k]), min: Math.min(...times[k]) }));
}

function table(rows) {
  const ms = (x) => x.toFixed(1);
  const s = (x) => `${ms(x.p50)}/${ms(x.p95)}/${ms(x.max)}`;
  const out = [
    'file | open→diagnostics | check (server) p50/p95/max | check cpu p50/max | hover p50/p95/max (n) | definition p50/p95/max | symbols p50/p95/max | formatting p50/p95/max | edit→hover p50/p95/max | edit→diagnostics p50/p95/max  (ms)',
  ];
  for (const r of rows)
    out.push(
      `${r.file} | ${ms(r.open)} | ${s(r.check)} | ${ms(r.checkCpu.p50)}/${ms(r.checkCpu.max)} | ${s(r.hover)} (${r.hover.n}) | ${s(r.definition)} | ${s(r.symbols)} | ${s(r.formatting)} | ${s(r.hoverAfterChange)} | ${s(r.change)}`,
    );
  return out.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const files = args.length
    ? args
    : fs
        .readdirSync(path.join(ROOT, 'models'))
        .filter((f) => f.endsWith('.fm'))
        .sort()
        .map((f) => `models/${f}`);
  process.stdout.write(`${table(await bench(files))}\n\n`);
  process.stdout.write('in-process check of edited text: fastest / p50 / p95 (ms)\n');
  for (const r of await checkTimes(files))
    process.stdout.write(`${r.file} | ${r.min.toFixed(1)} / ${r.p50.toFixed(1)} / ${r.p95.toFixed(1)}\n`);
}
