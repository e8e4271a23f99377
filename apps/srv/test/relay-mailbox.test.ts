// The relay's mailbox on srv's store: the adapter on a real SQLite file, and the promise it exists
// for: a send the relay acknowledged survives a SIGKILL of the process hosting the relay and is
// delivered by the next one.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  BUILTIN_CONTROLS,
  type Delivery,
  type DeliveryOutcome,
  type MailRecord,
  RelayClient,
  RelayServer,
  staticDirectory,
  type Transport,
} from "@agentmux/relay";
import { CorruptMailError, NotFoundError, openStore, type Store } from "@agentmux/store";
import { onCleanup, tempDir, until } from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { StoreMailbox } from "../src/relay/mailbox.js";

const SRV_DIR = join(import.meta.dirname, "..");
const MAILBOX_SRC = pathToFileURL(join(SRV_DIR, "src", "relay", "mailbox.ts")).href;

async function openMigrated(dataDir: string): Promise<Store> {
  const store = await openStore({ dataDir });
  await store.migrate();
  onCleanup(() => store.close());
  return store;
}

function record(messageId: string, over: Partial<MailRecord> = {}): MailRecord {
  return {
    messageId,
    bundleName: "team",
    senderSession: "ada",
    targetSession: "bob",
    ccSessions: ["cy"],
    body: `hello ${messageId}`,
    createdAt: "2026-11-21T10:00:00.000Z",
    state: "pending",
    ...over,
  };
}

