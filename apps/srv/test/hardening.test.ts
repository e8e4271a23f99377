// Failures found by using srv as users and hostile clients would, each with
// real processes: agents outliving a stop, a second start locking clients out,
// deep JSON, one client starving another, agent stderr, cwd and env, startup
// stops, recovery errors, version drift and session state after a restart.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import {
  AUTH_KEY,
  agentBlock,
  type EventOf,
  groupMembers,
  is,
  isRunning,
  newTab,
  PipeClient,
  SRV_BIN,
  Srv,
  standIn,
  stubbornAgent,
  tempDir,
  until,
  WsClient,
} from "@agentmux/testkit";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")) as { version: string };

/** A WebSocket client that completes the handshake and then never answers anything (not even a close). */
async function silentWebSocket(address: string): Promise<net.Socket> {
  const [host, port] = address.split(":") as [string, string];
  const socket = net.connect(Number(port), host);
  socket.on("error", () => {});
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: ${address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n` +
      `X-AuthKey: ${AUTH_KEY}\r\n\r\n`,
  );
  let head = "";
  // Reads whatever comes (so srv is never held up by a full socket), answers nothing.
  socket.on("data", (d: Buffer) => {
    if (head.length < 1024) head += d.toString("latin1");
  });
  await until("the 101 upgrade", () => head.startsWith("HTTP/1.1 101"), 10_000).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}: got ${head.slice(0, 80)}`);
  });
  return socket;
}

