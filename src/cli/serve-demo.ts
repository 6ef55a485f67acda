// `fmc serve-demo`: the browser demo (demo/mnist: the MNIST CNN classifying a digit drawn on a
// canvas) served on 127.0.0.1. The model is compiled for WGSL with the demo's trained weights
// into a folder with fmc.js (`fmc compile --target wgsl --browser`), ten sample digits are taken
// from the `mnist` package, and the server answers only with those files and the page's own:
// a fixed table of paths, so no request names anything else (no path is ever joined from a URL).

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { mnistDigitsDir } from '../data/mnist.js';
import { STD_DIR } from '../frontend/program.js';
import { compileCommand } from './compile.js';
import { EXIT, type Io } from './io.js';
import { CliError } from './model.js';

/** The package root (where std/ is). */
const ROOT = path.dirname(STD_DIR);

/** The demo's model: cnn.fm for 1 × 28 × 28 digits, with weights trained by `fmc train` (docs/browser.md). */
export const DEMO_MODEL = {
  file: path.join(ROOT, 'models', 'cnn.fm'),
  set: ['channels=1', 'size=28', 'hidden=64'],
  weights: path.join(ROOT, 'demo', 'mnist', 'cnn-mnist.safetensors'),
} as const;

/** The page's own files (demo/mnist), served at /name. */
const PAGE_FILES = ['index.html', 'demo.js', 'demo.css'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wgsl': 'text/plain; charset=utf-8',
  '.mts': 'text/plain; charset=utf-8',
};

/** The last digit of each class in the `mnist` package: `{label, pixels}` (784 values in [0, 1]). */
function sampleDigits(): { label: number; pixels: number[] }[] {
  return Array.from({ length: 10 }, (_, label) => {
    const file = path.join(mnistDigitsDir(), `${label}.json`);
    const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    return { label, pixels: data.slice(data.length - 784) };
  });
}

/**
 * Builds the demo into `dir`: the compiled module in dir/model (with fmc.js) and
 * dir/samples.json. Compile messages go to `io.err`.
 */
export function buildDemo(io: Io, dir: string): void {
  const code = compileCommand(io, DEMO_MODEL.file, {
    target: 'wgsl',
    out: path.join(dir, 'model'),
    fn: ['forward'],
    dims: 'B=1',
    set: DEMO_MODEL.set,
    weights: DEMO_MODEL.weights,
    browser: true,
  });
  if (code !== EXIT.ok) throw new CliError('the demo model did not compile');
  fs.writeFileSync(path.join(dir, 'samples.json'), `${JSON.stringify(sampleDigits())}\n`);
}

/** Every path the server answers, with its file: the page, the samples and the module's files. */
export function demoRoutes(dir: string): Map<string, string> {
  const routes = new Map<string, string>();
  for (const f of PAGE_FILES) routes.set(`/${f}`, path.join(ROOT, 'demo', 'mnist', f));
  routes.set('/', routes.get('/index.html')!);
  routes.set('/samples.json', path.join(dir, 'samples.json'));
  for (const f of fs.readdirSync(path.join(dir, 'model')))
    if (/^[A-Za-z0-9_.-]+$/.test(f) && !f.startsWith('.')) routes.set(`/model/${f}`, path.join(dir, 'model', f));
  return routes;
}

export interface DemoServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `routes` on 127.0.0.1:`port` (0: any free port); GET and HEAD only, and only for a local Host. */
export async function serveRoutes(routes: ReadonlyMap<string, string>, port: number): Promise<DemoServer> {
  const server = http.createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
    };
    // A page elsewhere cannot reach the demo through a DNS name that points here.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost') return send(403, 'forbidden');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    const file = routes.get((req.url ?? '').split('?')[0]!);
    if (file === undefined) return send(404, 'not found');
    let body: Buffer;
    try {
      body = fs.readFileSync(file);
    } catch {
      return send(404, 'not found');
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: bound } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ServeDemoOptions {
  readonly port?: string;
  /** Where to build the demo (default: a temporary folder, removed on exit). */
  readonly out?: string;
}

/** `fmc serve-demo`: builds the demo and serves it until the process is stopped. */
export async function serveDemo(io: Io, opts: ServeDemoOptions): Promise<number> {
  const port = Number(opts.port ?? '8080');
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port ${opts.port}: expected a port number 0-65535`, EXIT.usage);
  const dir = opts.out ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-demo-'));
  if (opts.out === undefined) process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(dir, { recursive: true });
  buildDemo(io, dir);
  const server = await serveRoutes(demoRoutes(dir), port);
  io.out(`fmc: the demo is at ${server.url} (Ctrl-C stops it)\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void server.close().then(() => process.exit(EXIT.ok)));
  return new Promise<number>(() => {});
}

/** serveDemo with user-facing failures (a bad port, a port in use, a missing bundle) as `fmc: message`. */
export async function serveDemoCli(io: Io, opts: ServeDemoOptions): Promise<number> {
  try {
    return await serveDemo(io, opts);
  } catch (e) {
    const listen = (e as NodeJS.ErrnoException).syscall === 'listen';
    if (!(e instanceof CliError) && !listen) throw e;
    io.err(
      `fmc: ${listen ? `cannot serve on port ${opts.port ?? '8080'}: ${(e as Error).message}` : (e as Error).message}\n`,
    );
    return e instanceof CliError ? e.code : EXIT.user;
  }
}
