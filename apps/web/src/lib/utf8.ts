// Transcript offsets are UTF-8 byte offsets; the page holds JavaScript strings (UTF-16).
// The byte length itself is the transcript model's (`utf8Length`), shared with the CLI.
export { utf8Length } from "@agentmux/agent-controller/transcript";

/**
 * `text` without its first `skip` bytes (UTF-8). A cut inside a character drops that whole
 * character: srv never splits one, so this only matters for data that was not its own.
 */
export function dropUtf8Prefix(text: string, skip: number): string {
  if (skip <= 0) return text;
  let bytes = 0;
  let i = 0;
  while (i < text.length && bytes < skip) {
    const c = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    const pair = c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff;
    // A lone surrogate counts 3 bytes, as the encoder writes U+FFFD for it.
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    i += pair ? 2 : 1;
  }
  return text.slice(i);
}
