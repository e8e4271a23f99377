// The tmux delivery transport (relay.md §3.5 "tmux", acceptance checks 23 and the quiescence half
// of 24): first against a fake tmux (a bash script that logs every call and answers from files this
// test writes), then against the real tmux on a private socket.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { onCleanup, tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { isRelayError } from "../src/errors.js";
import { escapeTmuxArgument, splitUtf8Chunks, type TmuxTarget, TmuxTransport } from "../src/tmux.js";
import type { Delivery } from "../src/transport.js";

const FAKE_TMUX = fileURLToPath(new URL("./fixtures/tmux/fake-tmux.sh", import.meta.url));
const QUIET_MS = 50;
const CHUNK_BYTES = 1024;

/** One call the fake tmux received: when it started (ms) and its arguments after `-S <socket>`. */
interface Call {
  readonly atMs: number;
  readonly args: readonly string[];
}

/** The fake tmux's state directory, written atomically so the script never reads half a file. */
class FakeTmux {
  readonly dir = tempDir("agentmux-faketmux-");
  readonly socketPath = join(this.dir, "tmux.sock");

  constructor(session = "alpha") {
    mkdirSync(join(this.dir, "calls"));
    this.set("session", session);
  }

  set(name: string, value: string): void {
    const tmp = join(this.dir, `.${name}.tmp`);
    writeFileSync(tmp, value);
    renameSync(tmp, join(this.dir, name));
  }

  unset(name: string): void {
    rmSync(join(this.dir, name), { force: true });
  }

  calls(): Call[] {
    const dir = join(this.dir, "calls");
    return readdirSync(dir)
      .filter((name) => !name.endsWith(".tmp"))
      .sort()
      .map((name) => {
        const args = readFileSync(join(dir, name), "utf8").split("\0").slice(0, -1);
        expect(args.slice(0, 2)).toEqual(["-S", this.socketPath]);
        return { atMs: Number(name.split("-")[0]) / 1000, args: args.slice(2) };
      });
  }

  captures(): Call[] {
    return this.calls().filter((call) => call.args[0] === "capture-pane");
  }

  sends(): Call[] {
    return this.calls().filter((call) => call.args[0] === "send-keys");
  }
}

function transportFor(
  fake: FakeTmux,
  target: Omit<TmuxTarget, "tmuxSession"> = {},
  options: { quietWindowMs?: number; syncTimeoutMs?: number } = {},
): TmuxTransport {
  return new TmuxTransport({
    tmuxCommand: FAKE_TMUX,
    socketPath: fake.socketPath,
    resolveTarget: (session) => (session === "alpha" ? { tmuxSession: "alpha", ...target } : undefined),
    quietWindowMs: options.quietWindowMs ?? QUIET_MS,
    ...(options.syncTimeoutMs === undefined ? {} : { syncTimeoutMs: options.syncTimeoutMs }),
  });
}

function delivery(
  fields: {
    envelope?: string;
    mode?: "sync" | "async";
    quiescenceTimeoutMs?: number;
    signal?: AbortSignal;
    target?: string;
  } = {},
): Delivery {
  return {
    messageId: randomUUID(),
    bundleName: "demo",
    senderSession: "beta",
    targetSession: fields.target ?? "alpha",
    ccSessions: [],
    body: "hello",
    envelope: fields.envelope ?? "hello alpha",
    mode: fields.mode ?? "sync",
    quiescenceTimeoutMs: fields.quiescenceTimeoutMs,
    signal: fields.signal ?? new AbortController().signal,
  };
}

/** The literal text that reached the pane, chunk by chunk, with tmux's trailing-`;` escape undone. */
function literalChunks(calls: readonly Call[]): string[] {
  return calls
    .filter((call) => call.args.includes("-l"))
    .map((call) => {
      const arg = call.args.at(-1) ?? "";
      return arg.endsWith("\\;") ? `${arg.slice(0, -2)};` : arg;
    });
}

