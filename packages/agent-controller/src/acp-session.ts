import type { ChildProcess } from "node:child_process";
import { Writable } from "node:stream";
import {
  type ClientConnection,
  client,
  ndJsonStream,
  type RequestPermissionRequest,
  type RequestPermissionResponse,
} from "@agentclientprotocol/sdk";
import * as z from "zod/mini";
import {
  type AcpProvider,
  classifyErrorText,
  type PermissionDecision,
  type PermissionRequest,
  type Usage,
} from "./providers/types.js";
import { Session, type SessionOptions } from "./session.js";

/** The ACP version this controller speaks; an agent that answers another one is refused. */
export const ACP_PROTOCOL_VERSION = 1;

// What agents report of a turn's cost (loose: unknown fields pass, only these are checked).
const count = () => z.optional(z.nullable(z.number().check(z.nonnegative())));
/** `session/prompt`'s `usage` (ACP, unstable): the turn's tokens. */
const PromptUsage = z.looseObject({
  inputTokens: count(),
  outputTokens: count(),
  cachedReadTokens: count(),
  cachedWriteTokens: count(),
});
/** Gemini CLI's `_meta.quota.token_count` on the same answer. */
const GeminiQuota = z.looseObject({
  quota: z.looseObject({ token_count: z.looseObject({ input_tokens: count(), output_tokens: count() }) }),
});
/** A `usage_update` session update: its `cost` is the session's running total. */
const CostUpdate = z.looseObject({
  sessionUpdate: z.literal("usage_update"),
  cost: z.looseObject({ amount: z.number().check(z.nonnegative()), currency: z.string() }),
});

/** The turn's usage an ACP agent reported with its answer to `session/prompt`, if any. */
function acpTurnUsage(response: { usage?: unknown; _meta?: unknown }): Omit<Usage, "cost_usd"> | null {
  const usage = PromptUsage.safeParse(response.usage);
  if (usage.success && (usage.data.inputTokens != null || usage.data.outputTokens != null)) {
    return {
      input_tokens: usage.data.inputTokens ?? 0,
      output_tokens: usage.data.outputTokens ?? 0,
      cache_read_input_tokens: usage.data.cachedReadTokens ?? 0,
      cache_creation_input_tokens: usage.data.cachedWriteTokens ?? 0,
    };
  }
  const quota = GeminiQuota.safeParse(response._meta);
  if (!quota.success) return null;
  const tokens = quota.data.quota.token_count;
  return {
    input_tokens: tokens.input_tokens ?? 0,
    output_tokens: tokens.output_tokens ?? 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
  };
}

interface Pending {
  request: PermissionRequest;
  options: RequestPermissionRequest["options"];
  resolve: (response: RequestPermissionResponse) => void;
}

/**
 * A session with an Agent Client Protocol agent: JSON-RPC over the child's stdio through the
 * official SDK. `initialize` → `session/new` (or `session/load` to resume) → one
 * `session/prompt` per user turn; `session/cancel` interrupts; `session/request_permission`
 * becomes a `needsInput` request answered with `respond()`.
 */
export class AcpSession extends Session {
  readonly #provider: AcpProvider;
  #connection: ClientConnection | null = null;
  #input: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** The ACP session id, once `session/new` or `session/load` answered. */
  #acpSession: string | null = null;
  #prompting = false;
  #pending = new Map<string, Pending>();
  #asks = 0;
  /** The running cost the agent last reported (`usage_update`), in dollars. */
  #costTotal = 0;

  constructor(options: SessionOptions & { provider: AcpProvider }) {
    super(options);
    this.#provider = options.provider;
  }

  protected args(): string[] {
    return this.#provider.args();
  }

