// The commands that compile a model: `run`, `inspect`, `export`. Registered by main.ts;
// each is loaded on use.

import type { Command } from 'commander';
import { EXIT, type Io } from './io.js';
import { withPrecisionOption } from './precision.js';
import { withQuantizeOption } from './quantize-option.js';
import { withCalibrationOption } from './calibrate-command.js';
import { withSparsityOption } from './sparsity.js';

const MODEL_OPTIONS: [string, string][] = [
  ['--model <name>', 'the model to use when the file has several'],
  ['--fn <name>', 'the model function to run (default: forward)'],
  ['--dims <B=2,T=16>', 'sizes of symbolic dims; names a function does not use are warned about'],
  ['--seed <n>', 'seed of the random inputs and initial weights (default 0)'],
  ['--weights <file>', 'weights from a safetensors file instead of seeded initializers'],
];

/** Collects a repeatable option as given (a `--set` value may hold commas: `f(1, 2)`). */
const repeated = (value: string, previous: string[] = []): string[] => [...previous, value];

/** What `--set` means, for every command's help. */
export const SET_HELP =
  'override a hyperparameter of the model (repeatable): an int, float, bool, dtype, enum option or function name, or an expression such as 2*64';

/**
 * Adds `--set <name=value>` (repeatable) to a command: its action's options get
 * `set: string[]`, which `parseSet` (model.ts) turns into overrides for the frontend
 * (`LowerOptions.set`, `CompileOptions.set`). `lowerForCli` does this itself.
 */
export function withSetOption(c: Command): Command {
  return c.option('--set <name=value>', SET_HELP, repeated);
}

/**
 * Adds the options every model command shares: --model, --fn, --dims, --set and, unless
 * `draws` is false (a command that draws no numbers), --seed and --weights. The action's
 * options are a `ModelOptions` (model.ts).
 */
export function withModelOptions(c: Command, draws = true): Command {
  for (const [flag, help] of MODEL_OPTIONS) if (draws || !/^--(seed|weights)/.test(flag)) c.option(flag, help);
  return withSetOption(c);
}

/** Runs a command, turning user-facing failures (bad files, inputs, weights) into `fmc: message` and exit 1. */
export async function guarded(io: Io, f: () => Promise<number>): Promise<number> {
  try {
    return await f();
  } catch (e) {
    // The reference interpreter ran out of memory: a limit of this machine, not a bug.
    if (e instanceof RangeError && /typed array length|allocation failed|Invalid array length/.test(e.message)) {
      io.err(`fmc: out of memory running the model (${e.message}); use smaller --dims\n`);
      return EXIT.user;
    }
    // The C target's errors are about the input too: a model that does not compile, bad
    // inputs or weights, a missing C compiler, a plan that does not match its library.
    const user = [
      'CliError',
      'SafetensorsError',
      'EvalError',
      'ExportError',
      'CompileError',
      'CalibrationError',
      'RunError',
      'CompileCacheError',
      'PlanFormatError',
      'TensorError',
      'PassError',
      'DataError',
      'CheckpointError',
      'TrainConfigError',
      'MetricsError',
      'WebGpuError',
      'CudaError',
      'CudaCompileError',
    ];
    const name = e instanceof Error ? e.constructor.name : '';
    if (!(e instanceof Error) || !(user.includes(name) || (e as NodeJS.ErrnoException).code?.startsWith('E'))) throw e;
    io.err(`fmc: ${e.message}\n`);
    const code = (e as { code?: unknown }).code;
    return typeof code === 'number' ? code : EXIT.user;
  }
}

const DEVICE_PROFILE_HELP =
  'wgsl: the device limits to fit: default (the WebGPU minimums), swiftshader, adapter, or a JSON file';

