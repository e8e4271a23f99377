import {
  type BusEvent,
  type Command,
  decodeCommand,
  type Event,
  errorEvent,
  isAgentCommand,
  isSagaCommand,
  type ProtocolError,
  protocolErrorEvent,
} from "@agentmux/common-ipc";
import type { Logger } from "pino";
import type { Agents } from "./agents.js";
import type { Core, Subscription } from "./core.js";
import type { Sagas } from "./sagas.js";

/** One client's outgoing side, whatever the transport. */
export interface Sink {
  /** Queues one frame of text. */
  send(text: string): void;
  /** Bytes queued and not yet written. */
  buffered(): number;
  /** Closes after what is queued (forcibly if the peer stops reading). */
  close(): void;
}

export interface Services {
  core: Core;
  sagas: Sagas;
  agents: Agents;
  logger: Logger;
  /** Queued outgoing bytes beyond which a client is told `lagged` and closed. */
  maxBufferedBytes: number;
  /** Largest incoming frame (bytes); larger ones get `frame_too_large` and a close. */
  maxFrameBytes: number;
}

/** Each published event is serialised once, however many clients receive it. */
const wireText = new WeakMap<BusEvent, string>();
function serialized(ev: BusEvent): string {
  let text = wireText.get(ev);
  if (text === undefined) {
    text = JSON.stringify(ev);
    wireText.set(ev, text);
  }
  return text;
}

/** Events in one `event_list` page: a long catch-up goes out in pages that each fit a frame. */
const PAGE_EVENTS = 1000;
const PAGE_BYTES = 512 * 1024;

/** Pages of an event_list reply (at least one, possibly empty). */
export async function eventListPages(core: Core, since: number, reqId?: string): Promise<Event[]> {
  let events: BusEvent[];
  let truncated = false;
  const ring = core.ring.eventsSince(since);
  if (since >= core.ringFrom && !ring.truncated) {
    events = ring.events;
  } else {
    // The ring does not reach back that far (evicted, or from before this process): read the durable log.
    events = [];
    let cursor = since;
    for (;;) {
      const page = await core.store.objects.eventsSince(cursor, 10_000);
      truncated ||= page.truncated;
      events.push(...page.events);
      if (page.events.length < 10_000) break;
      cursor = (page.events.at(-1) as BusEvent).version;
    }
  }
  const version = core.state.version;
  const pages: Event[] = [];
  let current: BusEvent[] = [];
  let bytes = 0;
  const flush = (more: boolean) => {
    const page: Event = { event: "event_list", events: current, truncated, more, version };
    if (reqId !== undefined) page.req_id = reqId;
    pages.push(page);
    current = [];
    bytes = 0;
  };
  for (const ev of events) {
    const size = JSON.stringify(ev).length;
    if (current.length > 0 && (current.length >= PAGE_EVENTS || bytes + size > PAGE_BYTES)) flush(true);
    current.push(ev);
    bytes += size;
  }
  flush(false);
  return pages;
}

export interface Outcome {
  /** Broadcast events the command caused (already published on the bus). */
  caused: BusEvent[];
  /** Private replies for the requester only (event lists, refusals). */
  replies: Event[];
}

/**
 * Executes a command from a registered client (or an HTTP request): the
 * server-side commands (get_events, sagas, agent commands) here, everything
 * else through the dispatcher.
 */
export async function execute(services: Services, cmd: Command, registeredPid: number | null): Promise<Outcome> {
  const { core, sagas } = services;
  const reqId = cmd.req_id;
  if (cmd.cmd === "get_events") return { caused: [], replies: await eventListPages(core, cmd.since, reqId) };
  if (cmd.cmd === "subscribe_output") {
    const refusal = errorEvent(
      "invalid_command",
      "subscribe_output needs a streaming connection (socket or WebSocket)",
      {
        reqId,
      },
    );
    return { caused: [], replies: [refusal] };
  }
  if (isAgentCommand(cmd)) return services.agents.execute(cmd);
  if (isSagaCommand(cmd)) {
    const run = await sagas.run(cmd);
    return { caused: run.events, replies: run.refusal ? [run.refusal] : [] };
  }
  return { caused: await core.submit(cmd, { registeredPid }), replies: [] };
}

/**
 * The rules every transport shares: register first, private errors with
 * version 0, req_id echo, subscribed to the bus before the first frame is
 * read, get_events from the ring or the durable log, bounded outgoing queue
 * (`lagged` then close), a synthetic goodbye when a registered client
 * disappears without one.
 */
export class Connection {
  readonly id: number;
  #pid: number | null = null;
  #closed = false;
  #saidGoodbye = false;
  readonly #subscription: Subscription;
  #output: Subscription | null = null;
  #outputBlocks = new Set<string>();
  #chain: Promise<void> = Promise.resolve();
  /** Settles when every command this connection submitted so far is published. */
  #inflight: Promise<void> = Promise.resolve();
  #pending = 0;
  #submitted = 0;
  #paused = false;

  constructor(
    private readonly services: Services,
    private readonly sink: Sink,
    id: number,
    private readonly onBackpressure?: (paused: boolean) => void,
  ) {
    this.id = id;
    // Subscribe before anything is read, so no event falls into a gap.
    this.#subscription = services.core.events$.subscribe((ev) => this.#deliver(ev));
  }

  /** Handles one incoming text frame; frames of one connection are handled strictly in order. */
  receive(text: string): void {
    this.#enqueue(() => this.#handleText(text));
  }

