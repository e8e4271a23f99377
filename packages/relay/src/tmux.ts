/**
 * Delivery into tmux panes (relay.md §3.5 "tmux"). A coding agent running in
 * a pane reads its input from the terminal, so a message can only be typed
 * into it, and typing while the agent is still printing (or while the
 * operator is scrolling in copy mode) garbles both. Hence the gate: the pane
 * must look the same in two captures a quiet window apart, no operator may be
 * in a mode or a key table, and, when configured, the agent's prompt must be
 * showing. Only then is the envelope typed in, as literal keys.
 */
import { execFile } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import { promisify } from "node:util";
import { RelayError } from "./errors.js";
import type { Delivery, DeliveryOutcome, LookSnapshot, Transport } from "./transport.js";

/** How the configuration says to recognise one session's pane and its prompt. */
export interface TmuxTarget {
  /** The tmux session name (the relay session id). */
  readonly tmuxSession: string;
  /** Matched against the last `promptInspectLines` non-blank lines, joined with `\n`. */
  readonly promptRegex?: RegExp;
  /** How many non-blank lines the prompt regex sees (default 3, clamped to 1..40). */
  readonly promptInspectLines?: number;
  /** When set, the cursor must sit in this column for the prompt to count as idle. */
  readonly promptIdleColumn?: number;
}

/** Runs tmux; rejects when it cannot be run or exits non-zero. Injectable so tests and hosts can wrap it. */
export type TmuxExec = (
  file: string,
  args: readonly string[],
  options: { readonly signal?: AbortSignal },
) => Promise<{ readonly stdout: string }>;

export interface TmuxTransportOptions {
  /** The tmux program (a fake script in tests). */
  readonly tmuxCommand?: string;
  /** The bundle's own tmux server socket, passed as `tmux -S <path>`. */
  readonly socketPath: string;
  /** Looked up at every delivery, so configuration changes apply to the next message. */
  readonly resolveTarget: (session: string) => TmuxTarget | undefined;
  /** Two captures this far apart must match before anything is typed. */
  readonly quietWindowMs?: number;
  /** How long a sync delivery waits for the pane by default (async waits forever unless the delivery says). */
  readonly syncTimeoutMs?: number;
  readonly exec?: TmuxExec;
  /** The clock the timeouts are measured with. */
  readonly now?: () => number;
}

/** Defaults of the options, in one place. */
export const TMUX_DEFAULTS = Object.freeze({
  tmuxCommand: "tmux",
  quietWindowMs: 750,
  syncTimeoutMs: 30_000,
  promptInspectLines: 3,
  promptInspectLinesMax: 40,
  /** Lines of scrollback each quiescence capture compares. */
  captureLines: 200,
  /** The most bytes one `send-keys -l` argument carries. */
  sendChunkBytes: 1024,
});

/** tmux output can be large (200 lines of wide characters); the default 1 MiB is not a limit we want to hit. */
const EXEC_MAX_BUFFER = 16 * 1024 * 1024;

const execFileAsync = promisify(execFile);