  protected attached(child: ChildProcess): void {
    this.#acpSession = null;
    this.#prompting = false;
    const input = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#input = controller;
      },
    });
    const stdin = child.stdin as NonNullable<ChildProcess["stdin"]>;
    this.#costTotal = 0; // a new process reports its own running total
    const app = client({ name: "agentmux" })
      .onNotification("session/update", (ctx) => {
        // Updates are in the transcript already (every stdout line is); only the running cost
        // (in dollars) is kept, for the turn's usage.
        const cost = CostUpdate.safeParse((ctx.params as { update?: unknown }).update);
        if (cost.success && cost.data.cost.currency === "USD") this.#costTotal = cost.data.cost.amount;
      })
      .onRequest("session/request_permission", (ctx) => this.#ask(ctx.params));
    const connection = app.connect(ndJsonStream(Writable.toWeb(stdin) as WritableStream<Uint8Array>, input));
    this.#connection = connection;
    child.once("close", () => {
      this.#input?.close();
      this.#input = null;
      connection.close();
      for (const p of this.#pending.values()) p.resolve({ outcome: { outcome: "cancelled" } });
      this.#pending.clear();
    });
    void this.#open(connection);
  }

  async #open(connection: ClientConnection): Promise<void> {
    try {
      const init = await connection.agent.request("initialize", {
        protocolVersion: ACP_PROTOCOL_VERSION,
        clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      });
      if (init.protocolVersion !== ACP_PROTOCOL_VERSION)
        throw new Error(`the agent speaks ACP version ${init.protocolVersion}, not ${ACP_PROTOCOL_VERSION}`);
      const cwd = this.options.cwd;
      const known = this.sessionId;
      if (known !== null && init.agentCapabilities?.loadSession) {
        try {
          await connection.agent.request("session/load", { sessionId: known, cwd, mcpServers: [] });
          this.#opened(known, "resumed", known);
          return;
        } catch (err) {
          this.warn(`session/load ${known} failed (${errorText(err)}); starting a new session`);
        }
      }
      const created = await connection.agent.request("session/new", { cwd, mcpServers: [] });
      this.#opened(created.sessionId, known === null ? null : "fresh", known);
    } catch (err) {
      if (connection.signal.aborted) return;
      this.update({ fault: { kind: "error", fatal: true, message: `ACP handshake failed: ${errorText(err)}` } });
      this.child?.stdin?.end();
    }
  }

  #opened(sessionId: string, outcome: "resumed" | "fresh" | null, attempted: string | null): void {
    this.#acpSession = sessionId;
    this.adoptSessionId(sessionId);
    if (outcome !== null) this.recordOutcome(outcome, attempted, sessionId);
    this.flush();
  }

  #ask(params: RequestPermissionRequest): Promise<RequestPermissionResponse> {
    const request: PermissionRequest = {
      requestId: `acp-permission-${++this.#asks}`,
      tool: params.toolCall.title ?? params.toolCall.kind ?? params.toolCall.toolCallId,
      input: params.toolCall.rawInput ?? null,
    };
    return new Promise((resolve) => {
      this.#pending.set(request.requestId, { request, options: params.options, resolve });
      this.update({ needsInput: [...this.status.needsInput, request] });
    });
  }

  protected ready(): boolean {
    return this.#acpSession !== null && !this.#prompting && this.#connection !== null;
  }

  protected deliver(text: string): void {
    const connection = this.#connection;
    const sessionId = this.#acpSession;
    if (connection === null || sessionId === null) return;
    this.#prompting = true;
    this.update({ turnActive: true, fault: null });
    connection.agent.request("session/prompt", { sessionId, prompt: [{ type: "text", text }] }).then(
      (response) => {
        const fault =
          response.stopReason === "refusal"
            ? { kind: "error" as const, fatal: false, message: "the agent refused the prompt" }
            : null;
        this.#turnEnded(fault, acpTurnUsage(response as { usage?: unknown; _meta?: unknown }));
      },
      (err: unknown) => {
        if (connection.signal.aborted) return;
        this.#turnEnded(classifyErrorText(errorText(err)));
      },
    );
  }

  #turnEnded(fault: ReturnType<typeof classifyErrorText> | null, usage: Omit<Usage, "cost_usd"> | null = null): void {
    this.#prompting = false;
    // The cost an agent reports is the session's running total: the turn's is what it grew by.
    const spent = usage === null ? {} : this.turnUsage({ ...usage, cost_usd: this.#costTotal }, true);
    this.update({ turnActive: false, needsInput: [], fault, ...spent });
    this.flush();
  }

  protected interruptTurn(): boolean {
    const connection = this.#connection;
    if (connection === null || this.#acpSession === null) return false;
    // Cancelling answers the agent's open permission requests with "cancelled" (the protocol asks this).
    for (const p of this.#pending.values()) p.resolve({ outcome: { outcome: "cancelled" } });
    this.#pending.clear();
    void connection.agent.notify("session/cancel", { sessionId: this.#acpSession }).catch(() => {});
    return true;
  }

  protected answer(request: PermissionRequest, decision: PermissionDecision): boolean {
    const pending = this.#pending.get(request.requestId);
    if (!pending) return false;
    const kinds = decision.behavior === "allow" ? ["allow_once", "allow_always"] : ["reject_once", "reject_always"];
    const option = kinds.map((k) => pending.options.find((o) => o.kind === k)).find((o) => o !== undefined);
    this.#pending.delete(request.requestId);
    pending.resolve(
      option ? { outcome: { outcome: "selected", optionId: option.optionId } } : { outcome: { outcome: "cancelled" } },
    );
    return true;
  }

  protected line(data: Buffer, whole: boolean): void {
    this.emit(data);
    // Only whole lines are protocol; a cut piece of an over-long line would only confuse the parser.
    if (whole) this.#input?.enqueue(data);
  }

  protected exited(): boolean {
    this.#connection = null;
    this.#acpSession = null;
    this.#prompting = false;
    return false;
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null && "message" in err) return String(err.message);
  return String(err);
}
