import {
  type BusEvent,
  type Command,
  decodeCommand,
  errorEvent,
  type ProtocolError,
  protocolErrorEvent,
  routeOf,
} from "@agentmux/common-ipc";
import type { Origin, Subscription } from "./dispatcher.js";
import { execute, type Services } from "./router.js";
import { replyText, wireText } from "./wire.js";

export const CONNECTION_DEFAULTS = Object.freeze({
  /**
   * Frames one connection handles before it lets the event loop run: handling a
   * frame can finish without ever leaving the microtask queue (a malformed frame,
   * an error reply), so without a yield one client's flood would hold every other
   * connection's I/O until it is through.
   */
  sliceFrames: 32,
  /** Frames queued or in flight at which the transport stops reading from the client… */
  pauseAt: 1024,
  /** …and at which it reads again. */
  resumeAt: 256,
});

/** One client's outgoing side, whatever the transport. */
export interface Sink {
  /** Queues one frame of text. */
  send(text: string): void;
  /** Bytes queued and not yet written. */
  buffered(): number;
  /** Resolves once what is queued now has been written out (or the connection is gone). */
  drained(): Promise<void>;
  /** Closes after what is queued (forcibly if the peer stops reading). */
  close(): void;
}

type Work = () => Promise<void> | void;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The rules every transport shares: register first, private errors with
 * version 0, req_id echo, subscribed to the dispatcher before the first frame
 * is read, bounded outgoing queue (`lagged` then close), a synthetic goodbye
 * when a registered client disappears without one. A connection's frames are
 * handled strictly in order, in slices, so no client starves the others.
 */
export class Connection {
  readonly id: number;
  readonly #services: Services;
  readonly #sink: Sink;
  readonly #onBackpressure: ((paused: boolean) => void) | undefined;
  #pid: number | null = null;
  #closed = false;
  #saidGoodbye = false;
  readonly #subscription: Subscription;
  #output: Subscription | null = null;
  #outputBlocks = new Set<string>();
  /** Frames waiting to be handled, oldest first (from `#head`). */
  #inbox: Work[] = [];
  #head = 0;
  #running = false;
  /** Settles when every command this connection submitted so far is published. */
  #inflight: Promise<void> = Promise.resolve();
  #submitted = 0;
  #paused = false;

  constructor(services: Services, sink: Sink, id: number, onBackpressure?: (paused: boolean) => void) {
    this.#services = services;
    this.#sink = sink;
    this.id = id;
    this.#onBackpressure = onBackpressure;
    // Subscribe before anything is read, so no event falls into a gap.
    this.#subscription = services.dispatcher.subscribe((ev) => this.#push(ev, "events were not read in time"));
  }

  /** Handles one incoming text frame (in order, after those before it). */
  receive(text: string): void {
    this.#enqueue(() => this.#handleText(text));
  }

