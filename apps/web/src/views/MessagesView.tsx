// The messages between agents (and people) that srv's relay accepted: who sent what to whom,
// and where each one is. Mail is not a bus event, so the view asks again every few seconds
// while it is open.
import type { EventOf } from "@agentmux/common-ipc";
import { useEffect, useState } from "preact/hooks";
import { useStore } from "../lib/use-store.js";

type Message = EventOf<"message_list">["messages"][number];

export const MESSAGES_DEFAULTS = Object.freeze({ refreshMs: 2000, limit: 200 });

/** Delivery states in words; the badge colours reuse the agent statuses' (never colour alone). */
const STATE: Readonly<Record<Message["state"], { word: string; tone: string }>> = {
  pending: { word: "waiting", tone: "starting" },
  delivering: { word: "delivering", tone: "working" },
  delivered: { word: "delivered", tone: "idle" },
  read: { word: "read", tone: "idle" },
  failed: { word: "failed", tone: "failed" },
};

export function MessagesView() {
  const store = useStore();
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const [reply] = await store.request({ cmd: "list_messages", limit: MESSAGES_DEFAULTS.limit });
        if (alive && reply?.event === "message_list") {
          setMessages(reply.messages);
          setError(null);
        }
      } catch (err) {
        if (alive) setError((err as Error).message);
      }
      if (alive) timer = setTimeout(load, MESSAGES_DEFAULTS.refreshMs);
    };
    void load();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [store]);

  return (
    <>
      <div class="view-head">
        <h1 id="view-title" tabIndex={-1}>
          Messages
        </h1>
      </div>
      {error ? (
        <p class="notice" role="alert">
          {error}
        </p>
      ) : null}
      <table class="fleet" data-testid="messages">
        <caption>
          {messages === null
            ? "Loading messages…"
            : `${messages.length} message${messages.length === 1 ? "" : "s"}, newest first`}
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">From</th>
            <th scope="col">To</th>
            <th scope="col">Message</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {messages !== null && messages.length === 0 ? (
            <tr>
              <td colSpan={5} class="empty">
                No messages yet: agents send them with their send tool, people with agentmux send.
              </td>
            </tr>
          ) : null}
          {(messages ?? []).map((m) => {
            const state = STATE[m.state];
            return (
              <tr key={`${m.message_id}:${m.to}`} data-testid="message-row" data-message-id={m.message_id}>
                <td data-label="When">
                  <time dateTime={m.created_at}>{new Date(m.created_at).toLocaleTimeString()}</time>
                </td>
                <td data-label="From">{m.from}</td>
                <td data-label="To">
                  {m.to}
                  {m.cc.length > 0 ? ` (cc ${m.cc.join(", ")})` : ""}
                </td>
                <td data-label="Message" class="message-body">
                  {m.body}
                </td>
                <td data-label="State">
                  <span class={`status status-${state.tone}`} data-testid="message-state" title={outcomeText(m)}>
                    {state.word}
                  </span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function outcomeText(m: Message): string {
  return m.outcome === null ? "" : JSON.stringify(m.outcome);
}