describe("StoreMailbox", () => {
  it("accepts, settles (settle maps to mark) and reads records back as the relay wrote them", async () => {
    const mailbox = new StoreMailbox((await openMigrated(tempDir())).mail);
    await mailbox.accept([record("m1"), record("m2", { targetSession: "cy", ccSessions: ["bob"] })]);
    expect(await mailbox.get("m1")).toEqual(record("m1"));
    const outcome: DeliveryOutcome = { outcome: "timeout", reasonCode: "pane_busy", details: { waited_ms: 30_000 } };
    await mailbox.settle("m2", "failed", outcome);
    expect(await mailbox.get("m2")).toEqual({
      ...record("m2", { targetSession: "cy", ccSessions: ["bob"] }),
      state: "failed",
      outcome,
    });
    await mailbox.settle("m1", "delivered", { outcome: "delivered" });
    await mailbox.settle("m1", "read");
    expect(await mailbox.get("m1")).toMatchObject({ state: "read", outcome: { outcome: "delivered" } });
    expect(await mailbox.get("nope")).toBeUndefined();
  });

  it("settle is write-behind: it resolves at once, reads see it, and it is durable by the next markDelivering", async () => {
    const dir = tempDir();
    const logged: [string, Record<string, unknown>][] = [];
    const mailbox = new StoreMailbox((await openMigrated(dir)).mail, { log: (e, d) => logged.push([e, d]) });
    await mailbox.accept([record("a"), record("b"), record("c")]);
    const committedState = (id: string) => {
      const raw = new Database(join(dir, "db", "objects.db"), { readonly: true });
      try {
        return raw.prepare("SELECT state FROM mail WHERE message_id = ?").pluck().get(id);
      } finally {
        raw.close();
      }
    };
    await mailbox.settle("a", "delivered", { outcome: "delivered" });
    // Not committed yet (the group commit runs later in this turn of the event loop)…
    expect(committedState("a")).toBe("pending");
    // …but a read through the mailbox waits for it, so it never sees the past.
    expect((await mailbox.get("a"))?.state).toBe("delivered");
    await mailbox.settle("b", "delivered", { outcome: "delivered" });
    expect((await mailbox.pending()).map((r) => r.messageId)).toEqual(["c"]);
    // The store commits in call order: a settle is durable once a later markDelivering resolves.
    await mailbox.settle("c", "failed", { outcome: "failed", reason: "gone" });
    await mailbox.accept([record("d")]);
    await mailbox.markDelivering("d");
    expect(committedState("c")).toBe("failed");
    // A settle that fails is reported, not thrown at the relay.
    await mailbox.settle("ghost", "delivered");
    await mailbox.flush();
    expect(logged).toEqual([
      [
        "relay.mailbox.settle_failed",
        { message_id: "ghost", state: "delivered", error: "mail record ghost not found" },
      ],
    ]);
  });

  it("markDelivering leaves the record owed a delivery, visibly: pending lists it as delivering", async () => {
    const mailbox = new StoreMailbox((await openMigrated(tempDir())).mail);
    await mailbox.accept([
      record("a", { createdAt: "2026-11-21T10:00:01.000Z" }),
      record("b", { createdAt: "2026-11-21T10:00:02.000Z" }),
      record("c", { targetSession: "cy" }),
    ]);
    await mailbox.markDelivering("a");
    expect((await mailbox.pending("bob")).map((r) => [r.messageId, r.state])).toEqual([
      ["a", "delivering"],
      ["b", "pending"],
    ]);
    expect((await mailbox.pending()).map((r) => r.messageId)).toEqual(["c", "a", "b"]);
    await mailbox.settle("a", "delivered", { outcome: "delivered" });
    expect((await mailbox.pending("bob")).map((r) => r.messageId)).toEqual(["b"]);
    await expect(mailbox.markDelivering("ghost")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("an outcome that is not a delivery outcome (the file was tampered with) is refused with CorruptMailError", async () => {
    const dir = tempDir();
    const mailbox = new StoreMailbox((await openMigrated(dir)).mail);
    await mailbox.accept([record("m1")]);
    await mailbox.settle("m1", "delivered", { outcome: "delivered" });
    await mailbox.flush();
    const raw = new Database(join(dir, "db", "objects.db"));
    raw.prepare(`UPDATE mail SET outcome = '{"outcome":"teleported"}' WHERE message_id = 'm1'`).run();
    raw.close();
    const err = await mailbox.get("m1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptMailError);
    expect((err as CorruptMailError).message).toMatch(/m1.*outcome/);
  });
});

/**
 * A relay in a child process: ada and bob on bundle "team", the StoreMailbox on `<dataDir>`,
 * and a transport for bob that marks each message delivering and then never finishes (an agent
 * that is busy), so everything after the first message stays pending. Prints "listening".
 */
const RELAY_CHILD = `
import { BUILTIN_CONTROLS, bundlePaths, hostRelay, RelayServer, secureBundleDir, staticDirectory } from "@agentmux/relay";
import { openStore } from "@agentmux/store";
import { StoreMailbox } from ${JSON.stringify(MAILBOX_SRC)};
const [dataDir, stateDir] = process.argv.slice(1);
const store = await openStore({ dataDir });
await store.migrate();
const mailbox = new StoreMailbox(store.mail);
const busy = {
  kind: "session",
  async deliver(d) { await mailbox.markDelivering(d.messageId); return new Promise(() => {}); },
  async look() { return { format: "lines", lines: [] }; },
};
const members = ["ada", "bob"].map((id) => ({ id, transport: busy, controls: BUILTIN_CONTROLS }));
const relay = new RelayServer({ bundleName: "team", directory: staticDirectory({ members, uis: [] }), mailbox });
const paths = bundlePaths(stateDir, "team");
const uid = process.getuid();
secureBundleDir(paths.dir, { uid });
const hosted = await hostRelay({ paths, uid, bundleName: "team", onConnection: (s) => relay.handleConnection(s) });
if (hosted.outcome !== "hosted") throw new Error(hosted.reason);
process.stdout.write("listening\\n");
`;

/** Records what it is handed, in order, with the state the mailbox had for it at that moment. */
function recordingTransport(mailbox: StoreMailbox): Transport & { seen: { id: string; state: string }[] } {
  const seen: { id: string; state: string }[] = [];
  return {
    kind: "session",
    seen,
    async deliver(d: Delivery): Promise<DeliveryOutcome> {
      seen.push({ id: d.messageId, state: (await mailbox.get(d.messageId))?.state ?? "missing" });
      return { outcome: "delivered" };
    },
    async look() {
      return { format: "lines", lines: [] };
    },
  };
}

describe("a relay on the StoreMailbox, SIGKILLed", () => {
  it("delivers after the restart every send it acknowledged before the kill, once each, oldest first", async () => {
    const dataDir = tempDir();
    const stateDir = tempDir("amx-relay-");
    const child = spawn(process.execPath, ["--input-type=module", "-e", RELAY_CHILD, dataDir, stateDir], {
      cwd: SRV_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d;
    });
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    await until("the relay child to listen", () => {
      if (child.exitCode !== null) throw new Error(`relay child exited ${child.exitCode}: ${err}`);
      return out.includes("listening");
    });

    const ada = await RelayClient.connect({
      socketPath: join(stateDir, "bundles", "team", "relay.sock"),
      bundleName: "team",
      sessionId: "ada",
      clientClass: "agent",
    });
    onCleanup(() => ada.close());
    const acked: string[] = [];
    let stop = false;
    // 16 senders at once, until the kill breaks the stream; only acknowledged sends count.
    const senders = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        let res: Awaited<ReturnType<RelayClient["send"]>>;
        try {
          res = await ada.send({ message: `msg ${w}.${i}`, targets: ["bob"], deliveryMode: "async" });
        } catch {
          return; // the relay is gone: this send was never acknowledged
        }
        expect(res.status).toBe("accepted");
        for (const r of res.results) acked.push(r.message_id);
      }
    });
    await until("400 acknowledged sends", () => acked.length >= 400);
    child.kill("SIGKILL");
    await closed;
    stop = true;
    await Promise.all(senders);
    expect(child.signalCode).toBe("SIGKILL");
    const ackedAtKill = [...acked];

    // srv starts again on the same data dir: the relay redelivers what the mailbox still owes.
    const store = await openMigrated(dataDir);
    const mailbox = new StoreMailbox(store.mail);
    const owed = await mailbox.pending("bob");
    const owedIds = new Set(owed.map((r) => r.messageId));
    expect(ackedAtKill.filter((id) => !owedIds.has(id))).toEqual([]);
    // The one the busy agent was being handed is visibly interrupted; nothing else is.
    expect(owed.filter((r) => r.state === "delivering").length).toBe(1);
    expect(owed[0]?.state).toBe("delivering");

    const bob = recordingTransport(mailbox);
    const members = ["ada", "bob"].map((id) => ({
      id,
      transport: id === "bob" ? bob : recordingTransport(mailbox),
      controls: BUILTIN_CONTROLS,
    }));
    const relay = new RelayServer({ bundleName: "team", directory: staticDirectory({ members, uis: [] }), mailbox });
    onCleanup(() => relay.close());
    expect(await relay.redeliverPending()).toBe(owed.length);
    await until("every owed message delivered", async () => (await mailbox.pending()).length === 0);
    const delivered = bob.seen.map((s) => s.id);
    expect(delivered).toEqual(owed.map((r) => r.messageId));
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(bob.seen[0]?.state).toBe("delivering");
    for (const id of ackedAtKill) expect((await mailbox.get(id))?.state, id).toBe("delivered");
  }, 60_000);
});
