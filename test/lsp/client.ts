// A minimal LSP client for tests: spawns `node bin/fmc.js lsp` and speaks JSON-RPC with
// Content-Length framing over its stdin/stdout, the way an editor does.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const ROOT = path.resolve(__dirname, '../..');

export interface Message {
  jsonrpc: '2.0';
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

export function uriOf(file: string): string {
  return pathToFileURL(path.resolve(ROOT, file)).href;
}

export class LspClient {
  private readonly proc: ChildProcessWithoutNullStreams;
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, (m: Message) => void>();
  private readonly notes: Message[] = [];
  private waiters: { method: string; pred: (p: unknown) => boolean; resolve: (m: Message) => void }[] = [];
  stderr = '';

  /** `script`: the server's entry (bin/fmc.js of this checkout unless given). */
  constructor(
    args: string[] = ['lsp', '--stdio'],
    env: NodeJS.ProcessEnv = process.env,
    script = path.join(ROOT, 'bin', 'fmc.js'),
    cwd = ROOT,
  ) {
    this.proc = spawn(process.execPath, [script, ...args], { cwd, env });
    this.proc.stdout.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const sep = this.buf.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const header = this.buf.subarray(0, sep).toString('ascii');
      const len = Number(/Content-Length: (\d+)/i.exec(header)?.[1]);
      if (this.buf.length < sep + 4 + len) return;
      const body = this.buf.subarray(sep + 4, sep + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(sep + 4 + len);
      this.onMessage(JSON.parse(body) as Message);
    }
  }

  private onMessage(m: Message): void {
    if (m.id !== undefined && m.method === undefined) {
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
      return;
    }
    if (m.id !== undefined && m.method !== undefined) {
      // A request from the server (e.g. workspace/configuration): answer with nothing.
      this.write({ jsonrpc: '2.0', id: m.id, result: null });
      return;
    }
    const w = this.waiters.find((x) => x.method === m.method && x.pred(m.params));
    if (w) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(m);
    } else this.notes.push(m);
  }

  private write(m: Message): void {
    const body = Buffer.from(JSON.stringify(m), 'utf8');
    this.proc.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.proc.stdin.write(body);
  }

  /** Writes bytes as they are, framing or not (for tests of malformed input). */
  raw(bytes: string | Uint8Array): void {
    this.proc.stdin.write(bytes);
  }

  request<T = unknown>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, (m) => (m.error ? reject(new Error(m.error.message)) : resolve(m.result as T)));
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  /** The next notification `method` (already received or coming) whose params satisfy `pred`. */
  waitFor<T = unknown>(method: string, pred: (p: T) => boolean = () => true, timeoutMs = 20_000): Promise<T> {
    const i = this.notes.findIndex((m) => m.method === method && pred(m.params as T));
    if (i >= 0) return Promise.resolve(this.notes.splice(i, 1)[0]!.params as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${method} within ${timeoutMs} ms; stderr: ${this.stderr}`)),
        timeoutMs,
      );
      this.waiters.push({
        method,
        pred: (p) => pred(p as T),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m.params as T);
        },
      });
    });
  }

  async initialize(rootUri = pathToFileURL(ROOT).href): Promise<unknown> {
    const r = await this.request('initialize', { processId: process.pid, rootUri, capabilities: {} });
    this.notify('initialized', {});
    return r;
  }

  async shutdown(): Promise<number | null> {
    await this.request('shutdown', null);
    this.notify('exit', null);
    return new Promise((resolve) => this.proc.on('exit', (code) => resolve(code)));
  }

  kill(): void {
    this.proc.kill();
  }
}
