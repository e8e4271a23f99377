/**
 * The relay's side of a bundle socket (relay.md §3.1–3.2): framing,
 * limits, hello and identity claims, and the registry of live streams that
 * UI deliveries are pushed on. Whoever owns the listening socket hands each
 * accepted connection to {@link RelayServer.handleConnection}; requests are
 * carried out by {@link RelayCore}, deliveries by {@link DeliveryQueue}.
 *
 * Guarantees per connection: at most `maxFrameBytes` of an unfinished frame
 * and `maxQueuedFrames` unread frames are held (reading pauses beyond that),
 * at most `maxInflightRequests` run at once, and a client that stops reading
 * is cut off once `maxPendingWriteBytes` wait for it. A connection that
 * breaks a rule gets one error line and is closed; the others never notice.
 */
import type { Socket } from "node:net";
import {
  DEFAULT_MAX_FRAME_BYTES,
  encodeFrame,
  NdjsonDecoder,
  RELAY_SCHEMA_VERSION,
  RelayClientFrame,
  type RelayEvent,
  type RelayHelloFrame,
  type RelayRequestFrame,
  type RelayResponse,
  type RelayServerFrame,
} from "@agentmux/common-ipc";
import { RelayCore, type RelayIdentity, type RelayRequestContext, toRelayError } from "./core.js";
import type { RelayDirectory } from "./directory.js";
import { errorMessageOf, RelayError } from "./errors.js";
import type { RuntimeLog } from "./host.js";
import { DeliveryQueue, type UiEndpoints } from "./queue.js";
import type { Mailbox } from "./transport.js";

export const RELAY_SERVER_DEFAULTS = Object.freeze({
  /** A connection that has not said hello within this long (since its last frame) is closed silently. */
  preHelloTimeoutMs: 2000,
  /** Open connections (bound or not); one more gets `runtime_connection_queue_full`. */
  maxConnections: 64,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  /** Output waiting for a client that does not read; past it the client is disconnected. */
  maxPendingWriteBytes: 8 * 1024 * 1024,
  /** Frames read but not yet handled, per connection; reading pauses past it. */
  maxQueuedFrames: 64,
  /** Requests carried out at once per connection; reading pauses past it. */
  maxInflightRequests: 64,
  /** How long a closing connection gets to flush its last line, and a closing relay its streams. */
  closeFlushMs: 1000,
});

export interface RelayServerOptions {
  readonly bundleName: string;
  readonly directory: RelayDirectory;
  /** Accepted messages are written here before they are acknowledged. */
  readonly mailbox: Mailbox;
  /** Epoch milliseconds. */
  readonly clock?: () => number;
  /** Message ids (UUIDs). */
  readonly ids?: () => string;
  readonly preHelloTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly maxFrameBytes?: number;
  readonly maxPendingWriteBytes?: number;
  /** Passed to the delivery queue: how long lanes may finish their work when the relay closes. */
  readonly shutdownGraceMs?: number;
  /** Passed to the delivery queue: how long a sync message waits for a disconnected UI. */
  readonly uiSyncTimeoutMs?: number;
  readonly log?: RuntimeLog;
}

interface Limits {
  readonly preHelloTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly maxPendingWriteBytes: number;
}

export class RelayServer {
  readonly bundleName: string;
  readonly #core: RelayCore;
  readonly #queue: DeliveryQueue;
  readonly #log: RuntimeLog;
  readonly #limits: Limits;
  readonly #maxConnections: number;
  readonly #connections = new Set<Connection>();
  /** session id → the stream bound to it. A closed stream leaves; a half-closed one stays until reclaimed. */
  readonly #holders = new Map<string, Connection>();
  /** session id → wake-ups for deliveries waiting for that UI to (re)connect. */
  readonly #attachWaiters = new Map<string, Set<() => void>>();
  #nextConnectionId = 1;
  #closed: Promise<void> | undefined;

