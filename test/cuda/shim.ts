// The CPU execution shim's harness: CUDA programs (a source per the CUDA dialect's contract and
// its kernel names) are compiled as C++ with g++ against test/cuda/shim/fmc_cuda_cpu.h, several
// programs into ONE binary (each in its own namespace, its kernels renamed `fmc_p<i>_<name>`),
// cached by content hash in a private directory under the system temp dir; their __shared__
// arrays are declared race-checked (shim/fmc_cpu_race.h) unless a program opts out. The binary
// runs jobs (buffers in, dim slots, a launch list, a thread order) and returns the buffers as
// the kernels left them. A failure of the shim (divergent barrier, data race, out-of-bounds
// access, ...) throws a ShimError with its report.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCacheDir } from '../tmp-cache.js';

const SHIM_DIR = join(dirname(fileURLToPath(import.meta.url)), 'shim');
const CACHE_DIR = testCacheDir('fmc-cuda-shim');

/** The order a block's runnable threads run in between two synchronization points. */
export type ThreadOrder = 'forward' | 'reverse' | { readonly shuffle: number };

export interface ShimProgram {
  readonly source: string;
  readonly kernels: readonly string[];
  /** Race-check the __shared__ arrays (default true; see shim/fmc_cpu_race.h). */
  readonly raceCheck?: boolean;
}

export interface ShimLaunch {
  readonly kernel: string;
  readonly grid: readonly [number, number];
  readonly workgroup: number;
  /** The kernel's buffer arguments, as indices into the job's buffers. */
  readonly args: readonly number[];
}

export interface ShimJob {
  /** Index of the program (in the binary's list) whose kernels the launches name. */
  readonly program?: number;
  readonly buffers: readonly ArrayBufferView[];
  /** The dim slots, passed to every kernel as its `fmc_dims` struct. */
  readonly dims: readonly bigint[];
  readonly launches: readonly ShimLaunch[];
  readonly order: ThreadOrder;
}

/** A failure reported by the shim (or the binary's crash), with its message. */
export class ShimError extends Error {}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SHARED_ARRAY = /__shared__[ \t]+([A-Za-z_][A-Za-z0-9_ ]*?)[ \t]+([A-Za-z_][A-Za-z0-9_]*)\[(\d+)\];/g;

/** `source` with its `__shared__ T name[N];` declarations race-checked (fmc_cpu_race.h). */
export function raceChecked(source: string): string {
  let count = 0;
  const out = source.replace(SHARED_ARRAY, (_, t: string, name: string, n: string) => {
    count++;
    return `__shared__ fmc_cpu::Tracked<${t}, ${n}, __LINE__> ${name};`;
  });
  if (count !== (source.match(/^[ \t]*__shared__\b/gm) ?? []).length)
    throw new Error('a __shared__ declaration is not a `__shared__ T name[N];` array the race check knows');
  return out;
}

/** The .cpp of several programs: header, each program in a namespace, the kernel table, main. */
export function shimSource(programs: readonly ShimProgram[]): string {
  const out = ['#include "fmc_cuda_cpu.h"'];
  const table: string[] = [];
  programs.forEach((p, i) => {
    const names = p.kernels.map((k) => {
      if (!IDENT.test(k)) throw new Error(`kernel name is not an identifier: ${JSON.stringify(k)}`);
      return { k, as: `fmc_p${i}_${k}` };
    });
    // Macros the program defines, past the inline-PTX block the shim defines its own for.
    const active = p.source.replace(/#ifndef FMC_CUDA_CPU\b[\s\S]*?#endif/g, '');
    const macros = [...active.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)/gm)].map((m) => m[1]!);
    out.push(`namespace fmc_p${i} {`, ...names.map((n) => `#define ${n.k} ${n.as}`), `#line 1 "program${i}.cu"`);
    out.push(
      p.raceCheck === false ? p.source : raceChecked(p.source),
      '}',
      ...[...names.map((n) => n.k), ...macros].map((m) => `#undef ${m}`),
    );
    table.push(...names.map((n) => `  {"${n.k}", &fmc_cpu::entry<&fmc_p${i}::${n.as}>},`));
  });
  out.push('#include "fmc_cpu_main.h"', 'static const fmc_cpu::Kernel fmc_table[] = {', ...table, '};');
  out.push('int main(int argc, char** argv) {');
  out.push('  return fmc_cpu::runJobs(argc, argv, fmc_table, sizeof fmc_table / sizeof fmc_table[0]);', '}', '');
  return out.join('\n');
}

function headersDigest(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(SHIM_DIR).sort()) h.update(f).update(readFileSync(join(SHIM_DIR, f)));
  return h.digest('hex');
}

/** g++'s optimization level: -O1 by default; -O0 where compiling dominates (many plans, small runs). */
export type ShimOpt = '-O0' | '-O1';

