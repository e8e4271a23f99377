import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AUTH_KEY, is, PipeClient, Srv, WsClient } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";

describe("WebSocket /ws", () => {
  it("serves the same protocol: register, ping, events, get_events", async () => {
    const srv = await Srv.start();
    const ws = await WsClient.connect(srv.wsUrl);
    ws.send({ cmd: "ping", nonce: 1 });
    expect(await ws.next()).toMatchObject({ event: "error", code: "not_registered", version: 0 });
    expect(await ws.register(5001)).toMatchObject({ event: "registered", launcher_pid: srv.child.pid });
    expect(await ws.call({ cmd: "ping", nonce: 7, req_id: "w" }, is("pong"))).toMatchObject({ nonce: 7, req_id: "w" });
    // Events from other transports reach WebSocket clients.
    const pipe = await PipeClient.connect(srv.pipe);
    await pipe.register(5002);
    const created = await pipe.call({ cmd: "create_workspace", name: "from pipe" }, is("workspace_created"));
    expect(await ws.next(is("workspace_created"))).toEqual(created);
    ws.send({ cmd: "get_events", since: created.version - 1 });
    expect(await ws.next(is("event_list"))).toMatchObject({ events: [created] });
  });

  it("accepts the key as ?authkey=, refuses a missing or wrong key (401) and a foreign Origin (403)", async () => {
    const srv = await Srv.start();
    const viaQuery = await WsClient.connect(`${srv.wsUrl}?authkey=${AUTH_KEY}`, {});
    expect(await viaQuery.register(5003)).toMatchObject({ event: "registered" });
    await expect(WsClient.connect(srv.wsUrl, {})).rejects.toThrow("HTTP 401");
    await expect(WsClient.connect(srv.wsUrl, { headers: { "x-authkey": "wrong" } })).rejects.toThrow("HTTP 401");
    await expect(
      WsClient.connect(srv.wsUrl, { headers: { "x-authkey": AUTH_KEY, origin: "https://evil.example" } }),
    ).rejects.toThrow("HTTP 403");
    const local = await WsClient.connect(srv.wsUrl, {
      headers: { "x-authkey": AUTH_KEY, origin: "http://localhost:3000" },
    });
    expect(await local.register(5004)).toMatchObject({ event: "registered" });
  });

  it("binary frames get a typed error; a frame over 1 MiB gets frame_too_large and a close", async () => {
    const srv = await Srv.start();
    const ws = await WsClient.connect(srv.wsUrl);
    ws.send(Buffer.from([0, 1, 2, 255]));
    expect(await ws.next()).toMatchObject({
      event: "error",
      code: "invalid_command",
      message: expect.stringMatching(/binary/),
    });
    ws.send(JSON.stringify({ cmd: "create_workspace", name: "x".repeat(1024 * 1024 + 10) }));
    expect(await ws.next()).toMatchObject({ event: "error", code: "frame_too_large", fatal: true, version: 0 });
    await ws.waitClosed();
  });
});

describe("HTTP", () => {
  it("GET /health is public and reports version, uptime and state version", async () => {
    const srv = await Srv.start();
    const res = await fetch(`${srv.web}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-agentmux-srv-version")).toBe("0.1.0");
    expect(await res.json()).toMatchObject({ status: "ok", version: "0.1.0", state_version: 3 });
  });

  it("POST /api/v1/command runs one command and returns the events it caused", async () => {
    const srv = await Srv.start();
    const ping = await srv.http({ cmd: "ping", nonce: 3, req_id: "h" });
    expect(ping).toEqual({ status: 200, body: { events: [{ event: "pong", nonce: 3, version: 4, req_id: "h" }] } });
    const events = await srv.http({ cmd: "get_events", since: 3 });
    expect(events.body.events?.[0]).toMatchObject({ event: "event_list", events: [{ event: "pong", version: 4 }] });
    const bad = await srv.http("{nope");
    expect(bad.status).toBe(400);
    expect(bad.body.events?.[0]).toMatchObject({ event: "error", code: "invalid_command", version: 0 });
    expect((await srv.http({ cmd: "register", kind: "tool", pid: 1, version: "x" })).status).toBe(400);
    const big = await srv.http(JSON.stringify({ cmd: "create_workspace", name: "y".repeat(1024 * 1024 + 1) }));
    expect(big).toMatchObject({ status: 413, body: { error: "frame_too_large" } });
  });

  it("every non-public route refuses without the key (401 {error: unauthorized}); ?authkey= is only for /ws", async () => {
    const srv = await Srv.start();
    expect(await srv.http({ cmd: "ping", nonce: 1 }, null)).toEqual({ status: 401, body: { error: "unauthorized" } });
    expect(await srv.http({ cmd: "ping", nonce: 1 }, "wrong")).toEqual({
      status: 401,
      body: { error: "unauthorized" },
    });
    const query = await fetch(`${srv.web}/api/v1/command?authkey=${AUTH_KEY}`, { method: "POST", body: "{}" });
    expect(query.status).toBe(401);
    const unknown = await fetch(`${srv.web}/nothing-here`);
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("x-agentmux-srv-version")).toBe("0.1.0");
  });

  it("the auth key never reaches a log line", async () => {
    const srv = await Srv.start();
    await srv.http({ cmd: "ping", nonce: 1 }, "wrong");
    await srv.http({ cmd: "create_workspace", name: AUTH_KEY });
    await srv.kill("SIGTERM");
    const logs = join(srv.dataDir, "logs");
    const text = readdirSync(logs)
      .map((f) => readFileSync(join(logs, f), "utf8"))
      .join("");
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(AUTH_KEY);
    expect(srv.stderr.join("\n")).not.toContain(AUTH_KEY);
  });
});
