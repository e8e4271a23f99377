import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { decodeCommand, errorEvent, FrameTooLargeError, ProtocolError, routeOf } from "@agentmux/common-ipc";
import { WebSocket, WebSocketServer } from "ws";
import { Connection } from "../connection.js";
import { execute, type Services } from "../router.js";
import { wireText } from "../wire.js";
import { type DashboardAuth, serveDashboard, sessionOf } from "./dashboard.js";
import { drained } from "./drain.js";

export interface WebOptions {
  webPort: number;
  wsPort: number;
  authKey: string;
  srvVersion: string;
  startedAt: number;
  /** The browser dashboard: who is logged in, and where its built files are (undefined: not built). */
  dashboard: { auth: DashboardAuth; dir: string | undefined };
}

export const WEB_DEFAULTS = Object.freeze({
  /** Interval of WebSocket pings; a peer that misses two is dropped. */
  keepaliveMs: 10_000,
  /** How long a WebSocket asked to close may take to answer the close frame before it is dropped. */
  closeGraceMs: 2000,
});

/** The two loopback listeners (both serve every route) and a way to close them with their clients. */
export interface WebListeners {
  web: string;
  ws: string;
  /**
   * Stops accepting, sends every WebSocket a close frame, and after `graceMs`
   * terminates those that did not answer; HTTP connections are dropped then too.
   */
  close(graceMs: number): Promise<void>;
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** Constant-time comparison of a presented key with the real one. */
function authorized(presented: string | undefined | null, key: Buffer): boolean {
  return typeof presented === "string" && timingSafeEqual(digest(presented), key);
}

/** `http://127.0.0.1[:port]`, `http://localhost[:port]`, `http://[::1][:port]` (http or https). */
export function isLoopbackOrigin(origin: string): boolean {
  try {
    const u = new URL(origin);
    return (
      (u.protocol === "http:" || u.protocol === "https:") && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)
    );
  } catch {
    return false;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Reads a request body of at most `max` bytes; undefined as soon as it is larger (the rest is not read). */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        parts.push(chunk);
        return;
      }
      req.off("data", onData);
      req.pause();
      resolve(undefined);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

/**
 * The HTTP surface (`GET /health`, `POST /api/v1/command`) and WebSocket
 * `/ws`, served alike on two loopback listeners (web and ws).
 */
export async function listenWeb(options: WebOptions, services: Services, nextId: () => number): Promise<WebListeners> {
  const key = digest(options.authKey);
  // Frames a little over the cap still arrive whole, so the client gets a typed error rather than a bare close.
  const wss = new WebSocketServer({ noServer: true, maxPayload: services.maxFrameBytes * 4 });

  async function command(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req, services.maxFrameBytes);
    if (body === undefined) {
      // The rest of the body is never read: answer, then drop the connection.
      res.setHeader("connection", "close");
      res.on("finish", () => req.destroy());
      return json(res, 413, {
        error: "frame_too_large",
        events: [errorEvent("frame_too_large", "request body over the frame cap")],
      });
    }
    const parsed = decodeCommand(body.toString("utf8"));
    if (!parsed.ok)
      return json(res, 400, {
        error: "invalid_command",
        events: [errorEvent(parsed.error.code, parsed.error.message, { reqId: parsed.error.reqId })],
      });
    const cmd = parsed.value;
    const route = routeOf(cmd);
    if (route === "session" || route === "stream") {
      const why =
        route === "session"
          ? "has no meaning over HTTP (each request stands alone)"
          : "needs a streaming connection (socket or WebSocket)";
      const refusal = errorEvent("invalid_command", `${cmd.cmd} ${why}`, { reqId: cmd.req_id });
      return json(res, 400, { error: "invalid_command", events: [refusal] });
    }
    const { caused, replies } = await execute(services, cmd, { registeredPid: null });
    // Streamed: a long catch-up is written page by page, never held whole.
    res.writeHead(200, { "content-type": "application/json" });
    let first = true;
    const write = async (text: string) => {
      if (!res.write(`${first ? '{"events":[' : ","}${text}`)) await drained(res);
      first = false;
    };
    for await (const text of replies) await write(text);
    for (const ev of caused) await write(wireText(ev));
    res.end(first ? '{"events":[]}' : "]}");
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader("x-agentmux-srv-version", options.srvVersion);
    const origin = req.headers.origin;
    if (origin && isLoopbackOrigin(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "origin");
    }
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (req.method === "OPTIONS") {
      res.setHeader("access-control-allow-headers", "content-type, x-authkey");
      res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
      res.writeHead(204).end();
      return;
    }
    if (req.method === "GET" && path === "/health") {
      return json(res, 200, {
        status: "ok",
        version: options.srvVersion,
        uptime_ms: Date.now() - options.startedAt,
        state_version: services.dispatcher.version,
      });
    }
    if (serveDashboard(req, res, options.dashboard.auth, options.dashboard.dir)) return;
    if (!authorized(req.headers["x-authkey"] as string | undefined, key)) {
      return json(res, 401, { error: "unauthorized" });
    }
    if (req.method === "POST" && path === "/api/v1/command") return command(req, res);
    if (req.method === "POST" && path === "/api/v1/login-token") {
      const token = options.dashboard.auth.mint();
      return json(res, 200, { token, path: `/login?token=${token}` });
    }
    return json(res, 404, { error: "not_found" });
  }

