/**
 * A persistent relay stream from the client's side: connect, say hello as
 * one identity, then send requests and receive pushed events on the same
 * stream. Used by the MCP server, the CLI and UIs.
 *
 * Two promises it keeps: a request already written is never written again
 * (if the stream breaks, the call fails with `relay_unavailable` and the
 * caller decides, because the relay may well have acted on it), and the
 * default response timeout outlasts a sync delivery's 30 s quiescence wait
 * (the reference's 5 s reported slow sync sends as failures while they were
 * still being delivered).
 */
import { createConnection, type Socket } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import {
  encodeFrame,
  NdjsonDecoder,
  RELAY_SCHEMA_VERSION,
  type RelayChatResponse,
  type RelayClientClass,
  type RelayDeliveryMode,
  type RelayErrorBody,
  type RelayEvent,
  type RelayListResponse,
  type RelayLookResponse,
  type RelayRawwResponse,
  type RelayRequestInput,
  type RelayResponse,
  RelayServerFrame,
  type RelayStatusResponse,
} from "@agentmux/common-ipc";
import { errorMessageOf, RELAY_ERROR_CODES, RelayError, type RelayErrorCode } from "./errors.js";

export const RELAY_CLIENT_DEFAULTS = Object.freeze({
  helloTimeoutMs: 2000,
  /** Longer than a sync send's default 30 s wait for the target, plus slack. */
  responseTimeoutMs: 35_000,
  /** Added to a sync send's own timeout when that is longer than `responseTimeoutMs`. */
  responseSlackMs: 5000,
  /** Claim conflicts and transient connect errors are retried this long… */
  retryWindowMs: 1000,
  /** …this often. */
  retryIntervalMs: 50,
  /** Relay frames can be large (a 1000-line look); the cap only guards against a broken relay. */
  maxFrameBytes: 16 * 1024 * 1024,
  /** Events kept while nobody subscribed (oldest dropped beyond this). */
  maxUnclaimedEvents: 1024,
});

/** Connect errors that mean "not there yet" (a relay starting or restarting), worth retrying. */
const TRANSIENT_CONNECT_ERRORS: ReadonlySet<string> = new Set(["ENOENT", "ECONNREFUSED"]);

export interface RelayClientOptions {
  readonly socketPath: string;
  readonly bundleName: string;
  readonly sessionId: string;
  readonly clientClass: RelayClientClass;
  /** `false`: a stream for requests only, which receives no messages and claims no identity (a CLI command). */
  readonly inbox?: boolean;
  readonly helloTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  readonly retryWindowMs?: number;
  readonly retryIntervalMs?: number;
  readonly maxFrameBytes?: number;
  /** Called for every pushed event (also see {@link RelayClient.events}). */
  readonly onEvent?: (event: RelayEvent) => void;
}

export interface RelaySendInput {
  readonly message: string;
  readonly targets?: readonly string[];
  readonly broadcast?: boolean;
  /** The relay's default is sync. */
  readonly deliveryMode?: RelayDeliveryMode;
  readonly quiescenceTimeoutMs?: number;
  readonly acpTurnTimeoutMs?: number;
  readonly requestId?: string;
}

interface Pending {
  readonly resolve: (response: RelayResponse) => void;
  readonly reject: (error: RelayError) => void;
  /** `performance.now()` past which the request fails with `relay_timeout`. */
  readonly deadline: number;
  readonly timeoutMs: number;
}

export class RelayClient {
  readonly socketPath: string;
  readonly bundleName: string;
  readonly sessionId: string;
  readonly clientClass: RelayClientClass;
  readonly #socket: Socket;
  readonly #decoder: NdjsonDecoder;
  readonly #responseTimeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  /**
   * One timer for every request's deadline, armed for the earliest one; when it
   * fires it fails what is due and re-arms for the next. A timer per request
   * (created, then cleared by its answer) was a measurable share of a send.
   * Unref'd: while a request waits, the open stream keeps the process alive.
   */
  #sweep: NodeJS.Timeout | undefined;
  /** The deadline `#sweep` is armed for. */
  #sweepAt = Number.POSITIVE_INFINITY;
  readonly #listeners = new Set<(event: RelayEvent) => void>();
  /** Events that arrived while nobody listened (e.g. right after hello), for the first subscriber. */
  #unclaimed: RelayEvent[] = [];
  readonly #closeListeners = new Set<() => void>();
  #hello: { resolve: () => void; reject: (error: RelayError) => void } | undefined;
  #nextRequestId = 1;
  /** Why the stream ended; set once. */
  #closedWith: RelayError | undefined;

