// The `train` command's options and help (registered by main.ts); train.ts does the work.

import type { Command } from 'commander';
import type { Io } from './io.js';
import { guarded, withSetOption } from './model-commands.js';
import { withPrecisionOption } from './precision.js';
import { withQuantizeOption } from './quantize-option.js';
import { withSparsityOption } from './sparsity.js';
import { withDistillOptions } from './train-distill.js';
import { PRUNE_GRADUAL_HELP } from './train-prune.js';

const OPTIONS: [string, string][] = [
  ['--data <spec>', 'mnist, iris, moby-dick, or a .safetensors dataset, .txt text or .csv table'],
  ['--out <dir>', 'where checkpoints, metrics.jsonl, loss.svg and loss.html go'],
  ['--steps <n>', 'optimizer steps (default: the train section)'],
  ['--batch <n>', 'samples per micro-batch (default: the train section, else 32)'],
  ['--eval-every <n>', 'evaluate on the validation split every n steps (and at the end)'],
  ['--checkpoint-every <n>', 'write a checkpoint every n steps (default: --eval-every, else at the end)'],
  ['--keep <n>', 'checkpoints to keep (default 3)'],
  ['--resume <dir>', 'continue from the newest checkpoint of an earlier --out (bit-exact)'],
  ['--seed <n>', 'seed of the initial weights, the split, the shuffles and dropout (default 0)'],
  ['--model <name>', 'the model to use when the file has several'],
  ['--weights <file>', 'initial weights from a safetensors file instead of seeded initializers'],
  ['--val-fraction <x>', 'fraction of the samples held out for validation (default 0.1)'],
  ['--context <n>', 'text: tokens per window when the model leaves T open (default 64)'],
  [
    '--vocab <file|bytes>',
    "text: a vocabulary file (JSON array of characters) or bytes (default: the text's characters)",
  ],
  ['--label <column>', 'CSV: the label column'],
  ['--sample <n>', 'text: after training, write n generated characters to sample.txt and stdout'],
  [
    '--target <target>',
    'c (default), wgsl (WebGPU) or cuda (an NVIDIA GPU): on a GPU the weights stay there between steps',
  ],
  ['--threads <n>', 'kernel threads (default: one per core)'],
  ['--json', 'one JSON line per step on stdout, also on a terminal'],
  ['--optimizer <kind>', 'sgd, adam or adamw (overrides the train section, as the options below do)'],
  ['--lr <x>', 'base learning rate'],
  ['--momentum <x>', 'SGD momentum'],
  ['--nesterov', 'SGD: Nesterov momentum'],
  ['--betas <b1,b2>', 'Adam/AdamW betas'],
  ['--eps <x>', 'Adam/AdamW epsilon'],
  ['--weight-decay <x>', 'weight decay (L2 for SGD and Adam, decoupled for AdamW; never on rank < 2 params)'],
  ['--schedule <kind>', 'constant, linear, cosine or step'],
  ['--warmup <n>', 'linear and cosine: warmup steps'],
  ['--min-lr <x>', 'cosine: the final learning rate'],
  [
    '--schedule-steps <n>',
    'linear and cosine: the schedule length in steps (default: the train section, else --steps)',
  ],
  ['--clip <x>', 'global gradient-norm clipping threshold (0: off)'],
  ['--accumulate <n>', 'micro-batches whose gradients are averaged into one step'],
  ['--loss-scale <x>', 'none, dynamic (PyTorch GradScaler: skips steps whose gradients overflow) or a fixed scale'],
  ['--scale-interval <n>', 'dynamic loss scale: clean steps before the scale doubles (default 2000)'],
  ['--prune-gradual <start:end[:every]>', PRUNE_GRADUAL_HELP],
  [
    '--qat',
    'quantization-aware training: the step reads the quantized weights (fake quantization, straight-through gradient)',
  ],
];

export function addTrainCommand(cmd: Command, io: Io, setCode: (c: number) => void): void {
  const c = cmd
    .command('train')
    .description('train a model on the C (or WGSL, or CUDA) target with its loss and train section')
    .argument('<file>', 'the .fm file holding the model');
  for (const [flag, help] of OPTIONS) c.option(flag, help);
  withSetOption(withSparsityOption(withQuantizeOption(withPrecisionOption(withDistillOptions(c)))))
    .addHelpText(
      'after',
      `
The loss function (the train section's \`loss\`, default \`loss\`), its gradient and the
optimizer update compile to one train step (C, or WGSL or CUDA with --target); learning rate, bias corrections, the step
counter and the loss scale are run-time values, so steps never recompile. The data's fields feed the loss
function's inputs by name (a single leftover float and integer field pair up with the
leftover inputs). On a terminal a progress line shows step, loss, samples/s and ETA;
otherwise each step is a JSON line on stdout. --out gets metrics.jsonl (one JSON object per
step and per evaluation), loss.svg and loss.html, and checkpoints/step-N.safetensors
(weights, optimizer state, step, data position; written atomically, the newest --keep
kept). --resume DIR continues a stopped run exactly where its last checkpoint was.
With @quantize weights or --quantize rules, validation runs on the quantized weights; --qat
trains through them too (docs/training.md#quantization-aware-training). --prune-gradual
prunes the block @sparse weights (or --sparsity block=b,density=p) while training, on Zhu and
Gupta's cubic schedule; an n:m hint is pruned in one shot (docs/training.md#fine-tuning-a-pruned-model).
See docs/training.md.

Examples:
  fmc train models/mlp.fm --data mnist --steps 2000 --batch 64 --eval-every 200 --out runs/mlp
  fmc train models/mlp.fm --data iris --set pixels=4 --set classes=3 --steps 300 --out runs/iris
  fmc train models/swa_lm.fm --data moby-dick --set vocab=96 --set d=128 --set layers=2 \\
      --steps 1000 --context 64 --out runs/lm --sample 300
  fmc train models/mlp.fm --data mnist --steps 4000 --resume runs/mlp
  fmc train models/cnn.fm --data mnist --set channels=1 --set size=28 --set width=16 --steps 300 \\
      --teacher models/cnn.fm --teacher-weights runs/cnn/checkpoints/step-00000300.safetensors --out runs/student
  fmc train models/cnn.fm --data mnist --set channels=1 --set size=28 --steps 300 --target wgsl --out runs/cnn-gpu
  fmc train models/mlp.fm --data iris --set pixels=4 --set classes=3 --steps 300 --quantize all=int4 --qat --out runs/qat
  fmc train models/mlp.fm --data iris --set pixels=4 --set classes=3 --set hidden1=32 --set hidden2=16 --batch 16 \\
      --steps 300 --sparsity density=0.25 --prune-gradual 0:200:20 \\
      --weights runs/iris/checkpoints/step-00000300.safetensors --out runs/pruned`,
    )
    .action(async (file: string, opts: Record<string, string | string[] | boolean | undefined>) => {
      const { trainCommand } = await import('./train.js');
      setCode(await guarded(io, async () => trainCommand(io, file, opts)));
    });
}
