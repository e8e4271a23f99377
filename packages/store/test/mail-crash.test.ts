import { spawn } from "node:child_process";
import { join } from "node:path";
import { onCleanup, tempDir, until } from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { freshStore } from "./helpers.js";

const CHILD = join(import.meta.dirname, "fixtures", "mail-child.mjs");

describe("mail store: a SIGKILL loses nothing that was acknowledged", () => {
  for (const synchronous of ["normal", "full"] as const) {
    it(`every record the child was told was accepted (or marked) is there after a SIGKILL (synchronous ${synchronous})`, async () => {
      const dir = tempDir("agentmux-mail-crash-");
      const child = spawn(process.execPath, [CHILD, dir, synchronous], { stdio: ["ignore", "pipe", "pipe"] });
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
      // Killed mid-stream: well into its writes, while it is still writing.
      await until(
        "the child to report 3000 accepted records",
        () => {
          if (child.exitCode !== null) throw new Error(`child exited ${child.exitCode}: ${err}`);
          return (out.match(/^accepted /gm)?.length ?? 0) >= 3000;
        },
        60_000,
      );
      child.kill("SIGKILL");
      await closed; // every line the child wrote before it died has been read
      expect(child.signalCode).toBe("SIGKILL");

      const lines = out.split("\n").filter(Boolean);
      const accepted = lines.filter((l) => l.startsWith("accepted ")).map((l) => l.slice(9));
      const delivered = lines.filter((l) => l.startsWith("delivered ")).map((l) => l.slice(10));
      expect(accepted.length).toBeGreaterThanOrEqual(3000);
      expect(delivered.length).toBeGreaterThan(0);

      const raw = new Database(join(dir, "db", "objects.db"));
      expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
      raw.close();
      const store = await freshStore(dir);
      for (const id of accepted) {
        const record = await store.mail.get(id);
        expect(record, `accepted record ${id}`).toMatchObject({ messageId: id, body: `body of ${id}` });
      }
      for (const id of delivered) expect((await store.mail.get(id))?.state, `marked record ${id}`).toBe("delivered");
      // A marked record is no longer owed a delivery (an accepted one may be either: its mark may
      // have committed just before the kill, unreported).
      const owed = new Set((await store.mail.pending()).map((m) => m.messageId));
      expect(delivered.filter((id) => owed.has(id))).toEqual([]);
      await store.close();
    }, 90_000);
  }
});
