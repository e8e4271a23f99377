import { randomUUID } from "node:crypto";
import type { BusEvent, Command } from "@agentmux/common-ipc";
import { type DraftEvent, decide, EventRing, evolve, type ReducerState } from "@agentmux/reducer";
import type { Store } from "@agentmux/store";
import type { Logger } from "pino";
import { CheckpointPolicy } from "./checkpoint.js";
import { DispatcherFailedError } from "./errors.js";

export const DISPATCHER_DEFAULTS = Object.freeze({
  /** Write a state snapshot after this many events. */
  snapshotEvery: 10_000,
  /** Most jobs taken into one commit. */
  maxBatch: 512,
  /** Quiet time after which the objects WAL is checkpointed. */
  idleCheckpointMs: 200,
  /** Events after which the WAL is checkpointed even without a quiet moment. */
  forcedCheckpointEvents: 50_000,
  /** Events read from the durable log per catch-up page. */
  logPage: 10_000,
});

/** Who a command comes from: the pid its connection registered with (none over HTTP or from srv itself). */
export interface Origin {
  registeredPid: number | null;
}

/** srv's own commands (recovery, agents, sagas) come from no client. */
export const SRV_ORIGIN: Origin = Object.freeze({ registeredPid: null });

/** A subscription to the dispatcher's published events. */
export interface Subscription {
  unsubscribe(): void;
}

/** The reducer state as others may see it: read-only. */
export type StateView = {
  readonly [K in keyof ReducerState]: ReducerState[K] extends Map<infer Key, infer Value>
    ? ReadonlyMap<Key, Readonly<Value>>
    : ReducerState[K];
};

/** A page of the event history for catch-up, oldest first. */
export interface HistoryPage {
  events: readonly BusEvent[];
  /** Events before the first one are gone (the ring evicted them, or the log was compacted). */
  truncated: boolean;
}

/** One unit of work: a command decided by the reducer, and/or events made outside it, committed together. */
export interface Job {
  cmd?: Command;
  origin?: Origin;
  /** Events made outside the reducer (saga lifecycle, agent status), versioned after the command's. */
  drafts?: readonly DraftEvent[];
  /** Echoed on the drafts (a command's events echo its own `req_id`). */
  reqId?: string | undefined;
}

interface Queued extends Job {
  resolve: (events: BusEvent[]) => void;
  reject: (err: unknown) => void;
}

export interface DispatcherOptions {
  store: Store;
  state: ReducerState;
  logger: Logger;
  srvPid: number;
  srvVersion: string;
  snapshotEvery?: number;
  maxBatch?: number;
}

/**
 * The single writer. Every state change goes through one strictly serial
 * queue: `decide` → `store.objects.applyEvents` (persist) → publish (version,
 * ring, subscribers). Jobs that arrive while a commit is in flight are taken
 * together into the next commit. Nothing is published before it is persisted.
 * Others see its state read-only, its version, its history, `submit`/`emit`/
 * `apply` and `subscribe`; never its fields.
 */
export class Dispatcher {
  #state: ReducerState;
  readonly #ring = new EventRing();
  /** The ring holds only events published by this process: those after this version. */
  readonly #ringFrom: number;
  readonly #listeners = new Set<(ev: BusEvent) => void>();
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #srvPid: number;
  readonly #srvVersion: string;
  readonly #snapshotEvery: number;
  readonly #maxBatch: number;
  readonly #checkpoints: CheckpointPolicy;
  #queue: Queued[] = [];
  #pumping = false;
  #idle: (() => void)[] = [];
  #lastSnapshot: number;
  /** Set when the in-memory state could not be brought back in line with the store: nothing more is accepted. */
  #failed: Error | undefined;

