import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AUTH_KEY, is, isRunning, PipeClient, SRV_BIN, Srv, tempDir, until } from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";

async function snapshotOf(srv: Srv, pid: number) {
  const c = await PipeClient.connect(srv.pipe);
  await c.register(pid);
  const snap = await c.call({ cmd: "get_srv_snapshot" }, is("srv_snapshot"));
  if (snap.event !== "srv_snapshot") throw new Error("expected a snapshot");
  return snap;
}

describe("crashes", () => {
  it("SIGKILL in the middle of a tear_off_block saga: the next start compensates it before the socket accepts", async () => {
    const first = await Srv.start({ env: { AGENTMUX_SRV_FAULT: "pause-before:move_block" } });
    const client = await PipeClient.connect(first.pipe);
    await client.register(6001);
    const before = await snapshotOf(first, 6002);
    const tab = before.tabs[0]?.[0] as string;
    const block = await client.call({ cmd: "create_block", tab_id: tab, meta: { view: "agent" } }, is("block_created"));
    if (block.event !== "block_created") throw new Error("setup");
    client.send({ cmd: "tear_off_block", block_id: block.block_id, req_id: "tear" });
    // The new workspace and tab exist; srv is parked just before the block moves.
    await client.next(is("tab_created"));
    await until("srv to park", () => first.stderr.some((l) => l.includes("paused before move_block")));
    await first.kill("SIGKILL");

    const second = await Srv.start({ dataDir: first.dataDir });
    // Logs are written asynchronously: wait until both lines are there, then check their order.
    // Logs are written asynchronously: wait for "srv ready" to follow "saga recovered".
    await until("recovery, then readiness, in the log", () => {
      const text = readFileSync(join(first.dataDir, "logs", "srv.log"), "utf8");
      const recovered = text.indexOf('"msg":"saga recovered"');
      return recovered >= 0 && text.indexOf('"msg":"srv ready"', recovered) > recovered;
    });
    const after = await snapshotOf(second, 6003);
    expect(after.workspaces).toEqual(before.workspaces);
    expect(after.tabs).toEqual(before.tabs);
    expect(after.blocks).toEqual([[block.block_id, tab]]);
    const sagas = new Database(join(first.dataDir, "db", "sagas.db"), { readonly: true });
    expect(sagas.prepare("SELECT state FROM saga").pluck().all()).toEqual(["compensated"]);
    sagas.close();
  }, 60_000);

  it("acknowledged commands survive SIGKILL, and get_events{since: 0} after restart returns the whole history", async () => {
    const first = await Srv.start();
    const client = await PipeClient.connect(first.pipe);
    await client.register(6010);
    for (let i = 0; i < 50; i++) client.send({ cmd: "create_workspace", name: `w${i}` });
    const last = await client.next((e) => e.event === "workspace_created" && e.name === "w49");
    const seen = client.events.filter((e) => e.version > 0);
    await first.kill("SIGKILL");

    const second = await Srv.start({ dataDir: first.dataDir });
    const c2 = await PipeClient.connect(second.pipe);
    await c2.register(6011);
    c2.send({ cmd: "get_events", since: 0 });
    const list = await c2.next(is("event_list"));
    if (list.event !== "event_list") throw new Error("expected event_list");
    expect(list.events.slice(0, 3).map((e) => e.event)).toEqual([
      "workspace_created",
      "tab_created",
      "active_tab_changed",
    ]);
    for (const ev of seen) expect(list.events).toContainEqual(ev);
    const snap = await c2.call({ cmd: "get_srv_snapshot" }, is("srv_snapshot"));
    expect(snap.version).toBeGreaterThan(last.version);
  }, 60_000);
});