/** Compiles (or finds in the cache) the binary of `programs`; returns its path. */
function compile(programs: readonly ShimProgram[], opt: ShimOpt): string {
  const cpp = shimSource(programs);
  const hash = createHash('sha256').update(headersDigest()).update(opt).update(cpp).digest('hex').slice(0, 32);
  const bin = join(CACHE_DIR, `${hash}.bin`);
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
  const work = mkdtempSync(join(CACHE_DIR, 'build-'));
  writeFileSync(join(work, 'programs.cpp'), cpp);
  // Stack-clash protection probes every page of a large frame: a fiber's overflow hits its guard page.
  const flags = [
    '-std=c++17',
    opt,
    '-w',
    '-fno-strict-aliasing',
    '-fwrapv',
    '-fstack-clash-protection',
    `-I${SHIM_DIR}`,
  ];
  const r = spawnSync('g++', [...flags, 'programs.cpp', '-o', 'programs.bin'], { cwd: work, encoding: 'utf8' });
  // The build directory stays for inspection when g++ fails.
  if (r.status !== 0) throw new ShimError(`g++ failed on the CUDA source (${work}):\n${r.stderr.slice(0, 4000)}`);
  renameSync(join(work, 'programs.bin'), bin); // atomic: concurrent test workers may build the same binary
  rmSync(work, { recursive: true, force: true });
  return bin;
}

function orderCode(o: ThreadOrder): [number, bigint] {
  if (o === 'forward') return [0, 0n];
  if (o === 'reverse') return [1, 0n];
  return [2, BigInt.asUintN(64, BigInt(o.shuffle))];
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** The job file (format in fmc_cpu_main.h). */
function jobFile(job: ShimJob, kernelIndex: (name: string) => number): Buffer {
  const words: Buffer[] = [];
  const u32 = (...v: number[]): void => void words.push(Buffer.from(new Uint32Array(v).buffer));
  const [order, seed] = orderCode(job.order);
  u32(0x4a434d46, order);
  words.push(Buffer.from(new BigUint64Array([seed]).buffer));
  u32(job.buffers.length);
  for (const b of job.buffers) {
    words.push(Buffer.from(new BigUint64Array([BigInt(b.byteLength)]).buffer), Buffer.from(bytesOf(b)));
  }
  const slots = job.dims.length > 0 ? job.dims : [0n]; // the fmc_dims struct has at least one slot
  u32(slots.length);
  words.push(Buffer.from(new BigInt64Array(slots).buffer));
  u32(job.launches.length);
  for (const l of job.launches) {
    if (l.args.some((a) => a < 0 || a >= job.buffers.length))
      throw new Error(`launch of ${l.kernel}: bad buffer index`);
    u32(kernelIndex(l.kernel), l.grid[0], l.grid[1], l.workgroup, l.args.length, ...l.args);
  }
  return Buffer.concat(words);
}

/** Several programs compiled into one binary that runs jobs on the CPU shim. */
export class ShimBinary {
  private constructor(
    readonly programs: readonly ShimProgram[],
    readonly path: string,
  ) {}

  static build(programs: readonly ShimProgram[], opt: ShimOpt = '-O1'): ShimBinary {
    return new ShimBinary(programs, compile(programs, opt));
  }

  private kernelIndex(program: number, name: string): number {
    let base = 0;
    for (let i = 0; i < program; i++) base += this.programs[i]!.kernels.length;
    const k = this.programs[program]?.kernels.indexOf(name) ?? -1;
    if (k < 0) throw new Error(`program ${program} has no kernel ${name}`);
    return base + k;
  }

  /** Runs the jobs in one process; returns each job's buffers (copies, typed as given). */
  run(jobs: readonly ShimJob[], timeoutMs = 120_000): ArrayBufferView[][] {
    const dir = mkdtempSync(join(tmpdir(), 'fmc-shim-run-'));
    try {
      const argv = jobs.flatMap((job, i) => {
        writeFileSync(
          join(dir, `job${i}`),
          jobFile(job, (n) => this.kernelIndex(job.program ?? 0, n)),
        );
        return [join(dir, `job${i}`), join(dir, `out${i}`)];
      });
      const r = spawnSync(this.path, argv, { encoding: 'utf8', timeout: timeoutMs });
      if (r.error) throw new ShimError(`the shim binary did not finish: ${r.error.message}`);
      if (r.status !== 0) throw new ShimError(r.stderr.trim() || `the shim binary died (${r.signal ?? r.status})`);
      return jobs.map((job, i) => {
        const out = readFileSync(join(dir, `out${i}`));
        let at = 0;
        return job.buffers.map((b) => {
          const copy = new Uint8Array(b.byteLength);
          copy.set(out.subarray(at, at + b.byteLength));
          at += b.byteLength;
          const ctor = b.constructor as new (buf: ArrayBuffer) => ArrayBufferView;
          return b instanceof DataView ? new DataView(copy.buffer) : new ctor(copy.buffer);
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** One program, one job. */
export function runCuda(program: ShimProgram, job: ShimJob): ArrayBufferView[] {
  return ShimBinary.build([program]).run([job])[0]!;
}

/** g++'s presence, for tests to skip with the reason where there is none. */
export function shimUnavailable(): string {
  try {
    execFileSync('g++', ['--version'], { stdio: 'ignore' });
    return '';
  } catch {
    return 'g++ not found (the CUDA CPU shim compiles generated CUDA as C++)';
  }
}
