// The worker thread of BackgroundLowering (lowering.ts): lowers the models of a document and
// counts their FLOPs per block path, off the language server's thread.

import * as os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { type Host, nodeHost } from '../frontend/program.js';
import { Uris } from './convert.js';
import { lowerFlops } from './flops.js';
import type { LowerReply, LowerRequest } from './lowering.js';

const port = parentPort;
if (!port) throw new Error('lower-worker.js runs as a worker thread');

// A lower priority for this thread (nice 10), so that the server's checks keep the CPU while
// a lowering runs: on a busy 2-core machine a normal-priority lowering made the check of an
// edit 2-3 times slower, nice 10 about as fast as with no lowering, and nice 19 starved the
// lowering for many seconds. Linux only: elsewhere the call would lower the whole process.
if (process.platform === 'linux') {
  try {
    os.setPriority(0, 10);
  } catch {
    // not permitted: run at the normal priority
  }
}

const encoder = new TextEncoder();

port.on('message', (r: LowerRequest) => {
  let reply: LowerReply;
  try {
    const uris = new Uris(r.root);
    const open = new Map(r.files);
    const host: Host = {
      read: (abs) => {
        const text = open.get(abs);
        return text === undefined ? nodeHost.read(abs) : encoder.encode(text);
      },
      display: (abs) => uris.display(abs),
    };
    reply = { id: r.id, models: lowerFlops(r.abs, host, r.models) };
  } catch (e) {
    reply = { id: r.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  port.postMessage(reply);
});
