import type { BusEvent, Event } from "@agentmux/common-ipc";

/** Each published event is serialised once, however many clients (and catch-up pages) carry it. */
const texts = new WeakMap<BusEvent, string>();

/** The wire text of a published event, made on first use and reused after. */
export function wireText(ev: BusEvent): string {
  let text = texts.get(ev);
  if (text === undefined) {
    text = JSON.stringify(ev);
    texts.set(ev, text);
  }
  return text;
}

/** The wire text of a private reply (made once: it goes to one client). */
export function replyText(ev: Event): string {
  return JSON.stringify(ev);
}
