import type { BusEvent } from "@agentmux/common-ipc";

export const DEFAULT_RING_CAPACITY = 4096;

/** Event kinds a replay never carries (they describe a moment or a requester, not a change). */
const NOT_REPLAYED: ReadonlySet<string> = new Set(["srv_snapshot", "event_list", "error"]);

export interface EventsSince {
  /** Retained events with version > since, oldest first. */
  events: BusEvent[];
  /** True when an event with version > since was evicted: the reply is incomplete and the client should re-snapshot. */
  truncated: boolean;
}

/**
 * A bounded in-memory replay buffer of recent broadcast events, in version
 * order. When full, the oldest event is evicted. Snapshots, event lists and
 * errors are never retained.
 */
export class EventRing {
  readonly capacity: number;
  #buf: (BusEvent | undefined)[];
  #start = 0;
  #size = 0;
  #lastEvicted = 0;

  constructor(capacity = DEFAULT_RING_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be ≥ 1, got ${capacity}`);
    this.capacity = capacity;
    this.#buf = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Version of the oldest retained event, or undefined when empty. */
  get oldestVersion(): number | undefined {
    return this.#at(0)?.version;
  }

  /** Appends an event (ignored if it is of a kind that is never replayed). Versions must rise. */
  push(ev: BusEvent): void {
    if (NOT_REPLAYED.has(ev.event)) return;
    const newest = this.#at(this.#size - 1);
    if (newest !== undefined && ev.version <= newest.version) {
      throw new RangeError(`event version ${ev.version} does not follow ${newest.version}`);
    }
    if (this.#size === this.capacity) {
      this.#lastEvicted = (this.#buf[this.#start] as BusEvent).version;
      this.#buf[this.#start] = ev;
      this.#start = (this.#start + 1) % this.capacity;
    } else {
      this.#buf[(this.#start + this.#size) % this.capacity] = ev;
      this.#size++;
    }
  }

  /** Retained events with version > `since`, oldest first, and whether some were already evicted. */
  eventsSince(since: number): EventsSince {
    // Binary search for the first retained event with version > since.
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#at(mid) as BusEvent).version <= since) lo = mid + 1;
      else hi = mid;
    }
    const events: BusEvent[] = new Array(this.#size - lo);
    for (let i = lo; i < this.#size; i++) events[i - lo] = this.#at(i) as BusEvent;
    return { events, truncated: this.#lastEvicted > since };
  }

  #at(i: number): BusEvent | undefined {
    if (i < 0 || i >= this.#size) return undefined;
    return this.#buf[(this.#start + i) % this.capacity];
  }
}
