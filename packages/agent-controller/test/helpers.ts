import { fileURLToPath } from "node:url";
import { filter, firstValueFrom, timeout } from "rxjs";
import {
  claude,
  createSession,
  isAlive,
  type OutputLine,
  processStartTime,
  type Session,
  type SessionOptions,
  type SessionStatus,
} from "../src/index.js";

/** The stand-in CLI that misbehaves on demand (see its header for the modes). */
export const misbehavingCli = fileURLToPath(new URL("./fixtures/misbehaving-cli.mjs", import.meta.url));

/**
 * A session with the claude adapter whose CLI is the misbehaving fixture (the adapter's argv is
 * replaced by the fixture's). `mode` may be a function: it is asked on every spawn.
 */
export function fixtureSession(mode: string | (() => string), options: Partial<SessionOptions> = {}): Session {
  const modeNow = typeof mode === "string" ? () => mode : mode;
  return createSession({
    provider: { ...claude(), args: () => [misbehavingCli, modeNow()] },
    command: process.execPath,
    cwd: process.cwd(),
    env: { PATH: process.env.PATH },
    ...options,
  });
}

/** The first status (current or future) that satisfies `pred`; fails after `ms`. */
export function statusWhere(
  session: Session,
  pred: (s: SessionStatus) => boolean,
  ms = 20_000,
): Promise<SessionStatus> {
  return firstValueFrom(session.status$.pipe(filter(pred), timeout(ms)));
}

/** Collects a session's transcript lines from now on. */
export function collect(session: Session): { lines: OutputLine[]; json(): Record<string, unknown>[] } {
  const lines: OutputLine[] = [];
  session.output$.subscribe((l) => lines.push(l));
  return {
    lines,
    json: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l.data.toString("utf8")) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
  };
}

/** Polls `check` until it returns a truthy value; fails after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms = 20_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function isRunning(pid: number): boolean {
  // A zombie counts as gone: orphans whose parent died may never be reaped here.
  return isAlive({ pid, startTime: processStartTime(pid) });
}