/** Waits until the fake has answered `count` more captures than it had when this was called. */
async function moreCaptures(fake: FakeTmux, count: number): Promise<void> {
  const before = fake.captures().length;
  await until(`${count} more captures`, () => fake.captures().length >= before + count);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("tmux transport with a fake tmux", () => {
  it("23. nothing is injected until two captures 750 ms apart match (the default quiet window)", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    const transport = new TmuxTransport({
      tmuxCommand: FAKE_TMUX,
      socketPath: fake.socketPath,
      resolveTarget: () => ({ tmuxSession: "alpha" }),
    });
    expect(await transport.deliver(delivery())).toEqual({ outcome: "delivered" });
    const calls = fake.calls();
    const firstSend = calls.findIndex((call) => call.args[0] === "send-keys");
    const captures = calls.slice(0, firstSend).filter((call) => call.args[0] === "capture-pane");
    expect(captures).toHaveLength(2);
    const [first, second] = captures;
    expect((second?.atMs ?? 0) - (first?.atMs ?? 0)).toBeGreaterThanOrEqual(750);
    expect(first?.args).toEqual(["capture-pane", "-p", "-t", "%1", "-S", "-200"]);
  });

  it("23. nothing is injected while the pane keeps changing; it goes in once two captures a quiet window apart match", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("noisy", "");
    const transport = transportFor(fake);
    const outcome = transport.deliver(delivery());
    await moreCaptures(fake, 5);
    expect(fake.sends()).toEqual([]);
    fake.unset("noisy");
    expect(await outcome).toEqual({ outcome: "delivered" });

    const calls = fake.calls();
    const firstSend = calls.findIndex((call) => call.args[0] === "send-keys");
    const captures = calls.slice(0, firstSend).filter((call) => call.args[0] === "capture-pane");
    const [before, after] = captures.slice(-2);
    expect((after?.atMs ?? 0) - (before?.atMs ?? 0)).toBeGreaterThanOrEqual(QUIET_MS);
    expect(literalChunks(fake.sends())).toEqual(["hello alpha"]);
  });

  it("23. a change of window activity alone keeps the gate shut", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("restless", "");
    // Long enough for the gate to look more than once even on a loaded machine (each look runs tmux).
    const transport = transportFor(fake, {}, { syncTimeoutMs: 1500 });
    expect(await transport.deliver(delivery())).toMatchObject({
      outcome: "timeout",
      reason: "quiescence wait timed out after 1500ms",
    });
    expect(fake.captures().length).toBeGreaterThanOrEqual(2);
    expect(fake.sends()).toEqual([]);
  });

  it("23. the prompt regex sees only the last N non-blank lines", async () => {
    const fake = new FakeTmux();
    const transport = transportFor(fake, { promptRegex: /ready\n❯\s*$/, promptInspectLines: 2 });
    fake.set("capture", "thinking...\n❯ \nstill working");
    const outcome = transport.deliver(delivery());
    await moreCaptures(fake, 4);
    expect(fake.sends()).toEqual([]);
    // Blank lines between the two do not count towards N.
    fake.set("capture", "thinking...\nready\n\n\n❯ ");
    expect(await outcome).toEqual({ outcome: "delivered" });

    // The same pane with N=1: the regex never sees "ready", so a sync send times out on the prompt.
    const narrow = transportFor(fake, { promptRegex: /ready\n❯\s*$/, promptInspectLines: 1 }, { syncTimeoutMs: 300 });
    const sendsBefore = fake.sends().length;
    const timedOut = await narrow.deliver(delivery());
    expect(timedOut.outcome).toBe("timeout");
    expect(timedOut.reason).toMatch(/^prompt readiness did not match before timeout after 300ms: /);
    expect(fake.sends()).toHaveLength(sendsBefore);
  });

  it("23. the prompt counts as idle only with the cursor in the configured column", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "❯ ");
    fake.set("cursor_x", "9");
    const transport = transportFor(fake, { promptRegex: /^❯/, promptIdleColumn: 2 });
    const outcome = transport.deliver(delivery());
    await moreCaptures(fake, 4);
    expect(fake.sends()).toEqual([]);
    fake.set("cursor_x", "2");
    expect(await outcome).toEqual({ outcome: "delivered" });
  });

  it("23. nothing is sent while the pane is in a mode or a client's key table is not root", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("pane_in_mode", "1");
    fake.set("key_tables", "root\n");
    const transport = transportFor(fake);
    const outcome = transport.deliver(delivery());
    await moreCaptures(fake, 4);
    expect(fake.sends()).toEqual([]);

    fake.set("key_tables", "root\nprefix\n");
    fake.set("pane_in_mode", "0");
    await moreCaptures(fake, 4);
    expect(fake.sends()).toEqual([]);

    fake.set("key_tables", "root\nroot\n");
    expect(await outcome).toEqual({ outcome: "delivered" });
    const listClients = fake.calls().find((call) => call.args[0] === "list-clients");
    expect(listClients?.args).toEqual(["list-clients", "-t", "=alpha", "-F", "#{client_key_table}"]);
  });

  it("23. text goes in as ≤1024-byte UTF-8-safe literal chunks, then Enter as a separate send-keys", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    const transport = transportFor(fake);
    // A 4-byte emoji straddles the first boundary, 3-byte and 2-byte characters the later ones,
    // and a `;` sits where tmux would read it as a command separator.
    const envelope = `${"a".repeat(1021)}😀${"é".repeat(700)}\n${"日本語".repeat(300)}\n${"x".repeat(1023)};y\nend;`;
    expect(await transport.deliver(delivery({ envelope }))).toEqual({ outcome: "delivered" });

    const sends = fake.sends();
    const literal = sends.slice(0, -1);
    expect(literal.length).toBeGreaterThan(4);
    for (const call of literal) {
      expect(call.args.slice(0, 5)).toEqual(["send-keys", "-t", "%1", "-l", "--"]);
      const arg = call.args[5] ?? "";
      expect(call.args).toHaveLength(6);
      expect(Buffer.byteLength(arg, "utf8")).toBeLessThanOrEqual(CHUNK_BYTES);
      expect(arg).not.toMatch(LONE_SURROGATE);
      expect(arg).not.toContain("\uFFFD");
    }
    const chunks = literalChunks(sends);
    expect(chunks[0]).toBe("a".repeat(1021));
    expect(chunks[1]?.startsWith("😀")).toBe(true);
    expect(chunks.join("")).toBe(envelope);
    expect(sends.at(-1)?.args).toEqual(["send-keys", "-t", "%1", "Enter"]);
    expect(chunks.some((chunk) => chunk.includes("\r"))).toBe(false);
    // No paste buffer anywhere.
    expect(fake.calls().some((call) => /buffer/.test(call.args[0] ?? ""))).toBe(false);
  });

  it("23. raww skips the gate; no_enter omits the Enter", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("noisy", "");
    fake.set("pane_in_mode", "1");
    const transport = transportFor(fake);
    const text = `${"ü".repeat(600)};`;

    await transport.raww("alpha", text, { noEnter: true });
    let sends = fake.sends();
    expect(literalChunks(sends).join("")).toBe(text);
    expect(sends.some((call) => call.args.includes("Enter"))).toBe(false);

    await transport.raww("alpha", "again", { noEnter: false });
    sends = fake.sends();
    expect(literalChunks(sends).join("")).toBe(`${text}again`);
    expect(sends.at(-1)?.args).toEqual(["send-keys", "-t", "%1", "Enter"]);
    expect(fake.captures()).toEqual([]);
  });

  it("23. a noisy pane in sync mode → timeout (the sync default, or the delivery's own timeout)", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("noisy", "");
    const transport = transportFor(fake, {}, { syncTimeoutMs: 300 });
    const started = Date.now();
    const outcome = await transport.deliver(delivery({ mode: "sync" }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(outcome).toMatchObject({ outcome: "timeout", reason: "quiescence wait timed out after 300ms" });

    const own = await transport.deliver(delivery({ mode: "sync", quiescenceTimeoutMs: 150 }));
    expect(own).toMatchObject({ outcome: "timeout", reason: "quiescence wait timed out after 150ms" });
    expect(fake.sends()).toEqual([]);
  });

  it("24. async with no timeout waits for late quiescence, past the sync timeout", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("noisy", "");
    const transport = transportFor(fake, {}, { syncTimeoutMs: 150 });
    const outcome = transport.deliver(delivery({ mode: "async" }));
    const first = await until("a first capture", () => fake.captures()[0]);
    await until("captures spanning four sync timeouts", () => (fake.captures().at(-1)?.atMs ?? 0) - first.atMs > 600);
    expect(fake.sends()).toEqual([]);
    fake.unset("noisy");
    expect(await outcome).toEqual({ outcome: "delivered" });
    expect(literalChunks(fake.sends())).toEqual(["hello alpha"]);
  });

  it("24. async with quiescence_timeout_ms drops the item with timeout", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("noisy", "");
    const transport = transportFor(fake);
    const outcome = await transport.deliver(delivery({ mode: "async", quiescenceTimeoutMs: 200 }));
    expect(outcome).toMatchObject({ outcome: "timeout", reason: "quiescence wait timed out after 200ms" });
    expect(fake.sends()).toEqual([]);
  });

  it("shutdown while waiting → dropped_on_shutdown, nothing typed", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("noisy", "");
    const transport = transportFor(fake);
    const shutdown = new AbortController();
    const outcome = transport.deliver(delivery({ mode: "async", signal: shutdown.signal }));
    await moreCaptures(fake, 2);
    shutdown.abort();
    expect(await outcome).toMatchObject({ outcome: "dropped_on_shutdown", reasonCode: "dropped_on_shutdown" });

    // Already shut down: not even a capture.
    const capturesBefore = fake.captures().length;
    expect(await transport.deliver(delivery({ signal: shutdown.signal }))).toMatchObject({
      outcome: "dropped_on_shutdown",
    });
    expect(fake.captures()).toHaveLength(capturesBefore);
    expect(fake.sends()).toEqual([]);
  });

  it("deliveries to one pane wait their turn and are never interleaved", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    const transport = transportFor(fake);
    const first = "A".repeat(2500);
    const second = "B".repeat(2500);
    const outcomes = await Promise.all([
      transport.deliver(delivery({ envelope: first })),
      transport.deliver(delivery({ envelope: second })),
    ]);
    expect(outcomes).toEqual([{ outcome: "delivered" }, { outcome: "delivered" }]);
    const keys = fake.sends().map((call) => (call.args.includes("Enter") ? "\n" : (call.args.at(-1) ?? "")));
    expect(keys.join("")).toBe(`${first}\n${second}\n`);
  });

  it("an unknown or absent target fails with runtime_target_unavailable", async () => {
    const fake = new FakeTmux("other");
    fake.set("capture", "$ ");
    const transport = transportFor(fake);
    expect(await transport.deliver(delivery({ target: "nobody" }))).toMatchObject({
      outcome: "failed",
      reasonCode: "runtime_target_unavailable",
    });
    // Configured, but no such tmux session (and no prefix match: `=alpha:` is exact).
    fake.set("session", "alphabet");
    expect(await transport.deliver(delivery())).toMatchObject({
      outcome: "failed",
      reasonCode: "runtime_target_unavailable",
    });
    const resolve = fake.calls().find((call) => call.args[0] === "display-message");
    expect(resolve?.args.slice(0, 4)).toEqual(["display-message", "-p", "-t", "=alpha:"]);
    expect(resolve?.args[4]?.startsWith("#{pane_id}")).toBe(true);

    await expect(transport.look("alpha", 10)).rejects.toSatisfy((err) =>
      isRelayError(err, "runtime_target_unavailable"),
    );
    await expect(transport.raww("nobody", "x", { noEnter: false })).rejects.toSatisfy((err) =>
      isRelayError(err, "runtime_target_unavailable"),
    );
    expect(fake.sends()).toEqual([]);
  });

  it("a failing send-keys → failed with runtime_transport_write_failed", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "$ ");
    fake.set("fail_send", "");
    const transport = transportFor(fake);
    expect(await transport.deliver(delivery())).toMatchObject({
      outcome: "failed",
      reasonCode: "runtime_transport_write_failed",
    });
    await expect(transport.raww("alpha", "x", { noEnter: true })).rejects.toSatisfy((err) =>
      isRelayError(err, "runtime_transport_write_failed"),
    );
  });

  it("look returns the last lines of the pane, without the empty rows below the output", async () => {
    const fake = new FakeTmux();
    fake.set("capture", "one\ntwo\nthree\n\n\n");
    const transport = transportFor(fake);
    expect(await transport.look("alpha", 2)).toEqual({ format: "lines", lines: ["two", "three"] });
    const capture = fake.captures().at(-1);
    expect(capture?.args).toEqual(["capture-pane", "-p", "-t", "%1", "-S", "-2"]);
  });
});

