// The `fmc` command line: argument parsing, help, exit codes. Commands live one per file
// next to this one and hold no compiler logic of their own.

import { Command, CommanderError } from 'commander';
import type { CompileCliOptions } from './compile.js';
import { colorize } from './color.js';
import { escapeControls, suggest } from '../frontend/diagnostics.js';
import { addExplainCommand } from './explain.js';
import { argumentProblem } from './guard.js';
import { EXIT, type Io, processIo } from './io.js';
import { addModelCommands, withSetOption } from './model-commands.js';
import { addPlotCommand } from './plot.js';
import { withPrecisionOption } from './precision.js';
import { withSparsityOption } from './sparsity.js';
import { addServeDemoCommand } from './serve-demo-command.js';
import { addTrainCommand } from './train-command.js';
import { withQuantizeOption } from './quantize-option.js';
import { addCalibrateCommand, withCalibrationOption } from './calibrate-command.js';

const VERSION = '0.1.0';

/** Collects a repeatable option, splitting comma lists (`--fn a --fn b,c`). */
const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',')];

function program(io: Io, setCode: (c: number) => void): Command {
  const cmd = new Command('fmc')
    .description('fmc compiles neural-network models written in the .fm language')
    .version(VERSION, '-V, --version')
    .helpCommand('help [command]', 'show help for a command')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride()
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `
Exit codes: 0 success, 1 errors in the input, 2 usage errors, 70 internal errors.

Examples:
  fmc check models/*.fm           check models for syntax, name, dtype and shape errors
  fmc check --json model.fm       the same, as JSON for scripts and editors
  fmc fmt --check models/*.fm     report files that are not canonically formatted
  fmc help check                  details of one command`,
    );
  withSetOption(
    cmd
      .command('check')
      .description('check .fm files: syntax, names, dtypes and shapes')
      .argument('<files...>', '.fm files to check (imports are followed)')
      .option('--json', 'print the diagnostics as JSON on stdout'),
  )
    .addHelpText(
      'after',
      `
Prints each problem as \`file:line:col: error FM0123: message\` with the source line.
With --json, prints {"files": [...], "diagnostics": [...], "errors": N, "warnings": N}.
--set name=value checks every model of the files that declares \`name\` with that value
instead of its default; a name that no model of the files declares is an error (FM0314).

Examples:
  fmc check models/swa_lm.fm
  fmc check --json models/*.fm | jq '.diagnostics[].code'
  fmc check models/swa_lm.fm --set d=256 --set layers=2`,
    )
    .action(async (files: string[], opts: { json?: boolean; set?: string[] }) => {
      // Commands are loaded on use, so `fmc check` does not pay for the formatter.
      const { checkCommand } = await import('./check.js');
      setCode(checkCommand(io, files, { json: opts.json === true, set: opts.set }));
    });
  cmd
    .command('fmt')
    .description('format .fm files canonically (in place)')
    .argument('<files...>', '.fm files to format')
    .option('--check', 'do not write; list files that would change and exit 1 if any')
    .option('--stdout', 'print the formatted text instead of writing the file')
    .addHelpText(
      'after',
      `
Formatting never changes meaning: the formatted file parses to the same program.
Files with syntax errors are not formatted (their errors are printed).

Examples:
  fmc fmt models/*.fm
  fmc fmt --check std/*.fm models/*.fm`,
    )
    .action(async (files: string[], opts: { check?: boolean; stdout?: boolean }) => {
      const { fmtCommand } = await import('./fmt.js');
      setCode(await fmtCommand(io, files, { check: opts.check === true, stdout: opts.stdout === true }));
    });
  cmd
    .command('lsp')
    .description('run the .fm language server on stdin/stdout (editors start it; see docs/editor.md)')
    .option('--stdio', 'talk JSON-RPC over stdin/stdout (the default and only transport)')
    // Language clients add options of their own (`--clientProcessId=N`): ignore them.
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async () => {
      const { runLsp } = await import('../lsp/server.js');
      await runLsp();
    });
  addModelCommands(cmd, io, setCode);
  addTrainCommand(cmd, io, setCode);
  addCalibrateCommand(cmd, io, setCode);
  addPlotCommand(cmd, io, setCode);
  addExplainCommand(cmd, io, setCode);
  addServeDemoCommand(cmd, io, setCode);
  withSetOption(
    withCalibrationOption(withSparsityOption(withQuantizeOption(withPrecisionOption(cmd.command('compile')))))
      .description('compile a model for the C or WGSL target into a folder that load() (and, for C, import) runs')
      .argument('<file>', 'the .fm file holding the model')
      .option(
        '--target <name>',
        'the backend: c, wgsl (WebGPU) or cuda (CUDA sources and PTX, see docs/runtime.md)',
        'c',
      )
      .option('--browser', 'with --target wgsl: also write fmc.js, the browser loader, next to the module')
      .option('-o, --out <dir>', 'the output folder (created; an earlier fmc output in it is replaced)')
      .option('--model <name>', 'the model to use when the file has several')
      .option('--fn <names>', 'functions to compile, repeatable or a comma list (default: all)', collect)
      .option('--dims <B=2,T=16>', 'sizes of symbolic dims for the memory report (default 2 for B and N, else 16)')
      .option('--seed <n>', 'seed of the initial weights (default 0, as fmc run)')
      .option('--weights <file>', 'weights from a safetensors file instead of seeded initializers')
      .option(
        '--grad',
        "also compile the gradient of the model's loss (the function loss_grad: the loss and grad.<param>)",
      )
      .option(
        '--train',
        "also compile the train step of the model's loss (as its train section says), for load(dir).trainer()",
      )
      .option('--dump-after <pass>', 'print the IR after a pass (lower, a pass name, or all); without -o only dump')
      .option(
        '--device-profile <name|file>',
        'wgsl: the device limits to fit: default (the WebGPU minimums), swiftshader, adapter, or a JSON file',
      )
      .option('--explain-limits', "wgsl: print each kernel's use of the device limits; without -o only print"),
  )
    .addHelpText(
      'after',
      `
Writes <fn>.c per function, plan.json (the plans and their memory), weights.safetensors,
and index.mjs with index.d.mts: a typed ES module whose functions take shaped Tensors.
--train adds loss_step (and loss_accumulate when the train section accumulates) and
exports trainer(), whose step(batch) and evaluate(batch) take the loss's inputs.
--set name=value (repeatable) compiles the model with a hyperparameter overridden;
plan.json records the overrides ("set").

Examples:
  fmc compile models/mlp.fm -o mlp
  fmc compile models/mlp.fm --train -o mlp-train
  fmc compile models/swa_lm.fm --fn forward -o lm --dims B=1,T=128
  fmc compile models/bert.fm --dump-after autodiff
  fmc compile models/cnn.fm --target wgsl --explain-limits --device-profile swiftshader
  fmc compile models/mlp.fm --set hidden1=128 --set hidden2=64 -o mlp-small`,
    )
    .action(async (file: string, opts: CompileCliOptions) => {
      const { compileCli } = await import('./compile.js');
      setCode(await compileCli(io, file, opts));
    });
  // File arguments are checked before any command runs (directories, outputs that are inputs).
  cmd.hook('preAction', (_root, action) => {
    const problem = argumentProblem(action);
    if (problem === undefined) return;
    io.err(`fmc: ${problem}\n`);
    throw new CommanderError(EXIT.usage, 'fmc.usage', problem);
  });
  return cmd;
}

