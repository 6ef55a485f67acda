// `fmc fmt FILE...`: canonical formatting in place, or --check / --stdout.

import { realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatterBug, formatFm } from '../format/format.js';
import { renderDiagnostic } from '../frontend/diagnostics.js';
import { parseSource } from '../frontend/parse.js';
import { FileAccessError, readRegularText } from '../frontend/regular-file.js';
import { EXIT, type Io } from './io.js';

function reason(e: unknown): string {
  if (e instanceof FileAccessError) return e.cause === undefined ? e.why : reason(e.cause);
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file or directory';
  if (err?.code === 'EISDIR') return 'is a directory';
  if (err?.code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

/** Replaces `file` atomically: a temporary file in the same directory, then a rename. */
function writeAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now().toString(36)}.fmc-tmp`);
  try {
    writeFileSync(tmp, text, { mode: statSync(file).mode & 0o7777 });
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file was never created
    }
    throw e;
  }
}

export async function fmtCommand(
  io: Io,
  files: readonly string[],
  opts: { check: boolean; stdout: boolean },
): Promise<number> {
  let code: number = EXIT.ok;
  const fail = (c: number) => (code = Math.max(code, c));
  let unformatted = 0;
  for (const file of files) {
    let text: string;
    try {
      text = readRegularText(file);
    } catch (e) {
      io.err(`fmc: cannot read ${file}: ${reason(e)}\n`);
      fail(EXIT.user);
      continue;
    }
    const parsed = parseSource(file, text);
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length > 0) {
      const lookup = (f: string) => (f === file ? parsed.source : undefined);
      for (const d of errors) io.err(`${renderDiagnostic(d, lookup)}\n\n`);
      fail(EXIT.user);
      continue;
    }
    let out: string;
    try {
      out = await formatFm(text, file);
    } catch (e) {
      io.err(`${e instanceof Error ? e.message : String(e)}\n`);
      fail(e instanceof FormatterBug ? EXIT.internal : EXIT.user);
      continue;
    }
    if (opts.check) {
      if (out !== text) {
        io.err(`${file}: not formatted\n`);
        unformatted++;
        fail(EXIT.user);
      }
    } else if (opts.stdout) {
      io.out(out);
    } else if (out !== text) {
      try {
        // Through a symlink, format the file it points to and keep the link.
        writeAtomic(realpathSync(file), out);
        io.out(`formatted ${file}\n`);
      } catch (e) {
        io.err(`fmc: cannot write ${file}: ${reason(e)}\n`);
        fail(EXIT.user);
      }
    }
  }
  if (opts.check && code === EXIT.ok) {
    io.err(`fmc: ${files.length} file${files.length === 1 ? '' : 's'} formatted correctly\n`);
  } else if (opts.check && unformatted > 0) {
    io.err(`fmc: ${unformatted} of ${files.length} file${files.length === 1 ? '' : 's'} not formatted\n`);
  }
  return code;
}
