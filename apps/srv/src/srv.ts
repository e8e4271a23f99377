import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { type EstartInfo, formatMigrating } from "@agentmux/common-ipc";
import { startSession } from "@agentmux/reducer";
import { compensateUnresolved, SagaLog } from "@agentmux/saga";
import { FileLock, openStore, type Store } from "@agentmux/store";
import type { Logger } from "pino";
import { Agents } from "./agents/agents.js";
import { Transcripts } from "./agents/transcript.js";
import type { SrvConfig } from "./config.js";
import { Dispatcher, SRV_ORIGIN } from "./dispatcher.js";
import { StartAbortedError } from "./errors.js";
import { healLayouts } from "./layout-heal.js";
import { StoreMailbox } from "./relay/mailbox.js";
import { SrvRelay } from "./relay/srv-relay.js";
import type { Services } from "./router.js";
import { Sagas } from "./sagas.js";
import { DashboardAuth, dashboardDir } from "./transports/dashboard.js";
import { listenUnix } from "./transports/unix.js";
import { listenWeb } from "./transports/web.js";
import { BUILD_TIME, SRV_VERSION } from "./version.js";

export const SRV_DEFAULTS = Object.freeze({
  /** Largest incoming frame. */
  maxFrameBytes: 1024 * 1024,
  /** How long clients get to answer a close at shutdown before they are dropped. */
  closeGraceMs: 250,
});

export interface StartOptions {
  config: SrvConfig;
  logger: Logger;
  /** Writes one protocol line to stderr (AGENTMUXSRV-MIGRATING …). */
  announce: (line: string) => void;
  /** Told the auth key as soon as it is known (minted or configured), e.g. to redact it from logs. */
  onAuthKey?: (key: string) => void;
  /** A stop asked for during startup: startup ends at the next step, undoing what it did (StartAbortedError). */
  signal?: AbortSignal;
  /** Crash tests: park a saga step that would dispatch this command (see SagasOptions.hold). */
  holdSagaBefore?: string;
  /**
   * Crash tests: park every relay delivery to an agent, `before` it is handed over (accepted,
   * not delivered) or `after` (handed over, not yet recorded as delivered), announcing it.
   */
  holdRelayDelivery?: "before" | "after";
  /** The environment agents start from (default: this process's, which no longer holds the auth key). */
  agentEnv?: Readonly<Record<string, string | undefined>>;
  maxFrameBytes?: number;
}

export interface RunningSrv {
  estart: EstartInfo;
  /** Where the auth key was minted to (undefined when it came from the environment). */
  authKeyFile: string | undefined;
  /**
   * Stops every agent first, then stops accepting and drops clients that do not answer a close
   * within a short grace, finishes the dispatcher queue and closes the stores.
   */
  close(): Promise<void>;
  /** SIGKILLs every agent's process group at once: for an exit that cannot wait for `close`. */
  killAgents(): number;
}

/**
 * Starts srv in the order that keeps it crash-safe: lock the data dir (before
 * anything in it is written) → auth key → open the stores (announcing and
 * running migrations) → initial data → bootstrap the state (a fresh session)
 * → recover unfinished sagas and agents of a crashed run → bind the
 * transports. Nothing accepts a connection before recovery is done; an error
 * while recovering one saga or agent is logged and reported, and srv serves.
 */
