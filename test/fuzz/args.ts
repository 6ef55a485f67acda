// The command line of the long-running fuzzer (run.ts).

import * as os from 'node:os';

export interface Options {
  count: number;
  seed: number;
  /** Where failures are written (default: DIR/failures with --resume DIR, else fuzz-failures). */
  out: string | undefined;
  jobs: number;
  batch: number;
  cEvery: number;
  /** Every K-th seed also on WGSL (0: none). */
  wgslEvery: number;
  /** Every K-th seed's C built with the shipped flags, the others at -O0 (pipeline.ts cFlags). */
  shippedEvery: number;
  caseLimit: number;
  compileLimit: number;
  shrinkLimit: number;
  /** Stop starting batches after this many minutes (0: no limit). */
  minutes: number;
  /** Stop starting batches at this time (HH:MM UTC today, or an ISO date). */
  until: string | undefined;
  /** At most this many seeds in this invocation (0: all the run has left). */
  piece: number;
  /** The progress directory of a run done in pieces. */
  resume: string | undefined;
  /** Print the report of a progress directory and exit. */
  report: string | undefined;
}

export const USAGE = `usage: npm run fuzz -- [--count N] [--seed S] [--out DIR] [--jobs J] [--batch B]
       [--c-every K] [--shipped-every K] [--wgsl K] [--case-limit SEC] [--compile-limit SEC]
       [--shrink-limit SEC] [--minutes M] [--until HH:MM] [--piece N] [--resume DIR] [--report DIR]
Runs seeds S..S+N-1 through check, lowering, passes, the reference and the C target (every
--c-every-th seed; every --shipped-every-th seed's C is built with the shipped flags -O3
-march=native, the others' with -O0; default 8) and, with --wgsl, the WGSL target (every K-th
seed; needs a WebGPU adapter); writes each failure, shrunk, to DIR/<kind>-<seed>/.
--minutes and --until (HH:MM in UTC, the next such time, or an ISO date) stop starting new
batches (so does a first SIGINT or SIGTERM; a second stops at once); --piece N runs at most
N seeds. --resume DIR runs the run of DIR/progress.json onward from where its last piece
stopped (creating it from these options the first time; later its seeds and options win) and
prints every piece and the total; --report DIR prints that report only.`;

const NUMBERS = {
  '--count': 'count',
  '--seed': 'seed',
  '--jobs': 'jobs',
  '--batch': 'batch',
  '--c-every': 'cEvery',
  '--wgsl': 'wgslEvery',
  '--shipped-every': 'shippedEvery',
  '--case-limit': 'caseLimit',
  '--compile-limit': 'compileLimit',
  '--shrink-limit': 'shrinkLimit',
  '--minutes': 'minutes',
  '--piece': 'piece',
} as const;
const TEXTS = { '--out': 'out', '--until': 'until', '--resume': 'resume', '--report': 'report' } as const;

export function parseArgs(argv: readonly string[]): Options {
  const o: Options = {
    count: 1000,
    seed: 1,
    out: undefined,
    jobs: Math.max(1, Math.min(4, os.availableParallelism())),
    batch: 40,
    cEvery: 1,
    wgslEvery: 0,
    shippedEvery: 8,
    caseLimit: 60,
    compileLimit: 600,
    shrinkLimit: 300,
    minutes: 0,
    piece: 0,
    until: undefined,
    resume: undefined,
    report: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (!(flag in NUMBERS) && !(flag in TEXTS)) throw new Error(`unknown option ${a} (see --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag in TEXTS) {
      o[TEXTS[flag as keyof typeof TEXTS]] = value;
      continue;
    }
    const n = Number(value);
    if (!Number.isSafeInteger(n) || (n < 1 && flag !== '--seed')) throw new Error(`${flag}: bad number ${value}`);
    o[NUMBERS[flag as keyof typeof NUMBERS]] = n;
  }
  return o;
}

/** The time (ms) at which no new batch starts: --minutes after `started`, --until (HH:MM: the next one), whichever is first. */
export function stopTime(o: Options, started: number): number {
  let at = o.minutes > 0 ? started + o.minutes * 60_000 : Infinity;
  if (o.until !== undefined) {
    const hm = /^(\d{1,2}):(\d{2})$/.exec(o.until);
    let t = hm ? new Date(started).setUTCHours(Number(hm[1]), Number(hm[2]), 0, 0) : new Date(o.until).getTime();
    if (!Number.isFinite(t) || (hm && (Number(hm[1]) > 23 || Number(hm[2]) > 59)))
      throw new Error(`--until: bad time ${o.until} (HH:MM UTC or an ISO date)`);
    // HH:MM is the next such time: 00:30, given at 23:00, is tomorrow's (it was at once).
    if (hm && t <= started) t += 24 * 3_600_000;
    at = Math.min(at, t);
  }
  return at;
}
