#!/usr/bin/env node
// agentmux-srv: parses argv and the environment, starts srv, prints the
// stderr protocol lines, and shuts down on stdin EOF, SIGINT/SIGTERM or the
// death of its parent.
import { fstatSync } from "node:fs";
import { formatEstart, formatMigrationFailed } from "@agentmux/common-ipc";
import { LockHeldError, MigrationError, StoreError } from "@agentmux/store";
import { z } from "zod";
import { ConfigError, loadConfig, USAGE } from "./config.js";
import { createLogger } from "./logging.js";
import { startSrv } from "./srv.js";

const SHUTDOWN_DEADLINE_MS = 2000;
const PARENT_POLL_MS = 1000;

function line(text: string): void {
  process.stderr.write(`${text}\n`);
}

function fail(message: string, code = 1): never {
  line(`agentmux-srv: ${message}`);
  process.exit(code);
}

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  line(USAGE);
  process.exit(0);
}

const Fault = z
  .string()
  .regex(/^pause-before:[a-z_]+$/, "expected pause-before:<cmd>")
  .optional();

let config: ReturnType<typeof loadConfig>;
let fault: string | undefined;
try {
  config = loadConfig(argv, process.env);
  const parsedFault = Fault.safeParse(process.env.AGENTMUX_SRV_FAULT);
  if (!parsedFault.success) throw new ConfigError(`bad AGENTMUX_SRV_FAULT: ${parsedFault.error.issues[0]?.message}`);
  fault = parsedFault.data?.slice("pause-before:".length);
  delete process.env.AGENTMUX_SRV_FAULT;
} catch (err) {
  if (err instanceof ConfigError) fail(`${err.message}\n${USAGE}`, 2);
  throw err;
}

const log = await createLogger(config.dataDir, config.authKey);
const logger = log.logger;
// A bug must not vanish with the process: record it, then exit (everything acknowledged is on disk).
for (const event of ["uncaughtException", "unhandledRejection"] as const) {
  process.on(event, (err: unknown) => {
    logger.fatal({ err }, event);
    log.flush();
    line(`agentmux-srv: fatal: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(70);
  });
}
logger.info({ dataDir: config.dataDir, instance: config.instance, pid: process.pid }, "agentmux-srv starting");

// Signal handlers go in before anything is announced: a supervisor may send
// SIGTERM the moment it reads ESTART, and an unhandled SIGTERM kills outright.
let srv: Awaited<ReturnType<typeof startSrv>> | undefined;
let stopReason: string | undefined;
let stopping = false;
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

try {
  srv = await startSrv({ config, logger, announce: line, ...(fault ? { pauseBefore: fault } : {}) });
} catch (err) {
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
if (stopReason !== undefined) void shutdown(stopReason);

async function shutdown(reason: string): Promise<void> {
  // A stop asked for during startup waits until the store is open and recovered.
  if (srv === undefined) {
    stopReason ??= reason;
    return;
  }
  if (stopping) return;
  stopping = true;
  logger.info({ reason }, "shutting down");
  setTimeout(() => {
    logger.warn("shutdown deadline passed; exiting");
    log.flush();
    process.exit(0);
  }, SHUTDOWN_DEADLINE_MS).unref();
  try {
    await srv.close();
  } catch (err) {
    logger.error({ err }, "error while shutting down");
  }
  logger.info("stopped");
  log.flush();
  process.exit(0);
}

if (config.watchParent) {
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on("end", () => void shutdown("stdin closed"));
    process.stdin.on("error", () => void shutdown("stdin error"));
    process.stdin.resume();
  }
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown("parent process died");
  }, PARENT_POLL_MS).unref();
}

setInterval(() => log.maybeRotate(), 60_000).unref();