  function refuseUpgrade(socket: Duplex, status: number, text: string): void {
    const body = JSON.stringify({ error: text });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nx-agentmux-srv-version: ${options.srvVersion}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => {});
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const origin = req.headers.origin;
    const presented = (req.headers["x-authkey"] as string | undefined) ?? url.searchParams.get("authkey");
    // The dashboard's page has no key: its session cookie, and only from the dashboard's own origin
    // (browsers always send Origin). Any other loopback origin, another local web server's page on
    // another port, is the same *site* to a SameSite cookie, so the cookie alone is not enough.
    const viaSession =
      presented == null &&
      origin !== undefined &&
      origin === `http://${req.headers.host}` &&
      options.dashboard.auth.check(sessionOf(req));
    if (url.pathname !== "/ws") refuseUpgrade(socket, 404, "not_found");
    else if (origin !== undefined && !isLoopbackOrigin(origin)) refuseUpgrade(socket, 403, "forbidden");
    else if (!viaSession && !authorized(presented, key)) refuseUpgrade(socket, 401, "unauthorized");
    else wss.handleUpgrade(req, socket, head, (ws) => serve(ws, socket));
  }

  /** `socket` is the upgraded connection the WebSocket writes its frames to. */
  function serve(ws: WebSocket, socket: Duplex): void {
    const conn = new Connection(
      services,
      {
        send: (text) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(text);
        },
        buffered: () => ws.bufferedAmount,
        drained: () => drained(socket),
        close: () => {
          ws.close(1000);
          setTimeout(() => ws.terminate(), WEB_DEFAULTS.closeGraceMs).unref();
        },
      },
      nextId(),
      (paused) => (paused ? ws.pause() : ws.resume()),
    );
    let alive = true;
    const keepalive = setInterval(() => {
      if (!alive) {
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    }, WEB_DEFAULTS.keepaliveMs);
    keepalive.unref();
    ws.on("pong", () => {
      alive = true;
    });
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      alive = true;
      if (isBinary)
        return conn.reject(
          new ProtocolError("invalid_command", "binary frames are not accepted: send JSON text"),
          false,
        );
      if (data.length > services.maxFrameBytes)
        return conn.reject(new FrameTooLargeError(services.maxFrameBytes), true);
      conn.receive(data.toString("utf8"));
    });
    ws.on("error", () => {});
    ws.on("close", () => {
      clearInterval(keepalive);
      conn.closed();
    });
  }

  async function listen(port: number): Promise<{ server: http.Server; address: string }> {
    const server = http.createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        services.logger.error({ err }, "http request failed");
        if (!res.headersSent) json(res, 500, { error: "internal" });
        else res.destroy();
      });
    });
    server.on("upgrade", upgrade);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { address, port: bound } = server.address() as AddressInfo;
    return { server, address: `${address}:${bound}` };
  }
  const web = await listen(options.webPort);
  const ws = await listen(options.wsPort);
  return {
    web: web.address,
    ws: ws.address,
    async close(graceMs) {
      const closed = [web, ws].map((l) => new Promise<void>((resolve) => l.server.close(() => resolve())));
      for (const client of wss.clients) client.close(1001);
      const drop = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
        for (const l of [web, ws]) l.server.closeAllConnections();
      }, graceMs);
      for (const l of [web, ws]) l.server.closeIdleConnections();
      await Promise.all(closed);
      clearTimeout(drop);
    },
  };
}