  /**
   * Connects and says hello. Claim conflicts (a previous stream of the
   * same identity not yet gone) and transient connect errors are retried
   * for `retryWindowMs`; anything else fails at once with the relay's code.
   */
  static async connect(options: RelayClientOptions): Promise<RelayClient> {
    const windowMs = options.retryWindowMs ?? RELAY_CLIENT_DEFAULTS.retryWindowMs;
    const intervalMs = options.retryIntervalMs ?? RELAY_CLIENT_DEFAULTS.retryIntervalMs;
    const deadline = Date.now() + windowMs;
    for (;;) {
      let error: RelayError;
      let retryable: boolean;
      try {
        const socket = await dial(options.socketPath);
        const client = new RelayClient(options, socket);
        try {
          await client.#sayHello(options.helloTimeoutMs ?? RELAY_CLIENT_DEFAULTS.helloTimeoutMs);
          return client;
        } catch (err) {
          client.#socket.destroy();
          throw err;
        }
      } catch (err) {
        if (!(err instanceof RelayError)) throw err;
        error = err;
        retryable =
          err.code === "runtime_identity_claim_conflict" ||
          (err.code === "relay_unavailable" && TRANSIENT_CONNECT_ERRORS.has(String(err.details?.errno)));
      }
      if (!retryable || Date.now() + intervalMs > deadline) throw error;
      await delay(intervalMs);
    }
  }

  readonly #inbox: boolean;