  constructor(options: RelayServerOptions) {
    this.bundleName = options.bundleName;
    this.#log = options.log ?? (() => {});
    this.#limits = {
      preHelloTimeoutMs: options.preHelloTimeoutMs ?? RELAY_SERVER_DEFAULTS.preHelloTimeoutMs,
      maxFrameBytes: options.maxFrameBytes ?? RELAY_SERVER_DEFAULTS.maxFrameBytes,
      maxPendingWriteBytes: options.maxPendingWriteBytes ?? RELAY_SERVER_DEFAULTS.maxPendingWriteBytes,
    };
    this.#maxConnections = options.maxConnections ?? RELAY_SERVER_DEFAULTS.maxConnections;
    const ui: UiEndpoints = {
      push: (session, event) => this.#push(session, event),
      attached: (session, signal) => this.#attached(session, signal),
    };
    this.#queue = new DeliveryQueue({
      bundleName: options.bundleName,
      mailbox: options.mailbox,
      ui,
      // The caller's log (or none): with none, the queue and core skip building log details per message.
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: options.shutdownGraceMs }),
      ...(options.uiSyncTimeoutMs === undefined ? {} : { uiSyncTimeoutMs: options.uiSyncTimeoutMs }),
    });
    this.#core = new RelayCore({
      bundleName: options.bundleName,
      directory: options.directory,
      mailbox: options.mailbox,
      queue: this.#queue,
      ...(options.log === undefined ? {} : { log: options.log }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.ids === undefined ? {} : { ids: options.ids }),
    });
  }

  /** Open connections, bound or not. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Messages queued or being delivered. */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  /** Serves one accepted connection until it closes. */
  handleConnection(socket: Socket): void {
    if (this.#closed !== undefined) {
      socket.destroy();
      return;
    }
    if (this.#connections.size >= this.#maxConnections) {
      this.#log("relay.connection.refused", { reason: "queue_full", open: this.#connections.size });
      const error = new RelayError(
        "runtime_connection_queue_full",
        "the relay is serving too many connections; retry later",
        {
          max_connections: this.#maxConnections,
        },
      );
      closeWithLine(socket, encodeFrame(errorFrame(error)), RELAY_SERVER_DEFAULTS.closeFlushMs);
      return;
    }
    const id = `c${this.#nextConnectionId++}`;
    const connection = new Connection(id, socket, this.#limits, {
      admit: (conn, frame) => this.#admit(conn, frame),
      closed: (conn) => this.#forget(conn),
      log: this.#log,
    });
    this.#connections.add(connection);
  }

  /** Queues what the mailbox still holds as pending (call once, at start, over a durable mailbox). */
  redeliverPending(): Promise<number> {
    return this.#core.redeliverPending();
  }

  /**
   * Shuts down: queued deliveries get the grace period, then become
   * `dropped_on_shutdown` (waiting sync senders get that outcome, UIs an
   * event); then every stream is closed. New connections are refused from
   * the first call. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#queue.close();
      await Promise.all([...this.#connections].map((c) => c.shutdown(RELAY_SERVER_DEFAULTS.closeFlushMs)));
    })();
    return this.#closed;
  }

  #admit(conn: Connection, frame: RelayClientFrame): Promise<void> | undefined {
    if (frame.frame === "hello") return this.#hello(conn, frame);
    // A request is admitted at once (it then runs on its own), so the next frame need not wait a tick.
    this.#request(conn, frame);
    return undefined;
  }

  async #hello(conn: Connection, hello: RelayHelloFrame): Promise<void> {
    if (conn.identity !== undefined) {
      conn.fail(
        new RelayError("validation_invalid_arguments", "this stream already said hello", {
          session_id: conn.identity.sessionId,
        }),
      );
      return;
    }
    let identity: RelayIdentity;
    try {
      identity = await this.#core.admitHello(hello);
    } catch (err) {
      conn.fail(toRelayError(err));
      return;
    }
    if (!conn.open) return;
    if (hello.inbox === false) {
      // A requests-only stream: it speaks as the identity but holds no claim and receives nothing.
      conn.bind(identity, { inbox: false });
      conn.send(helloAck(this.bundleName, identity));
      return;
    }
    const holder = this.#holders.get(identity.sessionId);
    if (holder !== undefined && holder !== conn && holder.live) {
      conn.fail(
        new RelayError("runtime_identity_claim_conflict", `${identity.sessionId} is already connected to this relay`, {
          bundle_name: this.bundleName,
          session_id: identity.sessionId,
          existing_connection_id: holder.id,
        }),
      );
      return;
    }
    // A holder that is not live (it half-closed, so it can send nothing more) is superseded:
    // whatever it still has queued is refused with validation_stale_stream_binding.
    this.#holders.set(identity.sessionId, conn);
    conn.bind(identity);
    conn.send(helloAck(this.bundleName, identity));
    this.#log("relay.stream.bound", {
      connection_id: conn.id,
      session_id: identity.sessionId,
      client_class: identity.clientClass,
    });
    for (const wake of [...(this.#attachWaiters.get(identity.sessionId) ?? [])]) wake();
  }

  #request(conn: Connection, frame: RelayRequestFrame): void {
    const requestId = frame.request_id;
    const identity = conn.identity;
    if (identity === undefined) {
      // The stream stays open: a client may still say hello and go on.
      const error = new RelayError("validation_missing_hello", "say hello before sending requests");
      conn.send(errorFrame(error, requestId));
      return;
    }
    const stillBound = (): boolean => !conn.inbox || this.#holders.get(identity.sessionId) === conn;
    if (!stillBound()) {
      conn.fail(staleBinding(this.bundleName, identity), requestId);
      return;
    }
    const ctx: RelayRequestContext = { identity, stillBound, frameRequestId: requestId };
    conn.track(
      this.#core.handle(ctx, frame.request).then(
        (response) => conn.send(responseFrame(response, requestId)),
        (err: unknown) => {
          const error = toRelayError(err);
          // A superseded stream is done: it no longer speaks for anyone.
          if (error.code === "validation_stale_stream_binding") conn.fail(error, requestId);
          else conn.send(errorFrame(error, requestId));
        },
      ),
    );
  }

  #forget(conn: Connection): void {
    this.#connections.delete(conn);
    const identity = conn.identity;
    if (identity !== undefined && this.#holders.get(identity.sessionId) === conn)
      this.#holders.delete(identity.sessionId);
  }

  #push(session: string, event: RelayEvent): boolean {
    const holder = this.#holders.get(session);
    return holder?.send({ frame: "event", event }) === true;
  }

  #attached(session: string, signal: AbortSignal): Promise<boolean> {
    if (this.#holders.get(session)?.open === true) return Promise.resolve(true);
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiters = this.#attachWaiters.get(session) ?? new Set<() => void>();
      this.#attachWaiters.set(session, waiters);
      const settle = (attached: boolean): void => {
        waiters.delete(onAttach);
        if (waiters.size === 0) this.#attachWaiters.delete(session);
        signal.removeEventListener("abort", onAbort);
        resolve(attached);
      };
      const onAttach = (): void => settle(true);
      const onAbort = (): void => settle(false);
      waiters.add(onAttach);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** What a connection needs from its server. */
