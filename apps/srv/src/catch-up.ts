import type { Dispatcher } from "./dispatcher.js";
import { wireText } from "./wire.js";

export const CATCH_UP_DEFAULTS = Object.freeze({
  /** Events in one `event_list` page… */
  pageEvents: 1000,
  /** …and its size: a long catch-up goes out in pages that each fit a client's frame cap. */
  pageBytes: 512 * 1024,
});

/**
 * The `event_list` frames answering `get_events{since}`, made page by page as
 * the history is read (from the ring, else the durable log): the backlog is
 * never held in memory whole, and each event's text is the one made when it
 * was published. At least one frame (possibly with no events); every frame
 * but the last says `more: true`.
 */
export async function* eventListFrames(dispatcher: Dispatcher, since: number, reqId?: string): AsyncGenerator<string> {
  const tail = reqId === undefined ? "" : `,"req_id":${JSON.stringify(reqId)}`;
  let texts: string[] = [];
  let bytes = 0;
  let truncated = false;
  const frame = (more: boolean) =>
    `{"event":"event_list","events":[${texts.join(",")}],"truncated":${truncated},"more":${more},"version":${dispatcher.version}${tail}}`;
  for await (const page of dispatcher.history(since)) {
    truncated ||= page.truncated;
    for (const ev of page.events) {
      const text = wireText(ev);
      if (
        texts.length > 0 &&
        (texts.length >= CATCH_UP_DEFAULTS.pageEvents || bytes + text.length > CATCH_UP_DEFAULTS.pageBytes)
      ) {
        yield frame(true);
        texts = [];
        bytes = 0;
      }
      texts.push(text);
      bytes += text.length;
    }
  }
  yield frame(false);
}