  private constructor(options: RelayClientOptions, socket: Socket) {
    this.socketPath = options.socketPath;
    this.bundleName = options.bundleName;
    this.sessionId = options.sessionId;
    this.clientClass = options.clientClass;
    this.#inbox = options.inbox ?? true;
    this.#socket = socket;
    this.#decoder = new NdjsonDecoder({ maxFrameBytes: options.maxFrameBytes ?? RELAY_CLIENT_DEFAULTS.maxFrameBytes });
    this.#responseTimeoutMs = options.responseTimeoutMs ?? RELAY_CLIENT_DEFAULTS.responseTimeoutMs;
    if (options.onEvent !== undefined) this.#listeners.add(options.onEvent);
    socket.on("data", (chunk: Buffer) => this.#onData(chunk));
    socket.on("error", (err) => this.#teardown(unavailable(`relay stream failed: ${err.message}`, this.socketPath)));
    socket.on("close", () => this.#teardown(unavailable("the relay closed the stream", this.socketPath)));
  }

  /** True once the stream has ended (see {@link closeReason}). */
  get closed(): boolean {
    return this.#closedWith !== undefined;
  }

  /** Why the stream ended (the relay's last error, or `relay_unavailable`). */
  get closeReason(): RelayError | undefined {
    return this.#closedWith;
  }

  /** Sends a message; sync resolves with every target's outcome, async once it is accepted. */
  async send(input: RelaySendInput): Promise<RelayChatResponse> {
    const mode = input.deliveryMode;
    const ownTimeout = input.quiescenceTimeoutMs ?? input.acpTurnTimeoutMs;
    const timeoutMs =
      mode !== "async" && ownTimeout !== undefined
        ? Math.max(this.#responseTimeoutMs, ownTimeout + RELAY_CLIENT_DEFAULTS.responseSlackMs)
        : this.#responseTimeoutMs;
    // Undefined fields are left out of the frame by JSON.stringify, so no conditional spreads are needed.
    const response = await this.request(
      {
        operation: "chat",
        message: input.message,
        targets: input.targets === undefined ? [] : [...input.targets],
        broadcast: input.broadcast ?? false,
        delivery_mode: mode,
        quiescence_timeout_ms: input.quiescenceTimeoutMs,
        acp_turn_timeout_ms: input.acpTurnTimeoutMs,
        request_id: input.requestId,
      },
      timeoutMs,
    );
    return expectKind(response, "chat");
  }

  async list(): Promise<RelayListResponse> {
    return expectKind(await this.request({ operation: "list" }), "list");
  }

  /** Where messages this session sent are now (`unknown`: not known, or not sent by it). */
  async status(messageIds: readonly string[]): Promise<RelayStatusResponse> {
    return expectKind(await this.request({ operation: "status", message_ids: [...messageIds] }), "status");
  }

  async look(target: string, lines?: number): Promise<RelayLookResponse> {
    const request: RelayRequestInput = {
      operation: "look",
      target_session: target,
      ...(lines === undefined ? {} : { lines }),
    };
    return expectKind(await this.request(request), "look");
  }

  async raww(
    target: string,
    text: string,
    options: { noEnter?: boolean; requestId?: string } = {},
  ): Promise<RelayRawwResponse> {
    const request: RelayRequestInput = {
      operation: "raww",
      target_session: target,
      text,
      no_enter: options.noEnter ?? false,
      ...(options.requestId === undefined ? {} : { request_id: options.requestId }),
    };
    return expectKind(await this.request(request), "raww");
  }

  /**
   * Sends any request and resolves with its (non-error) response; an error
   * response rejects with a `RelayError` carrying the relay's code and details.
   */
  request(request: RelayRequestInput, timeoutMs: number = this.#responseTimeoutMs): Promise<RelayResponse> {
    if (this.#closedWith !== undefined) return Promise.reject(this.#closedWith);
    const requestId = `${this.sessionId}-${this.#nextRequestId++}`;
    return new Promise<RelayResponse>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      this.#pending.set(requestId, { resolve, reject, deadline, timeoutMs });
      this.#armSweep(deadline);
      this.#socket.write(encodeFrame({ frame: "request", request_id: requestId, request }));
    });
  }

  /**
   * Subscribes to pushed events; returns the unsubscribe function. The first
   * subscriber also gets the events that arrived while there was none.
   */
  onEvent(listener: (event: RelayEvent) => void): () => void {
    this.#listeners.add(listener);
    const missed = this.#unclaimed;
    this.#unclaimed = [];
    for (const event of missed) listener(event);
    return () => this.#listeners.delete(listener);
  }

  /** Pushed events (from now on, or missed ones if this is the first subscriber), buffered until read; ends when the stream closes. */
  events(): AsyncIterableIterator<RelayEvent> {
    const buffered: RelayEvent[] = [];
    let stopped = false;
    let wake: (() => void) | undefined;
    const notify = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const unsubscribe = this.onEvent((event) => {
      buffered.push(event);
      notify();
    });
    this.#closeListeners.add(notify);
    const stop = (): void => {
      stopped = true;
      unsubscribe();
      this.#closeListeners.delete(notify);
    };
    const iterator: AsyncIterableIterator<RelayEvent> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        for (;;) {
          const event = buffered.shift();
          if (event !== undefined) return { value: event, done: false };
          if (stopped || this.#closedWith !== undefined) {
            stop();
            return { value: undefined, done: true };
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
      return: async () => {
        stop();
        notify();
        return { value: undefined, done: true };
      },
    };
    return iterator;
  }

  /** Ends the stream; requests still waiting fail with `relay_unavailable`. */
  async close(): Promise<void> {
    if (this.#socket.destroyed) return;
    const closed = new Promise<void>((resolve) => this.#socket.once("close", () => resolve()));
    this.#socket.end(() => this.#socket.destroy());
    await closed;
  }

  #sayHello(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#hello = undefined;
        reject(
          new RelayError("relay_timeout", `no hello_ack from the relay within ${timeoutMs}ms`, {
            timeout_ms: timeoutMs,
          }),
        );
      }, timeoutMs);
      this.#hello = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#socket.write(
        encodeFrame({
          frame: "hello",
          schema_version: RELAY_SCHEMA_VERSION,
          bundle_name: this.bundleName,
          session_id: this.sessionId,
          client_class: this.clientClass,
          ...(this.#inbox ? {} : { inbox: false }),
        }),
      );
    });
  }

  #onData(chunk: Buffer): void {
    for (const decoded of this.#decoder.push(chunk)) {
      if (!decoded.ok) {
        this.#protocolError(decoded.error.message);
        return;
      }
      let value: unknown;
      try {
        value = JSON.parse(decoded.frame);
      } catch (err) {
        this.#protocolError(errorMessageOf(err));
        return;
      }
      const parsed = RelayServerFrame.safeParse(value);
      if (!parsed.success) {
        this.#protocolError(parsed.error.issues[0]?.message ?? "invalid frame");
        return;
      }
      this.#onFrame(parsed.data);
    }
  }

