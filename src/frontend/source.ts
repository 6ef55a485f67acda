// Source files and spans: offsets into the text, with line/column lookup on demand.

export interface Span {
  /** The file's path as the user gave it (or a display name). */
  readonly file: string;
  /** Offset of the first character (UTF-16 code units, like JS strings). */
  readonly start: number;
  /** Offset one past the last character; start === end marks a position. */
  readonly end: number;
}

export interface LineCol {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, counted in UTF-16 code units. */
  readonly col: number;
}

export class SourceFile {
  private lineStarts: number[] | undefined;

  constructor(
    readonly path: string,
    readonly text: string,
  ) {}

  private starts(): number[] {
    if (this.lineStarts) return this.lineStarts;
    const starts = [0];
    for (let i = 0; i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) starts.push(i + 1);
    }
    this.lineStarts = starts;
    return starts;
  }

  /** Line and column of an offset (clamped into the file). */
  lineCol(offset: number): LineCol {
    const starts = this.starts();
    const off = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= off) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: off - starts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const starts = this.starts();
    const s = starts[line - 1];
    if (s === undefined) return '';
    const next = starts[line];
    let e = next === undefined ? this.text.length : next - 1;
    if (e > s && this.text.charCodeAt(e - 1) === 13) e--;
    return this.text.slice(s, e);
  }

  get lineCount(): number {
    return this.starts().length;
  }

  span(start: number, end: number): Span {
    return { file: this.path, start, end };
  }
}

export function joinSpans(a: Span, b: Span): Span {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}
