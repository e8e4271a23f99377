// Waiting for something another process (or a later tick) makes true, with a deadline.

/** What a check returns while the awaited thing has not happened yet. */
export type NotYet = undefined | null | false;

/** How long `until` waits by default. Generous: the tests share a loaded machine with others. */
export const UNTIL_DEFAULT_MS = 20_000;

/** Time between two checks: short enough not to slow a test, long enough to let the event loop run. */
const POLL_INTERVAL_MS = 10;

/** `until` gave up: `what` did not happen within `ms`. */
export class UntilTimeoutError extends Error {
  readonly code = "UNTIL_TIMEOUT";

  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`timed out after ${ms} ms waiting for ${what}`);
    this.name = "UntilTimeoutError";
  }
}

/**
 * Calls `check` every few milliseconds until it returns something other than `undefined`, `null`
 * or `false`, and resolves with that value (so `0` and `""` count as an answer). Rejects with an
 * `UntilTimeoutError` naming `what` once `ms` have passed. `check` runs at least once, even with
 * `ms` 0; an exception it throws rejects at once (it is not retried).
 *
 * @example const pid = await until("the pid file", () => existsSync(f) && Number(readFileSync(f, "utf8")));
 */
export async function until<T>(
  what: string,
  check: () => T | NotYet | Promise<T | NotYet>,
  ms: number = UNTIL_DEFAULT_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new UntilTimeoutError(what, ms);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