  #onFrame(frame: RelayServerFrame): void {
    switch (frame.frame) {
      case "hello_ack": {
        const hello = this.#hello;
        this.#hello = undefined;
        hello?.resolve();
        return;
      }
      case "event":
        if (this.#listeners.size === 0) {
          // Kept for the first subscriber: a UI's queued messages arrive right after hello_ack,
          // before the caller of connect() had a chance to subscribe.
          this.#unclaimed.push(frame.event);
          if (this.#unclaimed.length > RELAY_CLIENT_DEFAULTS.maxUnclaimedEvents) this.#unclaimed.shift();
        }
        for (const listener of [...this.#listeners]) listener(frame.event);
        return;
      case "response": {
        const pending = frame.request_id === undefined ? undefined : this.#pending.get(frame.request_id);
        if (pending !== undefined && frame.request_id !== undefined) {
          this.#pending.delete(frame.request_id);
          if (frame.response.kind === "error") pending.reject(fromWire(frame.response.error));
          else pending.resolve(frame.response);
          return;
        }
        if (frame.response.kind !== "error") return; // a late answer to a request that timed out
        const error = fromWire(frame.response.error);
        const hello = this.#hello;
        if (hello !== undefined) {
          this.#hello = undefined;
          hello.reject(error);
        } else if (frame.request_id === undefined) {
          // An error for no request ends the stream (frame too large, stale binding…): it is the reason.
          this.#teardown(error);
        }
        return;
      }
    }
  }

  /** Makes sure the sweep runs by `deadline` (an earlier sweep already does). */
  #armSweep(deadline: number): void {
    if (this.#sweepAt <= deadline) return;
    clearTimeout(this.#sweep);
    this.#sweepAt = deadline;
    this.#sweep = setTimeout(() => this.#sweepDue(), Math.max(0, Math.ceil(deadline - performance.now())));
    this.#sweep.unref();
  }

  /** Fails the requests whose deadline has passed, then re-arms for the earliest one left. */
  #sweepDue(): void {
    this.#sweep = undefined;
    this.#sweepAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [requestId, pending] of this.#pending) {
      if (pending.deadline > now) {
        next = Math.min(next, pending.deadline);
        continue;
      }
      this.#pending.delete(requestId);
      pending.reject(
        new RelayError("relay_timeout", `no answer from the relay within ${pending.timeoutMs}ms`, {
          request_id: requestId,
          timeout_ms: pending.timeoutMs,
        }),
      );
    }
    if (next !== Number.POSITIVE_INFINITY) this.#armSweep(next);
  }

  #protocolError(cause: string): void {
    this.#teardown(
      new RelayError("relay_unavailable", "the relay sent an unreadable frame", {
        cause,
        socket_path: this.socketPath,
      }),
    );
    this.#socket.destroy();
  }

  /** Fails everything still waiting, once. Nothing is ever re-sent. */
  #teardown(reason: RelayError): void {
    if (this.#closedWith !== undefined) return;
    this.#closedWith = reason;
    const hello = this.#hello;
    this.#hello = undefined;
    hello?.reject(reason);
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#sweepAt = Number.POSITIVE_INFINITY;
    for (const [id, pending] of this.#pending) {
      pending.reject(reason.code === "relay_unavailable" ? reason : unavailableAfter(reason, this.socketPath));
      this.#pending.delete(id);
    }
    for (const wake of [...this.#closeListeners]) wake();
  }
}

function dial(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    const onError = (err: NodeJS.ErrnoException): void => {
      socket.destroy();
      reject(
        new RelayError("relay_unavailable", `cannot connect to the relay at ${socketPath}: ${err.message}`, {
          socket_path: socketPath,
          ...(err.code === undefined ? {} : { errno: err.code }),
        }),
      );
    };
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

function unavailable(message: string, socketPath: string): RelayError {
  return new RelayError("relay_unavailable", message, { socket_path: socketPath });
}

/** A request in flight when the relay ended the stream with an error: the stream is gone, the error says why. */
function unavailableAfter(reason: RelayError, socketPath: string): RelayError {
  return new RelayError("relay_unavailable", `the relay closed the stream: ${reason.message}`, {
    socket_path: socketPath,
    relay_error: reason.toJSON(),
  });
}

function isRelayErrorCode(code: string): code is RelayErrorCode {
  return (RELAY_ERROR_CODES as readonly string[]).includes(code);
}

/** The relay's error as a `RelayError`; a code this library does not know is kept in `details.relay_code`. */
function fromWire(body: RelayErrorBody): RelayError {
  if (isRelayErrorCode(body.code)) return new RelayError(body.code, body.message, body.details);
  return new RelayError("runtime_internal", body.message, { ...body.details, relay_code: body.code });
}

function expectKind<K extends RelayResponse["kind"]>(
  response: RelayResponse,
  kind: K,
): Extract<RelayResponse, { kind: K }> {
  if (response.kind !== kind) {
    throw new RelayError("runtime_internal", `the relay answered ${response.kind} to a ${kind} request`, {
      expected: kind,
      received: response.kind,
    });
  }
  return response as Extract<RelayResponse, { kind: K }>;
}
