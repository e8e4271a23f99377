import type { ChildProcess } from "node:child_process";
import { TypeSkipper } from "./lines.js";
import type { NdjsonProvider, PermissionDecision, PermissionRequest } from "./providers/types.js";
import { Session, type SessionOptions, type StatusPatch } from "./session.js";

/**
 * A session with an NDJSON agent (Claude Code stream-json, Codex exec --json, Gemini
 * stream-json). `persistent` agents take every turn on one process's stdin, mid-turn input
 * included; `per-turn` agents get one process per turn.
 */
export class NdjsonSession extends Session {
  readonly #provider: NdjsonProvider;
  readonly #skipper: TypeSkipper;
  /** Conversation ids that turned out not to exist; never resumed or adopted again. */
  readonly #poisoned = new Set<string>();
  /**
   * What was written to the current process before it confirmed its conversation (a line with a
   * session id that is not an error), for a redelivery if its resume turns out stale.
   */
  #sent: string[] = [];
  #confirmed = false;
  #turnsGiven = 0;
  #interrupts = 0;
  #outcome: { attempted: string | null; outcome: "resumed" | "fresh" } | null = null;

  constructor(options: SessionOptions & { provider: NdjsonProvider }) {
    super(options);
    this.#provider = options.provider;
    this.#skipper = new TypeSkipper(options.provider.types);
  }

  protected args(resume: string | null): string[] {
    this.#sent = [];
    this.#confirmed = false;
    this.#turnsGiven = 0;
    if (resume !== null) this.#outcome ??= { attempted: resume, outcome: "resumed" };
    return this.#provider.args(resume);
  }

  protected attached(_child: ChildProcess): void {}

  protected ready(): boolean {
    if (this.child === null) return false;
    return this.#provider.lifecycle === "persistent" || this.#turnsGiven === 0;
  }

  protected deliver(text: string): void {
    if (!this.writeTurn(text, this.#provider.userInput(text))) return;
    this.#turnsGiven++;
    if (this.#provider.lifecycle === "per-turn") this.child?.stdin?.end();
    if (!this.status.turnActive) this.update({ turnActive: true, fault: null });
  }

  protected override written(text: string): void {
    if (!this.#confirmed) this.#sent.push(text);
  }

  /** A per-turn CLI exits after every turn, whatever its code (a failed turn said so on stdout). */
  protected override exitIsNormal(code: number): boolean {
    return this.#provider.lifecycle === "per-turn" ? !this.status.turnActive : super.exitIsNormal(code);
  }

  protected interruptTurn(): boolean {
    const frame = this.#provider.interruptInput(`agentmux-interrupt-${++this.#interrupts}`);
    if (frame !== null) return this.write(frame);
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, "SIGINT");
      return true;
    } catch {
      return false;
    }
  }

  protected answer(request: PermissionRequest, decision: PermissionDecision): boolean {
    const frame = this.#provider.permissionAnswer(request, decision);
    return frame !== null && this.write(frame);
  }

  protected line(data: Buffer, whole: boolean): void {
    if (whole && this.#skipper.skips(data)) {
      this.emit(data);
      return;
    }
    const json = whole ? parseObject(data) : null;
    if (json === null) {
      this.emit(data);
      return;
    }
    const meaning = this.#provider.read(json);
    if (!meaning.control) this.emit(data);
    if (meaning.sessionId !== undefined && !this.#poisoned.has(meaning.sessionId)) {
      this.adoptSessionId(meaning.sessionId);
      if (!this.#confirmed && !meaning.fault) {
        this.#confirmed = true;
        this.#sent = [];
      }
      if (this.#outcome !== null && this.#confirmed) {
        this.recordOutcome(this.#outcome.outcome, this.#outcome.attempted, meaning.sessionId);
        this.#outcome = null;
      }
    }
    // One status change per line, however much the line means.
    const patch: StatusPatch = {};
    if (meaning.permission) patch.needsInput = [...this.status.needsInput, meaning.permission];
    if (meaning.fault) patch.fault = meaning.fault;
    if (meaning.usage) Object.assign(patch, this.turnUsage(meaning.usage, meaning.costIsTotal === true));
    if (meaning.endOfTurn) Object.assign(patch, { turnActive: false, needsInput: [], fault: meaning.fault ?? null });
    if (Object.keys(patch).length > 0) this.update(patch);
  }

  protected exited(info: { code: number; stderr: string; resumed: string | null }): boolean {
    if (info.resumed === null || this.#confirmed || this.stopping || !this.#provider.isStaleResume(info.stderr))
      return false;
    // The conversation to resume does not exist (any more): start fresh, once, with the same
    // messages. The failed attempt is not reported as a finished run.
    this.#poisoned.add(info.resumed);
    this.#outcome = { attempted: info.resumed, outcome: "fresh" };
    this.update({ sessionId: null, fault: null });
    this.requeue(this.#sent);
    this.#sent = [];
    return true;
  }
}

/** A JSON object line, or null (not JSON, or JSON but not an object). */
function parseObject(data: Buffer): Record<string, unknown> | null {
  // Cheap test first: most non-JSON output does not start with '{'.
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x09)) i++;
  if (data[i] !== 0x7b) return null;
  try {
    const value: unknown = JSON.parse(data.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
