// `fmc calibrate` (registered by main.ts; calibrate.ts does the work) and the `--calibration`
// option of `compile`, `run` and `bench`. Registered without loading the compiler.

import type { Command } from 'commander';
import type { Io } from './io.js';
import { guarded, withSetOption } from './model-commands.js';
import { withQuantizeOption } from './quantize-option.js';

export const CALIBRATION_HELP =
  'int8 activations: the weight-quantized contractions a calibration file (fmc calibrate) covers compute int8 × int8';

/** Adds `--calibration <file>`: the action's options get `calibration: string`. */
export function withCalibrationOption(c: Command): Command {
  return c.option('--calibration <file>', CALIBRATION_HELP);
}

export function addCalibrateCommand(cmd: Command, io: Io, setCode: (c: number) => void): void {
  withSetOption(withQuantizeOption(cmd.command('calibrate')))
    .description('record the activation ranges of the weight-quantized contractions on sample data (int8 activations)')
    .argument('<file>', 'the .fm file holding the model')
    .requiredOption('--data <spec>', 'mnist, iris, moby-dick, or a .safetensors dataset, .txt text or .csv table')
    .option('--batches <n>', 'batches to run (default 8)')
    .option('--batch <n>', 'samples per batch (default 32)')
    .option('--method <m>', 'max (default: the largest |x|) or percentile=P (the P-th percentile of |x|, e.g. 99.99)')
    .option('-o, --out <file>', 'the calibration file to write (default calib.json)')
    .option('--fn <name>', 'the function to run (default forward)')
    .option('--model <name>', 'the model to use when the file has several')
    .option('--weights <file>', 'weights from a safetensors file instead of seeded initializers')
    .option('--seed <n>', 'seed of the initial weights (default 0)')
    .option('--label <column>', 'CSV: the label column')
    .option('--context <n>', 'text: tokens per window when the model leaves T open (default 64)')
    .option('--threads <n>', 'kernel threads (default: one per core)')
    .addHelpText(
      'after',
      `
Runs the f32 model (C target) on the first --batches batches of the data, in order, and
writes for each contraction whose weight is quantized per output channel (int8, int4
without a group; --quantize and @quantize as for compile) the range of the activation it
multiplies, with the model's hash. Compiling with --calibration FILE (compile, run, bench)
then computes those contractions as int8 × int8 with exact i32 sums: x is quantized to
clamp(floor(x / s + 0.5), -127, 127) with s = range / 127. A calibration of another model
is refused. See docs/ir.md, "int8 activations".

Examples:
  fmc calibrate models/mlp.fm --data mnist --batches 16 -o mlp.calib.json
  fmc run models/mlp.fm --target c --calibration mlp.calib.json
  fmc calibrate models/cnn.fm --data mnist --set channels=1 --set size=28 --quantize all=int8 \\
      --method percentile=99.99 -o cnn.calib.json`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | undefined>) => {
      const { calibrateCommand } = await import('./calibrate.js');
      setCode(await guarded(io, async () => calibrateCommand(io, file, opts)));
    });
}
