// The in-memory mailbox: what it keeps for `get`, what it hands back as pending, and what it forgets.
// Eviction is kept in a settle log read from its head (not a Set walked from the front), so these
// pin down its order: oldest settled first, a record settled again counts from its last settle, and
// pending records are never evicted, across enough settles that the log compacts several times.
import { describe, expect, it } from "vitest";
import { isRelayError } from "../src/errors.js";
import { MemoryMailbox } from "../src/mailbox.js";
import type { MailRecord } from "../src/transport.js";
import { BUNDLE } from "./relay-helpers.js";

function record(n: number, target = "bravo"): MailRecord {
  return {
    messageId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    bundleName: BUNDLE,
    senderSession: "alpha",
    targetSession: target,
    ccSessions: [],
    body: `message ${n}`,
    createdAt: new Date(0).toISOString(),
    state: "pending",
  };
}

/** Which of records 1..n `get` still knows. */
async function kept(mailbox: MemoryMailbox, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 1; i <= n; i++) if ((await mailbox.get(record(i).messageId)) !== undefined) out.push(i);
  return out;
}

describe("MemoryMailbox", () => {
  it("keeps the newest retainSettled settled records, oldest settled evicted first, pending never", async () => {
    const mailbox = new MemoryMailbox({ retainSettled: 3 });
    await mailbox.accept([1, 2, 3, 4, 5, 6].map((n) => record(n)));
    // Settled out of acceptance order: eviction follows settle order.
    for (const n of [4, 1, 5, 2]) await mailbox.settle(record(n).messageId, "delivered", { outcome: "delivered" });
    expect(await kept(mailbox, 6)).toEqual([1, 2, 3, 5, 6]);
    expect((await mailbox.pending()).map((r) => r.body)).toEqual(["message 3", "message 6"]);
    expect(await mailbox.get(record(2).messageId)).toMatchObject({
      state: "delivered",
      outcome: { outcome: "delivered" },
    });
  });

  it("a record settled again counts from its last settle", async () => {
    const mailbox = new MemoryMailbox({ retainSettled: 2 });
    await mailbox.accept([1, 2, 3].map((n) => record(n)));
    await mailbox.settle(record(1).messageId, "delivered");
    await mailbox.settle(record(2).messageId, "delivered");
    await mailbox.settle(record(1).messageId, "read");
    await mailbox.settle(record(3).messageId, "failed", { outcome: "failed", reason: "gone" });
    expect(await kept(mailbox, 3)).toEqual([1, 3]);
    expect(await mailbox.get(record(1).messageId)).toMatchObject({ state: "read" });
  });

  it("over many settles (the log compacting many times) it keeps exactly the newest, and pending ones", async () => {
    const total = 5000;
    const retain = 700;
    const mailbox = new MemoryMailbox({ retainSettled: retain });
    for (let n = 1; n <= total; n++) {
      await mailbox.accept([record(n)]);
      // Every tenth record stays pending; every seventh settled one is settled a second time, later.
      if (n % 10 !== 0) await mailbox.settle(record(n).messageId, "delivered");
      if (n % 7 === 0 && n > 50 && (n - 50) % 10 !== 0) await mailbox.settle(record(n - 50).messageId, "read");
    }
    // The settle order, replayed: the last `retain` distinct ids of it are what must remain.
    const order: number[] = [];
    for (let n = 1; n <= total; n++) {
      if (n % 10 !== 0) order.push(n);
      if (n % 7 === 0 && n > 50 && (n - 50) % 10 !== 0) order.push(n - 50);
    }
    const newest = new Set<number>();
    for (let i = order.length - 1; i >= 0 && newest.size < retain; i--) newest.add(order[i] ?? 0);
    const pending = Array.from({ length: total / 10 }, (_, i) => (i + 1) * 10);
    const expected = [...newest, ...pending].sort((a, b) => a - b);
    expect(await kept(mailbox, total)).toEqual(expected);
    expect((await mailbox.pending()).length).toBe(pending.length);
  });

  it("retainSettled 0 forgets a record as soon as it is settled", async () => {
    const mailbox = new MemoryMailbox({ retainSettled: 0 });
    await mailbox.accept([record(1), record(2)]);
    await mailbox.settle(record(1).messageId, "delivered");
    expect(await kept(mailbox, 2)).toEqual([2]);
  });

  it("accept is all or nothing; settle of an unknown id is refused", async () => {
    const mailbox = new MemoryMailbox();
    await mailbox.accept([record(1)]);
    await expect(mailbox.accept([record(2), record(1)])).rejects.toSatisfy((err) =>
      isRelayError(err, "runtime_internal"),
    );
    expect(await kept(mailbox, 2)).toEqual([1]);
    await expect(mailbox.settle(record(9).messageId, "delivered")).rejects.toSatisfy((err) =>
      isRelayError(err, "runtime_internal"),
    );
  });

  it("a record accepted in another state is stored as pending", async () => {
    const mailbox = new MemoryMailbox();
    await mailbox.accept([{ ...record(1), state: "delivered" }]);
    expect(await mailbox.get(record(1).messageId)).toMatchObject({ state: "pending" });
    expect(await mailbox.pending("bravo")).toHaveLength(1);
    expect(await mailbox.pending("charlie")).toHaveLength(0);
  });
});
