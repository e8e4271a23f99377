import { readFileSync } from "node:fs";
import { RelayClient } from "@agentmux/relay/client";
import { EXIT, LauncherError } from "../errors.js";
import { readRunFile } from "../run-file.js";
import { table, type VerbContext } from "./common.js";

/** Who a person is on srv's relay: its UI session. */
const HUMAN = "human";

async function withRelay<T>(ctx: VerbContext, fn: (relay: RelayClient) => Promise<T>): Promise<T> {
  const run = readRunFile(ctx.dataDir);
  if (run === undefined)
    throw new LauncherError(
      "not_running",
      `agentmux is not running on ${ctx.dataDir}; start it with: agentmux start --detach`,
      EXIT.notRunning,
    );
  if (!run.relay) throw new LauncherError("srv_error", "this srv hosts no relay (see its log for why)", EXIT.failed);
  let relay: RelayClient;
  try {
    relay = await RelayClient.connect({
      socketPath: run.relay,
      bundleName: run.instance,
      sessionId: HUMAN,
      clientClass: "ui",
      // A command, not an inbox: messages for the person stay queued for whatever reads them.
      inbox: false,
    });
  } catch (err) {
    throw relayError(err, true);
  }
  try {
    return await fn(relay);
  } catch (err) {
    throw relayError(err, false);
  } finally {
    relay.close();
  }
}

/**
 * A relay error as the CLI reports it: a relay that cannot be reached at connect time is "not
 * running" (exit 3); anything after the request went out (a timeout, a refusal) is an error
 * answer (exit 1), since the request may have been carried out.
 */
function relayError(err: unknown, connecting: boolean): LauncherError {
  if (err instanceof LauncherError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof code !== "string") return new LauncherError("srv_error", message, EXIT.failed);
  const unreachable = connecting && code === "relay_unavailable";
  return new LauncherError(
    unreachable ? "not_running" : "srv_error",
    `${code}: ${message}`,
    unreachable ? EXIT.notRunning : EXIT.failed,
  );
}

export interface SendOptions {
  to: string[];
  message?: string;
  /** Wait until each target took the message (sync delivery), rather than until it is queued. */
  wait: boolean;
}

/** Sends a message (from `--message`, or stdin with `-`) to agents, as the person at the terminal. */
export async function send(ctx: VerbContext, options: SendOptions): Promise<void> {
  const message = options.message === "-" ? readFileSync(0, "utf8").replace(/\n$/, "") : options.message;
  if (message === undefined || message.trim() === "")
    throw new LauncherError("usage", "nothing to send: give --message TEXT, or --message - to read stdin", EXIT.usage);
  await withRelay(ctx, async (relay) => {
    const sent = await relay.send({ message, targets: options.to, deliveryMode: options.wait ? "sync" : "async" });
    if (ctx.json) return ctx.out(JSON.stringify(sent));
    for (const r of sent.results)
      ctx.out(`${r.target_session}: ${r.outcome}${r.reason ? ` (${r.reason})` : ""}  message ${r.message_id}`);
    if (sent.status === "failure" || sent.status === "partial") process.exitCode = EXIT.failed;
  });
}

/** The sessions messages can be sent to. */
export async function list(ctx: VerbContext): Promise<void> {
  await withRelay(ctx, async (relay) => {
    const listed = await relay.list();
    if (ctx.json) return ctx.out(JSON.stringify(listed));
    const rows = listed.bundle.sessions.map((s) => [s.id, s.name ?? "", s.transport]);
    ctx.out(rows.length === 0 ? "no agents to message yet" : table([["NAME", "DISPLAY", "TRANSPORT"], ...rows]));
  });
}

/** What an agent shows now: the last lines of its transcript, readable. */
export async function look(ctx: VerbContext, name: string, lines: number): Promise<void> {
  await withRelay(ctx, async (relay) => {
    const seen = await relay.look(name, lines);
    if (ctx.json) return ctx.out(JSON.stringify(seen));
    const text =
      seen.snapshot_format === "lines" ? (seen.snapshot_lines ?? []) : (seen.snapshot_entries ?? []).map(String);
    ctx.out(text.length === 0 ? `${name} has said nothing yet` : text.join("\n"));
  });
}

/** Where messages are now (the ids `send` printed). */
export async function sent(ctx: VerbContext, messageIds: string[]): Promise<void> {
  await withRelay(ctx, async (relay) => {
    const status = await relay.status(messageIds);
    if (ctx.json) return ctx.out(JSON.stringify(status));
    const rows = status.messages.map((m) => [
      m.message_id,
      m.target_session ?? "",
      m.state,
      [m.reason_code, m.reason].filter(Boolean).join(": "),
    ]);
    ctx.out(table([["MESSAGE", "TO", "STATE", "WHY"], ...rows]));
  });
}
