import { formatEvent, normalize } from "@agentmux/agent-controller/transcript";

/**
 * Prints an agent's transcript as it arrives in chunks: whole lines only (a partial line waits
 * for the rest). Readable by default (the normalized transcript model, formatted), `--json` one
 * normalized event per line, `--raw` the stored lines as they are.
 */
export class TranscriptPrinter {
  #partial = "";

  constructor(
    private readonly provider: string,
    private readonly json: boolean,
    private readonly out: (text: string) => void,
    private readonly raw = false,
  ) {}

  push(chunk: string): void {
    const lines = (this.#partial + chunk).split("\n");
    this.#partial = lines.pop() ?? "";
    for (const line of lines) this.#line(line);
  }

  end(): void {
    if (this.#partial !== "") this.#line(this.#partial);
    this.#partial = "";
  }

  #line(line: string): void {
    if (line.trim() === "") return;
    if (this.raw) {
      this.out(line);
      return;
    }
    for (const event of normalize(this.provider, line)) {
      if (this.json) {
        this.out(JSON.stringify(event));
        continue;
      }
      // A streamed preview is followed by the whole message in its own line: print that one.
      if ("preview" in event && event.preview) continue;
      for (const text of formatEvent(event)) this.out(text);
    }
  }
}
