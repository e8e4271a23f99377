import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { tempDir, until } from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { AlreadyExistsError, DiskFullError, NotFoundError, openStore, PART_SIZE, StoreError } from "../src/index.js";
import { freshStore } from "./helpers.js";

const CHILD = join(import.meta.dirname, "fixtures", "append-child.mjs");

function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Resolves with the child's stdout once it exits (rejects on a non-zero exit). */
function run(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d;
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d;
    });
    child.on("exit", (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`child exited ${code ?? signal}: ${err}`)),
    );
  });
}

/** Checks that the file is a sequence of whole records as written by append-child. */
function records(text: string): string[] {
  expect(text.endsWith("\n") || text.length === 0).toBe(true);
  const lines = text.split("\n").slice(0, -1);
  for (const line of lines) expect(line).toMatch(/^([AB]):(\d+):\1*$/);
  return lines;
}

describe("file store", () => {
  it("makeFile twice is AlreadyExists; a missing file is NotFound", async () => {
    const store = await freshStore();
    await store.files.makeFile("z", "f");
    await expect(store.files.makeFile("z", "f")).rejects.toBeInstanceOf(AlreadyExistsError);
    await expect(store.files.read("z", "nope")).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.files.makeFile("z", "c", { circular: true })).rejects.toBeInstanceOf(StoreError);
    await store.close();
  });

  it("stores > 64 KiB in ⌈n/65536⌉ parts, byte-exact, with appends at the right offsets", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    const first = bytes(PART_SIZE + 1000, 1);
    const second = bytes(2 * PART_SIZE + 77, 2);
    expect(await store.files.append("block-1", "output", first)).toEqual({ offset: 0, size: first.length });
    expect(await store.files.append("block-1", "output", second)).toEqual({
      offset: first.length,
      size: first.length + second.length,
    });
    const all = Buffer.concat([first, second]);
    const read = await store.files.read("block-1", "output");
    expect(read.offset).toBe(0);
    expect(read.data.equals(all)).toBe(true);
    // Reads across part boundaries.
    for (const [off, len] of [
      [PART_SIZE - 3, 10],
      [5, PART_SIZE * 2],
      [all.length - 1, 100],
      [all.length, 10],
    ] as const) {
      const r = await store.files.read("block-1", "output", off, len);
      expect(r.data.equals(all.subarray(off, off + len))).toBe(true);
    }
    await store.close();
    const raw = new Database(join(dir, "db", "filestore.db"), { readonly: true });
    const parts = raw.prepare("SELECT partidx, length(data) AS n FROM db_file_data ORDER BY partidx").all();
    expect(parts).toHaveLength(Math.ceil(all.length / PART_SIZE));
    expect(parts.every((p) => (p as { n: number }).n <= PART_SIZE)).toBe(true);
    raw.close();
  });

  it("a circular file keeps its last maxSize bytes and keeps offsets absolute", async () => {
    const store = await freshStore();
    await store.files.makeFile("z", "ring", { circular: true, maxSize: PART_SIZE + 10 });
    const chunks = [bytes(50_000, 1), bytes(50_000, 2), bytes(50_000, 3), bytes(7, 4)];
    for (const c of chunks) await store.files.append("z", "ring", c);
    const all = Buffer.concat(chunks);
    const info = await store.files.stat("z", "ring");
    expect(info).toMatchObject({ size: all.length, start: all.length - (PART_SIZE + 10) });
    const r = await store.files.read("z", "ring", 0);
    expect(r.offset).toBe(all.length - (PART_SIZE + 10));
    expect(r.data.equals(all.subarray(r.offset))).toBe(true);
    await store.close();
  });

  it("writeMeta merges (null deletes) or replaces; corrupt opts/meta read as defaults", async () => {
    const dir = tempDir();
    const store = await freshStore(dir);
    await store.files.makeFile("z", "f", {}, { a: 1, b: 2 });
    expect((await store.files.writeMeta("z", "f", { a: null, c: 3 })).meta).toEqual({ b: 2, c: 3 });
    expect((await store.files.writeMeta("z", "f", { x: true }, { replace: true })).meta).toEqual({ x: true });
    const raw = new Database(join(dir, "db", "filestore.db"));
    raw.prepare("UPDATE db_file SET opts = '{oops', meta = '[1]'").run();
    raw.close();
    expect(await store.files.stat("z", "f")).toMatchObject({ opts: {}, meta: {} });
    await store.files.append("z", "f", "still works");
    expect((await store.files.read("z", "f")).data.toString()).toBe("still works");
    await store.close();
  });

  it("disk full: append fails typed with the size unchanged, and works again once room is made", async () => {
    const store = await freshStore();
    await store.files.file.setQuota(512 * 1024);
    let size = 0;
    let failure: unknown;
    for (let i = 0; i < 100 && failure === undefined; i++) {
      failure = await store.files.append("z", "big", bytes(40_000, i)).then(
        (r) => {
          size = r.size;
          return undefined;
        },
        (e: unknown) => e,
      );
    }
    expect(failure).toBeInstanceOf(DiskFullError);
    expect((await store.files.stat("z", "big"))?.size).toBe(size);
    expect((await store.files.read("z", "big")).data.length).toBe(size);
    await store.files.file.setQuota(null);
    expect(await store.files.append("z", "big", "more")).toEqual({ offset: size, size: size + 4 });
    await store.close();
  });

  it("zones: list and delete", async () => {
    const store = await freshStore();
    await store.files.append("z1", "a", "1");
    await store.files.append("z1", "b", "2");
    await store.files.append("z2", "a", "3");
    expect((await store.files.list("z1")).map((f) => f.name)).toEqual(["a", "b"]);
    await store.files.deleteZone("z1");
    expect(await store.files.list("z1")).toEqual([]);
    expect((await store.files.read("z2", "a")).data.toString()).toBe("3");
    await store.files.deleteFile("z2", "a");
    expect(await store.files.stat("z2", "a")).toBeUndefined();
    await store.close();
  });
});

