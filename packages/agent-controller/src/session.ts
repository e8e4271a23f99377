import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from "node:child_process";
import { constants } from "node:os";
import { BehaviorSubject, type Observable, Subject } from "rxjs";
import { QueueFullError, SessionClosedError, SessionHeldError } from "./errors.js";
import { LineSplitter } from "./lines.js";
import { processStartTime, signalGroup } from "./process.js";
import {
  type AgentFault,
  addUsage,
  type PermissionDecision,
  type PermissionRequest,
  type Provider,
  type Usage,
  ZERO_USAGE,
} from "./providers/types.js";

export type RunStatus = "init" | "running" | "done";

/** A snapshot of a session, as `status$` emits it. */
export interface SessionStatus {
  status: RunStatus;
  pid: number | null;
  /** The pid's start time (see `processStartTime`); with the pid it identifies the process. */
  pidStartTime: string | null;
  exitCode: number | null;
  turnActive: boolean;
  sessionId: string | null;
  /** Permission requests the agent is waiting on (non-empty = needs input). */
  needsInput: readonly PermissionRequest[];
  /** Totals for the whole session. */
  usage: Usage;
  /** The last finished turn's tokens and cost. */
  lastTurn: Usage | null;
  /** The latest classified failure; cleared when a turn ends well or a new process starts. */
  fault: AgentFault | null;
}

/**
 * One transcript line: the bytes (with their newline) and their byte offset in the transcript.
 * `data` may share memory with the lines around it (it is not copied out of what was read):
 * read it, do not write to it.
 */
export interface OutputLine {
  offset: number;
  data: Buffer;
}

export type StopOutcome = "not_running" | "exited" | "terminated" | "killed";

export interface StopDeadlines {
  /** After an interrupt, how long the turn gets to end. Default 1000 ms. */
  interruptMs: number;
  /** After stdin EOF, how long the process gets to exit. Default 2000 ms. */
  eofMs: number;
  /** After SIGTERM to the group, how long before SIGKILL. Default 2000 ms. */
  termMs: number;
}

export interface StopOptions {
  /** Straight to SIGKILL. */
  force?: boolean;
  /** This stop's deadlines, over the session's. */
  deadlines?: Partial<StopDeadlines>;
}

/** Claims conversation ids so that one conversation has at most one live process. */
export interface SessionClaims {
  claim(sessionId: string, owner: object): boolean;
  release(sessionId: string, owner: object): void;
}

export interface SessionOptions {
  provider: Provider;
  cwd: string;
  /** The executable; default `provider.command` looked up on PATH. */
  command?: string;
  /** The child's environment before the provider's changes. Default: this process's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A conversation to resume on the first spawn. */
  sessionId?: string | null;
  /** Where this session's transcript ends now (its length in bytes). Default 0. */
  transcriptOffset?: number;
  /** Usage so far (a session restored after a restart). */
  usage?: Usage;
  deadlines?: Partial<StopDeadlines>;
  /** Most sends held while the agent cannot take them. Default 64. */
  maxQueue?: number;
  /** Longest line kept whole. Default 64 MiB. */
  maxLineBytes?: number;
  claims?: SessionClaims;
  spawn?: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
  now?: () => number;
  /** Told about things that went wrong but did not stop the session (a failed write, say). */
  onWarning?: (message: string) => void;
}

const DEFAULT_DEADLINES: StopDeadlines = { interruptMs: 1000, eofMs: 2000, termMs: 2000 };
const STDERR_TAIL = 16 * 1024;

/**
 * One agent conversation backed by a CLI child process. The process is spawned on the first
 * send, lives in its own process group, and is stopped as a group. Everything it prints reaches
 * `output$`; what it means reaches `status$`.
 */
export abstract class Session {
  readonly #status: BehaviorSubject<SessionStatus>;
  readonly #output = new Subject<OutputLine>();
  protected readonly options: SessionOptions;
  protected readonly deadlines: StopDeadlines;
  #offset: number;
  #child: ChildProcess | null = null;
  #pid: number | null = null;
  #stderr = "";
  #closed = false;
  #stopping: Promise<StopOutcome> | null = null;
  #exited: Promise<void> | null = null;
  #queue: string[] = [];
  #claimed: string | null = null;
  #lastCostTotal: number;