  /** A frame the transport could not even read (too large, binary): a private error in turn, and close if fatal. */
  reject(err: ProtocolError, fatal: boolean): void {
    this.#enqueue(() => {
      this.#reply(replyText(protocolErrorEvent(err, fatal)));
      if (fatal) this.close();
    });
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
    this.#inbox = [];
    this.#subscription.unsubscribe();
    this.#output?.unsubscribe();
    if (this.#pid !== null && !this.#saidGoodbye) this.#goodbye(this.#pid);
  }

  /** A synthetic goodbye for a client that went away without one, so its pid can register again. */
  #goodbye(pid: number): void {
    void this.#inflight.then(() =>
      this.#services.dispatcher.submit({ cmd: "goodbye" }, { registeredPid: pid }).catch((err: unknown) => {
        this.#services.logger.warn({ err, pid }, "synthetic goodbye failed");
      }),
    );
  }

  close(): void {
    this.#sink.close();
    this.closed();
  }

  #enqueue(work: Work): void {
    if (this.#closed) return;
    this.#inbox.push(work);
    this.#backpressure();
    if (!this.#running) {
      this.#running = true;
      void this.#run();
    }
  }

  /** Handles queued frames one after another, letting the event loop run after every slice. */
  async #run(): Promise<void> {
    let handled = 0;
    while (this.#head < this.#inbox.length && !this.#closed) {
      const work = this.#inbox[this.#head++] as Work;
      try {
        await work();
      } catch (err) {
        this.#services.logger.error({ err, conn: this.id }, "command failed");
        this.#reply(replyText(errorEvent("internal", "internal error while handling the command")));
      }
      if (this.#head >= 1024 && this.#head * 2 >= this.#inbox.length) {
        this.#inbox = this.#inbox.slice(this.#head);
        this.#head = 0;
      }
      this.#backpressure();
      if (++handled % CONNECTION_DEFAULTS.sliceFrames === 0) await yieldToLoop();
    }
    this.#running = false;
  }

  /** Stops reading from a client that has too much queued or in flight, until it drains. */
  #backpressure(): void {
    const load = this.#inbox.length - this.#head + this.#submitted;
    if (!this.#paused && load >= CONNECTION_DEFAULTS.pauseAt) {
      this.#paused = true;
      this.#onBackpressure?.(true);
    } else if (this.#paused && load <= CONNECTION_DEFAULTS.resumeAt) {
      this.#paused = false;
      this.#onBackpressure?.(false);
    }
  }

  /** From now on, transcript bytes of these blocks (replacing any earlier choice) come as `block_output`. */
  #subscribeOutput(blockIds: string[]): void {
    this.#outputBlocks = new Set(blockIds);
    this.#output ??= this.#services.agents.subscribeOutput((out) => {
      if (this.#outputBlocks.has(out.block_id)) this.#push(out, "agent output was not read in time");
    });
  }

  /** Sends a broadcast frame, or tells a client that stopped reading `lagged` and closes it. */
  #push(ev: BusEvent, lagging: string): void {
    if (this.#closed) return;
    if (this.#sink.buffered() > this.#services.maxBufferedBytes) {
      this.#services.logger.warn({ conn: this.id }, `client too slow: lagged (${lagging})`);
      this.#sink.send(replyText(errorEvent("lagged", `too slow: ${lagging}`, { fatal: true })));
      this.close(); // unsubscribes, and says goodbye for a registered client
      return;
    }
    this.#sink.send(wireText(ev));
  }

  /** A private reply; a client that stopped reading its replies is told `lagged` and closed, like for broadcasts. */
  #reply(text: string): void {
    if (this.#closed) return;
    if (this.#sink.buffered() > this.#services.maxBufferedBytes) {
      this.#services.logger.warn({ conn: this.id }, "client too slow: lagged (replies were not read in time)");
      this.#sink.send(replyText(errorEvent("lagged", "too slow: replies were not read in time", { fatal: true })));
      this.close();
      return;
    }
    this.#sink.send(text);
  }

  /** Sends private replies, waiting for the client to read when a long one (a catch-up) fills its queue. */
  async #replyAll(replies: AsyncIterable<string> | Iterable<string>): Promise<void> {
    for await (const text of replies) {
      if (this.#closed) return;
      this.#reply(text);
      if (this.#sink.buffered() > this.#services.maxBufferedBytes / 2) await this.#sink.drained();
    }
  }

  async #handleText(text: string): Promise<void> {
    const parsed = decodeCommand(text);
    if (parsed.ok) return this.#handle(parsed.value);
    await this.#inflight;
    this.#reply(replyText(protocolErrorEvent(parsed.error)));
  }

  async #handle(cmd: Command): Promise<void> {
    const route = routeOf(cmd);
    if (this.#pid === null) return this.#unregistered(cmd);
    if (route === "reducer") return this.#pipeline(cmd, { registeredPid: this.#pid });
    // Everything else depends on what this client sent before: wait for it.
    await this.#inflight;
    if (route === "session") {
      if (cmd.cmd === "goodbye") {
        await this.#services.dispatcher.submit(cmd, { registeredPid: this.#pid });
        this.#saidGoodbye = true;
        this.close();
      } else {
        this.#reply(
          replyText(errorEvent("already_registered", "this connection is already registered", { reqId: cmd.req_id })),
        );
      }
      return;
    }
    if (route === "stream" && cmd.cmd === "subscribe_output") return this.#subscribeOutput(cmd.block_ids);
    const { replies } = await execute(this.#services, cmd, { registeredPid: this.#pid });
    await this.#replyAll(replies);
  }

  /** Before `register`, only `register` is served. */
  async #unregistered(cmd: Command): Promise<void> {
    await this.#inflight;
    if (cmd.cmd === "register") {
      const events = await this.#services.dispatcher.submit(cmd, { registeredPid: null });
      if (!events.some((e) => e.event === "registered")) return;
      this.#pid = cmd.pid;
      // The client went away while its register was being committed: it says goodbye all the same.
      if (this.#closed) this.#goodbye(cmd.pid);
      return;
    }
    const fatal = cmd.cmd === "goodbye";
    this.#reply(
      replyText(errorEvent("not_registered", `register first (got ${cmd.cmd})`, { fatal, reqId: cmd.req_id })),
    );
    if (fatal) this.close();
  }

  /** Queued in order right now; its events reach this client as broadcasts. Read on without waiting. */
  #pipeline(cmd: Command, origin: Origin): void {
    this.#submitted++;
    this.#inflight = this.#services.dispatcher.submit(cmd, origin).then(
      () => {},
      (err: unknown) => {
        this.#services.logger.error({ err, conn: this.id, cmd: cmd.cmd }, "command failed");
        this.#reply(replyText(errorEvent("internal", `${cmd.cmd} could not be completed`, { reqId: cmd.req_id })));
      },
    );
    void this.#inflight.finally(() => {
      this.#submitted--;
      this.#backpressure();
    });
  }
}
