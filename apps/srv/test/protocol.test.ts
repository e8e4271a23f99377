import type { BusEvent, Event } from "@agentmux/common-ipc";
import { is, PipeClient, Srv } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";

async function connect() {
  const srv = await Srv.start();
  const client = await PipeClient.connect(srv.pipe);
  return { srv, client };
}

describe("srv-protocol §7 over the Unix socket", () => {
  it("§7.1 snake_case commands and events round-trip; an unknown cmd gets a private invalid_command and the connection stays open", async () => {
    const { client } = await connect();
    client.send('{"cmd":"banana"}\n');
    expect(await client.next()).toEqual({
      event: "error",
      code: "invalid_command",
      message: 'parse failed: unknown cmd "banana"',
      fatal: false,
      version: 0,
    });
    await client.register(4001);
    expect(await client.call({ cmd: "ping", nonce: 42, req_id: "p1" }, is("pong"))).toMatchObject({
      event: "pong",
      nonce: 42,
      req_id: "p1",
    });
    expect(client.closed).toBe(false);
  });

  it("§7.2 ping before register → private not_registered (v0); goodbye before register → fatal and closed", async () => {
    const { client } = await connect();
    client.send({ cmd: "ping", nonce: 1 });
    expect(await client.next()).toMatchObject({ event: "error", code: "not_registered", fatal: false, version: 0 });
    client.send({ cmd: "goodbye" });
    expect(await client.next()).toMatchObject({ event: "error", code: "not_registered", fatal: true, version: 0 });
    await client.waitClosed();
  });

  it("§7.3 first register → process_spawned(v), lifecycle_phase_changed(v+1), registered(v+2) with srv's real identity, live and in replay", async () => {
    const { srv, client } = await connect();
    client.send({ cmd: "register", kind: "tool", pid: 4003, version: "t" });
    const spawned = await client.next(is("process_spawned"));
    const lifecycle = await client.next(is("lifecycle_phase_changed"));
    const registered = await client.next(is("registered"));
    expect(lifecycle.version).toBe(spawned.version + 1);
    expect(registered).toMatchObject({
      version: spawned.version + 2,
      launcher_pid: srv.child.pid,
      launcher_version: "0.1.0",
    });
    client.send({ cmd: "get_events", since: spawned.version - 1 });
    const list = await client.next(is("event_list"));
    expect(list.event === "event_list" && list.events.map((e) => e.event)).toEqual([
      "process_spawned",
      "lifecycle_phase_changed",
      "registered",
    ]);
    expect(list.event === "event_list" && list.events[2]).toEqual(registered);
  });

  it("§7.4 a second register on one connection is private already_registered (v0); a running pid elsewhere is a broadcast refusal and that connection stays unregistered", async () => {
    const { srv, client } = await connect();
    await client.register(4004);
    client.send({ cmd: "register", kind: "tool", pid: 4004, version: "t" });
    expect(await client.next(is("error"))).toMatchObject({ code: "already_registered", version: 0 });
    const other = await PipeClient.connect(srv.pipe);
    const refused = await other.register(4004);
    expect(refused).toMatchObject({ event: "error", code: "already_registered" });
    expect(refused.version).toBeGreaterThan(0);
    // Broadcast: the first client sees it too.
    expect(await client.next((e) => e.event === "error" && e.version === refused.version)).toBeTruthy();
    other.send({ cmd: "ping", nonce: 1 });
    expect(await other.next((e) => e.event === "error" && e.version === 0)).toMatchObject({ code: "not_registered" });
  });

  it("§7.5 an abrupt disconnect → broadcast process_exited{code:0}, and the pid can register again", async () => {
    const { srv, client } = await connect();
    const watcher = await PipeClient.connect(srv.pipe);
    await client.register(4005);
    client.socket.destroy();
    expect(await watcher.next(is("process_exited"))).toMatchObject({ pid: 4005, code: 0 });
    const again = await PipeClient.connect(srv.pipe);
    expect(await again.register(4005)).toMatchObject({ event: "registered" });
  });

  it("§7.6 broadcast versions rise by exactly 1 (pong, snapshot and errors included); no-ops emit nothing", async () => {
    const { srv, client } = await connect();
    const watcher = await PipeClient.connect(srv.pipe);
    await client.register(4006);
    client.send({ cmd: "ping", nonce: 1 });
    client.send({ cmd: "get_srv_snapshot" });
    client.send({ cmd: "rename_tab", tab_id: "missing", name: "x" });
    client.send({ cmd: "delete_workspace", workspace_id: "missing" }); // silent no-op
    client.send({ cmd: "ping", nonce: 2 });
    await watcher.next((e) => e.event === "pong" && e.nonce === 2);
    const seen = watcher.events.filter((e) => e.version > 0).map((e) => `${e.version}:${e.event}`);
    const versions = watcher.events.filter((e) => e.version > 0).map((e) => e.version);
    expect(versions).toEqual(versions.map((_, i) => (versions[0] as number) + i));
    expect(seen.slice(-4).map((s) => s.split(":")[1])).toEqual(["pong", "srv_snapshot", "error", "pong"]);
  });

  it("§7.7 two clients see the same events in the same order, without gaps, even while one connects during a burst", async () => {
    const { srv, client } = await connect();
    await client.register(4007);
    for (let i = 0; i < 200; i++) client.send({ cmd: "ping", nonce: i });
    const late = await PipeClient.connect(srv.pipe); // connects in the middle of the burst
    for (let i = 200; i < 400; i++) client.send({ cmd: "ping", nonce: i });
    await client.next((e) => e.event === "pong" && e.nonce === 399);
    await late.next((e) => e.event === "pong" && e.nonce === 399);
    const first = late.events[0] as Event;
    const tail = client.events.filter((e) => e.version >= first.version);
    expect(late.events).toEqual(tail);
    expect(late.events.map((e) => e.version)).toEqual(late.events.map((_, i) => first.version + i));
  });

  it("§7.8 get_events{since} is private: version > since, ascending, with the current version and no bump; never snapshots, errors or lists", async () => {
    const { srv, client } = await connect();
    const watcher = await PipeClient.connect(srv.pipe);
    await client.register(4008);
    client.send({ cmd: "get_srv_snapshot" });
    client.send({ cmd: "rename_tab", tab_id: "missing", name: "x" });
    const pong = await client.call({ cmd: "ping", nonce: 5 }, is("pong"));
    client.send({ cmd: "get_events", since: 0, req_id: "ge" });
    const list = await client.next(is("event_list"));
    if (list.event !== "event_list") throw new Error("expected event_list");
    expect(list.version).toBe(pong.version);
    expect(list.req_id).toBe("ge");
    const versions = list.events.map((e) => e.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(list.events.map((e) => e.event)).not.toContain("srv_snapshot");
    expect(list.events.map((e) => e.event)).not.toContain("error");
    // Nothing was broadcast for it, and the version did not move.
    const after = await client.call({ cmd: "ping", nonce: 6 }, (e) => e.event === "pong" && e.nonce === 6);
    expect(after.version).toBe(pong.version + 1);
    expect(watcher.events.some((e) => e.event === "event_list")).toBe(false);
  });

  it("§7.9 get_events from before the ring reaches back is answered exactly from the durable log, in pages", async () => {
    const { client } = await connect();
    await client.register(4009);
    const n = 4096 + 500;
    for (let i = 0; i < n; i++) client.send({ cmd: "ping", nonce: i });
    const last = await client.next((e) => e.event === "pong" && e.nonce === n - 1, 60_000);
    client.send({ cmd: "get_events", since: 0 });
    const pages: Event[] = [];
    for (;;) {
      const page = await client.next(is("event_list"));
      pages.push(page);
      if (page.event === "event_list" && !page.more) break;
    }
    const events = pages.flatMap((p) => (p.event === "event_list" ? p.events : []));
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.event === "event_list" && !p.truncated)).toBe(true);
    const versions = events.map((e: BusEvent) => e.version);
    expect(versions).toEqual(Array.from({ length: last.version }, (_, i) => i + 1));
  }, 120_000);

  it("§7.10–11 tab rules hold end to end: first tab active, last-tab guard, force delete", async () => {
    const { client } = await connect();
    await client.register(4010);
    const ws = await client.call({ cmd: "create_workspace", name: "W" }, is("workspace_created"));
    if (ws.event !== "workspace_created") throw new Error("setup");
    client.send({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" });
    const tab = await client.next(is("tab_created"));
    expect(tab).toMatchObject({ name: "Tab 1" });
    expect(await client.next(is("active_tab_changed"))).toMatchObject({ version: tab.version + 1 });
    if (tab.event !== "tab_created") throw new Error("setup");
    client.send({ cmd: "delete_tab", workspace_id: ws.workspace_id, tab_id: tab.tab_id });
    expect(await client.next(is("error"))).toMatchObject({ code: "invalid_command" });
    client.send({ cmd: "delete_tab", workspace_id: ws.workspace_id, tab_id: tab.tab_id, force: true });
    expect(await client.next(is("active_tab_changed"))).toMatchObject({ tab_id: null });
  });

  it("§7.16 a command's events are persisted before anyone sees them: an immediate follow-up on another transport works", async () => {
    const { srv, client } = await connect();
    await client.register(4016);
    const created = await srv.http({ cmd: "create_workspace", name: "http" });
    const ws = created.body.events?.[0];
    if (ws?.event !== "workspace_created") throw new Error("setup");
    const tab = await client.call({ cmd: "create_tab", workspace_id: ws.workspace_id, name: "" }, is("tab_created"));
    expect(tab).toMatchObject({ workspace_id: ws.workspace_id });
  });

  it("§7.20 stdin closing stops srv with exit code 0", async () => {
    const { srv } = await connect();
    srv.child.stdin?.end();
    expect(await srv.exited(5000)).toBe(0);
  });

  it("waits for writes it was sent before a client half-closes, then answers them all", async () => {
    const { client } = await connect();
    client.send({ cmd: "register", kind: "tool", pid: 4099, version: "t" });
    for (let i = 0; i < 50; i++) client.send({ cmd: "ping", nonce: i });
    client.socket.end();
    await client.waitClosed();
    expect(client.events.filter((e) => e.event === "pong")).toHaveLength(50);
  });
});