const defaultExec: TmuxExec = async (file, args, options) => {
  const { stdout } = await execFileAsync(file, [...args], {
    encoding: "utf8",
    maxBuffer: EXEC_MAX_BUFFER,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { stdout };
};

/** The pane state one quiescence capture sees. */
interface PaneSnapshot {
  readonly paneId: string;
  readonly windowActivity: string;
  readonly inMode: boolean;
  readonly cursorX: number;
  readonly text: string;
  /** `#{client_key_table}` of every client attached to the session. */
  readonly keyTables: readonly string[];
}

/** Why the gate stayed shut on the last look; the timeout reason names the last one. */
type Blocker =
  | { readonly kind: "activity" }
  | { readonly kind: "operator" }
  | { readonly kind: "prompt"; readonly detail: string };

/** A target that is not (or no longer) there; ends the delivery as `failed`. */
class TargetUnavailable extends Error {}

/** The delivery's signal fired; ends it as `dropped_on_shutdown`. */
class Aborted extends Error {}

/** Format of the one display-message that resolves the active pane and reads its state. */
const PANE_FORMAT = "#{pane_id}\t#{window_activity}\t#{pane_in_mode}\t#{cursor_x}";

export class TmuxTransport implements Transport {
  readonly kind = "tmux";
  readonly #tmux: string;
  readonly #socketPath: string;
  readonly #resolveTarget: (session: string) => TmuxTarget | undefined;
  readonly #quietWindowMs: number;
  readonly #syncTimeoutMs: number;
  readonly #exec: TmuxExec;
  readonly #now: () => number;
  /** Deliveries to one session wait and type one after another, so the second sees the pane the first left. */
  readonly #turns = new KeyedQueue();
  /** Typing into one session (delivery or raww) is never interleaved, so two texts cannot mix chunk by chunk. */
  readonly #writes = new KeyedQueue();

  constructor(options: TmuxTransportOptions) {
    this.#tmux = options.tmuxCommand ?? TMUX_DEFAULTS.tmuxCommand;
    this.#socketPath = options.socketPath;
    this.#resolveTarget = options.resolveTarget;
    this.#quietWindowMs = options.quietWindowMs ?? TMUX_DEFAULTS.quietWindowMs;
    this.#syncTimeoutMs = options.syncTimeoutMs ?? TMUX_DEFAULTS.syncTimeoutMs;
    this.#exec = options.exec ?? defaultExec;
    this.#now = options.now ?? Date.now;
  }

  async deliver(delivery: Delivery): Promise<DeliveryOutcome> {
    const startedAt = this.#now();
    const timeoutMs = delivery.quiescenceTimeoutMs ?? (delivery.mode === "sync" ? this.#syncTimeoutMs : undefined);
    const deadline = timeoutMs === undefined ? undefined : startedAt + timeoutMs;
    const target = this.#resolveTarget(delivery.targetSession);
    if (target === undefined) {
      return unavailable(`no tmux target is configured for session ${delivery.targetSession}`);
    }
    const turn = this.#turns.acquire(target.tmuxSession);
    try {
      const gotTurn = await waitBounded(turn.ready, delivery.signal, deadline, this.#now);
      if (gotTurn === "aborted") return droppedOnShutdown();
      if (gotTurn === "timeout") return timedOut(timeoutMs, { kind: "activity" });
      const gate = await this.#waitUntilReady(target, delivery.signal, deadline, timeoutMs);
      if (gate.kind !== "ready") return gate.outcome;
      // Past this point the text goes in whole: stopping half way would leave a fragment at the prompt.
      try {
        await this.#type(target.tmuxSession, gate.paneId, delivery.envelope, true);
      } catch (err) {
        return {
          outcome: "failed",
          reasonCode: "runtime_transport_write_failed",
          reason: `failed to type into tmux pane ${gate.paneId}: ${describe(err)}`,
        };
      }
      return { outcome: "delivered" };
    } catch (err) {
      if (err instanceof Aborted || delivery.signal.aborted) return droppedOnShutdown();
      if (err instanceof TargetUnavailable) return unavailable(err.message);
      return unavailable(`tmux failed for session ${target.tmuxSession}: ${describe(err)}`);
    } finally {
      turn.release();
    }
  }

  async look(targetSession: string, lines: number): Promise<LookSnapshot> {
    const target = this.#targetOrThrow(targetSession);
    const paneId = await this.#paneOrThrow(target.tmuxSession);
    let captured: string[];
    try {
      captured = await this.#capture(paneId, lines, undefined);
    } catch (err) {
      throw new RelayError("runtime_target_unavailable", `failed to capture tmux pane ${paneId}: ${describe(err)}`, {
        target_session: targetSession,
      });
    }
    // The rows below the cursor of a short-lived pane are empty padding, not output.
    return { format: "lines", lines: dropTrailingBlank(captured).slice(-lines) };
  }

  async raww(targetSession: string, text: string, options: { noEnter: boolean }): Promise<void> {
    const target = this.#targetOrThrow(targetSession);
    const paneId = await this.#paneOrThrow(target.tmuxSession);
    try {
      await this.#type(target.tmuxSession, paneId, text, !options.noEnter);
    } catch (err) {
      throw new RelayError(
        "runtime_transport_write_failed",
        `failed to type into tmux pane ${paneId} of session ${target.tmuxSession}: ${describe(err)}`,
        { target_session: targetSession },
      );
    }
  }

  /** The quiescence loop: resolves with the pane to type into, or with the outcome that ends the delivery. */
  async #waitUntilReady(
    target: TmuxTarget,
    signal: AbortSignal,
    deadline: number | undefined,
    timeoutMs: number | undefined,
  ): Promise<{ kind: "ready"; paneId: string } | { kind: "ended"; outcome: DeliveryOutcome }> {
    const prompt = promptCheck(target);
    let before = await this.#snapshot(target.tmuxSession, signal);
    for (;;) {
      await this.#quietWindow(signal);
      const after = await this.#snapshot(target.tmuxSession, signal);
      const blocker = gateBlocker(before, after, prompt);
      if (blocker === undefined) return { kind: "ready", paneId: after.paneId };
      if (deadline !== undefined && this.#now() >= deadline) {
        return { kind: "ended", outcome: timedOut(timeoutMs, blocker) };
      }
      before = after;
    }
  }

  async #quietWindow(signal: AbortSignal): Promise<void> {
    try {
      await delay(this.#quietWindowMs, undefined, { signal });
    } catch {
      throw new Aborted();
    }
  }

  /** Pane id, activity, mode, cursor, the last lines and the clients' key tables, read in that order. */
  async #snapshot(tmuxSession: string, signal: AbortSignal): Promise<PaneSnapshot> {
    const state = await this.#paneState(tmuxSession, signal);
    const lines = await this.#capture(state.paneId, TMUX_DEFAULTS.captureLines, signal);
    const clients = await this.#run(
      ["list-clients", "-t", exactSession(tmuxSession), "-F", "#{client_key_table}"],
      signal,
    );
    return {
      ...state,
      text: lines.slice(-TMUX_DEFAULTS.captureLines).join("\n"),
      keyTables: splitLines(clients).filter((line) => line !== ""),
    };
  }

  async #paneState(
    tmuxSession: string,
    signal: AbortSignal | undefined,
  ): Promise<Omit<PaneSnapshot, "text" | "keyTables">> {
    const out = await this.#run(["display-message", "-p", "-t", exactPane(tmuxSession), PANE_FORMAT], signal);
    const [paneId = "", windowActivity = "", inMode = "", cursorX = ""] = (splitLines(out)[0] ?? "").split("\t");
    // display-message prints an empty expansion (and exits 0) when the target does not exist.
    if (!/^%\d+$/.test(paneId)) throw new TargetUnavailable(`tmux session ${tmuxSession} is not running`);
    return { paneId, windowActivity, inMode: inMode === "1", cursorX: Number.parseInt(cursorX, 10) };
  }

  async #capture(paneId: string, lines: number, signal: AbortSignal | undefined): Promise<string[]> {
    const out = await this.#run(["capture-pane", "-p", "-t", paneId, "-S", `-${lines}`], signal);
    return splitLines(out);
  }

  /** Types `text` as literal keys, then Enter as a key of its own (never inside the literal text). */
  async #type(tmuxSession: string, paneId: string, text: string, enter: boolean): Promise<void> {
    const write = this.#writes.acquire(tmuxSession);
    try {
      await write.ready;
      for (const chunk of splitUtf8Chunks(text, TMUX_DEFAULTS.sendChunkBytes)) {
        await this.#run(["send-keys", "-t", paneId, "-l", "--", escapeTmuxArgument(chunk)], undefined);
      }
      if (enter) await this.#run(["send-keys", "-t", paneId, "Enter"], undefined);
    } finally {
      write.release();
    }
  }

  #targetOrThrow(targetSession: string): TmuxTarget {
    const target = this.#resolveTarget(targetSession);
    if (target === undefined) {
      throw new RelayError("runtime_target_unavailable", `no tmux target is configured for session ${targetSession}`, {
        target_session: targetSession,
      });
    }
    return target;
  }

  async #paneOrThrow(tmuxSession: string): Promise<string> {
    try {
      return (await this.#paneState(tmuxSession, undefined)).paneId;
    } catch (err) {
      throw new RelayError("runtime_target_unavailable", describe(err), { tmux_session: tmuxSession });
    }
  }

  async #run(args: readonly string[], signal: AbortSignal | undefined): Promise<string> {
    if (signal?.aborted) throw new Aborted();
    try {
      const { stdout } = await this.#exec(this.#tmux, ["-S", this.#socketPath, ...args], signal ? { signal } : {});
      return stdout;
    } catch (err) {
      if (signal?.aborted) throw new Aborted();
      throw err;
    }
  }
}

