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
        // Copy: the chunk's memory belongs to the stream and a subscriber may keep the line.
        emit(Buffer.from(chunk.subarray(start, nl + 1)), !this.#cut);
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
    // A single part is a view into a stream chunk: copy it; a concatenation is already a copy.
    const data =
      this.#parts.length === 1 ? Buffer.from(this.#parts[0] as Buffer) : Buffer.concat(this.#parts, this.#held);
    this.#parts = [];
    this.#held = 0;
    emit(data, whole);
  }
}
