import { once } from "node:events";
import type { Writable } from "node:stream";

/**
 * Resolves once `stream` has written out what it holds, or has closed (a peer that goes away
 * never drains). At once when it is not holding back. No listener stays behind.
 */
export async function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return;
  const done = new AbortController();
  const opts = { signal: done.signal };
  await Promise.race([once(stream, "drain", opts), once(stream, "close", opts)]).catch(() => {});
  done.abort();
}