describe("UTF-8 chunking", () => {
  it("never splits a code point and keeps every chunk within the byte budget", () => {
    const text = "a😀é日;b😀".repeat(50);
    for (const max of [4, 5, 6, 7, 10, 64]) {
      const chunks = splitUtf8Chunks(text, max);
      expect(chunks.join("")).toBe(text);
      for (const chunk of chunks) {
        expect(Buffer.byteLength(escapeTmuxArgument(chunk), "utf8")).toBeLessThanOrEqual(max);
        expect(chunk).not.toMatch(LONE_SURROGATE);
      }
    }
    expect(splitUtf8Chunks("")).toEqual([]);
  });

  it("escapes only a trailing semicolon", () => {
    expect(escapeTmuxArgument("a;b")).toBe("a;b");
    expect(escapeTmuxArgument("ab;")).toBe("ab\\;");
    expect(escapeTmuxArgument(";")).toBe("\\;");
  });
});

/** The real tmux, or a failure that says how to get it: these tests never skip. */
function requireTmux(): void {
  try {
    execFileSync("tmux", ["-V"], { stdio: "pipe" });
  } catch (err) {
    throw new Error(
      `tmux is not installed or not on PATH (${String(err)}): install Debian's tmux package ` +
        "(apt-get install tmux); the real-tmux tests need it and never skip",
    );
  }
}

