import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type EstartInfo, formatMigrating } from "@agentmux/common-ipc";
import { compensateUnresolved, SagaLog } from "@agentmux/saga";
import { FileLock, openStore, type Store } from "@agentmux/store";
import type { Logger } from "pino";
import { Agents } from "./agents.js";
import { SRV_VERSION, type SrvConfig } from "./config.js";
import { Core } from "./core.js";
import { Sagas } from "./sagas.js";
import { type Listener, listenUnix } from "./transports/unix.js";
import { listenWeb } from "./transports/web.js";

declare const __BUILD_TIME__: string;

export interface StartOptions {
  config: SrvConfig;
  logger: Logger;
  /** Writes one protocol line to stderr (AGENTMUXSRV-MIGRATING …). */
  announce: (line: string) => void;
  /** Test-only fault injection: park before a saga step that dispatches this command. */
  pauseBefore?: string;
  maxFrameBytes?: number;
  maxBufferedBytes?: number;
}

export interface RunningSrv {
  estart: EstartInfo;
  core: Core;
  agents: Agents;
  /** Stops accepting, stops every agent, finishes the dispatcher queue, flushes and closes the stores. */
  close(): Promise<void>;
}

/**
 * Starts srv in the order that keeps it crash-safe: lock the data dir → open
 * the stores (announcing and running migrations) → seed saga ids → initial
 * data → bootstrap the state → recover unfinished sagas → bind the
 * transports. Nothing accepts a connection before recovery is done.
 */
export async function startSrv(options: StartOptions): Promise<RunningSrv> {
  const { config, logger } = options;
  const startedAt = Date.now();
  mkdirSync(join(config.dataDir, "db"), { recursive: true, mode: 0o700 });
  const lock = await FileLock.acquire(join(config.dataDir, "db", "srv.lock"), `pid ${process.pid}`);
  const cleanup: (() => Promise<void>)[] = [() => lock.release()];
  const unwind = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => {});
  };
  try {
    // The dispatcher checkpoints the WAL when idle (see Core), not during commits.
    const store: Store = await openStore({
      dataDir: config.dataDir,
      synchronous: config.synchronous,
      walAutoCheckpoint: 0,
    });
    cleanup.push(() => store.close());
    const sagaLog = await SagaLog.open(join(config.dataDir, "db", "sagas.db"), { synchronous: config.synchronous });
    cleanup.push(() => sagaLog.close());

    const pending = store.pendingMigrations + sagaLog.pendingMigrations;
    if (pending > 0) {
      options.announce(formatMigrating(pending));
      logger.info({ pending }, "running migrations");
    }
    await store.migrate();
    await sagaLog.migrate();

    const now = () => new Date().toISOString();
    await store.objects.ensureInitialData({ newId: () => crypto.randomUUID(), now: now() });
    const state = await store.objects.loadState();
    const core = new Core({ store, state, logger, srvPid: process.pid, srvVersion: SRV_VERSION });
    cleanup.push(() => core.drain());

    // Saga ids are seeded from the log here; steps go through the dispatcher.
    const sagas = await Sagas.create(core, sagaLog, logger);
    const recovery = await compensateUnresolved({
      log: sagaLog,
      dispatch: (cmd) => core.submit(cmd, { registeredPid: null }),
      findEvents: (reqId) => store.objects.eventsByReqId(reqId),
      onWarning: (message, err) => logger.warn({ err }, message),
    });
    for (const r of recovery)
      logger.warn({ saga: r.sagaId, name: r.name, state: r.state, reason: r.reason }, "saga recovered");

    // Clients of the previous run are gone with it.
    const stale = [...core.state.processes].filter(([, p]) => p.status === "running").map(([pid]) => pid);
    if (stale.length > 0) {
      await core.emit(stale.map((pid) => ({ event: "process_exited", pid, code: -1 })));
      logger.info({ pids: stale }, "clients of the previous run marked exited");
    }

    if (options.pauseBefore !== undefined) {
      const target = options.pauseBefore;
      const submit = core.submit.bind(core);
      core.submit = (cmd, origin) => {
        if (cmd.cmd === target && cmd.req_id?.startsWith("saga:")) {
          options.announce(`AGENTMUXSRV-EVENT:paused before ${target}`);
          return new Promise(() => {});
        }
        return submit(cmd, origin);
      };
    }

    // Agents: survivors of a crashed run are stopped and flagged before anyone can connect.
    const childEnv = { ...process.env };
    const agents = new Agents({ core, store, logger, env: childEnv });
    cleanup.push(() => agents.close());
    const interrupted = await agents.recover();
    if (interrupted > 0) logger.warn({ agents: interrupted }, "agents interrupted by the previous run flagged");

    let ids = 0;
    const services = {
      core,
      sagas,
      agents,
      logger,
      maxFrameBytes: options.maxFrameBytes ?? 1024 * 1024,
      maxBufferedBytes: options.maxBufferedBytes ?? config.clientBufferBytes,
    };
    const nextId = () => ++ids;
    const listeners: Listener[] = [];
    try {
      listeners.push(await listenUnix(config.pipePath, services, nextId));
    } catch (err) {
      logger.warn({ err, path: config.pipePath }, "could not bind the Unix socket; serving HTTP and WebSocket only");
    }
    const web = await listenWeb(
      { webPort: config.webPort, wsPort: config.wsPort, authKey: config.authKey, srvVersion: SRV_VERSION, startedAt },
      services,
      nextId,
    );
    listeners.push(web.web, web.ws);
    cleanup.push(async () => {
      await Promise.all(listeners.map((l) => l.close()));
    });
    logger.info(
      { web: web.web.address, ws: web.ws.address, pipe: config.pipePath, version: core.state.version },
      "srv ready",
    );
    return {
      core,
      agents,
      estart: {
        ws: web.ws.address,
        web: web.web.address,
        version: SRV_VERSION,
        buildtime: typeof __BUILD_TIME__ === "string" ? __BUILD_TIME__ : "dev",
        instance: config.instance,
        pending_migrations: pending,
      },
      close: unwind,
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
