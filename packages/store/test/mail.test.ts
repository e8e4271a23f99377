import { join } from "node:path";
import { tempDir } from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import {
  CorruptMailError,
  DiskFullError,
  type NewMail,
  NotFoundError,
  openStore,
  type Store,
  StoreError,
} from "../src/index.js";
import { freshStore } from "./helpers.js";

function mail(messageId: string, over: Partial<NewMail> = {}): NewMail {
  return {
    messageId,
    bundleName: "team",
    senderSession: "ada",
    targetSession: "bob",
    ccSessions: [],
    body: `body of ${messageId}`,
    createdAt: "2026-11-21T10:00:00.000Z",
    ...over,
  };
}

/** A migrated store whose clock reads `now` (ms), so `updatedAt` is predictable. */
async function clockedStore(now: () => number): Promise<{ store: Store; dir: string }> {
  const dir = tempDir("agentmux-mail-");
  const store = await openStore({ dataDir: dir, clock: now });
  await store.migrate();
  return { store, dir };
}

describe("mail store: records", () => {
  it("accept stores pending records; get reads them back as given, with the time in canonical UTC form", async () => {
    const t = Date.parse("2026-11-21T12:00:00.000Z");
    const { store } = await clockedStore(() => t);
    await store.mail.accept([
      mail("m1", { ccSessions: ["cy", "dee"], body: "multi\nline ✓" }),
      mail("m2", { createdAt: "2026-11-21T12:30:00+02:00" }),
    ]);
    expect(await store.mail.get("m1")).toEqual({
      ...mail("m1", { ccSessions: ["cy", "dee"], body: "multi\nline ✓" }),
      state: "pending",
      outcome: null,
      updatedAt: "2026-11-21T12:00:00.000Z",
    });
    expect((await store.mail.get("m2"))?.createdAt).toBe("2026-11-21T10:30:00.000Z");
    expect(await store.mail.get("nope")).toBeUndefined();
    await store.close();
  });

  it("accept is idempotent on message_id: a stored record (or one named twice) is left as it is", async () => {
    const store = await freshStore();
    await store.mail.accept([mail("m1", { body: "first" })]);
    await store.mail.mark("m1", "delivered", { outcome: "delivered" });
    await store.mail.accept([mail("m1", { body: "second" }), mail("m2", { body: "a" }), mail("m2", { body: "b" })]);
    expect(await store.mail.get("m1")).toMatchObject({ body: "first", state: "delivered" });
    expect(await store.mail.get("m2")).toMatchObject({ body: "a", state: "pending" });
    await store.close();
  });

  it("a malformed record rejects the whole call with invalid_argument and writes nothing", async () => {
    const store = await freshStore();
    for (const bad of [
      mail(""),
      mail("m9", { createdAt: "yesterday" }),
      mail("m9", { targetSession: "" }),
      { ...mail("m9"), ccSessions: [7] } as unknown as NewMail,
    ]) {
      const err = await store.mail.accept([mail("ok"), bad]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).code).toBe("invalid_argument");
    }
    expect(await store.mail.get("ok")).toBeUndefined();
    expect(await store.mail.pending()).toEqual([]);
    await store.close();
  });

  it("mark sets the state; an outcome is set when given, kept when omitted, cleared by null", async () => {
    let t = Date.parse("2026-11-21T12:00:00.000Z");
    const { store } = await clockedStore(() => t);
    await store.mail.accept([mail("m1")]);
    t += 1000;
    await store.mail.mark("m1", "delivering");
    expect(await store.mail.get("m1")).toMatchObject({
      state: "delivering",
      outcome: null,
      updatedAt: "2026-11-21T12:00:01.000Z",
    });
    await store.mail.mark("m1", "delivered", { outcome: "delivered", details: { turns: 1 } });
    await store.mail.mark("m1", "read");
    expect(await store.mail.get("m1")).toMatchObject({
      state: "read",
      outcome: { outcome: "delivered", details: { turns: 1 } },
    });
    await store.mail.mark("m1", "failed", null);
    expect(await store.mail.get("m1")).toMatchObject({ state: "failed", outcome: null });
    await store.close();
  });

  it("mark of an unknown id is NotFound, a bad state or outcome is invalid_argument; neither fails other writes", async () => {
    const store = await freshStore();
    const results = await Promise.allSettled([
      store.mail.accept([mail("m1")]),
      store.mail.mark("ghost", "delivered"),
      store.mail.mark("m1", "bogus" as "read"),
      store.mail.mark("m1", "failed", [1, 2] as unknown as { outcome: string }),
      store.mail.accept([mail("m2")]),
      store.mail.mark("m1", "delivered"),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as StoreError) : undefined));
    expect(reasons[1]).toBeInstanceOf(NotFoundError);
    expect(reasons[2]?.code).toBe("invalid_argument");
    expect(reasons[3]?.code).toBe("invalid_argument");
    expect((await store.mail.get("m1"))?.state).toBe("delivered");
    expect((await store.mail.get("m2"))?.state).toBe("pending");
    await store.close();
  });

  it("pending lists pending and delivering records, oldest first (ties in acceptance order), for all targets or one", async () => {
    const store = await freshStore();
    const at = (s: number) => `2026-11-21T10:00:0${s}.000Z`;
    // Accepted out of time order; b1..b3 share one millisecond, so acceptance order decides.
    await store.mail.accept([mail("late", { createdAt: at(5), targetSession: "cy" })]);
    await store.mail.accept([mail("b1", { createdAt: at(2) }), mail("b2", { createdAt: at(2) })]);
    await store.mail.accept([mail("early", { createdAt: at(1), targetSession: "cy" })]);
    await store.mail.accept([mail("b3", { createdAt: at(2) }), mail("done", { createdAt: at(0) })]);
    await store.mail.mark("b2", "delivering");
    await store.mail.mark("done", "delivered");
    const ids = (list: { messageId: string }[]) => list.map((m) => m.messageId);
    expect(ids(await store.mail.pending())).toEqual(["early", "b1", "b2", "b3", "late"]);
    expect(ids(await store.mail.pending("bob"))).toEqual(["b1", "b2", "b3"]);
    expect(ids(await store.mail.pending("cy"))).toEqual(["early", "late"]);
    expect(await store.mail.pending("nobody")).toEqual([]);
    expect((await store.mail.pending("bob"))[1]?.state).toBe("delivering");
    await store.close();
  });

  it("recent lists the newest records of every state, newest first (ties: latest accepted first), at most limit", async () => {
    const store = await freshStore();
    const at = (s: number) => `2026-11-21T10:00:0${s}.000Z`;
    await store.mail.accept([mail("old", { createdAt: at(1) })]);
    await store.mail.accept([mail("t1", { createdAt: at(3) }), mail("t2", { createdAt: at(3) })]);
    await store.mail.accept([mail("mid", { createdAt: at(2), targetSession: "cy" })]);
    await store.mail.mark("t1", "delivered", { via: "echo" });
    await store.mail.mark("old", "failed", { reason: "gone" });
    const ids = (list: { messageId: string }[]) => list.map((m) => m.messageId);
    expect(ids(await store.mail.recent(10))).toEqual(["t2", "t1", "mid", "old"]);
    expect(ids(await store.mail.recent(2))).toEqual(["t2", "t1"]);
    expect(await store.mail.recent(0)).toEqual([]);
    expect((await store.mail.recent(10)).map((m) => m.state)).toEqual(["pending", "delivered", "pending", "failed"]);
    await store.close();
  });

  it("the pending query by target is served by the partial index, which holds only unsettled records", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    await store.mail.accept([mail("a"), mail("b"), mail("c")]);
    await store.mail.mark("a", "delivered");
    await store.close();
    const raw = new Database(join(dir, "db", "objects.db"), { readonly: true });
    // The query MailStore.pending(target) runs (kysely's text for it, condition included word for word).
    const plan = raw
      .prepare(
        `EXPLAIN QUERY PLAN select * from "mail" where state in ('pending', 'delivering') and "target_session" = ? order by "created_at", "seq"`,
      )
      .all("bob") as { detail: string }[];
    expect(plan.map((p) => p.detail).join(" | ")).toMatch(/USING INDEX mail_pending_by_target/);
    expect(plan.map((p) => p.detail).join(" | ")).not.toMatch(/TEMP B-TREE/);
    const indexed = raw.prepare(
      `SELECT count(*) FROM mail INDEXED BY mail_pending_by_target WHERE state in ('pending', 'delivering')`,
    );
    expect(indexed.pluck().get()).toBe(2);
    raw.close();
  });

  it("a corrupt row is named by CorruptMailError on get and on pending", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    await store.mail.accept([mail("good"), mail("bad")]);
    const raw = new Database(join(dir, "db", "objects.db"));
    raw.prepare(`UPDATE mail SET cc_sessions = '{oops' WHERE message_id = 'bad'`).run();
    raw.close();
    expect(await store.mail.get("good")).toMatchObject({ messageId: "good" });
    const err = await store.mail.get("bad").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptMailError);
    expect((err as CorruptMailError).messageId).toBe("bad");
    await expect(store.mail.pending()).rejects.toBeInstanceOf(CorruptMailError);
    await store.close();
  });
});

