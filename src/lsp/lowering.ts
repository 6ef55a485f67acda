// Background lowering for the FLOPs in hovers. Lowering the largest model takes a second or
// more and is synchronous, so it runs on a worker thread (lower-worker.ts): the server's own
// thread keeps answering requests and checking edits while it runs. One job runs at a time;
// a newer job for the same document replaces a queued one and cancels a running one (the
// worker is terminated and a fresh one started for the next job). The caller decides
// whether a result still applies when it arrives (the server keys results by the analysis
// they were made for).

import { Worker } from 'node:worker_threads';
import type { ModelFlops } from './flops.js';

/** What the worker needs: the file, the models to lower and the open documents' texts. */
export interface LowerJob {
  /** Absolute path of the document. */
  readonly abs: string;
  /** The workspace root (diagnostics name files relative to it, as the server does). */
  readonly root: string;
  readonly models: readonly string[];
  /** Open documents (absolute path, text): read instead of the disk, as the server's check does. */
  readonly files: readonly (readonly [string, string])[];
}

export interface LowerRequest extends LowerJob {
  readonly id: number;
}

export type LowerReply =
  { readonly id: number; readonly models: ModelFlops[] } | { readonly id: number; readonly error: string };

/** A lowering that runs longer than this is given up (the worker is terminated). */
const JOB_LIMIT_MS = 60_000;
/** After this many workers in a row died without answering, background lowering is off. */
const MAX_FAILURES = 2;

interface Pending<K> {
  readonly id: number;
  readonly key: K;
  readonly job: LowerJob;
  readonly done: (models: ModelFlops[]) => void;
}

export class BackgroundLowering<K> {
  private worker: Worker | undefined;
  private running: Pending<K> | undefined;
  private readonly queue = new Map<K, Pending<K>>();
  private nextId = 1;
  private watchdog: NodeJS.Timeout | undefined;
  /** Workers that died in a row without answering; at MAX_FAILURES lowering is off for good. */
  private failures = 0;
  private disabled = false;

  constructor(
    private readonly workerUrl: URL,
    private readonly log: (message: string) => void,
  ) {}

  /** Queues a lowering for `key`; a queued one for it is dropped and a running one cancelled. */
  submit(key: K, job: LowerJob, done: (models: ModelFlops[]) => void): void {
    if (this.disabled) return;
    this.cancel(key);
    this.queue.set(key, { id: this.nextId++, key, job, done });
    this.pump();
  }

  /** Drops the queued job of `key` and cancels its running one. */
  cancel(key: K): void {
    this.queue.delete(key);
    if (this.running?.key === key) {
      this.finished();
      this.stopWorker();
    }
  }

  /** Gives up the running job (too slow): the worker is terminated, the next job starts. */
  private giveUp(): void {
    const p = this.running;
    if (!p) return;
    this.log(`lowering ${p.job.abs} took over ${JOB_LIMIT_MS / 1000} s: given up`);
    this.finished();
    this.stopWorker();
    this.pump();
  }

  dispose(): void {
    this.queue.clear();
    this.finished();
    this.stopWorker();
  }

  private pump(): void {
    if (this.running || this.disabled) return;
    const next = this.queue.values().next();
    if (next.done) return;
    const p = next.value;
    this.queue.delete(p.key);
    this.running = p;
    const req: LowerRequest = { id: p.id, ...p.job };
    this.ensureWorker().postMessage(req);
    this.watchdog = setTimeout(() => this.giveUp(), JOB_LIMIT_MS);
    this.watchdog.unref();
  }

  private finished(): void {
    clearTimeout(this.watchdog);
    this.running = undefined;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    // stdout and stderr are piped here, never to the process's stdout (the LSP channel).
    const w = new Worker(this.workerUrl, { stdout: true, stderr: true });
    w.unref();
    const forward = (d: Buffer) => this.log(`lowering worker: ${d.toString().trimEnd()}`);
    w.stdout.on('data', forward);
    w.stderr.on('data', forward);
    w.on('message', (r: LowerReply) => {
      if (w !== this.worker) return;
      this.failures = 0;
      const p = this.running;
      if (!p || p.id !== r.id) return;
      this.finished();
      if ('error' in r) this.log(`lowering ${p.job.abs} failed: ${r.error}`);
      else p.done(r.models);
      this.pump();
    });
    w.on('error', (e) => {
      if (w === this.worker) this.log(`lowering worker failed: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
    });
    // A worker that exits on its own (an error, out of memory): the running job is lost.
    w.on('exit', (code) => {
      if (w !== this.worker) return;
      this.worker = undefined;
      const p = this.running;
      this.finished();
      this.log(`lowering worker exited (code ${code})${p ? ` while lowering ${p.job.abs}` : ''}`);
      if (++this.failures >= MAX_FAILURES) {
        this.disabled = true;
        this.queue.clear();
        this.log('FLOPs in hovers are off: the lowering worker keeps failing');
        return;
      }
      this.pump();
    });
    this.worker = w;
    return w;
  }

  private stopWorker(): void {
    const w = this.worker;
    this.worker = undefined;
    if (w) void w.terminate();
  }
}
