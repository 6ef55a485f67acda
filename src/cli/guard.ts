// Checks every command's file arguments before its action runs, as usage errors (exit 2):
// a directory where a file is expected, and an output path that is also one of the command's
// inputs (`--inputs x --save-outputs x` would overwrite the inputs before they are read).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';

/** Arguments that name a file to read. */
const FILE_ARGS = new Set(['file', 'files', 'metrics']);
/** Options (commander's camel-case keys) that name files or folders a command reads. */
const INPUT_OPTIONS = ['inputs', 'weights', 'data', 'vocab'];
/** Options that name files or folders a command writes. */
const OUTPUT_OPTIONS = ['saveInputs', 'saveOutputs', 'saveGrads', 'out', 'graph', 'onnx'];

const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The path as the file system resolves it: symbolic links followed where the file exists. */
function canonical(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    const dir = path.dirname(path.resolve(p));
    try {
      return path.join(fs.realpathSync(dir), path.basename(p));
    } catch {
      return path.resolve(p);
    }
  }
}

/** The first problem with a command's file arguments and options, or undefined. */
export function argumentProblem(cmd: Command): string | undefined {
  const args = cmd.registeredArguments;
  const inputs: [string, string][] = [];
  args.forEach((a, i) => {
    if (!FILE_ARGS.has(a.name())) return;
    const value = cmd.processedArgs[i] as string | string[] | undefined;
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      inputs.push([v, `<${a.name()}>`]);
  });
  for (const [v] of inputs) {
    if (fs.statSync(v, { throwIfNoEntry: false })?.isDirectory())
      return `\`${v}\` is a directory; give ${cmd.name() === 'plot' ? 'a metrics file' : '.fm files'} (for example \`${path.join(v, '*.fm')}\`)`;
  }
  const opts = cmd.opts<Record<string, unknown>>();
  for (const k of INPUT_OPTIONS) if (typeof opts[k] === 'string') inputs.push([opts[k], flagOf(k)]);
  const read = new Map(inputs.map(([v, from]) => [canonical(v), from]));
  const written = new Map<string, string>();
  for (const k of OUTPUT_OPTIONS) {
    const v = opts[k];
    if (typeof v !== 'string') continue;
    const at = canonical(v);
    const from = read.get(at);
    if (from !== undefined) return `${flagOf(k)} \`${v}\` is also the input ${from}: refusing to overwrite it`;
    const other = written.get(at);
    if (other !== undefined) return `${other} and ${flagOf(k)} both write \`${v}\``;
    written.set(at, flagOf(k));
  }
  return undefined;
}