/** srv started by a parent process that can be SIGKILLed; srv's stdin is not a pipe, so only the parent watch sees it. */
async function srvUnderParent(extraEnv: Record<string, string> = {}, dataDir = join(tempDir(), "data")) {
  const pipe = join(tempDir(), "s.sock");
  const env = { ...process.env, AGENTMUX_AUTH_KEY: AUTH_KEY, AGENTMUX_SRV_PIPE_PATH: pipe, ...extraEnv };
  const parent = spawn(
    process.execPath,
    [
      "-e",
      `const c = require("node:child_process").spawn(process.execPath, ${JSON.stringify([SRV_BIN, "--data-dir", dataDir])}, { stdio: ["ignore", "ignore", "inherit"], env: ${JSON.stringify(env)} });
       console.log(c.pid); setInterval(() => {}, 1000);`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  parent.stderr.on("data", (d: Buffer) => {
    stderr += d;
  });
  const srvPid = Number(await new Promise<string>((r) => parent.stdout.once("data", (d: Buffer) => r(String(d)))));
  return { parent, srvPid, pipe, dataDir, stderr: () => stderr };
}

describe("no agent outlives srv, whatever stops it (a silent WebSocket client connected)", () => {
  const stops = {
    SIGTERM: (srv: Srv) => srv.child.kill("SIGTERM"),
    SIGINT: (srv: Srv) => srv.child.kill("SIGINT"),
    SIGHUP: (srv: Srv) => srv.child.kill("SIGHUP"),
    "stdin EOF": (srv: Srv) => srv.child.stdin?.end(),
  } as const;

  for (const [name, stop] of Object.entries(stops)) {
    it(`${name}: srv exits 0, and no process of the agent's group is alive 1 s later`, async () => {
      const srv = await Srv.start();
      const silent = await silentWebSocket(srv.estart?.ws as string);
      const { pgid, grandchild } = await stubbornAgent(srv.pipe);
      stop(srv);
      expect(await srv.exited(10_000)).toBe(0);
      await until("the agent's process group to be gone", () => groupMembers(pgid).length === 0, 1000);
      expect(isRunning(grandchild)).toBe(false);
      silent.destroy();
    }, 60_000);
  }

  it("parent death: srv exits, and no process of the agent's group is alive 1 s later", async () => {
    const { parent, srvPid, pipe, stderr } = await srvUnderParent();
    await until("ESTART", () => stderr().includes("AGENTMUXSRV-ESTART"), 20_000);
    const { pgid, grandchild } = await stubbornAgent(pipe);
    parent.kill("SIGKILL");
    await until("srv to exit", () => !isRunning(srvPid), 10_000);
    await until("the agent's process group to be gone", () => groupMembers(pgid).length === 0, 1000);
    expect(isRunning(grandchild)).toBe(false);
  }, 60_000);
});

describe("startup", () => {
  it("a refused second start leaves the running srv's auth key alone", async () => {
    const first = await Srv.start({ mintKey: true });
    const keyFile = join(first.dataDir, "auth.key");
    const key = readFileSync(keyFile, "utf8");
    const second = await Srv.start({ dataDir: first.dataDir, mintKey: true });
    expect(await second.exited()).toBe(1);
    expect(readFileSync(keyFile, "utf8")).toBe(key);
    const res = await first.http({ cmd: "get_srv_snapshot" }, key.trim());
    expect(res.status).toBe(200);
  }, 60_000);

  it("the parent dying during startup stops srv before it serves (no ESTART)", async () => {
    // A survivor of a crashed run (its guardian gone too) that ignores SIGTERM keeps the next
    // start busy reaping it for ~2 s.
    const first = await Srv.start();
    const { pgid } = await stubbornAgent(first.pipe);
    await first.crashLeavingAgents();
    expect(groupMembers(pgid)).not.toHaveLength(0);
    const { parent, srvPid, dataDir, stderr } = await srvUnderParent({}, first.dataDir);
    // Once srv runs (it watches its parent from its first line), and before it serves, the parent dies.
    const logFile = join(dataDir, "logs", "srv.log");
    await until("srv to be starting", () => readFileSync(logFile, "utf8").split("agentmux-srv starting").length > 2);
    expect(stderr()).not.toContain("AGENTMUXSRV-ESTART");
    parent.kill("SIGKILL");
    await until("srv to exit", () => !isRunning(srvPid), 10_000);
    expect(stderr()).not.toContain("AGENTMUXSRV-ESTART");
    await until("the log line", () => readFileSync(logFile, "utf8").includes("stopped during startup"));
    // It had the survivor guarded while reaping it: gone, though srv stopped early.
    await until("the survivor to be gone", () => groupMembers(pgid).length === 0, 5000);
    const third = await Srv.start({ dataDir });
    expect(third.estart).toBeDefined();
  }, 60_000);

  it("an error while recovering sagas is logged and srv serves anyway", async () => {
    const first = await Srv.start({ env: { AGENTMUX_SRV_FAULT: "pause-before:move_block" } });
    const client = await PipeClient.connect(first.pipe);
    await client.register(7001);
    const tabId = await newTab(client);
    const block = (await client.call(
      { cmd: "create_block", tab_id: tabId, meta: {} },
      is("block_created"),
    )) as EventOf<"block_created">;
    client.send({ cmd: "tear_off_block", block_id: block.block_id });
    await until("srv to park", () => first.stderr.some((l) => l.includes("paused before move_block")));
    await first.kill("SIGKILL");
    // Damage the journal so that reading a saga's steps fails.
    const sagas = new Database(join(first.dataDir, "db", "sagas.db"));
    sagas.exec("DROP TABLE saga_step");
    sagas.close();
    const second = await Srv.start({ dataDir: first.dataDir });
    expect(second.estart).toBeDefined();
    const c2 = await PipeClient.connect(second.pipe);
    await c2.register(7002);
    expect(await c2.call({ cmd: "ping", nonce: 1 }, is("pong"))).toMatchObject({ nonce: 1 });
    await until("the log line", () =>
      readFileSync(join(first.dataDir, "logs", "srv.log"), "utf8").includes("saga recovery failed; serving anyway"),
    );
  }, 60_000);

  it("reports the version of its package.json in ESTART, registered and the HTTP header", async () => {
    const srv = await Srv.start();
    expect(srv.estart?.version).toBe(pkg.version);
    const client = await PipeClient.connect(srv.pipe);
    expect(await client.register(7010)).toMatchObject({ launcher_version: pkg.version });
    const res = await fetch(`${srv.web}/health`);
    expect(res.headers.get("x-agentmux-srv-version")).toBe(pkg.version);
  }, 30_000);

  it("a restarted srv starts its session fresh: the first register moves the lifecycle again, and a pid of the dead run may register", async () => {
    const first = await Srv.start();
    const a = await PipeClient.connect(first.pipe);
    await a.register(7020);
    await first.kill("SIGKILL");
    const second = await Srv.start({ dataDir: first.dataDir });
    const b = await PipeClient.connect(second.pipe);
    b.send({ cmd: "register", kind: "tool", pid: 7020, version: "t" });
    await b.next(is("registered"));
    expect(b.events.map((e) => e.event)).toEqual(["process_spawned", "lifecycle_phase_changed", "registered"]);
    const snap = (await b.call({ cmd: "get_srv_snapshot" }, is("srv_snapshot"))) as EventOf<"srv_snapshot">;
    expect(snap.lifecycle).toBe("running");
  }, 60_000);
});

describe("clients that vanish", () => {
  it("a client gone while its register was being committed still says goodbye: its pid may register again", async () => {
    const srv = await Srv.start();
    for (let i = 0; i < 20; i++) {
      const pid = 7100 + i;
      const quick = await PipeClient.connect(srv.pipe);
      quick.send({ cmd: "register", kind: "tool", pid, version: "t" });
      quick.socket.destroy();
      const next = await PipeClient.connect(srv.pipe);
      // Either it registers at once, or once the synthetic goodbye is through: never refused for good.
      await until(`pid ${pid} to register again`, async () => {
        next.send({ cmd: "register", kind: "tool", pid, version: "t" });
        // A ping answers pong once this connection is registered, and not_registered before.
        const answer = await next.call(
          { cmd: "ping", nonce: pid },
          (e) => (e.event === "pong" && e.nonce === pid) || (e.event === "error" && e.code === "not_registered"),
        );
        return answer.event === "pong";
      });
      next.socket.destroy();
    }
  }, 60_000);
});

describe("hostile input", () => {
  const deep = (n: number) =>
    `{"cmd":"create_block","tab_id":"t","meta":${'{"a":'.repeat(n)}1${"}".repeat(n)},"req_id":"deep"}`;

  it("JSON nested 5,000 deep is a typed invalid_command on every transport, and srv keeps serving", async () => {
    const srv = await Srv.start();
    const frame = deep(5000);
    const http = await srv.http(frame);
    expect(http.status).toBe(400);
    expect(http.body.events?.[0]).toMatchObject({ event: "error", code: "invalid_command" });
    const pipe = await PipeClient.connect(srv.pipe);
    await pipe.register(7030);
    pipe.send(`${frame}\n`);
    expect(await pipe.next(is("error"))).toMatchObject({ code: "invalid_command", version: 0 });
    const ws = await WsClient.connect(srv.wsUrl);
    await ws.register(7031);
    ws.send(frame);
    expect(await ws.next(is("error"))).toMatchObject({ code: "invalid_command", version: 0 });
    expect(await pipe.call({ cmd: "ping", nonce: 2 }, is("pong"))).toMatchObject({ nonce: 2 });
  }, 30_000);

  it("one client's flood of 10,000 malformed frames does not hold another client's ping until it is through", async () => {
    const srv = await Srv.start();
    const flooder = await PipeClient.connect(srv.pipe);
    await flooder.register(7040);
    const other = await PipeClient.connect(srv.pipe);
    await other.register(7041);
    const FLOOD = 10_000;
    flooder.send('{"cmd":"no_such_command"}\n'.repeat(FLOOD));
    // Once srv is busy with the flood, the other client asks.
    await flooder.next(is("error"));
    other.send({ cmd: "ping", nonce: 3 });
    await other.next(is("pong"));
    const answeredBefore = flooder.events.length;
    await until("the whole flood answered", () => flooder.events.length >= FLOOD, 30_000);
    // Served in slices, the ping is answered while most of the flood still waits.
    expect(answeredBefore).toBeLessThan(FLOOD / 2);
  }, 60_000);
});

describe("agents: stderr, working directory, environment", () => {
  it("a CLI that dies on a bad key: its stderr is logged and its last lines are in agent_status.fault", async () => {
    const srv = await Srv.start();
    const client = await PipeClient.connect(srv.pipe);
    await client.register(7050);
    const id = await agentBlock(client, await newTab(client), {
      "agent:cwd": tempDir(),
      "agent:command": standIn("failing-cli"),
    });
    client.send({ cmd: "agent_send", block_id: id, message: "hi" });
    const failed = (await client.next(
      is("agent_status", (e) => e.block_id === id && (e.fault?.stderr ?? []).length > 0),
      20_000,
    )) as EventOf<"agent_status">;
    expect(failed.fault?.stderr).toContain("error: invalid api key (check ANTHROPIC_API_KEY)");
    await until("stderr in the log", () =>
      readFileSync(join(srv.dataDir, "logs", "srv.log"), "utf8").includes("invalid api key"),
    );
  }, 30_000);

  it("messages to an agent that does not read its stdin queue up to 64, then agent_busy; none is lost or buffered without limit", async () => {
    const srv = await Srv.start();
    const client = await PipeClient.connect(srv.pipe);
    await client.register(7053);
    const id = await agentBlock(client, await newTab(client), {
      "agent:cwd": tempDir(),
      "agent:command": standIn("deaf-cli"),
    });
    // 256 KiB each: the first few fill the pipe, the rest must wait in the queue.
    const big = "x".repeat(256 * 1024);
    for (let i = 0; i < 80; i++) client.send({ cmd: "agent_send", block_id: id, message: big, req_id: `m${i}` });
    const busy = (await client.next(
      is("error", (e) => e.code === "agent_busy"),
      30_000,
    )) as EventOf<"error">;
    expect(busy.message).toMatch(/queue|full|64/i);
    const accepted = await until("every send answered", () => {
      const answered = client.events.filter((e) => e.req_id?.startsWith("m"));
      return answered.length >= 80 && answered;
    });
    const refused = accepted.filter((e) => e.event === "error").length;
    // Most of the 80 are accepted (written or queued); the rest are refused, none silently dropped.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(80 - 64);
  }, 60_000);

  it("a missing executable is named, with the PATH searched", async () => {
    const srv = await Srv.start();
    const client = await PipeClient.connect(srv.pipe);
    await client.register(7051);
    const id = await agentBlock(client, await newTab(client), {
      "agent:cwd": tempDir(),
      "agent:command": "no-such-agent-cli",
    });
    client.send({ cmd: "agent_send", block_id: id, message: "hi" });
    const failed = (await client.next(
      is("agent_status", (e) => e.block_id === id && e.fault !== null),
      20_000,
    )) as EventOf<"agent_status">;
    expect(failed.fault?.message).toMatch(/no-such-agent-cli/);
    expect(failed.fault?.message).toMatch(/PATH/);
    expect(failed.fault?.message).not.toMatch(/^spawn ENOENT$/);
  }, 30_000);

  it("agent:cwd under ~ is created when missing; agent:env reaches the agent; AGENTMUX_* keys are refused", async () => {
    const home = tempDir();
    const srv = await Srv.start({ env: { HOME: home } });
    const client = await PipeClient.connect(srv.pipe);
    await client.register(7052);
    const tabId = await newTab(client);
    const id = await agentBlock(client, tabId, {
      "agent:cwd": "~/projects/new-one",
      "agent:command": standIn("echo-cli"),
      "agent:env": { AGENT_FOO: "bar" },
    });
    client.send({ cmd: "agent_send", block_id: id, message: "where are you?" });
    await client.next(
      is(
        "agent_status",
        (e) => e.block_id === id && e.status === "running" && !e.turn_active && e.session_id === "echo",
      ),
      20_000,
    );
    const out = (await client.call(
      { cmd: "get_block_output", block_id: id, offset: 0 },
      is("block_output", (e) => e.block_id === id),
    )) as EventOf<"block_output">;
    const text = out.data.split("\n").flatMap((l) => {
      const m = /"text":"(\{.*?\})"/.exec(l);
      return m ? [JSON.parse(JSON.parse(`"${m[1]}"`))] : [];
    })[0] as { cwd: string; env: Record<string, string | null> };
    expect(text.cwd).toBe(join(home, "projects", "new-one"));
    expect(text.env).toEqual({ AGENT_FOO: "bar", AGENTMUX_AUTH_KEY: null });
    await until("the log line", () =>
      readFileSync(join(srv.dataDir, "logs", "srv.log"), "utf8").includes("created the agent's working directory"),
    );
    const bad = await agentBlock(client, tabId, {
      "agent:cwd": "/tmp",
      "agent:command": standIn("echo-cli"),
      "agent:env": { AGENTMUX_AUTH_KEY: "steal" },
    });
    client.send({ cmd: "agent_send", block_id: bad, message: "hi", req_id: "bad-env" });
    const refused = (await client.next(is("error", (e) => e.req_id === "bad-env"))) as EventOf<"error">;
    expect(refused.code).toBe("invalid_command");
    expect(refused.message).toMatch(/AGENTMUX_AUTH_KEY/);
  }, 30_000);
});
