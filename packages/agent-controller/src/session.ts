import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from "node:child_process";
import { constants } from "node:os";
import { BehaviorSubject, type Observable, Subject } from "rxjs";
import { AgentError, type AgentSpawnError, QueueFullError, SessionClosedError, SessionHeldError } from "./errors.js";
import { exitFault, type SessionFault } from "./faults.js";
import type { Guardian } from "./guardian.js";
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
import { spawnError } from "./spawn-error.js";
import { DEFAULT_STDERR_LIMITS, LineRateLimit, type StderrLimits, StderrTail } from "./stderr.js";

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
  /**
   * The latest failure (a classified turn failure, an exit nobody asked for, a failed start);
   * cleared when a turn ends well or a new process starts. `fault.stderr` holds the agent's
   * last stderr lines at that moment.
   */
  fault: SessionFault | null;
}

/** A status change; a fault without `stderr` gets the current stderr tail. */
export type StatusPatch = Omit<Partial<SessionStatus>, "fault"> & { fault?: AgentFault | SessionFault | null };

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
  /** Most sends held while the agent cannot take them (`QueueFullError` beyond). Default 64. */
  maxQueue?: number;
  /** Longest line kept whole. Default 64 MiB. */
  maxLineBytes?: number;
  claims?: SessionClaims;
  /**
   * Starts the process (default `child_process.spawn`). The child must behave like Node's: emit
   * `spawn` once started (nothing is written to it before) or `error` when it could not start.
   */
  spawn?: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
  now?: () => number;
  /** Told about things that went wrong but did not stop the session (a failed write, say). */
  onWarning?: (message: string) => void;
  /**
   * Told each line the agent prints on stderr (blank lines skipped, long ones clipped), at most
   * `stderrLimits.linesPerSecond` per second by `now`; lines over the limit are counted and
   * reported as one line, `… K stderr lines suppressed`, when the agent's stderr resumes or ends.
   */
  onStderr?: (line: string) => void;
  /** How much stderr is kept (`stderrTail`, `fault.stderr`) and passed to `onStderr`. */
  stderrLimits?: Partial<StderrLimits>;
  /**
   * Registers each process group this session starts, from its spawn until its leader exits,
   * so that it dies with the owner process however the owner dies (see `Guardian`).
   */
  guardian?: Guardian;
}

const DEFAULT_DEADLINES: Readonly<StopDeadlines> = Object.freeze({ interruptMs: 1000, eofMs: 2000, termMs: 2000 });
const DEFAULT_MAX_QUEUE = 64;
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
/** The exit code reported for a process that never started (as shells report one they cannot run). */
const START_FAILED_EXIT = 127;

/** A turn handed to a process whose write has not completed yet. */
interface Unwritten {
  text: string;
}

/** One agent process and what the session knows about it. */
interface Proc {
  readonly child: ChildProcess;
  readonly pid: number | null;
  /** The OS started it (`spawn` fired). Nothing is taken from the queue before. */
  spawned: boolean;
  /** stdin holds more than its high-water mark: turns wait in the queue for `drain`. */
  congested: boolean;
  /** stdin failed (the agent closed it, or died): nothing more is written to this process. */
  broken: boolean;
  /** Turns taken from the queue whose write has not completed, oldest first. */
  unwritten: Unwritten[];
  /** An interrupt was sent: an exit now is an answer to it, not a crash. */
  interrupted: boolean;
  readonly stderr: StderrTail;
}

/**
 * One agent conversation backed by a CLI child process. The process is spawned on the first
 * send, lives in its own process group, and is stopped as a group. Everything it prints reaches
 * `output$`; what it means reaches `status$`.
 *
 * Sends wait in one queue (at most `maxQueue`) until the agent can take them: while it starts,
 * while its stdin pipe is full (a turn is written only when the previous write left the pipe
 * below its high-water mark, and the rest wait for `drain`), while it stops or restarts. A turn
 * taken from the queue whose write does not complete (the process failed to start, died, or
 * closed its stdin first) goes back to the head of the queue: it is never dropped silently.
 */