export async function startSrv(options: StartOptions): Promise<RunningSrv> {
  const { config, logger, signal } = options;
  const startedAt = Date.now();
  const checkpoint = () => {
    if (signal?.aborted) throw new StartAbortedError(String(signal.reason ?? "stop requested"));
  };
  checkpoint();
  mkdirSync(join(config.dataDir, "db"), { recursive: true, mode: 0o700 });
  const lock = await FileLock.acquire(join(config.dataDir, "db", "srv.lock"), `pid ${process.pid}`);
  const cleanup: (() => Promise<void>)[] = [() => lock.release()];
  const unwind = async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
  };
  try {
    const { authKey, authKeyFile } = ensureAuthKey(config);
    options.onAuthKey?.(authKey);
    checkpoint();
    // Checkpoints are srv's to time (CheckpointPolicy), never inside a commit.
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
    checkpoint();

    await store.objects.ensureInitialData({ newId: () => crypto.randomUUID(), now: new Date().toISOString() });
    // Workspaces, tabs and blocks persist; the previous process's session (lifecycle, clients) does not.
    const state = startSession(await store.objects.loadState());
    const dispatcher = new Dispatcher({ store, state, logger, srvPid: process.pid, srvVersion: SRV_VERSION });
    cleanup.push(() => dispatcher.drain());

    const sagas = await Sagas.create({
      dispatcher,
      log: sagaLog,
      logger,
      ...(options.holdSagaBefore === undefined
        ? {}
        : {
            hold: {
              command: options.holdSagaBefore,
              onHold: () => options.announce(`AGENTMUXSRV-EVENT:paused before ${options.holdSagaBefore}`),
            },
          }),
    });
    try {
      await recoverSagas(dispatcher, sagaLog, store, logger);
    } catch (err) {
      // What could not be undone stays in the journal for the next start; serving is still safe.
      logger.error({ err }, "saga recovery failed; serving anyway");
    }
    // After saga recovery (whose inverses move blocks): no tile may outlive its block.
    await healLayouts(dispatcher, logger);
    checkpoint();

    const transcripts = new Transcripts(store, logger);
    // Agents get the MCP server of the relay, which starts once they are recovered.
    let relay: SrvRelay | undefined;
    // The relay stops before the agents (no message handed to an agent that is stopping); once.
    let stoppingAgents: Promise<void> | undefined;
    const stopAgents = () => {
      stoppingAgents ??= (async () => {
        await relay?.close();
        await agents.close();
      })();
      return stoppingAgents;
    };
    const agents = new Agents({
      dispatcher,
      store,
      transcripts,
      logger,
      launch: {
        env: options.agentEnv ?? { ...process.env },
        home: homedir(),
        logger,
        claudeArgs: (meta) => relay?.claudeArgs(meta) ?? [],
      },
    });
    const interrupted = await agents.recover();
    if (interrupted > 0) logger.warn({ agents: interrupted }, "agents interrupted by the previous run flagged");
    checkpoint();
    try {
      relay = await SrvRelay.start({
        dispatcher,
        agents,
        logger,
        relayDir: config.relayDir,
        bundleName: config.instance,
        // Acknowledged messages are in the store before the sender hears back (pending → delivered).
        mailbox: new StoreMailbox(store.mail, {
          log: (event, details) => logger.warn({ relay: event, ...details }, "relay mailbox"),
        }),
        uid: process.geteuid?.() ?? 0,
        ...(options.holdRelayDelivery === undefined
          ? {}
          : {
              hold: {
                at: options.holdRelayDelivery,
                onHold: (id: string) =>
                  options.announce(`AGENTMUXSRV-EVENT:relay delivery held ${options.holdRelayDelivery} ${id}`),
              },
            }),
      });
    } catch (err) {
      // Agents still run; they just cannot message each other.
      logger.error({ err, dir: config.relayDir }, "could not host the agents' relay; serving without it");
    }
    // A start that fails from here on still stops what recovery and redelivery may have started.
    cleanup.push(stopAgents);
    checkpoint();

    let ids = 0;
    const nextId = () => ++ids;
    const services: Services = {
      dispatcher,
      sagas,
      agents,
      logger,
      maxFrameBytes: options.maxFrameBytes ?? SRV_DEFAULTS.maxFrameBytes,
      maxBufferedBytes: config.clientBufferBytes,
      messages: (limit) => store.mail.recent(limit),
    };
    // Each transport is closed by `close` (or a failed start) as soon as it is bound.
    const transports: { close(graceMs: number): Promise<void> }[] = [];
    let pipe: Awaited<ReturnType<typeof listenUnix>> | undefined;
    try {
      pipe = await listenUnix(config.pipePath, services, nextId);
      transports.push(pipe);
    } catch (err) {
      logger.warn({ err, path: config.pipePath }, "could not bind the Unix socket; serving HTTP and WebSocket only");
    }
    cleanup.push(() => Promise.all(transports.map((t) => t.close(SRV_DEFAULTS.closeGraceMs))).then(() => {}));
    const web = await listenWeb(
      {
        webPort: config.webPort,
        wsPort: config.wsPort,
        authKey,
        srvVersion: SRV_VERSION,
        startedAt,
        dashboard: {
          auth: new DashboardAuth({
            file: join(config.dataDir, "dashboard", "sessions.json"),
            warn: (message, err) => logger.warn({ err }, message),
          }),
          dir: dashboardDir(config.webDir),
        },
      },
      services,
      nextId,
    );
    transports.push(web);
    // Agents go first (cleanup runs in reverse): no agent may outlive srv because a client would not let go.
    cleanup.push(stopAgents);
    logger.info({ web: web.web, ws: web.ws, pipe: pipe?.address, version: dispatcher.version }, "srv ready");
    return {
      estart: {
        ws: web.ws,
        web: web.web,
        version: SRV_VERSION,
        buildtime: BUILD_TIME,
        instance: config.instance,
        pending_migrations: pending,
        ...(pipe === undefined ? {} : { pipe: pipe.address }),
        ...(relay === undefined ? {} : { relay: relay.socket }),
      },
      authKeyFile,
      close: unwind,
      killAgents: () => agents.killAll(),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** The configured key, or one minted into `<data-dir>/auth.key` (0600); called only while holding the lock. */
function ensureAuthKey(config: SrvConfig): { authKey: string; authKeyFile: string | undefined } {
  if (config.authKey !== undefined) return { authKey: config.authKey, authKeyFile: undefined };
  const authKeyFile = join(config.dataDir, "auth.key");
  const authKey = randomBytes(24).toString("base64url");
  writeFileSync(authKeyFile, `${authKey}\n`, { mode: 0o600 });
  chmodSync(authKeyFile, 0o600);
  return { authKey, authKeyFile };
}

/** Undoes sagas a crash left unfinished; one that cannot be undone is logged and reported as `saga_failed`. */
async function recoverSagas(dispatcher: Dispatcher, log: SagaLog, store: Store, logger: Logger): Promise<void> {
  const reports = await compensateUnresolved({
    log,
    dispatch: (cmd) => dispatcher.submit(cmd, SRV_ORIGIN),
    findEvents: (reqId) => store.objects.eventsByReqId(reqId),
    onWarning: (message, err) => logger.warn({ err }, message),
  });
  for (const r of reports) {
    logger.warn(
      { saga: r.sagaId, name: r.name, state: r.state, reason: r.reason, problems: r.problems },
      "saga recovered",
    );
    if (r.state === "failed_compensation") {
      await dispatcher.emit([
        { event: "saga_failed", saga_id: r.sagaId, reason: `could not be undone after a crash: ${r.reason}` },
      ]);
    }
  }
}
