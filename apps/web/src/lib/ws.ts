// The WebSocket to srv: register on every (re)connect, req_id correlation, reconnect with backoff.
import type { CommandInput, Event } from "@agentmux/common-ipc";

export type ConnectionState = "connecting" | "connected" | "reconnecting";

export const WS_DEFAULTS = Object.freeze({
  firstRetryMs: 500,
  maxRetryMs: 5000,
  /** A request that hears nothing for this long fails (srv answers in milliseconds). */
  requestTimeoutMs: 30_000,
});

/** A command srv refused (an `error` event with its req_id), or one that got no answer. */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectionHooks {
  /** The socket opened and `register` went out; `reconnected` is false the first time only. */
  onOpen(reconnected: boolean): void;
  /** Every event srv sends, replies included (after the request they answer has seen it). */
  onEvent(ev: Event): void;
  onState(state: ConnectionState): void;
  /** A connect failed (or the socket was lost): another attempt is scheduled. */
  onRetry?(): void;
}

interface Pending {
  events: Event[];
  /** True when `ev` is the request's last event. */
  done: (ev: Event) => boolean;
  resolve: (events: Event[]) => void;
  reject: (err: RequestError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface RequestOptions {
  /** The event that completes the request (default: the first one carrying its req_id). */
  done?: (ev: Event) => boolean;
  timeoutMs?: number;
}

/** A pid for `register`: srv keys clients by pid, and a page has none of its own. */
function randomPid(): number {
  return 1_000_000_000 + Math.floor(Math.random() * 3_000_000_000);
}

export class Connection {
  #ws: WebSocket | null = null;
  #state: ConnectionState = "connecting";
  #retryMs: number = WS_DEFAULTS.firstRetryMs;
  #everOpened = false;
  #seq = 0;
  #retry: ReturnType<typeof setTimeout> | null = null;
  readonly #pending = new Map<string, Pending>();

  constructor(
    readonly url: string,
    private readonly hooks: ConnectionHooks,
  ) {}

  get state(): ConnectionState {
    return this.#state;
  }

  start(): void {
    if (this.#ws !== null) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.#scheduleRetry();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      this.#retryMs = WS_DEFAULTS.firstRetryMs;
      ws.send(JSON.stringify({ cmd: "register", kind: "renderer", pid: randomPid(), version: "web" }));
      const reconnected = this.#everOpened;
      this.#everOpened = true;
      this.#setState("connected");
      this.hooks.onOpen(reconnected);
    };
    ws.onmessage = (msg) => {
      if (typeof msg.data !== "string") return;
      let ev: Event;
      try {
        const parsed: unknown = JSON.parse(msg.data);
        if (typeof parsed !== "object" || parsed === null || typeof (parsed as { event?: unknown }).event !== "string")
          return;
        ev = parsed as Event;
      } catch {
        return;
      }
      this.#settle(ev);
      this.hooks.onEvent(ev);
    };
    ws.onclose = () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.#failAll();
      this.#scheduleRetry();
    };
    // A failed connect is followed by `close`: the retry is scheduled there.
    ws.onerror = () => {};
  }

  /** A new req_id (unique for the page's life, so a late reply never meets the wrong request). */
  nextReqId(): string {
    this.#seq += 1;
    return `w${this.#seq}`;
  }

  /** Sends a command as it is; false when there is no open socket. */
  send(cmd: CommandInput): boolean {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(cmd));
    return true;
  }

  /**
   * Sends `cmd` with a fresh req_id and resolves with the events that carry it, up to the one
   * `done` accepts; rejects on an `error` with that req_id, on a lost connection or a timeout.
   */
  request(cmd: CommandInput, options: RequestOptions = {}): Promise<Event[]> {
    const reqId = this.nextReqId();
    return new Promise((resolve, reject) => {
      if (!this.send({ ...cmd, req_id: reqId } as CommandInput)) {
        reject(new RequestError("disconnected", "not connected to srv"));
        return;
      }
      const timer = setTimeout(() => {
        this.#pending.delete(reqId);
        reject(new RequestError("timeout", `srv did not answer ${cmd.cmd}`));
      }, options.timeoutMs ?? WS_DEFAULTS.requestTimeoutMs);
      this.#pending.set(reqId, { events: [], done: options.done ?? (() => true), resolve, reject, timer });
    });
  }

  #settle(ev: Event): void {
    const reqId = ev.req_id;
    if (reqId === undefined) return;
    const p = this.#pending.get(reqId);
    if (p === undefined) return;
    if (ev.event === "error") {
      this.#pending.delete(reqId);
      clearTimeout(p.timer);
      p.reject(new RequestError(ev.code, ev.message));
      return;
    }
    p.events.push(ev);
    if (!p.done(ev)) return;
    this.#pending.delete(reqId);
    clearTimeout(p.timer);
    p.resolve(p.events);
  }

  #failAll(): void {
    for (const [reqId, p] of this.#pending) {
      this.#pending.delete(reqId);
      clearTimeout(p.timer);
      p.reject(new RequestError("disconnected", "the connection to srv was lost"));
    }
  }

  #scheduleRetry(): void {
    this.#setState("reconnecting");
    if (this.#retry !== null) return;
    this.hooks.onRetry?.();
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, WS_DEFAULTS.maxRetryMs);
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.start();
    }, wait);
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.hooks.onState(state);
  }
}