/**
 * Splits `text` into pieces of at most `maxBytes` UTF-8 bytes, each ending on
 * a code point boundary (a surrogate pair is one code point), so no piece is
 * invalid UTF-8 on its own. A piece that ends in `;` is sized for the escape
 * `escapeTmuxArgument` adds, so the argument tmux receives stays in budget.
 */
export function splitUtf8Chunks(text: string, maxBytes: number = TMUX_DEFAULTS.sendChunkBytes): string[] {
  const chunks: string[] = [];
  let current = "";
  let bytes = 0;
  for (const codePoint of text) {
    const size = Buffer.byteLength(codePoint, "utf8");
    const escapeBytes = codePoint === ";" ? 1 : 0;
    if (current !== "" && bytes + size + escapeBytes > maxBytes) {
      chunks.push(current);
      current = "";
      bytes = 0;
    }
    current += codePoint;
    bytes += size;
  }
  if (current !== "") chunks.push(current);
  return chunks;
}

/**
 * tmux reads an argument that ends in `;` as "end of this command" and drops
 * the `;`; `\;` at the end stands for a literal `;`. So a trailing `;` is
 * written `\;` (and tmux gives back exactly the original text).
 */
export function escapeTmuxArgument(arg: string): string {
  return arg.endsWith(";") ? `${arg.slice(0, -1)}\\;` : arg;
}