export abstract class Session {
  readonly #status: BehaviorSubject<SessionStatus>;
  readonly #output = new Subject<OutputLine>();
  protected readonly options: SessionOptions;
  protected readonly deadlines: StopDeadlines;
  readonly #stderrLimits: StderrLimits;
  /** Passes stderr lines to `onStderr` within the rate limit; one per session, across processes. */
  readonly #stderrFeed: LineRateLimit | null;
  #offset: number;
  #proc: Proc | null = null;
  /** The current (or last) process's stderr. */
  #stderr: StderrTail | null = null;
  #closed = false;
  #stopping: Promise<StopOutcome> | null = null;
  #exited: Promise<void> | null = null;
  #queue: string[] = [];
  #claimed: string | null = null;
  #lastCostTotal: number;

  constructor(options: SessionOptions) {
    this.options = options;
    this.deadlines = { ...DEFAULT_DEADLINES, ...options.deadlines };
    this.#stderrLimits = { ...DEFAULT_STDERR_LIMITS, ...options.stderrLimits };
    const onStderr = options.onStderr;
    this.#stderrFeed = onStderr
      ? new LineRateLimit(this.#stderrLimits.linesPerSecond, () => this.now(), onStderr)
      : null;
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
  /** Messages waiting to be written to the agent (not counting one being written now). */
  get queued(): number {
    return this.#queue.length;
  }
  /**
   * The last stderr lines of the current process (or the last one, once it exited), oldest
   * first; a copy. Empty before the first spawn.
   */
  get stderrTail(): string[] {
    return this.#stderr?.lines ?? [];
  }

  /**
   * Sends a user turn. Spawns the agent if it is not running. While it cannot take input
   * (spawning, its stdin full, restarting, stopping, a per-turn agent mid-turn) the message waits
   * in order. A failure to start is reported in the status (`fault`, with `code`); the message
   * stays queued for the next process, which the next `send` starts. Throws `QueueFullError` when
   * too many are waiting, `SessionHeldError` when another live process holds the conversation,
   * `SessionClosedError` after `close()`.
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
    const proc = this.#proc;
    if (proc === null || !this.status.turnActive) return false;
    if (!this.interruptTurn()) return false;
    proc.interrupted = true;
    return true;
  }

  /** Answers a permission request. False when no such request is pending. */
  respond(requestId: string, decision: PermissionDecision): boolean {
    const request = this.status.needsInput.find((r) => r.requestId === requestId);
    if (!request || this.#proc === null) return false;
    if (!this.answer(request, decision)) return false;
    this.update({ needsInput: this.status.needsInput.filter((r) => r !== request) });
    return true;
  }

  /**
   * Stops the process and its group: interrupt (if a turn runs) → stdin EOF → SIGTERM → SIGKILL,
   * each after its deadline; `force` goes straight to SIGKILL. Messages sent meanwhile (and any
   * the process had not been written yet) wait and start a new process afterwards.
   */
  stop(options: StopOptions = {}): Promise<StopOutcome> {
    const proc = this.#proc;
    if (proc === null) return Promise.resolve("not_running");
    // A forced stop also cuts short a graceful one already under way.
    if (options.force && proc.pid !== null) signalGroup(proc.pid, "SIGKILL");
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
    this.#dropQueue();
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

  /** A turn given with `writeTurn` has been written to the current process's stdin. */
  protected written(_text: string): void {}

  /**
   * Whether an exit the session did not ask for (no stop, no interrupt) is part of the agent's
   * normal life rather than a failure. Default: it exited 0 between turns.
   */
  protected exitIsNormal(code: number): boolean {
    return code === 0 && !this.status.turnActive;
  }

  protected get child(): ChildProcess | null {
    return this.#proc?.child ?? null;
  }
  protected get stopping(): boolean {
    return this.#stopping !== null;
  }
  protected enqueue(text: string): void {
    const cap = this.options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (this.#queue.length >= cap) throw new QueueFullError(cap);
    this.#queue.push(text);
  }
  /** Puts messages back at the head of the queue (a retry redelivers them). */
  protected requeue(texts: readonly string[]): void {
    this.#queue.unshift(...texts);
  }

  protected update(patch: StatusPatch): void {
    const { fault, ...rest } = patch;
    // A turn that ended answered any interrupt: a later exit is the agent's own doing again.
    if (rest.turnActive === false && this.#proc !== null) this.#proc.interrupted = false;
    const next: SessionStatus = { ...this.status, ...rest };
    if (fault !== undefined) next.fault = fault === null || isSessionFault(fault) ? fault : this.#withStderr(fault);
    this.#status.next(next);
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

  /**
   * Writes a protocol frame (an interrupt, a permission answer) to the child's stdin, past the
   * queue: frames are small and urgent, and stdin keeps them in order with the turns. A closed
   * pipe is reported, never thrown.
   */
  protected write(data: string): boolean {
    const proc = this.#proc;
    const stdin = proc?.child.stdin;
    if (!proc || proc.broken || !stdin?.writable) {
      this.warn("the agent's stdin is closed; input not delivered");
      return false;
    }
    if (!stdin.write(data)) proc.congested = true;
    return true;
  }

  /**
   * Writes one user turn (`text`, framed as `data`) to the child's stdin. Until the write
   * completes the turn is the session's to give back: if the pipe fails first, it returns to the
   * head of the queue. False (and the turn is back in the queue) when stdin is already closed.
   */
  protected writeTurn(text: string, data: string): boolean {
    const proc = this.#proc;
    const stdin = proc?.child.stdin;
    if (!proc || proc.broken || !stdin?.writable) {
      this.#queue.unshift(text);
      if (proc) proc.broken = true;
      this.warn("the agent's stdin is closed; the message waits for the next process");
      return false;
    }
    const entry: Unwritten = { text };
    proc.unwritten.push(entry);
    const below = stdin.write(data, (err) => {
      const at = proc.unwritten.indexOf(entry);
      if (at === -1) return; // given back already
      if (err) {
        // Every write after this one fails too: they all go back, in order.
        proc.broken = true;
        this.#giveBack(proc);
        return;
      }
      proc.unwritten.splice(at, 1);
      if (this.#proc === proc) this.written(text);
    });
    // The pipe is full: the next turns wait in the queue (bounded) rather than in stdin's buffer.
    if (!below) proc.congested = true;
    return true;
  }

  /**
   * Delivers waiting messages, spawning the agent when none runs. A failure is reported in the
   * status (a send that triggers one gets a `SessionHeldError` thrown instead).
   */
  protected flush(): void {
    try {
      this.#flush();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.warn(`could not deliver waiting messages: ${message}`);
      this.update({
        fault: { kind: "error", fatal: true, message, ...(err instanceof AgentError ? { code: err.code } : {}) },
      });
    }
  }

  #flush(): void {
    if (this.#closed || this.#stopping !== null || this.#queue.length === 0) return;
    if (this.#proc === null) this.#spawn();
    while (this.#queue.length > 0 && this.#writable() && this.ready()) this.deliver(this.#queue.shift() as string);
  }

  /** The current process can be written a turn now. */
  #writable(): boolean {
    const proc = this.#proc;
    return proc?.spawned === true && !proc.congested && !proc.broken;
  }

  /** Turns taken for `proc` but not written go back to the head of the queue (or, closed, are dropped). */
  #giveBack(proc: Proc): void {
    if (proc.unwritten.length === 0) return;
    const texts = proc.unwritten.map((u) => u.text);
    proc.unwritten = [];
    this.#queue.unshift(...texts);
    if (this.#closed) this.#dropQueue();
  }

  #dropQueue(): void {
    const dropped = this.#queue.length;
    this.#queue = [];
    if (dropped > 0) this.warn(`closing with ${dropped} unsent message(s)`);
  }

  #withStderr(fault: AgentFault): SessionFault {
    return { ...fault, stderr: this.stderrTail };
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
    const command = this.options.command ?? provider.command;
    const cwd = this.options.cwd;
    const stderr = new StderrTail(this.#stderrLimits);
    this.#stderr = stderr;
    const spawn = this.options.spawn ?? nodeSpawn;
    let child: ChildProcess;
    try {
      child = spawn(command, this.args(resume), {
        cwd,
        env,
        stdio: ["pipe", "pipe", "pipe"],
        // Its own process group: stopped as a group, and not hit by our terminal's Ctrl-C.
        detached: true,
      });
    } catch (err) {
      // Some failures are thrown rather than reported (a working directory that is a file, say).
      this.#startFailed(spawnError(err, { command, cwd, env }));
      return;
    }
    const pid = child.pid ?? null;
    const proc: Proc = {
      child,
      pid,
      spawned: false,
      congested: false,
      broken: false,
      unwritten: [],
      interrupted: false,
      stderr,
    };
    this.#proc = proc;
    const pidStartTime = pid === null ? null : processStartTime(pid);
    if (pid !== null) this.options.guardian?.guard({ pid, startTime: pidStartTime });
    this.update({
      status: "running",
      pid,
      pidStartTime,
      exitCode: null,
      fault: null,
      needsInput: [],
    });

    let startError: unknown = null;
    child.on("error", (err) => {
      startError = err;
    });
    child.once("spawn", () => {
      proc.spawned = true;
      this.flush();
    });
    child.stdin?.on("drain", () => {
      proc.congested = false;
      if (this.#proc === proc) this.flush();
    });
    child.stdin?.on("error", (err) => {
      proc.broken = true;
      // A process that never started has nothing to say about its stdin: the start failure says it.
      if (proc.spawned) this.warn(`agent stdin: ${err.message}`);
    });
    const splitter = new LineSplitter(this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const onLine = (data: Buffer, whole: boolean) => this.line(data, whole);
    child.stdout?.on("data", (chunk: Buffer) => splitter.push(chunk, onLine));
    child.stdout?.on("end", () => splitter.end(onLine));
    const feed = this.#stderrFeed;
    const onStderrLine = feed ? (line: string) => feed.offer(line) : () => {};
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (text: string) => stderr.push(text, onStderrLine));
    child.stderr?.on("end", () => {
      stderr.end(onStderrLine);
      feed?.flush();
    });

    let exitCode = 0;
    let exitSignal: NodeJS.Signals | null = null;
    child.on("exit", (code, signal) => {
      exitCode = code ?? 128 + signalNumber(signal);
      exitSignal = signal;
      // Whatever the leader left behind in its group goes with it: no orphans.
      if (pid !== null) {
        signalGroup(pid, "SIGKILL");
        this.options.guardian?.release(pid);
      }
    });
    this.#exited = new Promise<void>((resolve) => {
      child.on("close", () => {
        this.#proc = null;
        // Turns taken for this process but never written go back to the head of the queue.
        this.#giveBack(proc);
        if (!proc.spawned) {
          this.#startFailed(spawnError(startError ?? new Error("the agent did not start"), { command, cwd, env }));
          resolve();
          // Waiting messages stay queued: the next send tries again (no retry loop on a bad command).
          return;
        }
        const asked = this.#stopping !== null || proc.interrupted || this.exitIsNormal(exitCode);
        const retry = this.exited({ code: exitCode, stderr: stderr.lines.join("\n"), resumed: resume });
        if (!retry) {
          this.#release();
          const tail = stderr.lines;
          const current = this.status.fault;
          const fault: SessionFault | null =
            current !== null
              ? { ...current, stderr: tail }
              : asked
                ? null
                : {
                    ...exitFault({ code: exitCode, signal: exitSignal, midTurn: this.status.turnActive }, tail),
                    stderr: tail,
                  };
          this.update({
            status: "done",
            pid: null,
            pidStartTime: null,
            exitCode,
            turnActive: false,
            needsInput: [],
            fault,
          });
        }
        resolve();
        // Messages that arrived meanwhile start the next process. Not after a crash: they wait
        // for the next send (the fault says why), so a CLI that dies at once is not restarted in a loop.
        if (retry || asked) this.flush();
      });
    });
    this.attached(child);
  }

  /** The agent could not be started: reported in the status; waiting messages stay queued. */
  #startFailed(error: AgentSpawnError): void {
    this.#release();
    this.warn(error.message);
    this.update({
      status: "done",
      pid: null,
      pidStartTime: null,
      exitCode: START_FAILED_EXIT,
      turnActive: false,
      needsInput: [],
      fault: { kind: "error", fatal: true, message: error.message, code: error.code, stderr: this.stderrTail },
    });
  }

  #release(): void {
    if (this.#claimed !== null) this.options.claims?.release(this.#claimed, this);
    this.#claimed = null;
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
    const pid = () => this.#proc?.pid ?? null;
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
      this.#proc?.child.stdin?.end();
      if (await within(deadlines.eofMs)) return "exited";
      const leader = pid();
      if (leader !== null) signalGroup(leader, "SIGTERM");
      if (await within(deadlines.termMs)) return "terminated";
    }
    const leader = pid();
    if (leader !== null) signalGroup(leader, "SIGKILL");
    await exited;
    return "killed";
  }
}

function isSessionFault(fault: AgentFault | SessionFault): fault is SessionFault {
  return "stderr" in fault;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
