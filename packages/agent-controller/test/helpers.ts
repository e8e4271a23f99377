// Helpers for this package's tests only; what other suites share is in @agentmux/testkit.
import { onCleanup, standIn } from "@agentmux/testkit";
import { filter, firstValueFrom, timeout } from "rxjs";
import {
  claude,
  createSession,
  type OutputLine,
  type Session,
  type SessionOptions,
  type SessionStatus,
} from "../src/index.js";

/** `s`, force-closed after the test (before the testkit removes the test's temp dirs). */
export function closeAfterTest<S extends Session>(s: S): S {
  onCleanup(() => s.close({ force: true }));
  return s;
}

/**
 * A session with the claude adapter whose CLI is the testkit's `misbehaving-cli` stand-in (the
 * adapter's argv is replaced by the stand-in's), closed after the test. `mode` may be a
 * function: it is asked on every spawn.
 */
export function fixtureSession(mode: string | (() => string), options: Partial<SessionOptions> = {}): Session {
  const modeNow = typeof mode === "string" ? () => mode : mode;
  return closeAfterTest(
    createSession({
      provider: { ...claude(), args: () => [standIn("misbehaving-cli"), modeNow()] },
      command: process.execPath,
      cwd: process.cwd(),
      env: { PATH: process.env.PATH },
      ...options,
    }),
  );
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

/** What an ACP agent said so far: its `agent_message_chunk` texts, joined. */
export function acpSaid(out: ReturnType<typeof collect>): string {
  return out
    .json()
    .map((j) => (j as { params?: { update?: { sessionUpdate?: string; content?: { text?: string } } } }).params?.update)
    .filter((u) => u?.sessionUpdate === "agent_message_chunk")
    .map((u) => u?.content?.text ?? "")
    .join("");
}