describe("process lifecycle", () => {
  it("one srv per data dir: a second exits 1 naming the holder's pid; after a SIGKILL the lock is free again", async () => {
    const first = await Srv.start();
    const second = await Srv.start({ dataDir: first.dataDir });
    expect(await second.exited()).toBe(1);
    expect(second.stderr.join("\n")).toContain(`in use by pid ${first.child.pid}`);
    expect(second.estart).toBeUndefined();
    await first.kill("SIGKILL");
    const third = await Srv.start({ dataDir: first.dataDir });
    expect(third.estart).toBeDefined();
  }, 60_000);

  it("prints MIGRATING only when migrations are pending, then ESTART", async () => {
    const first = await Srv.start();
    expect(first.stderr.filter((l) => l.startsWith("AGENTMUXSRV-")).map((l) => l.split(" ")[0])).toEqual([
      "AGENTMUXSRV-MIGRATING",
      "AGENTMUXSRV-ESTART",
    ]);
    expect(first.estart?.pending_migrations).toBe(7);
    await first.kill("SIGTERM");
    const second = await Srv.start({ dataDir: first.dataDir });
    expect(second.stderr.filter((l) => l.startsWith("AGENTMUXSRV-")).map((l) => l.split(" ")[0])).toEqual([
      "AGENTMUXSRV-ESTART",
    ]);
    expect(second.estart?.pending_migrations).toBe(0);
  }, 60_000);

  it("a failing migration prints one MIGRATION-FAILED line and exits 1 without ESTART", async () => {
    const dataDir = join(tempDir(), "data");
    mkdirSync(join(dataDir, "db"), { recursive: true });
    // A table in the way of the first migration.
    const raw = new Database(join(dataDir, "db", "objects.db"));
    raw.exec("CREATE TABLE db_client (x)");
    raw.close();
    const srv = await Srv.start({ dataDir });
    expect(await srv.exited()).toBe(1);
    const failed = srv.stderr.filter((l) => l.startsWith("AGENTMUXSRV-MIGRATION-FAILED"));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/^AGENTMUXSRV-MIGRATION-FAILED error:.*0001_objects.*already exists/);
    expect(srv.stderr.some((l) => l.startsWith("AGENTMUXSRV-ESTART"))).toBe(false);
  }, 60_000);

  it("stops when its parent dies", async () => {
    const dir = tempDir();
    // A parent that starts srv, reports its pid, and then is SIGKILLed.
    const parent = spawn(
      process.execPath,
      [
        "-e",
        `const c = require("node:child_process").spawn(process.execPath, ${JSON.stringify([SRV_BIN, "--data-dir", join(dir, "data")])}, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, AGENTMUX_AUTH_KEY: ${JSON.stringify(AUTH_KEY)}, AGENTMUX_SRV_PIPE_PATH: ${JSON.stringify(join(dir, "s.sock"))} } });
         c.stderr.on("data", (d) => { if (String(d).includes("AGENTMUXSRV-ESTART")) console.log(c.pid); });
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const srvPid = Number(await new Promise<string>((r) => parent.stdout.once("data", (d: Buffer) => r(String(d)))));
    expect(isRunning(srvPid)).toBe(true);
    parent.kill("SIGKILL");
    await until("srv to notice its parent died", () => !isRunning(srvPid), 10_000);
  }, 60_000);

  it("bad flags or environment values exit 2 with the reason and the usage", async () => {
    const flag = await Srv.start({ args: ["--sync", "sometimes"] });
    expect(await flag.exited()).toBe(2);
    expect(flag.stderr.join("\n")).toMatch(/bad arguments: sync: .*\n[\s\S]*usage: agentmux-srv/);
    const env = await Srv.start({ env: { AGENTMUX_AUTH_KEY: "short" } });
    expect(await env.exited()).toBe(2);
    expect(env.stderr.join("\n")).toContain("AGENTMUX_AUTH_KEY: must be at least 16 characters");
    const unknown = await Srv.start({ args: ["--bogus"] });
    expect(await unknown.exited()).toBe(2);
    // A relay socket path that could not be bound is refused before anything starts.
    const deep = await Srv.start({ env: { AGENTMUX_RELAY_DIR: `/tmp/${"d".repeat(90)}` } });
    expect(await deep.exited()).toBe(2);
    expect(deep.stderr.join("\n")).toMatch(/bad relay location .*over the limit of 103/);
  });

  it("SIGTERM stops it cleanly, not by its shutdown deadline", async () => {
    const srv = await Srv.start();
    await srv.kill("SIGTERM");
    expect(srv.exitCode).toBe(0);
    const log = readFileSync(join(srv.dataDir, "logs", "srv.log"), "utf8");
    expect(log).toContain('"msg":"stopped"');
    expect(log).not.toContain("shutdown deadline passed");
  });
});

describe("bad input never hurts anyone else", () => {
  it("10k malformed, binary and oversized frames from one client while another works normally", async () => {
    const srv = await Srv.start();
    const good = await PipeClient.connect(srv.pipe);
    await good.register(6100);
    const bad = await PipeClient.connect(srv.pipe);
    const junk = [
      "{not json",
      '{"cmd":"banana"}',
      '{"cmd":"ping","nonce":"x"}',
      "\u0000\u0001\u0002\u00ff\u00fe",
      "[1,2,3]",
      '{"cmd":"create_tab","workspace_id":5}',
      '"just a string"',
    ];
    let sent = 0;
    const pump = (async () => {
      for (let i = 0; i < 10_000; i++) {
        bad.send(`${junk[i % junk.length]}\n`);
        sent++;
        if (i % 500 === 0) await new Promise((r) => setImmediate(r));
      }
      bad.socket.write(Buffer.from([0xff, 0xfe, 0x00, 0x0a]));
      bad.send(`${"z".repeat(1024 * 1024 + 100)}\n`);
    })();
    for (let i = 0; i < 100; i++)
      await good.call({ cmd: "ping", nonce: i }, (e) => e.event === "pong" && e.nonce === i);
    await pump;
    await bad.waitClosed(30_000);
    expect(sent).toBe(10_000);
    const errors = bad.events.filter((e) => e.event === "error");
    expect(errors).toHaveLength(10_002);
    expect(errors.every((e) => e.version === 0)).toBe(true);
    expect(errors.at(-1)).toMatchObject({ code: "frame_too_large", fatal: true });
    // The good client saw nothing unusual: no errors, versions without gaps.
    expect(good.events.filter((e) => e.event === "error")).toEqual([]);
    const versions = good.events.map((e) => e.version);
    expect(versions).toEqual(versions.map((_, i) => (versions[0] as number) + i));
    expect((await fetch(`${srv.web}/health`)).status).toBe(200);
  }, 120_000);

  it("a client that stops reading gets error{lagged} and is disconnected; others are unaffected", async () => {
    const srv = await Srv.start({ args: ["--client-buffer-bytes", "65536"] });
    const slow = await PipeClient.connect(srv.pipe);
    await slow.register(6201);
    slow.socket.pause(); // from now on, never reads
    const busy = await PipeClient.connect(srv.pipe);
    await busy.register(6200);
    const payload = "p".repeat(2000);
    const logFile = join(srv.dataDir, "logs", "srv.log");
    let i = 0;
    await until(
      "srv to drop the slow client",
      async () => {
        for (let k = 0; k < 50; k++) busy.send({ cmd: "create_workspace", name: `${payload}${i++}` });
        await busy.next((e) => e.event === "workspace_created" && e.name === `${payload}${i - 1}`);
        return readFileSync(logFile, "utf8").includes("client too slow");
      },
      60_000,
    );
    slow.socket.resume();
    await slow.waitClosed(30_000);
    expect(slow.events.at(-1)).toMatchObject({ event: "error", code: "lagged", fatal: true });
    expect(busy.closed).toBe(false);
    expect(await busy.call({ cmd: "ping", nonce: 1 }, is("pong"))).toMatchObject({ nonce: 1 });
    // The dropped client was said goodbye for, so its pid can register again.
    const goodbye = await until("the dropped client's goodbye", () =>
      busy.events.find((e) => e.event === "process_exited" && e.pid === 6201),
    );
    expect(goodbye).toMatchObject({ code: 0 });
    const back = await PipeClient.connect(srv.pipe);
    expect(await back.register(6201)).toMatchObject({ event: "registered" });
  }, 120_000);
});