  constructor(options: DispatcherOptions) {
    this.#state = options.state;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#srvPid = options.srvPid;
    this.#srvVersion = options.srvVersion;
    this.#snapshotEvery = options.snapshotEvery ?? DISPATCHER_DEFAULTS.snapshotEvery;
    this.#maxBatch = options.maxBatch ?? DISPATCHER_DEFAULTS.maxBatch;
    this.#lastSnapshot = options.state.version;
    this.#ringFrom = options.state.version;
    this.#checkpoints = new CheckpointPolicy({
      run: () => this.#store.checkpoint("objects"),
      every: DISPATCHER_DEFAULTS.forcedCheckpointEvents,
      quietMs: DISPATCHER_DEFAULTS.idleCheckpointMs,
      busy: () => this.#pumping,
      logger: options.logger,
      what: "objects",
    });
  }

  /** The current state, read-only. */
  get state(): StateView {
    return this.#state;
  }

  /** Version of the last event published (or bootstrapped). */
  get version(): number {
    return this.#state.version;
  }

  /** Every event published from now on, synchronously, in version order. Subscribe before reading a client's first frame. */
  subscribe(listener: (ev: BusEvent) => void): Subscription {
    this.#listeners.add(listener);
    return { unsubscribe: () => this.#listeners.delete(listener) };
  }

  /** Runs one command; resolves with the events it caused once they are persisted and published. */
  submit(cmd: Command, origin: Origin): Promise<BusEvent[]> {
    return this.apply({ cmd, origin });
  }

  /** Versions, persists and publishes events made outside the reducer (saga lifecycle, agent status). */
  emit(drafts: readonly DraftEvent[], reqId?: string): Promise<BusEvent[]> {
    return this.apply({ drafts, reqId });
  }

  /** Runs a job: its command's events and its drafts are committed and published together. */
  apply(job: Job): Promise<BusEvent[]> {
    return new Promise((resolve, reject) => {
      if (this.#failed !== undefined) return reject(this.#failed);
      this.#queue.push({ ...job, resolve, reject });
      if (!this.#pumping) {
        this.#pumping = true;
        // Let jobs that arrive in the same tick join the first commit.
        setImmediate(() => void this.#pump());
      }
    });
  }

  /**
   * The events after `since`, page by page: from the ring when it reaches back
   * that far, else from the durable log, never the whole backlog in memory.
   */
  async *history(since: number): AsyncGenerator<HistoryPage> {
    const ring = this.#ring.eventsSince(since);
    if (since >= this.#ringFrom && !ring.truncated) {
      yield { events: ring.events, truncated: false };
      return;
    }
    const size = DISPATCHER_DEFAULTS.logPage;
    for (let cursor = since; ; ) {
      const page = await this.#store.objects.eventsSince(cursor, size);
      yield { events: page.events, truncated: page.truncated };
      const last = page.events.at(-1);
      if (page.events.length < size || last === undefined) return;
      cursor = last.version;
    }
  }

  /** Resolves when the queue is empty (shutdown waits for it); no quiet checkpoint runs after. */
  drain(): Promise<void> {
    this.#checkpoints.close();
    if (!this.#pumping && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
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
      // This run's session facts are not in the store's own bootstrap (see startSession): kept to restore on a reload.
      const session = { lifecycle: this.#state.lifecycle, processes: new Map(this.#state.processes) };
      try {
        const ctx = { now: new Date().toISOString(), newId: randomUUID };
        for (const job of jobs) {
          const events: BusEvent[] = [];
          if (job.cmd !== undefined) {
            for (const ev of decide(this.#state, job.cmd, {
              ...ctx,
              registeredPid: job.origin?.registeredPid ?? null,
            })) {
              const patched = this.#patch(ev);
              evolve(this.#state, patched);
              events.push(patched);
            }
          }
          for (const draft of job.drafts ?? []) {
            const ev = { ...draft, version: this.#state.version + 1 } as BusEvent;
            if (job.reqId !== undefined) ev.req_id = job.reqId;
            evolve(this.#state, ev);
            events.push(ev);
          }
          batch.push(...events);
          results.push(events);
        }
        if (batch.length > 0) await this.#store.objects.applyEvents(batch);
      } catch (err) {
        // Nothing of this batch was persisted or published: go back to what the store holds.
        this.#logger.error({ err, jobs: jobs.length }, "could not persist a batch; reloading the state from the store");
        for (const job of jobs) job.reject(err);
        await this.#reload(session);
        continue;
      }
      for (const ev of batch) {
        this.#ring.push(ev);
        for (const listener of this.#listeners) {
          // A subscriber's bug must not stop the single writer.
          try {
            listener(ev);
          } catch (err) {
            this.#logger.error({ err, event: ev.event }, "an event subscriber failed");
          }
        }
      }
      jobs.forEach((job, i) => {
        job.resolve(results[i] as BusEvent[]);
      });
      await this.#checkpoints.note(batch.length);
      await this.#maybeSnapshot();
    }
    this.#pumping = false;
    for (const idle of this.#idle.splice(0)) idle();
  }

  async #reload(session: Pick<ReducerState, "lifecycle" | "processes">): Promise<void> {
    try {
      this.#state = { ...(await this.#store.objects.loadState()), ...session };
    } catch (err) {
      this.#failed = new DispatcherFailedError(err);
      this.#logger.fatal({ err }, this.#failed.message);
      for (const job of this.#queue.splice(0)) job.reject(this.#failed);
    }
  }

  async #maybeSnapshot(): Promise<void> {
    if (this.#state.version - this.#lastSnapshot < this.#snapshotEvery) return;
    try {
      await this.#store.objects.writeSnapshot(this.#state, { now: new Date().toISOString() });
      this.#lastSnapshot = this.#state.version;
    } catch (err) {
      this.#logger.warn({ err }, "could not write a state snapshot");
    }
  }
}