  constructor(options: SessionOptions) {
    this.options = options;
    this.deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    this.#offset = options.transcriptOffset ?? 0;
    this.#lastCostTotal = options.usage?.cost_usd ?? 0;
    this.#status = new BehaviorSubject<SessionStatus>({
      status: "init",
      pid: null,
      pidStartTime: null,
      exitCode: null,
      turnActive: false,
      sessionId: options.sessionId ?? null,
      needsInput: [],
      usage: options.usage ?? ZERO_USAGE,
      lastTurn: null,
      fault: null,
    });
  }

  /** Every state change, starting with the current state. */
  get status$(): Observable<SessionStatus> {
    return this.#status.asObservable();
  }
  /** Every transcript line, JSON or not, with its byte offset. */
  get output$(): Observable<OutputLine> {
    return this.#output.asObservable();
  }
  get status(): SessionStatus {
    return this.#status.getValue();
  }
  get sessionId(): string | null {
    return this.status.sessionId;
  }
  get usage(): Usage {
    return this.status.usage;
  }
  /** The transcript length in bytes (the offset the next line gets). */
  get transcriptOffset(): number {
    return this.#offset;
  }

  /**
   * Sends a user turn. Spawns the agent if it is not running. While it cannot take input
   * (spawning, restarting, stopping, a per-turn agent mid-turn) the message waits in order.
   * Throws `QueueFullError` when too many are waiting, `SessionHeldError` when another live
   * process holds the conversation, `SessionClosedError` after `close()`.
   */
  send(text: string): void {
    if (this.#closed) throw new SessionClosedError();
    this.enqueue(text);
    try {
      this.#flush();
    } catch (err) {
      // Not taken after all (another process holds the conversation): the caller gets the error.
      if (this.#queue.at(-1) === text) this.#queue.pop();
      throw err;
    }
  }

  /** Interrupts the current turn. False when there is no turn to interrupt. */
  interrupt(): boolean {
    if (this.#child === null || !this.status.turnActive) return false;
    return this.interruptTurn();
  }

  /** Answers a permission request. False when no such request is pending. */
  respond(requestId: string, decision: PermissionDecision): boolean {
    const request = this.status.needsInput.find((r) => r.requestId === requestId);
    if (!request || this.#child === null) return false;
    if (!this.answer(request, decision)) return false;
    this.update({ needsInput: this.status.needsInput.filter((r) => r !== request) });
    return true;
  }

  /**
   * Stops the process and its group: interrupt (if a turn runs) → stdin EOF → SIGTERM → SIGKILL,
   * each after its deadline; `force` goes straight to SIGKILL. Messages sent meanwhile wait and
   * start a new process afterwards.
   */
  stop(options: StopOptions = {}): Promise<StopOutcome> {
    if (this.#child === null) return Promise.resolve("not_running");
    // A forced stop also cuts short a graceful one already under way.
    if (options.force && this.#pid !== null) signalGroup(this.#pid, "SIGKILL");
    const deadlines = { ...this.deadlines, ...options.deadlines };
    this.#stopping ??= this.#ladder(options.force === true, deadlines).finally(() => {
      this.#stopping = null;
      this.flush();
    });
    return this.#stopping;
  }

  /** Stops the agent and refuses further sends. Waiting messages are dropped (and counted). */
  async close(options: StopOptions = {}): Promise<StopOutcome> {
    this.#closed = true;
    const dropped = this.#queue.length;
    this.#queue = [];
    if (dropped > 0) this.warn(`closing with ${dropped} unsent message(s)`);
    const outcome = await this.stop(options);
    this.#status.complete();
    this.#output.complete();
    return outcome;
  }

  // --- for the protocol subclasses --------------------------------------------------------

  /** The argv for a spawn; `resume` is the conversation to continue, if any. */
  protected abstract args(resume: string | null): string[];
  /** Called once the child exists. */
  protected abstract attached(child: ChildProcess): void;
  /** True when the live child can take the next user turn now. */
  protected abstract ready(): boolean;
  /** Delivers one user turn to the live child. */
  protected abstract deliver(text: string): void;
  protected abstract interruptTurn(): boolean;
  protected abstract answer(request: PermissionRequest, decision: PermissionDecision): boolean;
  /** One stdout line (`whole` false for pieces of an over-long line). */
  protected abstract line(data: Buffer, whole: boolean): void;
  /** Called when the process has exited and its output is drained; true = retry (messages requeued). */
  protected abstract exited(info: { code: number; stderr: string; resumed: string | null }): boolean;

  protected get child(): ChildProcess | null {
    return this.#child;
  }
  protected get stopping(): boolean {
    return this.#stopping !== null;
  }
  protected enqueue(text: string): void {
    const cap = this.options.maxQueue ?? 64;
    if (this.#queue.length >= cap) throw new QueueFullError(cap);
    this.#queue.push(text);
  }
  /** Puts messages back at the head of the queue (a retry redelivers them). */
  protected requeue(texts: readonly string[]): void {
    this.#queue.unshift(...texts);
  }

  protected update(patch: Partial<SessionStatus>): void {
    this.#status.next({ ...this.status, ...patch });
  }

  /** Appends a line to the transcript. */
  protected emit(data: Buffer): void {
    const line = { offset: this.#offset, data };
    this.#offset += data.length;
    this.#output.next(line);
  }

  /** Records a conversation id: the latest wins, claimed so no other process can open it. */
  protected adoptSessionId(sid: string): void {
    if (sid === this.status.sessionId && this.#claimed === sid) return;
    const claims = this.options.claims;
    if (claims && this.#claimed !== sid) {
      if (!claims.claim(sid, this)) {
        this.warn(`session ${sid} is held elsewhere; not adopting it`);
        return;
      }
      if (this.#claimed !== null) claims.release(this.#claimed, this);
      this.#claimed = sid;
    }
    if (sid !== this.status.sessionId) this.update({ sessionId: sid });
  }

  /**
   * The status change a finished turn's usage makes (for the caller to fold into its update);
   * `costIsTotal` means the CLI reported its running total rather than the turn's cost.
   */
  protected turnUsage(turn: Usage, costIsTotal: boolean): Pick<SessionStatus, "lastTurn" | "usage"> {
    let cost = turn.cost_usd;
    if (costIsTotal) {
      cost = turn.cost_usd >= this.#lastCostTotal ? turn.cost_usd - this.#lastCostTotal : turn.cost_usd;
      this.#lastCostTotal = turn.cost_usd;
    }
    const lastTurn = { ...turn, cost_usd: cost };
    return { lastTurn, usage: addUsage(this.status.usage, lastTurn) };
  }

  /** Writes the transcript line that says how a resume went. */
  protected recordOutcome(outcome: "resumed" | "fresh", attempted: string | null, actual: string): void {
    const line = {
      type: "system",
      subtype: "agentmux_session_outcome",
      outcome,
      attempted_sid: attempted,
      actual_sid: actual,
      timestamp: new Date(this.now()).toISOString(),
    };
    this.emit(Buffer.from(`${JSON.stringify(line)}\n`));
  }

  protected warn(message: string): void {
    this.options.onWarning?.(message);
  }

  protected now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Writes to the child's stdin; a closed pipe is reported, never thrown. */
  protected write(data: string): boolean {
    const stdin = this.#child?.stdin;
    if (!stdin?.writable) {
      this.warn("the agent's stdin is closed; input not delivered");
      return false;
    }
    stdin.write(data);
    return true;
  }

  /**
   * Delivers waiting messages, spawning the agent when none runs. A failure to spawn is reported
   * in the status (a send that triggers one gets it thrown instead).
   */
  protected flush(): void {
    try {
      this.#flush();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.warn(`could not deliver waiting messages: ${message}`);
      this.update({ fault: { kind: "error", fatal: true, message } });
    }
  }

  #flush(): void {
    if (this.#closed || this.#stopping !== null || this.#queue.length === 0) return;
    if (this.#child === null) this.#spawn();
    while (this.#queue.length > 0 && this.ready()) this.deliver(this.#queue.shift() as string);
  }

  #spawn(): void {
    const provider = this.options.provider;
    const sid = this.status.sessionId;
    const resume = provider.protocol === "ndjson" && provider.resumeFlag !== null ? sid : null;
    if (resume !== null && this.options.claims && this.#claimed !== resume) {
      if (!this.options.claims.claim(resume, this)) throw new SessionHeldError(resume);
      this.#claimed = resume;
    }
    const env: Record<string, string | undefined> = { ...(this.options.env ?? process.env) };
    for (const [k, v] of Object.entries(provider.env)) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    const spawn = this.options.spawn ?? nodeSpawn;
    const child = spawn(this.options.command ?? provider.command, this.args(resume), {
      cwd: this.options.cwd,
      env,
      stdio: ["pipe", "pipe", "pipe"],
      // Its own process group: stopped as a group, and not hit by our terminal's Ctrl-C.
      detached: true,
    });
    this.#child = child;
    this.#stderr = "";
    const pid = child.pid ?? null;
    this.#pid = pid;
    this.update({
      status: "running",
      pid,
      pidStartTime: pid === null ? null : processStartTime(pid),
      exitCode: null,
      fault: null,
      needsInput: [],
    });

    let spawnError: Error | null = null;
    child.on("error", (err) => {
      spawnError = err;
    });
    child.stdin?.on("error", (err) => this.warn(`agent stdin: ${err.message}`));
    const splitter = new LineSplitter(this.options.maxLineBytes ?? 64 * 1024 * 1024);
    const onLine = (data: Buffer, whole: boolean) => this.line(data, whole);
    child.stdout?.on("data", (chunk: Buffer) => splitter.push(chunk, onLine));
    child.stdout?.on("end", () => splitter.end(onLine));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
    });

    let exitCode = 0;
    child.on("exit", (code, signal) => {
      exitCode = code ?? 128 + signalNumber(signal);
      // Whatever the leader left behind in its group goes with it: no orphans.
      if (pid !== null) signalGroup(pid, "SIGKILL");
    });
    this.#exited = new Promise<void>((resolve) => {
      child.on("close", () => {
        this.#child = null;
        this.#pid = null;
        const failedToStart = spawnError !== null && pid === null;
        if (failedToStart) exitCode = 127;
        const stderr = spawnError ? `${this.#stderr}${(spawnError as Error).message}` : this.#stderr;
        const retry = !failedToStart && this.exited({ code: exitCode, stderr, resumed: resume });
        if (!retry) {
          if (this.#claimed !== null) this.options.claims?.release(this.#claimed, this);
          this.#claimed = null;
          this.update({
            status: "done",
            pid: null,
            pidStartTime: null,
            exitCode,
            turnActive: false,
            needsInput: [],
            fault: failedToStart
              ? { kind: "error", fatal: true, message: `could not start the agent: ${(spawnError as Error).message}` }
              : this.status.fault,
          });
        }
        resolve();
        // Messages that arrived meanwhile start the next process (not after a failed start:
        // they wait for the next send rather than retrying in a loop).
        if (!failedToStart) this.flush();
      });
    });
    this.attached(child);
  }

  async #ladder(force: boolean, deadlines: StopDeadlines): Promise<StopOutcome> {
    const exited = this.#exited ?? Promise.resolve();
    const within = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), ms);
        void exited.then(() => {
          clearTimeout(t);
          resolve(true);
        });
      });
    if (!force) {
      if (this.status.turnActive && this.interruptTurn()) {
        const turnEnded = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), deadlines.interruptMs);
          const sub = this.#status.subscribe((s) => {
            if (!s.turnActive || s.status === "done") {
              clearTimeout(t);
              queueMicrotask(() => sub.unsubscribe());
              resolve(true);
            }
          });
        });
        await turnEnded;
      }
      this.#child?.stdin?.end();
      if (await within(deadlines.eofMs)) return "exited";
      if (this.#pid !== null) signalGroup(this.#pid, "SIGTERM");
      if (await within(deadlines.termMs)) return "terminated";
    }
    if (this.#pid !== null) signalGroup(this.#pid, "SIGKILL");
    await exited;
    return "killed";
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
