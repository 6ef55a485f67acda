// Where the CLI writes, so tests can capture output; and the exit codes.

import { wantColor } from './color.js';

export const EXIT = { ok: 0, user: 1, usage: 2, internal: 70 } as const;

export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** Whether to colour what goes to stderr (a terminal without NO_COLOR; see color.ts). */
  readonly color: boolean;
  /** Shows (or with '' clears) a one-line status of long work; only on a terminal. */
  readonly progress?: (status: string) => void;
}

export const processIo: Io = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
  color: wantColor(process.stderr.isTTY),
  progress: process.stderr.isTTY ? (s) => void process.stderr.write(`\r\x1b[2K${s ? `fmc: ${s}` : ''}`) : undefined,
};
