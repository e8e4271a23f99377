/**
 * Splits a byte stream into lines (each with its trailing newline, if it had one). A line longer
 * than `maxLineBytes` is cut there: the pieces are still emitted, so every byte is accounted
 * for, but they are marked not `whole` so nobody parses them as JSON.
 */
export class LineSplitter {
  #parts: Buffer[] = [];
  #held = 0;
  #cut = false;
  readonly #max: number;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  push(chunk: Buffer, emit: (line: Buffer, whole: boolean) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        if (start < chunk.length) {
          this.#parts.push(chunk.subarray(start));
          this.#held += chunk.length - start;
          if (this.#held >= this.#max) {
            this.#flush(emit, false);
            this.#cut = true;
          }
        }
        return;
      }
      if (this.#held === 0) {
        // A view, not a copy: every chunk a stream reads is a fresh buffer nobody else writes.
        emit(chunk.subarray(start, nl + 1), !this.#cut);
      } else {
        this.#parts.push(chunk.subarray(start, nl + 1));
        this.#held += nl + 1 - start;
        this.#flush(emit, !this.#cut);
      }
      this.#cut = false;
      start = nl + 1;
    }
  }

  /** Emits a final line that had no newline. */
  end(emit: (line: Buffer, whole: boolean) => void): void {
    if (this.#held > 0) this.#flush(emit, !this.#cut);
    this.#cut = false;
  }

  #flush(emit: (line: Buffer, whole: boolean) => void, whole: boolean): void {
    const data = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#held);
    this.#parts = [];
    this.#held = 0;
    emit(data, whole);
  }
}

const TYPE_PREFIX = Buffer.from('{"type":"', "latin1");
const TYPE_START = TYPE_PREFIX.length;
const LONGEST_TYPE = 64;

/**
 * Tells, from its first bytes, whether a JSON line can be stored without parsing: it opens with
 * `{"type":"<T>"` (as agents print their lines) and T is not one of the types that mean
 * something. Lines that open any other way are never skipped. The last skipped type is kept as
 * bytes, so a run of lines of one type costs a byte comparison each.
 */
export class TypeSkipper {
  readonly #types: ReadonlySet<string>;
  #last: Buffer | null = null;

  constructor(types: ReadonlySet<string>) {
    this.#types = types;
  }

  skips(line: Buffer): boolean {
    const end = typeEnd(line);
    if (end === -1) return false;
    const last = this.#last;
    if (last !== null && end - TYPE_START === last.length && equalAt(line, TYPE_START, last)) return true;
    const type = line.toString("latin1", TYPE_START, end);
    if (this.#types.has(type)) return false;
    this.#last = Buffer.from(type, "latin1");
    return true;
  }
}

/** Where the type of a line that opens with `{"type":"` ends (its closing quote), or -1. */
function typeEnd(line: Buffer): number {
  if (line.length <= TYPE_START) return -1;
  for (let i = 0; i < TYPE_START; i++) if (line[i] !== TYPE_PREFIX[i]) return -1;
  const limit = Math.min(line.length, TYPE_START + LONGEST_TYPE);
  for (let i = TYPE_START; i < limit; i++) {
    const c = line[i] as number;
    if (c === 0x22) return i;
    // Escapes and non-ASCII: not worth decoding here; such a line is parsed.
    if (c === 0x5c || c < 0x20 || c > 0x7e) return -1;
  }
  return -1;
}

function equalAt(line: Buffer, at: number, bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if (line[at + i] !== bytes[i]) return false;
  return true;
}