interface ConnectionHost {
  /**
   * Handles one frame; the connection admits the next only after the promise
   * returned (if any) resolves. Never rejects; undefined: admitted already.
   */
  admit(conn: Connection, frame: RelayClientFrame): Promise<void> | undefined;
  closed(conn: Connection): void;
  log: RuntimeLog;
}

type Queued =
  | { readonly kind: "frame"; readonly frame: RelayClientFrame }
  | { readonly kind: "fatal"; readonly error: RelayError };

/**
 * One client stream. Frames are admitted strictly in order (a hello is
 * settled before the request after it is looked at); admitted requests then
 * run concurrently, so a slow sync send does not hold up a `list`.
 */
class Connection {
  readonly id: string;
  #identity: RelayIdentity | undefined;
  readonly #socket: Socket;
  readonly #limits: Limits;
  readonly #host: ConnectionHost;
  readonly #decoder: NdjsonDecoder;
  readonly #queue: Queued[] = [];
  #pumping = false;
  #inflight = 0;
  /** The client half-closed: it can send nothing more, but may still read its answers. */
  #inputEnded = false;
  /** No more reading or writing: a last line may still be flushing. */
  #closing = false;
  #closed = false;
  #preHelloTimer: NodeJS.Timeout | undefined;
  readonly #drainWaiters = new Set<() => void>();
  /** false: a requests-only stream (hello `inbox: false`), which holds no claim on its identity. */
  inbox = true;