  /** A frame the transport could not even read (too large, binary): a private error in turn, and close if fatal. */
  reject(err: ProtocolError, fatal: boolean): void {
    this.#enqueue(async () => {
      this.#private(protocolErrorEvent(err, fatal));
      if (fatal) this.close();
    });
  }

  #enqueue(work: () => Promise<void>): void {
    if (this.#closed) return;
    this.#pending++;
    this.#backpressure();
    this.#chain = this.#chain
      .then(() => (this.#closed ? undefined : work()))
      .catch((err: unknown) => {
        this.services.logger.error({ err, conn: this.id }, "command failed");
        this.#private(errorEvent("internal", "internal error while handling the command"));
      })
      .finally(() => {
        this.#pending--;
        this.#backpressure();
      });
  }

  /** Stops reading from a client that has too much queued or in flight, until it drains. */
  #backpressure(): void {
    const load = this.#pending + this.#submitted;
    if (!this.#paused && load >= 1024) {
      this.#paused = true;
      this.onBackpressure?.(true);
    } else if (this.#paused && load <= 256) {
      this.#paused = false;
      this.onBackpressure?.(false);
    }
  }

  /** The peer will send nothing more: answer what it sent, then close. */
  endOfInput(): void {
    this.#enqueue(async () => {
      await this.#inflight;
      this.close();
    });
  }

  /** The transport saw the peer go away (or is closing it). */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscription.unsubscribe();
    this.#output?.unsubscribe();
    const pid = this.#pid;
    if (pid !== null && !this.#saidGoodbye) {
      // Synthetic goodbye, so the pid can register again.
      void this.#chain
        .then(() => this.#inflight)
        .then(() =>
          this.services.core.submit({ cmd: "goodbye" }, { registeredPid: pid }).catch((err: unknown) => {
            this.services.logger.warn({ err, pid }, "synthetic goodbye failed");
          }),
        );
    }
  }

  close(): void {
    this.sink.close();
    this.closed();
  }

  #deliver(ev: BusEvent): void {
    this.#push(ev, "events were not read in time");
  }

  /** From now on, transcript bytes of these blocks (replacing any earlier choice) come as `block_output`. */
  #subscribeOutput(blockIds: string[]): void {
    this.#outputBlocks = new Set(blockIds);
    this.#output ??= this.services.agents.output.subscribe((out) => {
      if (this.#outputBlocks.has(out.block_id)) this.#push(out, "agent output was not read in time");
    });
  }

  /** Sends a broadcast frame, or tells a client that stopped reading `lagged` and closes it. */
  #push(ev: BusEvent, lagging: string): void {
    if (this.#closed) return;
    if (this.sink.buffered() > this.services.maxBufferedBytes) {
      this.services.logger.warn({ conn: this.id }, `client too slow: lagged (${lagging})`);
      this.sink.send(JSON.stringify(errorEvent("lagged", `too slow: ${lagging}`, { fatal: true })));
      this.close(); // unsubscribes, and says goodbye for a registered client
      return;
    }
    this.sink.send(serialized(ev));
  }

  #private(ev: Event): void {
    if (!this.#closed) this.sink.send(JSON.stringify(ev));
  }

  async #handleText(text: string): Promise<void> {
    const parsed = decodeCommand(text);
    if (parsed.ok) return this.#handle(parsed.value);
    await this.#inflight;
    this.#private(protocolErrorEvent(parsed.error));
  }

  async #handle(cmd: Command): Promise<void> {
    const { core } = this.services;
    const reqId = cmd.req_id;
    if (this.#pid === null) {
      await this.#inflight;
      if (cmd.cmd === "register") {
        const events = await core.submit(cmd, { registeredPid: null });
        if (events.some((e) => e.event === "registered")) this.#pid = cmd.pid;
        return;
      }
      const fatal = cmd.cmd === "goodbye";
      this.#private(errorEvent("not_registered", `register first (got ${cmd.cmd})`, { fatal, reqId }));
      if (fatal) this.close();
      return;
    }
    if (isPipelined(cmd)) {
      // Queued in order right now; its events reach this client through the bus. Read on without waiting.
      this.#submitted++;
      const done = core.submit(cmd, { registeredPid: this.#pid });
      this.#inflight = done.then(
        () => {},
        (err: unknown) => {
          this.services.logger.error({ err, conn: this.id, cmd: cmd.cmd }, "command failed");
          this.#private(errorEvent("internal", `${cmd.cmd} could not be completed`, { reqId }));
        },
      );
      void this.#inflight.finally(() => {
        this.#submitted--;
        this.#backpressure();
      });
      return;
    }
    // Everything else depends on what this client sent before: wait for it.
    await this.#inflight;
    if (cmd.cmd === "register") {
      return this.#private(errorEvent("already_registered", "this connection is already registered", { reqId }));
    }
    if (cmd.cmd === "subscribe_output") return this.#subscribeOutput(cmd.block_ids);
    const { replies } = await execute(this.services, cmd, this.#pid);
    for (const reply of replies) this.#private(reply);
    if (cmd.cmd === "goodbye") {
      this.#saidGoodbye = true;
      this.close();
    }
  }
}

/** Commands that only go through the dispatcher, with nothing to answer privately. */
function isPipelined(cmd: Command): boolean {
  return (
    cmd.cmd !== "register" &&
    cmd.cmd !== "goodbye" &&
    cmd.cmd !== "get_events" &&
    !isAgentCommand(cmd) &&
    !isSagaCommand(cmd)
  );
}