/** `=name:` matches the session named exactly `name` (a bare name would also match a prefix), then its active pane. */
function exactPane(tmuxSession: string): string {
  return `=${tmuxSession}:`;
}

function exactSession(tmuxSession: string): string {
  return `=${tmuxSession}`;
}

/** What keeps the gate shut after comparing two snapshots, or undefined when the text may go in. */
function gateBlocker(
  before: PaneSnapshot,
  after: PaneSnapshot,
  prompt: (snapshot: PaneSnapshot) => string | undefined,
): Blocker | undefined {
  if (before.paneId !== after.paneId || before.windowActivity !== after.windowActivity || before.text !== after.text) {
    return { kind: "activity" };
  }
  if (after.inMode || after.keyTables.some((table) => table !== "root")) return { kind: "operator" };
  const mismatch = prompt(after);
  return mismatch === undefined ? undefined : { kind: "prompt", detail: mismatch };
}

/** The prompt-readiness test of one target: undefined when ready, else what did not match. */
function promptCheck(target: TmuxTarget): (snapshot: PaneSnapshot) => string | undefined {
  const { promptRegex, promptIdleColumn } = target;
  const inspect = Math.min(
    Math.max(1, Math.trunc(target.promptInspectLines ?? TMUX_DEFAULTS.promptInspectLines)),
    TMUX_DEFAULTS.promptInspectLinesMax,
  );
  // A global or sticky regex keeps state between tests; a copy without those flags does not.
  const regex =
    promptRegex === undefined ? undefined : new RegExp(promptRegex.source, promptRegex.flags.replace(/[gy]/g, ""));
  return (snapshot) => {
    if (regex !== undefined) {
      const tail = snapshot.text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .slice(-inspect)
        .join("\n");
      if (!regex.test(tail)) return `the last ${inspect} non-blank lines do not match ${regex}`;
    }
    if (promptIdleColumn !== undefined && snapshot.cursorX !== promptIdleColumn) {
      return `the cursor is in column ${snapshot.cursorX}, not ${promptIdleColumn}`;
    }
    return undefined;
  };
}

function timedOut(timeoutMs: number | undefined, blocker: Blocker): DeliveryOutcome {
  const ms = timeoutMs ?? 0;
  if (blocker.kind === "prompt") {
    return {
      outcome: "timeout",
      reasonCode: "prompt_readiness_timeout",
      reason: `prompt readiness did not match before timeout after ${ms}ms: ${blocker.detail}`,
      details: { timeout_ms: ms, blocked_by: blocker.kind },
    };
  }
  return {
    outcome: "timeout",
    reasonCode: "quiescence_timeout",
    reason: `quiescence wait timed out after ${ms}ms`,
    details: { timeout_ms: ms, blocked_by: blocker.kind },
  };
}

function unavailable(reason: string): DeliveryOutcome {
  return { outcome: "failed", reasonCode: "runtime_target_unavailable", reason };
}

function droppedOnShutdown(): DeliveryOutcome {
  return {
    outcome: "dropped_on_shutdown",
    reasonCode: "dropped_on_shutdown",
    reason: "the relay shut down before the message was delivered",
  };
}

/** Waits for `ready` unless the signal fires or the deadline passes first. */
async function waitBounded(
  ready: Promise<void>,
  signal: AbortSignal,
  deadline: number | undefined,
  now: () => number,
): Promise<"ready" | "aborted" | "timeout"> {
  if (signal.aborted) return "aborted";
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    const racers: Promise<"ready" | "aborted" | "timeout">[] = [
      ready.then(() => "ready" as const),
      new Promise((resolve) => stop.signal.addEventListener("abort", () => resolve("aborted"), { once: true })),
    ];
    if (deadline !== undefined) {
      racers.push(
        delay(Math.max(0, deadline - now()), "timeout" as const, { signal: stop.signal }).catch(
          () => "aborted" as const,
        ),
      );
    }
    const result = await Promise.race(racers);
    return signal.aborted ? "aborted" : result;
  } finally {
    signal.removeEventListener("abort", onAbort);
    stop.abort();
  }
}

/**
 * First-come, first-served turns per key. A holder that gives up early
 * releases at once; whoever queued behind it still waits for everyone
 * before it. Entries are forgotten when their key has no one left.
 */
class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  acquire(key: string): { ready: Promise<void>; release: () => void } {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => released);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return { ready: previous, release };
  }
}

/** Output lines without the newline that ends the last one. */
function splitLines(out: string): string[] {
  const lines = out.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function dropTrailingBlank(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && (lines[end - 1] ?? "").trim() === "") end--;
  return lines.slice(0, end);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const stderr = (err as Error & { stderr?: unknown }).stderr;
    return typeof stderr === "string" && stderr.trim() !== "" ? stderr.trim() : err.message;
  }
  return String(err);
}