/** A private tmux server with one session `alpha` running `command`, killed after the test. */
function realTmux(command: string): { socketPath: string; capture: () => string[] } {
  requireTmux();
  const socketPath = join(tempDir("agentmux-tmux-"), "tmux.sock");
  execFileSync("tmux", ["-S", socketPath, "new-session", "-d", "-s", "alpha", "-x", "200", "-y", "100", command]);
  onCleanup(() => {
    if (existsSync(socketPath)) {
      try {
        execFileSync("tmux", ["-S", socketPath, "kill-server"], { stdio: "pipe" });
      } catch {
        // Already gone with its last session.
      }
    }
  });
  const capture = () =>
    execFileSync("tmux", ["-S", socketPath, "capture-pane", "-p", "-J", "-t", "=alpha:"], { encoding: "utf8" })
      .replace(/\n+$/, "")
      .split("\n");
  return { socketPath, capture };
}

describe("tmux transport with the real tmux", () => {
  it("23. a multi-line, multi-byte envelope over 1024 bytes arrives intact", async () => {
    // No echo: what the pane shows is exactly what cat read, line by line.
    const tmux = realTmux("stty -echo; printf 'ready\\n'; exec cat");
    await until("the pane to be ready", () => tmux.capture().includes("ready"));
    const id = randomUUID();
    const boundary = `agentmux-${id.replaceAll("-", "")}`;
    const body = Array.from({ length: 40 }, (_, i) => `línea ${i}: 日本語のテキスト 😀 ñandú — “quoted”; done`);
    const envelope = [
      `--${boundary}`,
      `Message-Id: ${id}`,
      "Date: 2025-01-01T00:00:00Z",
      "From: beta <session:beta>",
      "To: alpha <session:alpha>",
      "",
      `--${boundary}`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      ...body,
      `--${boundary}--`,
    ].join("\n");
    expect(Buffer.byteLength(envelope)).toBeGreaterThan(2 * CHUNK_BYTES);

    const transport = new TmuxTransport({
      socketPath: tmux.socketPath,
      resolveTarget: () => ({ tmuxSession: "alpha" }),
      quietWindowMs: 100,
    });
    expect(await transport.deliver(delivery({ envelope }))).toEqual({ outcome: "delivered" });
    const lines = await until("the closing marker in the pane", () => {
      const now = tmux.capture();
      return now.at(-1) === `--${boundary}--` && now;
    });
    expect(lines.slice(lines.indexOf("ready") + 1).join("\n")).toBe(envelope);
    expect(await transport.look("alpha", 3)).toEqual({ format: "lines", lines: lines.slice(-3) });
  });

  it("23. raww with no_enter leaves the text on the input line", async () => {
    // With echo: typed text shows at once; cat prints a line again only after Enter.
    const tmux = realTmux("printf 'ready\\n'; exec cat");
    await until("the pane to be ready", () => tmux.capture().includes("ready"));
    const transport = new TmuxTransport({
      socketPath: tmux.socketPath,
      resolveTarget: () => ({ tmuxSession: "alpha" }),
    });

    await transport.raww("alpha", "héllo;", { noEnter: true });
    await until("the typed text", () => tmux.capture().at(-1) === "héllo;");
    // Had an Enter gone with it, "héllo;" would stand on a line of its own, twice.
    await transport.raww("alpha", " wörld 日本;", { noEnter: false });
    const lines = await until("the echoed line", () => {
      const now = tmux.capture();
      return now.length >= 3 && now;
    });
    expect(lines).toEqual(["ready", "héllo; wörld 日本;", "héllo; wörld 日本;"]);
  });
});
