// The language server's input framing, hardened: a stream between stdin and the JSON-RPC
// reader that passes on only well-formed messages (`Content-Length: N\r\n\r\n` and N bytes of
// a JSON object) and skips anything else to the next valid header. vscode-jsonrpc's own
// reader stops answering after a malformed frame (a missing, negative, non-numeric or
// over-long Content-Length, or binary garbage) until stdin closes; behind this one it never
// sees such a frame.

import { Transform, type TransformCallback } from 'node:stream';

/** The largest message body accepted (a didOpen of a 64 MiB file is far beyond any .fm file). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** The longest header block; longer is garbage. */
const MAX_HEADER_BYTES = 8 * 1024;

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /content-length:/i;

/** Where the next `Content-Length:` (any case) starts at or after `from`, or -1. */
function nextHeader(buf: Buffer, from: number): number {
  // Searching the latin1 text keeps byte offsets (one character per byte).
  const text = buf.toString('latin1', from);
  const m = CONTENT_LENGTH.exec(text);
  return m ? from + m.index : -1;
}

type Header = { kind: 'ok'; length: number; bodyStart: number } | { kind: 'bad'; why: string } | { kind: 'more' };

/** Parses the header block at `at` (which starts with a header line). */
function parseHeader(buf: Buffer, at: number): Header {
  const end = buf.indexOf(HEADER_END, at);
  if (end < 0)
    return buf.length - at > MAX_HEADER_BYTES ? { kind: 'bad', why: 'a header without an end' } : { kind: 'more' };
  if (end - at > MAX_HEADER_BYTES) return { kind: 'bad', why: 'a header over 8 KiB' };
  let length: number | undefined;
  for (const line of buf.toString('latin1', at, end).split('\r\n')) {
    const m = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!m) return { kind: 'bad', why: `a malformed header line ${JSON.stringify(line.slice(0, 60))}` };
    if (m[1]!.toLowerCase() !== 'content-length') continue;
    if (!/^\d{1,12}$/.test(m[2]!)) return { kind: 'bad', why: `Content-Length ${JSON.stringify(m[2]!.slice(0, 40))}` };
    length = Number(m[2]);
    if (length > MAX_BODY_BYTES) return { kind: 'bad', why: `Content-Length ${length} (over ${MAX_BODY_BYTES})` };
  }
  if (length === undefined) return { kind: 'bad', why: 'a header without Content-Length' };
  return { kind: 'ok', length, bodyStart: end + HEADER_END.length };
}

/** Whether `bytes` is one JSON object (a JSON-RPC message), as UTF-8. */
function isJsonObject(bytes: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/**
 * Re-frames the client's byte stream: each valid message is passed on as
 * `Content-Length: N\r\n\r\n<body>`, everything else is dropped (and reported to `onDrop`)
 * up to the next `Content-Length:` header. A body that is not a JSON object is dropped too:
 * its length was wrong, and the search for the next header starts inside it. While a body is
 * incomplete, a complete message header after a complete JSON object inside it means the
 * length was too long: the frame is dropped at once rather than waiting for bytes that are
 * not coming (which would swallow every later request).
 */
export class FrameSanitizer extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  /** The frame whose body is awaited, and how far its body was searched for a next header. */
  private waiting: { length: number; bodyStart: number; searched: number } | undefined;

  constructor(private readonly onDrop: (why: string) => void = () => undefined) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      this.drain();
    } catch (e) {
      // Never let the framing take the server down: drop what is buffered.
      this.onDrop(`framing failed (${e instanceof Error ? e.message : String(e)}); input dropped`);
      this.buf = Buffer.alloc(0);
      this.waiting = undefined;
    }
    done();
  }

  private skip(upTo: number, why: string): void {
    this.onDrop(why);
    this.buf = this.buf.subarray(upTo);
    this.waiting = undefined;
  }

  private drain(): void {
    for (;;) {
      if (this.waiting) {
        const w = this.waiting;
        const end = w.bodyStart + w.length;
        if (this.buf.length >= end) {
          const body = this.buf.subarray(w.bodyStart, end);
          if (isJsonObject(body)) {
            this.push(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
            this.buf = this.buf.subarray(end);
            this.waiting = undefined;
            continue;
          }
          // Not a message: the length was wrong. Look for the next header inside the body.
          this.skip(w.bodyStart, `dropped a frame whose ${w.length}-byte body is not a JSON object`);
          continue;
        }
        if (this.overLong(w)) continue;
        return;
      }
      if (this.buf.length === 0) return;
      const at = nextHeader(this.buf, 0);
      if (at < 0) {
        // Keep a tail that may be the start of a header split across chunks.
        const keep = Math.min(this.buf.length, 'content-length:'.length - 1);
        if (this.buf.length > keep)
          this.skip(this.buf.length - keep, `skipped ${this.buf.length - keep} bytes of garbage`);
        return;
      }
      if (at > 0) {
        this.skip(at, `skipped ${at} bytes of garbage`);
        continue;
      }
      const h = parseHeader(this.buf, 0);
      if (h.kind === 'more') return;
      if (h.kind === 'bad') {
        this.skip(1, `dropped a frame with ${h.why}`);
        continue;
      }
      this.waiting = { length: h.length, bodyStart: h.bodyStart, searched: h.bodyStart };
    }
  }

  /**
   * While a body is incomplete: whether the bytes after its header already hold a JSON object
   * followed by a complete message header, i.e. the Content-Length promised more than was
   * sent. Then the frame is dropped and the reading resumes at that header.
   */
  private overLong(w: NonNullable<FrameSanitizer['waiting']>): boolean {
    for (;;) {
      const at = nextHeader(this.buf, w.searched);
      if (at < 0) {
        w.searched = Math.max(w.bodyStart, this.buf.length - ('content-length:'.length - 1));
        return false;
      }
      const h = parseHeader(this.buf, at);
      if (h.kind === 'more') {
        w.searched = at;
        return false;
      }
      w.searched = at + 1;
      if (h.kind === 'ok' && isJsonObject(this.buf.subarray(w.bodyStart, at))) {
        this.skip(at, `dropped a frame whose Content-Length (${w.length}) is longer than its body`);
        return true;
      }
    }
  }
}