describe("file store across real processes", () => {
  it("two processes appending 1000× each: sizes add up, offsets are distinct, records never interleave", async () => {
    const dir = tempDir();
    const env = { ...process.env, PRINT_OFFSETS: "1" };
    const a = spawn(process.execPath, [CHILD, dir, "A", "1000"], { env });
    const b = spawn(process.execPath, [CHILD, dir, "B", "1000"], { env });
    const [outA, outB] = await Promise.all([run(a), run(b)]);
    const offsets = [...outA.split("\n"), ...outB.split("\n")].filter((l) => /^\d+$/.test(l)).map(Number);
    expect(offsets).toHaveLength(2000);
    expect(new Set(offsets).size).toBe(2000);

    const store = await openStore({ dataDir: dir });
    const { data, size } = await store.files.read("zone", "output");
    const lines = records(data.toString("utf8"));
    expect(lines).toHaveLength(2000);
    expect(size).toBe(data.length);
    // Each writer's records appear complete and in its own order.
    for (const tag of ["A", "B"]) {
      const mine = lines.filter((l) => l.startsWith(`${tag}:`)).map((l) => Number(l.split(":")[1]));
      expect(mine).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    }
    // Offsets are where each record starts.
    const starts = new Set<number>();
    let pos = 0;
    for (const l of lines) {
      starts.add(pos);
      pos += Buffer.byteLength(l) + 1;
    }
    expect(offsets.every((o) => starts.has(o))).toBe(true);
    await store.close();
  }, 60_000);

  it("SIGKILL mid-append: after restart the file holds only whole appends and its size matches its parts", async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [CHILD, dir, "A", "1000000"]);
    await new Promise((r) => child.stdout.once("data", r)); // "ready": migrated and appending
    const store = await openStore({ dataDir: dir });
    // Wait until a few hundred appends have landed, then kill for real.
    await until("the child's first 100 kB", async () => ((await store.files.stat("zone", "output"))?.size ?? 0) >= 1e5);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    await store.close();

    const after = await openStore({ dataDir: dir });
    const { data, size } = await after.files.read("zone", "output");
    expect(data.length).toBe(size);
    const lines = records(data.toString("utf8"));
    expect(lines.map((l) => Number(l.split(":")[1]))).toEqual(Array.from({ length: lines.length }, (_, i) => i));
    await after.close();
  }, 60_000);
});