describe("mail store: group commit", () => {
  it("writes made in the same tick share one transaction", async () => {
    const store = await freshStore();
    const ids = Array.from({ length: 500 }, (_, i) => `m${i}`);
    await Promise.all(ids.map((id) => store.mail.accept([mail(id)])));
    expect(store.mail.stats).toEqual({ commits: 1, writes: 500, records: 500, acceptCommits: 1 });
    expect(await store.mail.pending()).toHaveLength(500);
    await store.close();
  });

  it("writes arriving while a commit runs are batched into the next one", async () => {
    let store: Store | undefined;
    const late: Promise<void>[] = [];
    const clock = () => {
      // The store reads its clock inside each transaction: these 100 writes arrive mid-commit.
      if (late.length === 0 && store !== undefined) {
        for (let i = 0; i < 100; i++) late.push(store.mail.accept([mail(`late${i}`)]));
        late.push(store.mail.mark("first", "delivered"));
      }
      return Date.now();
    };
    const opened = await clockedStore(clock);
    store = opened.store;
    await store.mail.accept([mail("first")]);
    expect(late).toHaveLength(101);
    await Promise.all(late);
    expect(store.mail.stats).toEqual({ commits: 2, writes: 102, records: 101, acceptCommits: 2 });
    expect(await store.mail.pending()).toHaveLength(100);
    expect((await store.mail.get("first"))?.state).toBe("delivered");
    await store.close();
  });

  it("a write that fails its batch is retried alone: only it fails (here: past the file's quota)", async () => {
    const store = await freshStore();
    await store.mail.accept([mail("warm")]);
    // Room for the small records, not for a 4 MiB body.
    const { size } = await import("node:fs").then((fs) => fs.statSync(store.objects.file.path));
    await store.objects.file.setQuota(size + 2 * 1024 * 1024);
    const small = Array.from({ length: 50 }, (_, i) => store.mail.accept([mail(`s${i}`)]));
    const big = store.mail.accept([mail("big", { body: "x".repeat(4 * 1024 * 1024) })]);
    const more = store.mail.mark("warm", "delivered");
    await expect(big).rejects.toBeInstanceOf(DiskFullError);
    await Promise.all([...small, more]);
    expect(await store.mail.get("big")).toBeUndefined();
    expect(await store.mail.pending()).toHaveLength(50);
    expect((await store.mail.get("warm"))?.state).toBe("delivered");
    // Writing goes on once the quota is lifted; acceptance order still counts on.
    await store.objects.file.setQuota(null);
    await store.mail.accept([mail("after", { createdAt: "2026-11-21T10:00:00.000Z" })]);
    expect((await store.mail.pending()).at(-1)?.messageId).toBe("after");
    await store.close();
  });

  it("close waits for queued writes; a reopened store keeps counting acceptance order from the file", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    const writes = Array.from({ length: 20 }, (_, i) => store.mail.accept([mail(`a${i}`)]));
    await store.close();
    await Promise.all(writes);
    const again = await freshStore(dir);
    await again.mail.accept([mail("b0")]);
    const ids = (await again.mail.pending("bob")).map((m) => m.messageId);
    expect(ids).toEqual([...Array.from({ length: 20 }, (_, i) => `a${i}`), "b0"]);
    await again.close();
  });
});
