import { randomUUID } from "node:crypto";
import type { BusEvent, Command } from "@agentmux/common-ipc";
import { type DraftEvent, decide, EventRing, evolve, type ReducerState } from "@agentmux/reducer";
import type { Store } from "@agentmux/store";
import type { Logger } from "pino";

/** Quiet time after which the WAL is checkpointed. */
const IDLE_CHECKPOINT_MS = 200;
/** Events after which the WAL is checkpointed even without a quiet moment. */
const FORCED_CHECKPOINT_EVENTS = 50_000;

/** A subscription to the event bus. */
export interface Subscription {
  unsubscribe(): void;
}

/** The in-process event bus: synchronous, in publish order, to every current subscriber. */
export class Bus<T> {
  readonly #listeners = new Set<(value: T) => void>();

  subscribe(listener: (value: T) => void): Subscription {
    this.#listeners.add(listener);
    return { unsubscribe: () => this.#listeners.delete(listener) };
  }

  next(value: T): void {
    for (const listener of this.#listeners) listener(value);
  }
}

/** Who a command comes from: the pid its connection registered with (none over HTTP). */
export interface Origin {
  registeredPid: number | null;
}

type Job =
  | { kind: "command"; cmd: Command; origin: Origin; resolve: (e: BusEvent[]) => void; reject: (e: unknown) => void }
  | {
      kind: "emit";
      drafts: DraftEvent[];
      reqId?: string;
      resolve: (e: BusEvent[]) => void;
      reject: (e: unknown) => void;
    };

export interface CoreOptions {
  store: Store;
  state: ReducerState;
  logger: Logger;
  srvPid: number;
  srvVersion: string;
  /** Write a state snapshot after this many events (default 10 000). */
  snapshotEvery?: number;
  /** Most commands taken into one commit. */
  maxBatch?: number;
}

/**
 * The single writer. Every state change goes through one strictly serial
 * queue: `decide` → `store.applyEvents` (persist) → publish (version, ring,
 * bus). Commands that arrive while a commit is in flight are taken together
 * into the next commit. Nothing is published before it is persisted.
 */
export class Core {
  state: ReducerState;
  readonly ring = new EventRing();
  /** The ring holds only events published by this process: those after this version. */
  readonly ringFrom: number;
  /** Every published event, in version order. Subscribe before reading a client's first frame. */
  readonly events$ = new Bus<BusEvent>();
  readonly store: Store;
  readonly #logger: Logger;
  readonly #srvPid: number;
  readonly #srvVersion: string;
  readonly #snapshotEvery: number;
  readonly #maxBatch: number;
  #queue: Job[] = [];
  #pumping = false;
  #idle: (() => void)[] = [];
  #lastSnapshot: number;
  /** Set when the in-memory state could not be brought back in line with the store: nothing more is accepted. */
  #failed: Error | undefined;
  /** Events committed since the last WAL checkpoint. */
  #sinceCheckpoint = 0;
  #checkpointTimer: NodeJS.Timeout | undefined;

  constructor(options: CoreOptions) {
    this.state = options.state;
    this.store = options.store;
    this.#logger = options.logger;
    this.#srvPid = options.srvPid;
    this.#srvVersion = options.srvVersion;
    this.#snapshotEvery = options.snapshotEvery ?? 10_000;
    this.#maxBatch = options.maxBatch ?? 512;
    this.#lastSnapshot = options.state.version;
    this.ringFrom = options.state.version;
  }

  /** Runs one command; resolves with the events it caused once they are persisted and published. */
  submit(cmd: Command, origin: Origin): Promise<BusEvent[]> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: "command", cmd, origin, resolve, reject }));
  }

  /** Versions, persists and publishes events made outside the reducer (saga lifecycle, boot facts). */
  emit(drafts: DraftEvent[], reqId?: string): Promise<BusEvent[]> {
    return new Promise((resolve, reject) => this.#enqueue({ kind: "emit", drafts, reqId, resolve, reject }));
  }

  /** Resolves when the queue is empty (shutdown waits for it). */
  drain(): Promise<void> {
    clearTimeout(this.#checkpointTimer);
    if (!this.#pumping && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  #enqueue(job: Job): void {
    if (this.#failed !== undefined) {
      job.reject(this.#failed);
      return;
    }
    this.#queue.push(job);
    if (!this.#pumping) {
      this.#pumping = true;
      // Let commands that arrive in the same tick join the first commit.
      setImmediate(() => void this.#pump());
    }
  }

  /** The registered event carries sentinels the server fills with its own identity, before log and bus. */
  #patch(ev: BusEvent): BusEvent {
    if (ev.event === "registered" && ev.launcher_pid === 0 && ev.launcher_version === "") {
      return { ...ev, launcher_pid: this.#srvPid, launcher_version: this.#srvVersion };
    }
    return ev;
  }

  async #pump(): Promise<void> {
    while (this.#queue.length > 0) {
      const jobs = this.#queue.splice(0, this.#maxBatch);
      const results: BusEvent[][] = [];
      const batch: BusEvent[] = [];
      try {
        const ctx = { now: new Date().toISOString(), newId: randomUUID };
        for (const job of jobs) {
          const events = (job.kind === "command" ? this.#decide(job.cmd, job.origin, ctx) : this.#version(job)).map(
            (e) => this.#patch(e),
          );
          for (const ev of events) evolve(this.state, ev);
          batch.push(...events);
          results.push(events);
        }
        if (batch.length > 0) await this.store.objects.applyEvents(batch);
      } catch (err) {
        // Nothing of this batch was persisted or published: go back to what the store holds.
        this.#logger.error(
          { err, commands: jobs.length },
          "could not persist a batch; reloading the state from the store",
        );
        for (const job of jobs) job.reject(err);
        await this.#reload();
        continue;
      }
      for (const ev of batch) {
        this.ring.push(ev);
        this.events$.next(ev);
      }
      jobs.forEach((job, i) => {
        job.resolve(results[i] as BusEvent[]);
      });
      this.#sinceCheckpoint += batch.length;
      // Under sustained load with no idle moment, checkpoint inline now and then so the WAL stays bounded.
      if (this.#sinceCheckpoint >= FORCED_CHECKPOINT_EVENTS) await this.#checkpoint();
      await this.#maybeSnapshot();
    }
    this.#pumping = false;
    for (const idle of this.#idle.splice(0)) idle();
    this.#scheduleCheckpoint();
  }

  #decide(cmd: Command, origin: Origin, ctx: { now: string; newId: () => string }): BusEvent[] {
    return decide(this.state, cmd, { ...ctx, registeredPid: origin.registeredPid });
  }

  /** Numbers events made outside the reducer after the current version. */
  #version(job: Extract<Job, { kind: "emit" }>): BusEvent[] {
    return job.drafts.map((d, i) => {
      const ev = { ...d, version: this.state.version + i + 1 } as BusEvent;
      if (job.reqId !== undefined) ev.req_id = job.reqId;
      return ev;
    });
  }

  async #reload(): Promise<void> {
    try {
      this.state = await this.store.objects.loadState();
    } catch (err) {
      this.#failed = new Error("srv state could not be reloaded from the store; refusing further commands");
      this.#logger.fatal({ err }, this.#failed.message);
      for (const job of this.#queue.splice(0)) job.reject(this.#failed);
    }
  }

  /** Checkpoints the WAL once the dispatcher has been idle a moment, keeping it off the commit path. */
  #scheduleCheckpoint(): void {
    if (this.#sinceCheckpoint === 0) return;
    clearTimeout(this.#checkpointTimer);
    this.#checkpointTimer = setTimeout(() => {
      if (!this.#pumping && this.#queue.length === 0) void this.#checkpoint();
    }, IDLE_CHECKPOINT_MS);
    this.#checkpointTimer.unref();
  }

  async #checkpoint(): Promise<void> {
    this.#sinceCheckpoint = 0;
    try {
      await this.store.checkpoint();
    } catch (err) {
      this.#logger.warn({ err }, "WAL checkpoint failed");
    }
  }

  async #maybeSnapshot(): Promise<void> {
    if (this.state.version - this.#lastSnapshot < this.#snapshotEvery) return;
    try {
      await this.store.objects.writeSnapshot(this.state, { now: new Date().toISOString() });
      this.#lastSnapshot = this.state.version;
    } catch (err) {
      this.#logger.warn({ err }, "could not write a state snapshot");
    }
  }
}
