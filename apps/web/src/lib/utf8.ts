// Transcript offsets are UTF-8 byte offsets; the page holds JavaScript strings (UTF-16).

/** The UTF-8 length of `text` (a lone surrogate counts 3 bytes, as the encoder writes U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

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
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
    i++;
  }
  return text.slice(i);
}
