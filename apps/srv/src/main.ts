#!/usr/bin/env node
// agentmux-srv: parses argv and the environment, starts srv, prints the
// stderr protocol lines, and shuts down on stdin EOF, SIGINT/SIGTERM/SIGHUP or
// the death of its parent. No agent outlives it on any of these paths.
import { fstatSync } from "node:fs";
import { formatEstart, formatMigrationFailed } from "@agentmux/common-ipc";
import { LockHeldError, MigrationError, StoreError } from "@agentmux/store";
import { z } from "zod";
import { loadConfig, type SrvConfig, USAGE } from "./config.js";
import { ConfigError, StartAbortedError } from "./errors.js";
import { createLogger } from "./logging.js";
import { type RunningSrv, startSrv } from "./srv.js";

const MAIN_DEFAULTS = Object.freeze({
  /** From a stop request to exit, whatever is still running; agents are SIGKILLed at the deadline. */
  shutdownDeadlineMs: 1200,
  /** How often the parent is checked for death. */
  parentPollMs: 250,
  /** How often the log is checked for rotation. */
  logRotateCheckMs: 60_000,
});

/** Whether stdin is a pipe or socket a parent holds (false when it is a file, a terminal, or closed). */
function stdinIsPipe(): boolean {
  try {
    const stdin = fstatSync(0);
    return stdin.isFIFO() || stdin.isSocket();
  } catch {
    return false;
  }
}

function line(text: string): void {
  process.stderr.write(`${text}\n`);
}

function fail(message: string, code = 1): never {
  line(`agentmux-srv: ${message}`);
  process.exit(code);
}

// A stop can come at any moment from here on, even before the store is open.
const stop = new AbortController();
let srv: RunningSrv | undefined;
let stopping = false;
const argv = process.argv.slice(2);
// Read from argv before anything else (the flag table validates it again with the rest).
const watchParent = !argv.includes("--no-watch-parent");
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(signal));
if (watchParent) {
  if (stdinIsPipe()) {
    process.stdin.on("end", () => void shutdown("stdin closed"));
    process.stdin.on("error", () => void shutdown("stdin error"));
    process.stdin.resume();
  }
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("parent process died");
  }, MAIN_DEFAULTS.parentPollMs).unref();
}

if (argv.includes("--help") || argv.includes("-h")) {
  line(USAGE);
  process.exit(0);
}

const Fault = z
  .string()
  .regex(
    /^(pause-before:[a-z_]+|pause-relay-delivery:(before|after))$/,
    "expected pause-before:<cmd> or pause-relay-delivery:before|after",
  )
  .optional();

let config: SrvConfig;
let holdSagaBefore: string | undefined;
let holdRelayDelivery: "before" | "after" | undefined;
try {
  config = loadConfig(argv, process.env);
  const parsedFault = Fault.safeParse(process.env.AGENTMUX_SRV_FAULT);
  if (!parsedFault.success) throw new ConfigError(`bad AGENTMUX_SRV_FAULT: ${parsedFault.error.issues[0]?.message}`);
  const fault = parsedFault.data;
  if (fault?.startsWith("pause-before:")) holdSagaBefore = fault.slice("pause-before:".length);
  if (fault?.startsWith("pause-relay-delivery:")) holdRelayDelivery = fault.endsWith(":before") ? "before" : "after";
  delete process.env.AGENTMUX_SRV_FAULT;
} catch (err) {
  if (err instanceof ConfigError) fail(`${err.message}\n${USAGE}`, 2);
  throw err;
}

const log = await createLogger(config.dataDir);
if (config.authKey !== undefined) log.redact(config.authKey);
const logger = log.logger;
// A bug must not vanish with the process: record it, stop every agent, then exit (everything acknowledged is on disk).
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (err: unknown) => {
    const killed = srv?.killAgents() ?? 0;
    logger.fatal({ err, agentsKilled: killed }, event);
    log.flush();
    line(`agentmux-srv: fatal: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(70);
  });
}
logger.info({ dataDir: config.dataDir, instance: config.instance, pid: process.pid }, "agentmux-srv starting");

try {
  srv = await startSrv({
    config,
    logger,
    announce: line,
    signal: stop.signal,
    onAuthKey: (key) => log.redact(key),
    ...(holdSagaBefore ? { holdSagaBefore } : {}),
    ...(holdRelayDelivery ? { holdRelayDelivery } : {}),
  });
} catch (err) {
  if (err instanceof StartAbortedError) {
    logger.info({ reason: err.message }, "stopped during startup");
    log.flush();
    process.exit(0);
  }
  logger.error({ err }, "startup failed");
  log.flush();
  if (err instanceof MigrationError) {
    line(formatMigrationFailed(err.message));
    process.exit(1);
  }
  if (err instanceof LockHeldError) fail(`data dir ${config.dataDir} is in use by ${err.holder}`);
  if (err instanceof StoreError) fail(err.message);
  fail(`failed to start: ${(err as Error).message}`);
}
line(formatEstart(srv.estart));
if (stop.signal.aborted) void shutdown(String(stop.signal.reason));

async function shutdown(reason: string): Promise<void> {
  // During startup: startup stops at its next step (see startSrv's signal) and this process exits.
  if (srv === undefined) {
    if (!stop.signal.aborted) stop.abort(reason);
    return;
  }
  if (stopping) return;
  stopping = true;
  logger.info({ reason }, "shutting down");
  const running = srv;
  setTimeout(() => {
    const killed = running.killAgents();
    logger.warn({ agentsKilled: killed }, "shutdown deadline passed; agents killed, exiting");
    log.flush();
    process.exit(0);
  }, MAIN_DEFAULTS.shutdownDeadlineMs).unref();
  try {
    await running.close();
  } catch (err) {
    running.killAgents();
    logger.error({ err }, "error while shutting down");
  }
  logger.info("stopped");
  log.flush();
  process.exit(0);
}

setInterval(() => log.maybeRotate(), MAIN_DEFAULTS.logRotateCheckMs).unref();
