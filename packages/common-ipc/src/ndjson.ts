import { ProtocolError } from "./parse.js";

/** Default cap on one frame: 1 MiB of UTF-8, excluding the line terminator. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/** A frame longer than the decoder's cap. The decoder drops it and resumes at the next newline. */
export class FrameTooLargeError extends ProtocolError {
  constructor(readonly maxFrameBytes: number) {
    super("frame_too_large", `frame exceeds ${maxFrameBytes} bytes`);
  }
}

export type DecodedFrame = { ok: true; frame: string } | { ok: false; error: FrameTooLargeError };

export interface NdjsonDecoderOptions {
  /** Largest accepted frame in bytes (default {@link DEFAULT_MAX_FRAME_BYTES}). */
  maxFrameBytes?: number;
}

/**
 * Incremental NDJSON splitter. Feed it byte (or string) chunks of any size;
 * it returns the complete frames as strings. It handles `\r\n`, UTF-8
 * sequences split across chunks and blank lines, and it never holds more
 * than `maxFrameBytes + 1` bytes: an oversized frame yields one
 * {@link FrameTooLargeError} and the rest of that line is skipped.
 */
export class NdjsonDecoder {
  readonly maxFrameBytes: number;
  #parts: Buffer[] = [];
  #pending = 0;
  #discarding = false;

  constructor(options: NdjsonDecoderOptions = {}) {
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxFrameBytes must be a positive integer, got ${max}`);
    this.maxFrameBytes = max;
  }

  /** Bytes of an unfinished frame held right now (never more than `maxFrameBytes + 1`). */
  get bufferedBytes(): number {
    return this.#pending;
  }

  /** Decodes one chunk; returns the frames it completed (appended to `out` when given). */
  push(chunk: Uint8Array | string, out: DecodedFrame[] = []): DecodedFrame[] {
    const buf = toBuffer(chunk);
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(LF, start);
      if (nl === -1) {
        this.#hold(buf, start, buf.length, out);
        break;
      }
      if (this.#discarding) {
        this.#discarding = false;
      } else {
        this.#line(buf, start, nl, out);
      }
      start = nl + 1;
    }
    return out;
  }

  /** Flushes a final frame that had no trailing newline. The decoder can be reused afterwards. */
  end(out: DecodedFrame[] = []): DecodedFrame[] {
    if (!this.#discarding && this.#pending > 0) {
      const empty = Buffer.alloc(0);
      this.#line(empty, 0, 0, out);
    }
    this.#reset();
    this.#discarding = false;
    return out;
  }

  #line(buf: Buffer, start: number, end: number, out: DecodedFrame[]): void {
    const total = this.#pending + (end - start);
    const lastByte = end > start ? buf[end - 1] : this.#parts.at(-1)?.at(-1);
    const length = lastByte === CR ? total - 1 : total;
    if (length > this.maxFrameBytes) {
      this.#reset();
      out.push({ ok: false, error: new FrameTooLargeError(this.maxFrameBytes) });
      return;
    }
    let text: string;
    if (this.#pending === 0) {
      text = buf.toString("utf8", start, start + length);
    } else {
      this.#parts.push(buf.subarray(start, end));
      text = Buffer.concat(this.#parts, total).toString("utf8", 0, length);
      this.#reset();
    }
    if (!isBlank(text)) out.push({ ok: true, frame: text });
  }

  #hold(buf: Buffer, start: number, end: number, out: DecodedFrame[]): void {
    if (this.#discarding) return;
    const size = end - start;
    // +1: a frame of exactly maxFrameBytes may still be waiting for the "\n" of its "\r\n".
    if (this.#pending + size > this.maxFrameBytes + 1) {
      this.#reset();
      this.#discarding = true;
      out.push({ ok: false, error: new FrameTooLargeError(this.maxFrameBytes) });
      return;
    }
    // Copy, so a small tail never pins a large chunk in memory.
    this.#parts.push(Buffer.from(buf.subarray(start, end)));
    this.#pending += size;
  }

  #reset(): void {
    this.#parts = [];
    this.#pending = 0;
  }
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (Buffer.isBuffer(chunk)) return chunk;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Blank means JSON whitespace only (space, tab, CR); any other character goes to the parser. */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/** Decodes a stream of chunks (e.g. a socket) into frames and frame errors. */
export async function* decodeNdjson(
  source: AsyncIterable<Uint8Array | string>,
  options: NdjsonDecoderOptions = {},
): AsyncGenerator<DecodedFrame> {
  const decoder = new NdjsonDecoder(options);
  const out: DecodedFrame[] = [];
  for await (const chunk of source) {
    decoder.push(chunk, out);
    yield* out;
    out.length = 0;
  }
  yield* decoder.end();
}

/** One NDJSON frame: the JSON text of `message` and a newline. */
export function encodeFrame(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
