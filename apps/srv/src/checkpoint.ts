import type { Logger } from "pino";

export interface CheckpointPolicyOptions {
  /** Runs one checkpoint (a PASSIVE WAL checkpoint of some store file). */
  run: () => Promise<void>;
  /** Work (events, bytes…) after which a checkpoint runs at once, even without a quiet moment. */
  every: number;
  /** Quiet time after the last work after which a checkpoint runs. */
  quietMs: number;
  /** True while the owner is busy: a quiet checkpoint then waits for the next quiet moment. */
  busy?: () => boolean;
  logger: Logger;
  /** What is checkpointed, for the log. */
  what: string;
}

/**
 * srv's one checkpoint policy. srv opens its stores with SQLite's automatic
 * checkpoints off, so that no commit pays for one; instead the WAL is
 * checkpointed when its writer goes quiet, and inline after `every` units of
 * work without a quiet moment, so the WAL stays bounded under sustained load.
 */
export class CheckpointPolicy {
  readonly #options: CheckpointPolicyOptions;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: CheckpointPolicyOptions) {
    this.#options = options;
  }

  /** Counts `units` of work; resolves after the inline checkpoint when they reach the threshold. */
  async note(units: number): Promise<void> {
    if (this.#closed || units === 0) return;
    this.#pending += units;
    if (this.#pending >= this.#options.every) await this.#run();
    else this.#arm();
  }

  /** Cancels the quiet checkpoint (the store is about to close). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#options.busy?.()) this.#arm();
      else void this.#run();
    }, this.#options.quietMs);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#pending === 0 || this.#closed) return;
    this.#pending = 0;
    try {
      await this.#options.run();
    } catch (err) {
      this.#options.logger.warn({ err }, `${this.#options.what} WAL checkpoint failed`);
    }
  }
}