  constructor(id: string, socket: Socket, limits: Limits, host: ConnectionHost) {
    this.id = id;
    this.#socket = socket;
    this.#limits = limits;
    this.#host = host;
    this.#decoder = new NdjsonDecoder({ maxFrameBytes: limits.maxFrameBytes });
    // Half-open: a client that ends its side still gets the answers to what it sent.
    socket.allowHalfOpen = true;
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("error", (err) => host.log("relay.connection.error", { connection_id: id, error: err.message }));
    socket.on("close", () => this.#onClose());
    this.#armPreHello();
  }

  get identity(): RelayIdentity | undefined {
    return this.#identity;
  }

  /** Can still be written to. */
  get open(): boolean {
    return !this.#closing && !this.#closed;
  }

  /** Holds its identity: open and still able to send (a newer hello may not take it over). */
  get live(): boolean {
    return this.open && !this.#inputEnded;
  }

  bind(identity: RelayIdentity, options: { inbox: boolean } = { inbox: true }): void {
    this.#identity = identity;
    this.inbox = options.inbox;
    clearTimeout(this.#preHelloTimer);
    this.#preHelloTimer = undefined;
  }

  /** Writes one frame; false if the stream is gone (or was just cut off for not reading). */
  send(frame: RelayServerFrame): boolean {
    if (!this.open) return false;
    // Judged on the backlog before this frame, so one large answer never cuts off a client that reads.
    if (this.#socket.writableLength > this.#limits.maxPendingWriteBytes) {
      this.#host.log("relay.connection.slow_reader", {
        connection_id: this.id,
        pending_bytes: this.#socket.writableLength,
      });
      this.#closing = true;
      this.#socket.destroy();
      return false;
    }
    this.#socket.write(encodeFrame(frame));
    return true;
  }

