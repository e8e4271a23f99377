import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AUTH_KEY, Srv, tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";

/** A stand-in for the built dashboard: an index page and one asset. */
function webDir(): string {
  const dir = tempDir("agentmux-web-");
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), '<!doctype html><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(dir, "assets", "app.js"), "console.log('app')");
  return dir;
}

async function token(srv: Srv, key: string | null = AUTH_KEY): Promise<Response> {
  return fetch(`${srv.web}/api/v1/login-token`, { method: "POST", headers: key === null ? {} : { "x-authkey": key } });
}

/** Logs in with a fresh token; the session cookie (`name=value`). */
async function login(srv: Srv): Promise<string> {
  const { path } = (await (await token(srv)).json()) as { path: string };
  const res = await fetch(`${srv.web}${path}`, { redirect: "manual" });
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/");
  const cookie = res.headers.get("set-cookie") ?? "";
  expect(cookie).toMatch(/^agentmux_session=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
  return cookie.split(";")[0] as string;
}

/** A WebSocket upgrade on the web listener (where the dashboard's page connects); its status. */
function upgrade(srv: Srv, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${srv.web.replace(/^http/, "ws")}/ws`, { headers });
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", () => resolve(0));
  });
}

describe("the dashboard's door", () => {
  it("a one-time token, asked for with the key, is traded for an HttpOnly session cookie", async () => {
    const srv = await Srv.start({ env: { AGENTMUX_WEB_DIR: webDir() } });
    expect((await token(srv, null)).status).toBe(401);
    expect((await token(srv, "wrong-key-wrong-key")).status).toBe(401);
    const { path } = (await (await token(srv)).json()) as { path: string };
    const first = await fetch(`${srv.web}${path}`, { redirect: "manual" });
    expect(first.status).toBe(303);
    // Spent: the same link again is refused, with a page saying how to get in.
    const twice = await fetch(`${srv.web}${path}`, { redirect: "manual" });
    expect(twice.status).toBe(401);
    expect(await twice.text()).toContain("agentmux dashboard");
    expect((await fetch(`${srv.web}/login?token=made-up`)).status).toBe(401);
    expect((await fetch(`${srv.web}/login`)).status).toBe(401);

    const cookie = await login(srv);
    const page = await fetch(`${srv.web}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'; style-src 'self'/);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(await page.text()).toContain("/assets/app.js");
    const asset = await fetch(`${srv.web}/assets/app.js`, { headers: { cookie } });
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    // Nothing outside the dashboard's files, however the path is spelled.
    for (const sneaky of [
      "/assets/../../../etc/passwd",
      "/assets/%2e%2e/%2e%2e/etc/passwd",
      "/assets/..%2f..%2fetc/passwd",
      "/assets/nope.js",
    ]) {
      const res = await fetch(`${srv.web}${sneaky}`, { headers: { cookie } });
      expect([401, 404]).toContain(res.status);
      expect(await res.text()).not.toContain("root:");
    }
    // No session, or a made-up one: the way in, nothing else.
    for (const headers of [{}, { cookie: "agentmux_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }]) {
      const anon = await fetch(`${srv.web}/`, { headers });
      expect(anon.status).toBe(401);
      expect(await anon.text()).not.toContain("/assets/");
    }
    // The API itself still wants the key: a session cookie is for the page and its WebSocket.
    const api = await fetch(`${srv.web}/api/v1/command`, {
      method: "POST",
      headers: { cookie },
      body: '{"cmd":"ping","nonce":1}',
    });
    expect(api.status).toBe(401);
  });

  it("the WebSocket takes the session from the dashboard's own page only", async () => {
    const srv = await Srv.start({ env: { AGENTMUX_WEB_DIR: webDir() } });
    const cookie = await login(srv);
    const origin = srv.web;
    expect(await upgrade(srv, { cookie, origin })).toBe(101);
    expect(await upgrade(srv, { cookie })).toBe(401); // no Origin: not a browser page
    expect(await upgrade(srv, { cookie, origin: "https://evil.example" })).toBe(403);
    // Another local web server's page (loopback, another port) is the same site to the cookie: refused.
    expect(await upgrade(srv, { cookie, origin: "http://127.0.0.1:1" })).toBe(401);
    expect(await upgrade(srv, { cookie: "agentmux_session=nope", origin })).toBe(401);
  });

  it("sessions outlive srv, even a kill -9; a corrupt sessions file is set aside, never fatal", async () => {
    const srv = await Srv.start({ env: { AGENTMUX_WEB_DIR: webDir() } });
    const cookie = await login(srv);
    const file = join(srv.dataDir, "dashboard", "sessions.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Kept as hashes: the file holds no session id.
    expect(readFileSync(file, "utf8")).not.toContain(cookie.split("=")[1]);
    await srv.kill("SIGKILL");
    const again = await Srv.start({ dataDir: srv.dataDir, env: { AGENTMUX_WEB_DIR: webDir() } });
    expect((await fetch(`${again.web}/`, { headers: { cookie } })).status).toBe(200);
    expect(await upgrade(again, { cookie, origin: again.web })).toBe(101);
    await again.kill("SIGKILL");

    writeFileSync(file, "{not json");
    const third = await Srv.start({ dataDir: srv.dataDir, env: { AGENTMUX_WEB_DIR: webDir() } });
    expect(third.estart).toBeDefined();
    expect((await fetch(`${third.web}/`, { headers: { cookie } })).status).toBe(401);
    await login(third);
  });

  it("without a built dashboard the page says so", async () => {
    const srv = await Srv.start({ env: { AGENTMUX_WEB_DIR: tempDir("agentmux-empty-web-") } });
    const cookie = await login(srv);
    const res = await fetch(`${srv.web}/`, { headers: { cookie } });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain("not built");
  });
});

describe("list_messages", () => {
  it("answers privately with the newest messages; a bad limit is a typed error", async () => {
    const srv = await Srv.start();
    const empty = await srv.http({ cmd: "list_messages", req_id: "m1" });
    expect(empty.body.events).toMatchObject([{ event: "message_list", messages: [], req_id: "m1" }]);
    for (const limit of [0, 1001, 2.5, "10"]) {
      const bad = await srv.http(JSON.stringify({ cmd: "list_messages", limit }));
      expect(bad.status).toBe(400);
      expect(bad.body.events?.[0]).toMatchObject({ event: "error", code: "invalid_command" });
    }
  });
});