export function addModelCommands(cmd: Command, io: Io, setCode: (c: number) => void): void {
  /** The shared options; `inspect` draws no numbers, so it takes no --seed or --weights. */
  const withModel = withModelOptions;
  withModel(
    withCalibrationOption(withSparsityOption(withQuantizeOption(withPrecisionOption(cmd.command('run')))))
      .description('run a model function and print a summary of its outputs')
      .argument('<file>', 'the .fm file holding the model')
      .option(
        '--target <name>',
        'where to run it: reference (the float64 interpreter), c, wgsl or cuda (compiled; wgsl on WebGPU, cuda on an NVIDIA GPU)',
        'reference',
      )
      .option('--inputs <file>', 'inputs from a safetensors file (named like the function parameters)')
      .option('--save-inputs <file>', 'write the inputs used to a safetensors file')
      .option('--save-outputs <file>', 'write the outputs to a safetensors file')
      .option('--grad', "also compute the gradient of the function's scalar result (a loss) for every param")
      .option('--save-grads <file>', 'with --grad: write the gradients to a safetensors file, named by param path')
      .option('--device-profile <name|file>', DEVICE_PROFILE_HELP)
      .option('--json', 'print the summary as JSON'),
  )
    .addHelpText(
      'after',
      `
--set name=value overrides a hyperparameter's default (repeatable); the model is checked
again with the new values, and an override that breaks it is reported with the normal
error and a note naming the overrides.
Without --inputs, inputs are drawn from the seed: floats standard normal, integer inputs
valid indices (token ids below the embedding size, labels below the class count).
Dims not given with --dims default to 2 for B and N and 16 for others.
--target c compiles the function to C (cached) and runs it in float32 on the same inputs
and weights; its outputs match the reference within float32 rounding.
--grad differentiates the function (the autodiff pass; it must return a float scalar, such
as a model's \`loss\`) and prints each param's gradient norm; dropout stays off.

Examples:
  fmc run models/swa_lm.fm --dims B=2,T=16 --save-inputs in.safetensors --save-outputs out.safetensors
  fmc run models/mlp.fm --inputs in.safetensors --json
  fmc run models/cnn.fm --target c --inputs in.safetensors
  fmc run models/bert.fm --fn loss --grad --save-grads grads.safetensors
  fmc run models/swa_lm.fm --set d=256 --set layers=2 --set vocab=1000 --dims B=1,T=16`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | boolean | undefined>) => {
      const { runCommand } = await import('./run.js');
      setCode(await guarded(io, async () => runCommand(io, file, opts)));
    });
  withModel(
    withCalibrationOption(withSparsityOption(withQuantizeOption(withPrecisionOption(cmd.command('bench')))))
      .description('time a model function on the C or WGSL target, optionally against ONNX Runtime')
      .argument('<file>', 'the .fm file holding the model')
      .option('--target <name>', 'the target to time: c, wgsl or cuda', 'c')
      .option('--vs <peer>', 'also time the same graph, weights and inputs in a peer: onnxruntime')
      .option('--runs <n>', 'timed runs (default 20)')
      .option('--warmup <n>', 'untimed runs before them (default 3)')
      .option(
        '--threads <n>',
        'kernel threads (1 to 65536), and ONNX Runtime intra-op threads (at most one per core; default 2)',
      )
      .option('--contend <n>', 'run n busy processes during the whole measurement (default 0)')
      .option('--profile', 'also list the 5 kernels that take the most time')
      .option('--device-profile <name|file>', DEVICE_PROFILE_HELP)
      .option('--json', 'print every number as JSON'),
  )
    .addHelpText(
      'after',
      `
Compiles once (the compile time is reported apart), then times --runs runs of the function
on seeded inputs: median, min and 90th percentile in ms, and GFLOP/s from the FLOPs that
\`fmc inspect\` counts. Dims not given with --dims default to 1 for B and N (a latency
benchmark) and 16 for others. With --vs onnxruntime the graph is exported to ONNX with the
same weights and the two runtimes run alternately on the same inputs; the ratio is
onnxruntime median / fmc median (1.00× as fast as ONNX Runtime, higher is faster), and the
outputs must agree (rtol 1e-3, atol 1e-4): a mismatch is reported and exits 1. --contend N
starts N busy processes (a tight loop each) for the whole measurement of both, as on a
machine that is not idle; they are killed when it ends.

Examples:
  fmc bench models/cnn.fm --vs onnxruntime
  fmc bench models/bert.fm --dims B=1,T=128 --threads 2 --profile --json
  fmc bench models/mlp.fm --set hidden1=1024`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | boolean | undefined>) => {
      const { benchCommand } = await import('./bench.js');
      setCode(await guarded(io, async () => benchCommand(io, file, opts)));
    });
  withModel(
    cmd
      .command('tune')
      .description('measure GEMM schedules for a model on this machine and keep the best in the tuning cache')
      .argument('<file>', 'the .fm file holding the model')
      .option('--runs <n>', 'timed runs per candidate (default 7)')
      .option('--threads <n>', 'kernel threads (default 2)')
      .option('--dry-run', 'measure and print, store nothing'),
  )
    .addHelpText(
      'after',
      `
For every GEMM kernel of the function at --dims, times a few schedules (cache blocks KC,
MC, NC halved and doubled, KC at most 1024, the M split, the other register tile) in alternating runs and
stores the fastest per (CPU, kernel shape) in the tuning cache (<cache dir>/tune, private,
entries checksummed; a damaged entry is ignored with a warning). Models compiled afterwards
on this CPU use the stored schedules.

Examples:
  fmc tune models/bert.fm --dims B=1,T=128`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | boolean | undefined>) => {
      const { tuneCommand } = await import('./tune.js');
      setCode(await guarded(io, async () => tuneCommand(io, file, opts)));
    });
  withModel(
    withSparsityOption(withQuantizeOption(cmd.command('inspect')))
      .description('show a model per block: output shapes, params, FLOPs and activation bytes')
      .argument('<file>', 'the .fm file holding the model')
      .option('--depth <n>', 'how deep block paths are broken down (default 3)')
      .option('--graph <out>', 'draw the graph instead, to a .dot, .svg or .html file')
      .option('--expand', 'with --graph: draw every instance of a repeated block, not only the first')
      .option('--json', 'print the table as JSON'),
    false,
  )
    .addHelpText(
      'after',
      `
FLOPs count one multiply and one add per point of each contraction, one operation per
output element elsewhere. Activations are the bytes of every intermediate tensor a block
computes, as if nothing were freed or fused (an upper bound; the memory plan comes with the
C backend).
--graph draws the blocks as nested groups of boxes people know (Linear, LayerNorm, ReLU,
Softmax, Attention), shapes on the edges (concrete with --dims), laid out by elkjs; the
instances of a repeat after the first are one box each unless --expand is given.

Examples:
  fmc inspect models/bert.fm --dims B=1,T=128
  fmc inspect models/mlp.fm --graph mlp.html
  fmc inspect models/bert.fm --graph bert.svg --expand
  fmc inspect models/swa_lm.fm --set layers=2 --set 'hidden=4*d'`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | boolean | undefined>) => {
      const { inspectCommand } = await import('./inspect.js');
      setCode(await guarded(io, async () => inspectCommand(io, file, opts)));
    });
  withModel(
    withQuantizeOption(cmd.command('export'))
      .description('export a model function to ONNX, with its weights')
      .argument('<file>', 'the .fm file holding the model')
      .option('--onnx <out>', 'the ONNX file to write'),
  )
    .addHelpText(
      'after',
      `
Symbolic dims stay dynamic in the ONNX model. Weights are seeded as \`fmc run\` seeds them
(same --seed, same numbers), or read with --weights. Inputs and outputs keep the function's
parameter and result names. Quantized weights (\`@quantize\`, --quantize) are exported as
INT8 or INT4 initializers with a DequantizeLinear each (opset 21).

Examples:
  fmc export models/bert.fm --onnx bert.onnx
  fmc export models/swa_lm.fm --quantize all=int4:128 --onnx swa_lm-int4.onnx
  fmc export models/mlp.fm --set hidden1=128 --onnx mlp-small.onnx`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | boolean | undefined>) => {
      const { exportCommand } = await import('./export.js');
      setCode(await guarded(io, async () => exportCommand(io, file, opts)));
    });
}
