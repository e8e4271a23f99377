import {
  type BusEvent,
  type Command,
  type CommandOf,
  type Event,
  errorEvent,
  type JsonValue,
  routeCommand,
} from "@agentmux/common-ipc";
import { EMPTY_TAB_LAYOUT, slicesOf } from "@agentmux/reducer";
import type { StoredMail } from "@agentmux/store";
import type { Logger } from "pino";
import type { Agents } from "./agents/agents.js";
import { eventListFrames } from "./catch-up.js";
import type { Dispatcher, Origin } from "./dispatcher.js";
import type { Sagas } from "./sagas.js";
import { replyText } from "./wire.js";

/** What every transport is served with. */
export interface Services {
  dispatcher: Dispatcher;
  sagas: Sagas;
  agents: Agents;
  logger: Logger;
  /** Queued outgoing bytes beyond which a client is told `lagged` and closed. */
  maxBufferedBytes: number;
  /** Largest incoming frame (bytes); larger ones get `frame_too_large` and a close. */
  maxFrameBytes: number;
  /** The relay's newest messages, newest first (`list_messages`). */
  messages(limit: number): Promise<readonly StoredMail[]>;
}

export interface Outcome {
  /** Broadcast events the command caused (already published to every subscriber). */
  caused: BusEvent[];
  /** Private replies for the requester only (event lists, refusals), as wire text. */
  replies: AsyncIterable<string> | Iterable<string>;
}

function refusal(cmd: Command, message: string): Outcome {
  return { caused: [], replies: [replyText(errorEvent("invalid_command", message, { reqId: cmd.req_id }))] };
}

/** A tab's whole layout as of the dispatcher's version (`get_layout`), or why not. */
function layoutState(dispatcher: Dispatcher, cmd: CommandOf<"get_layout">): Event {
  const reqId = cmd.req_id === undefined ? {} : { req_id: cmd.req_id };
  if (!dispatcher.state.tabs.has(cmd.tab_id)) {
    return errorEvent("invalid_command", `get_layout: tab not found: ${cmd.tab_id}`, { reqId: cmd.req_id });
  }
  const l = dispatcher.state.layouts.get(cmd.tab_id) ?? EMPTY_TAB_LAYOUT;
  return {
    event: "layout_state",
    tab_id: cmd.tab_id,
    new_tree: l.tree,
    slices: slicesOf(l),
    version: dispatcher.version,
    ...reqId,
  };
}

/** The relay's newest messages (`list_messages`), as of the dispatcher's version. */
async function messageList(services: Services, cmd: CommandOf<"list_messages">): Promise<Event> {
  const messages = (await services.messages(cmd.limit)).map((m) => ({
    message_id: m.messageId,
    from: m.senderSession,
    to: m.targetSession,
    cc: [...m.ccSessions],
    body: m.body,
    created_at: m.createdAt,
    state: m.state,
    outcome: m.outcome as Record<string, JsonValue> | null,
    updated_at: m.updatedAt,
  }));
  return {
    event: "message_list",
    messages,
    version: services.dispatcher.version,
    ...(cmd.req_id === undefined ? {} : { req_id: cmd.req_id }),
  };
}

/**
 * Serves one command by its route in common-ipc's route table, the one place
 * that says who handles what. Connections handle the `session` and `stream`
 * routes themselves (they are about the connection); anywhere else (HTTP)
 * they are refused here.
 */
export async function execute(services: Services, command: Command, origin: Origin): Promise<Outcome> {
  const { route, cmd } = routeCommand(command);
  switch (route) {
    case "reducer":
      return { caused: await services.dispatcher.submit(cmd, origin), replies: [] };
    case "catch_up":
      if (cmd.cmd === "get_layout") return { caused: [], replies: [replyText(layoutState(services.dispatcher, cmd))] };
      if (cmd.cmd === "list_messages") return { caused: [], replies: [replyText(await messageList(services, cmd))] };
      return { caused: [], replies: eventListFrames(services.dispatcher, cmd.since, cmd.req_id) };
    case "agent": {
      const { caused, replies } = await services.agents.execute(cmd);
      return { caused, replies: replies.map(replyText) };
    }
    case "saga": {
      const run = await services.sagas.run(cmd);
      return { caused: run.events, replies: run.refusal ? [replyText(run.refusal)] : [] };
    }
    case "session":
      return refusal(cmd, `${cmd.cmd} has no meaning here (each request stands alone)`);
    case "stream":
      return refusal(cmd, `${cmd.cmd} needs a streaming connection (socket or WebSocket)`);
  }
}