  /** One error line (echoing `requestId` if given), then close. */
  fail(error: RelayError, requestId?: string): void {
    if (!this.open) return;
    this.#host.log("relay.connection.closed_on_error", { connection_id: this.id, code: error.code });
    this.#closing = true;
    clearTimeout(this.#preHelloTimer);
    this.#queue.length = 0;
    closeWithLine(this.#socket, encodeFrame(errorFrame(error, requestId)), RELAY_SERVER_DEFAULTS.closeFlushMs);
  }

  /** Counts a running request; reading resumes (and a half-closed stream ends) as requests finish. */
  track(work: Promise<unknown>): void {
    this.#inflight += 1;
    const done = (): void => {
      this.#inflight -= 1;
      if (this.#inflight === 0 && this.#drainWaiters.size > 0) for (const wake of [...this.#drainWaiters]) wake();
      void this.#pump();
    };
    work.then(done, done);
  }

  /** Relay shutdown: waits up to `ms` for running requests to answer, then closes the stream. */
  async shutdown(ms: number): Promise<void> {
    if (this.#inflight > 0 && this.open) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#drainWaiters.delete(done);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.#drainWaiters.add(done);
      });
    }
    if (this.#closed) return;
    const closed = new Promise<void>((resolve) => this.#socket.once("close", () => resolve()));
    if (this.open) {
      this.#closing = true;
      closeWithLine(this.#socket, "", ms);
    }
    await closed;
  }

  #onData(chunk: Buffer): void {
    if (!this.open) return;
    let fatal = false;
    for (const decoded of this.#decoder.push(chunk)) {
      if (!decoded.ok) {
        this.#queue.push({
          kind: "fatal",
          error: new RelayError("runtime_frame_too_large", `frame exceeds ${this.#limits.maxFrameBytes} bytes`, {
            max_bytes: this.#limits.maxFrameBytes,
          }),
        });
        fatal = true;
        break;
      }
      const parsed = parseClientFrame(decoded.frame);
      this.#queue.push(parsed);
      if (parsed.kind === "fatal") {
        fatal = true;
        break;
      }
      if (this.#identity === undefined) this.#armPreHello();
    }
    if (fatal) {
      // Nothing after a broken frame is read: what follows may be the rest of it.
      this.#socket.pause();
    }
    void this.#pump();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.open && this.#queue.length > 0 && this.#inflight < RELAY_SERVER_DEFAULTS.maxInflightRequests) {
        const next = this.#queue.shift();
        if (next === undefined) break;
        if (next.kind === "fatal") {
          this.fail(next.error);
          break;
        }
        try {
          const admitting = this.#host.admit(this, next.frame);
          if (admitting !== undefined) await admitting;
        } catch (err) {
          this.fail(toRelayError(err));
        }
      }
    } finally {
      this.#pumping = false;
    }
    if (!this.open) return;
    const busy =
      this.#queue.length >= RELAY_SERVER_DEFAULTS.maxQueuedFrames ||
      this.#inflight >= RELAY_SERVER_DEFAULTS.maxInflightRequests;
    if (busy) this.#socket.pause();
    // Only a paused stream is resumed: resuming a flowing one still schedules a tick of stream work per request.
    else if (!this.#inputEnded && this.#socket.isPaused()) this.#socket.resume();
    if (this.#inputEnded && this.#queue.length === 0 && this.#inflight === 0) {
      // Everything the client sent is answered: finish our side too.
      this.#closing = true;
      closeWithLine(this.#socket, "", RELAY_SERVER_DEFAULTS.closeFlushMs);
    }
  }

  #onEnd(): void {
    this.#inputEnded = true;
    clearTimeout(this.#preHelloTimer);
    void this.#pump();
  }

  #onClose(): void {
    this.#closed = true;
    this.#queue.length = 0;
    clearTimeout(this.#preHelloTimer);
    for (const wake of [...this.#drainWaiters]) wake();
    this.#host.closed(this);
  }

  /** (Re)starts the pre-hello idle timer: silence before hello ends the connection without a word. */
  #armPreHello(): void {
    clearTimeout(this.#preHelloTimer);
    this.#preHelloTimer = setTimeout(() => {
      if (this.#identity !== undefined || !this.open) return;
      this.#host.log("relay.connection.pre_hello_timeout", { connection_id: this.id });
      this.#closing = true;
      this.#socket.destroy();
    }, this.#limits.preHelloTimeoutMs);
  }
}

/** Parses one client line; anything unreadable is fatal for the stream (§3.2). */
function parseClientFrame(line: string): Queued {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { kind: "fatal", error: parseFailure(`invalid JSON: ${errorMessageOf(err)}`) };
  }
  const parsed = RelayClientFrame.safeParse(value);
  if (parsed.success) return { kind: "frame", frame: parsed.data };
  const MAX_ISSUES = 3;
  const cause = parsed.error.issues
    .slice(0, MAX_ISSUES)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ${issue.message}` : issue.message))
    .join("; ");
  return { kind: "fatal", error: parseFailure(cause) };
}

function staleBinding(bundleName: string, identity: RelayIdentity): RelayError {
  return new RelayError("validation_stale_stream_binding", "this stream's identity was claimed by a newer hello", {
    bundle_name: bundleName,
    session_id: identity.sessionId,
  });
}

function parseFailure(cause: string): RelayError {
  return new RelayError("validation_invalid_arguments", "failed to parse relay request", { cause });
}

function responseFrame(response: RelayResponse, requestId: string | undefined): RelayServerFrame {
  return requestId === undefined
    ? { frame: "response", response }
    : { frame: "response", request_id: requestId, response };
}

function errorFrame(error: RelayError, requestId?: string): RelayServerFrame {
  return responseFrame({ kind: "error", error: error.toJSON() }, requestId);
}

/**
 * Writes `line` (may be empty), ends the stream and destroys it once
 * flushed, or after `ms` if the peer does not read: a closing connection
 * never lingers on a client that went quiet.
 */
function closeWithLine(socket: Socket, line: string, ms: number): void {
  socket.on("error", () => {});
  const timer = setTimeout(() => socket.destroy(), ms);
  socket.once("close", () => clearTimeout(timer));
  socket.end(line, () => socket.destroy());
}

function helloAck(bundleName: string, identity: RelayIdentity): RelayServerFrame {
  return {
    frame: "hello_ack",
    schema_version: RELAY_SCHEMA_VERSION,
    bundle_name: bundleName,
    session_id: identity.sessionId,
    client_class: identity.clientClass,
  };
}
