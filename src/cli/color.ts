// Colours on a terminal. They are painted over text that has already been escaped (every
// control character of a message is shown as `\u001b` and so on before it gets here), by
// recognizing the lines fmc itself writes: diagnostic headers, code frames, notes, help and
// `fmc:` status lines. User text inside them is never interpreted, only wrapped.
//
// On when the stream is a terminal, unless NO_COLOR is set (https://no-color.org); FORCE_COLOR
// (not "0") turns it on anywhere. picocolors writes the escape codes.

import pc from 'picocolors';

type Paint = (s: string) => string;

/** Whether to colour a stream: a terminal without NO_COLOR, or FORCE_COLOR. */
export function wantColor(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY === true;
}

const c = pc.createColors(true);
const SEVERITY: Record<string, Paint> = {
  error: (s) => c.bold(c.red(s)),
  warning: (s) => c.bold(c.yellow(s)),
  note: (s) => c.bold(c.cyan(s)),
  help: (s) => c.bold(c.green(s)),
};

// `file:line:col: error FM0123: message` (the location may be absent: `error FM0123: ...`).
const HEADER = /^((?:.*?:\d+:\d+: )?)(error|warning)( FM\d{4})(:)/;
// `  = note: ...`, `  = help: ...`, and `file:line:col: note: ...`.
const NOTE = /^((?:\s*= )|(?:.*?:\d+:\d+: ))(note|help)(:)/;
// A code frame line: ` 12 | text` or `    | ^^^`.
const FRAME = /^(\s*\d*\s\|)(.*)$/;
// `fmc: ...` status lines; `fmc: internal error` is red.
const STATUS = /^(fmc:)( internal error| error| the disk is full)?/;

/** One line of fmc's output, coloured. */
function paintLine(line: string): string {
  let m = HEADER.exec(line);
  if (m) {
    const [all, loc, sev, code, colon] = m as unknown as [string, string, string, string, string];
    return `${c.bold(loc)}${SEVERITY[sev]!(sev + code + colon)}${c.bold(line.slice(all.length))}`;
  }
  m = NOTE.exec(line);
  if (m) {
    const [all, lead, kind, colon] = m as unknown as [string, string, string, string];
    return `${c.bold(lead)}${SEVERITY[kind]!(kind + colon)}${line.slice(all.length)}`;
  }
  m = FRAME.exec(line);
  if (m) {
    const [, gutter, rest] = m as unknown as [string, string, string];
    // An underline row holds only carets, tildes and spaces.
    const body = /^\s*[\^~]+[\s^~]*$/.test(rest) ? c.bold(c.red(rest)) : rest;
    return `${c.blue(gutter)}${body}`;
  }
  m = STATUS.exec(line);
  if (m) {
    const [all, fmc, kind] = m as unknown as [string, string, string | undefined];
    return `${c.bold(fmc)}${kind ? c.bold(c.red(kind)) : ''}${line.slice(all.length)}`;
  }
  return line;
}

/** fmc's output text with its diagnostics and status lines coloured (call on escaped text). */
export function colorize(text: string): string {
  return text.split('\n').map(paintLine).join('\n');
}
