// `fmc check FILE...`: diagnostics as text (stderr) or JSON (stdout); `--set` checks the
// models of the files with hyperparameters overridden.

import { checkFiles } from '../frontend/check.js';
import { diagnosticToJson, renderDiagnostic } from '../frontend/diagnostics.js';
import { EXIT, type Io } from './io.js';
import { splitSet } from './set.js';

export function checkCommand(
  io: Io,
  files: readonly string[],
  opts: { json: boolean; set?: readonly string[] },
): number {
  const { set, error } = splitSet(opts.set);
  if (error !== undefined) {
    io.err(`fmc: ${error}\n`);
    return EXIT.usage;
  }
  const { program, diagnostics } = checkFiles(files, undefined, { set });
  const lookup = (f: string) => program.source(f);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const internal = diagnostics.some((d) => d.code === 'FM9999');
  if (opts.json) {
    const out = {
      files: [...program.modules.values()].map((m) => m.path),
      diagnostics: diagnostics.map((d) => diagnosticToJson(d, lookup)),
      errors,
      warnings,
    };
    io.out(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    for (const d of diagnostics) io.err(`${renderDiagnostic(d, lookup)}\n\n`);
    const n = program.roots.length;
    const files = `${n} file${n === 1 ? '' : 's'}`;
    if (errors > 0)
      io.err(
        `fmc: ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''} in ${files}\n`,
      );
    else
      io.err(
        `fmc: checked ${files}: no errors${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}\n`,
      );
  }
  return internal ? EXIT.internal : errors > 0 ? EXIT.user : EXIT.ok;
}