/** Runs the CLI and returns the exit code. */
export async function run(argv: readonly string[], given: Io = processIo): Promise<number> {
  // Messages quote file names and .fm text: their control characters never reach the terminal.
  const io: Io = {
    out: (s) => given.out(s),
    err: (s) => given.err(given.color ? colorize(escapeControls(s)) : escapeControls(s)),
    color: given.color,
    ...(given.progress ? { progress: given.progress } : {}),
  };
  let code: number = EXIT.ok;
  const cmd = program(io, (c) => (code = c));
  if (argv.length === 0) {
    io.err(cmd.helpInformation());
    return EXIT.usage;
  }
  const topic = argv[0] === 'help' ? argv[1] : undefined;
  if (topic !== undefined && !cmd.commands.some((c) => c.name() === topic)) {
    const names = cmd.commands.map((c) => c.name());
    const near = suggest(topic, names);
    io.err(
      `fmc: no help topic \`${topic}\`${near ? `; did you mean \`${near}\`?` : ''} (commands: ${names.join(', ')})\n`,
    );
    return EXIT.usage;
  }
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
        return EXIT.ok;
      return EXIT.usage;
    }
    const full = diskFull(e);
    if (full) {
      io.err(`fmc: the disk is full${full.path ? ` (${full.path})` : ''}: ${full.message}\n`);
      return EXIT.user;
    }
    const why = e instanceof Error ? (e.stack ?? e.message) : String(e);
    io.err(
      `fmc: internal error: ${why}\nThis is a bug in fmc; please report it with the command and input that caused it.\n`,
    );
    return EXIT.internal;
  }
}

/** An out-of-space error (ENOSPC, EDQUOT) in `e` or its causes: the machine's limit, not a bug. */
function diskFull(e: unknown): { path: string | undefined; message: string } | undefined {
  for (let x = e, depth = 0; x instanceof Error && depth < 8; x = x.cause, depth++) {
    const err = x as NodeJS.ErrnoException;
    if (err.code === 'ENOSPC' || err.code === 'EDQUOT') return { path: err.path, message: err.message };
  }
  return undefined;
}
