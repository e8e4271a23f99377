/**
 * The MCP server's one stream to its bundle's relay, opened lazily.
 *
 * The server must start, and answer `tools/list` and `help`, whether or not
 * the relay is up (relay.md §5: the relay is never needed at startup), so
 * the stream is opened by the first call that needs it, and opened again by
 * the first call after it broke. Calls made while a connect is under way
 * share it.
 *
 * What is never done: sending a request again. A request written on a
 * stream that then broke fails with `relay_unavailable` (the relay may well
 * have acted on it: a send may have been delivered), and only the *next*
 * call reconnects. `RelayClient` keeps that promise for the stream; this
 * module keeps it across streams by never retrying a call.
 */
import { RelayClient, type RelayClientOptions, RelayError } from "@agentmux/relay";

export type RelayConnect = (options: RelayClientOptions) => Promise<RelayClient>;

/** `event` names what happened; `details` are plain facts (no message bodies). */
export type McpLog = (event: string, details?: Record<string, unknown>) => void;

export interface RelayLinkOptions {
  readonly socketPath: string;
  readonly bundleName: string;
  readonly sessionId: string;
  /** How to open a stream (default `RelayClient.connect`). */
  readonly connect?: RelayConnect;
  /** Passed to the client; its defaults otherwise (`RELAY_CLIENT_DEFAULTS`). */
  readonly helloTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  readonly retryWindowMs?: number;
  readonly log?: McpLog;
}

export class RelayLink {
  readonly #options: RelayLinkOptions;
  readonly #connect: RelayConnect;
  readonly #log: McpLog;
  #client: RelayClient | undefined;
  #connecting: Promise<RelayClient> | undefined;
  #closed = false;

  constructor(options: RelayLinkOptions) {
    this.#options = options;
    this.#connect = options.connect ?? ((o) => RelayClient.connect(o));
    this.#log = options.log ?? (() => {});
  }

  /** The open stream, or a new one (rejects with the relay's code, `relay_unavailable` when nobody answers). */
  client(): Promise<RelayClient> {
    if (this.#closed) return Promise.reject(new RelayError("relay_unavailable", "the MCP server is shutting down"));
    const current = this.#client;
    if (current !== undefined && !current.closed) return Promise.resolve(current);
    if (current !== undefined) {
      this.#client = undefined;
      this.#log("mcp.relay.lost", { reason: current.closeReason?.code });
    }
    this.#connecting ??= this.#open().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Ends the stream (calls still waiting fail with `relay_unavailable`). */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#connecting;
    if (pending !== undefined) await pending.catch(() => undefined);
    const client = this.#client;
    this.#client = undefined;
    await client?.close();
  }

  async #open(): Promise<RelayClient> {
    const o = this.#options;
    const client = await this.#connect({
      socketPath: o.socketPath,
      bundleName: o.bundleName,
      sessionId: o.sessionId,
      clientClass: "agent",
      ...(o.helloTimeoutMs === undefined ? {} : { helloTimeoutMs: o.helloTimeoutMs }),
      ...(o.responseTimeoutMs === undefined ? {} : { responseTimeoutMs: o.responseTimeoutMs }),
      ...(o.retryWindowMs === undefined ? {} : { retryWindowMs: o.retryWindowMs }),
    }).catch((err: unknown) => {
      this.#log("mcp.relay.connect_failed", {
        code: err instanceof RelayError ? err.code : "runtime_internal",
        message: err instanceof Error ? err.message : String(err),
      });
      throw err;
    });
    if (this.#closed) {
      // Shut down while connecting: nobody will use this stream.
      await client.close();
      throw new RelayError("relay_unavailable", "the MCP server is shutting down");
    }
    this.#client = client;
    this.#log("mcp.relay.connected", { socket_path: o.socketPath });
    return client;
  }
}
