// nvcc and ptxas for the CUDA tests: a program compiled to a cubin with `-Xptxas -v`, and the
// resource figures ptxas prints for each kernel (registers, spills, stack, shared memory)
// parsed into a table. nvcc is /usr/local/cuda/bin/nvcc, or $FMC_NVCC.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What ptxas reports for one kernel on one architecture. */
export interface PtxasKernel {
  readonly name: string;
  readonly arch: string;
  readonly registers: number;
  readonly spillStores: number;
  readonly spillLoads: number;
  /** Bytes of stack frame (local arrays indexed at run time, call frames). */
  readonly stack: number;
  /** Bytes of static shared memory. */
  readonly shared: number;
  readonly barriers: number;
}

/** The nvcc to use, or why there is none. */
export function findNvcc(): { nvcc: string } | { why: string } {
  const nvcc = process.env.FMC_NVCC ?? '/usr/local/cuda/bin/nvcc';
  if (!fs.existsSync(nvcc)) return { why: `no nvcc at ${nvcc} (set FMC_NVCC to one)` };
  return { nvcc };
}

/**
 * ptxas's `-v` log parsed per kernel: each "Compiling entry function 'k' for 'sm_90'" starts
 * a kernel, whose "N bytes stack frame, N bytes spill stores, N bytes spill loads" and
 * "Used N registers, used N barriers, N bytes smem" lines follow.
 */
export function parsePtxas(log: string): PtxasKernel[] {
  const out: PtxasKernel[] = [];
  let cur: { -readonly [K in keyof PtxasKernel]: PtxasKernel[K] } | undefined;
  const num = (line: string, re: RegExp): number => Number(re.exec(line)?.[1] ?? 0);
  for (const line of log.split('\n')) {
    const entry = /Compiling entry function '(\w+)' for '(\w+)'/.exec(line);
    if (entry) {
      cur = {
        name: entry[1]!,
        arch: entry[2]!,
        registers: -1,
        spillStores: 0,
        spillLoads: 0,
        stack: 0,
        shared: 0,
        barriers: 0,
      };
      out.push(cur);
    } else if (cur && /bytes stack frame/.test(line)) {
      cur.stack = num(line, /(\d+) bytes stack frame/);
      cur.spillStores = num(line, /(\d+) bytes spill stores/);
      cur.spillLoads = num(line, /(\d+) bytes spill loads/);
    } else if (cur && /Used \d+ registers/.test(line)) {
      cur.registers = num(line, /Used (\d+) registers/);
      cur.barriers = num(line, /used (\d+) barriers/);
      cur.shared = num(line, /(\d+) bytes smem/);
    }
  }
  const bad = out.find((k) => k.registers < 0);
  if (bad) throw new Error(`ptxas printed no register count for ${bad.name}:\n${log}`);
  return out;
}

/** Compiles `source` (a .cu program) for `arch` (`sm_90`) with nvcc; throws with the log on errors. */
export function compileCubin(nvcc: string, source: string, arch: string, name = 'program'): PtxasKernel[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fmc-nvcc-'));
  try {
    const file = path.join(dir, `${name}.cu`);
    fs.writeFileSync(file, source);
    const args = ['-cubin', `-arch=${arch}`, '-Xptxas', '-v', '-w', file, '-o', path.join(dir, `${name}.cubin`)];
    let log: string;
    try {
      // ptxas writes its report to stderr; merge it into what execFileSync returns.
      log = execFileSync('sh', ['-c', '"$0" "$@" 2>&1', nvcc, ...args], { encoding: 'utf8', timeout: 120_000 });
    } catch (e) {
      const err = e as { stdout?: string; message: string };
      throw new Error(`nvcc failed on ${name} (${arch}):\n${(err.stdout ?? err.message).slice(0, 4000)}`);
    }
    return parsePtxas(log);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A fixed-width table of the figures, one kernel a row. */
export function ptxasTable(rows: readonly (PtxasKernel & { readonly program: string })[]): string {
  const head = ['program', 'kernel', 'arch', 'regs', 'spill st', 'spill ld', 'stack', 'smem', 'bar'];
  const cells = rows.map((r) => [
    r.program,
    r.name,
    r.arch,
    ...[r.registers, r.spillStores, r.spillLoads, r.stack, r.shared, r.barriers].map(String),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [head, ...cells].map((c) => c.map((x, i) => x.padEnd(widths[i]!)).join('  ')).join('\n');
}
