import { once } from "node:events";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import pino, { type Logger } from "pino";

export const LOG_FILE = "srv.log";
export const LOG_DEFAULTS = Object.freeze({
  /** Size at which srv.log is rotated… */
  maxBytes: 8 * 1024 * 1024,
  /** …and how many rotated files are kept. */
  keep: 5,
});

/** Shifts srv.log → srv.log.1 → … → srv.log.5 (the oldest is dropped). */
function rotate(dir: string): void {
  for (let i = LOG_DEFAULTS.keep - 1; i >= 1; i--) {
    const from = join(dir, `${LOG_FILE}.${i}`);
    if (existsSync(from)) renameSync(from, join(dir, `${LOG_FILE}.${i + 1}`));
  }
  const current = join(dir, LOG_FILE);
  if (existsSync(current)) renameSync(current, join(dir, `${LOG_FILE}.1`));
}

export interface SrvLogger {
  logger: Logger;
  /** Checks the file size and rotates when it is over the limit. */
  maybeRotate(): void;
  flush(): void;
  /** Never lets this text (a secret) reach a log line, whatever carries it. */
  redact(secret: string): void;
}

/**
 * JSON logs to `<dataDir>/logs/srv.log`, rotated at 8 MiB (5 kept), and a
 * pretty copy on stderr when stderr is a terminal. The auth key is redacted
 * wherever it might appear, and srv never logs it on purpose.
 */
export async function createLogger(dataDir: string): Promise<SrvLogger> {
  const secrets: string[] = [];
  const dir = join(dataDir, "logs");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOG_FILE);
  if (existsSync(file) && statSync(file).size > LOG_DEFAULTS.maxBytes) rotate(dir);
  const destination = pino.destination({ dest: file, sync: false, mkdir: true });
  // Opened asynchronously: wait, so that even an immediate exit can flush it.
  await once(destination, "ready");
  const streams: pino.StreamEntry[] = [{ stream: destination }];
  if (process.stderr.isTTY) {
    const { default: pretty } = await import("pino-pretty");
    streams.push({ stream: pretty({ destination: 2, colorize: true }) });
  }
  const logger = pino(
    {
      base: { pid: process.pid },
      redact: {
        paths: ["authKey", "*.authKey", "headers.x-authkey", "*.headers.x-authkey", "authkey", "*.authkey"],
        censor: "[redacted]",
      },
      // Belt and braces: never let the key's text reach a log line, whatever carried it.
      hooks: {
        streamWrite: (line) => {
          for (const secret of secrets) if (line.includes(secret)) line = line.split(secret).join("[redacted]");
          return line;
        },
      },
    },
    pino.multistream(streams),
  );
  return {
    logger,
    maybeRotate() {
      if (existsSync(file) && statSync(file).size > LOG_DEFAULTS.maxBytes) {
        destination.flushSync();
        rotate(dir);
        destination.reopen();
      }
    },
    redact(secret) {
      if (secret.length > 0 && !secrets.includes(secret)) secrets.push(secret);
    },
    flush() {
      try {
        destination.flushSync();
      } catch {
        // not ready yet (nothing written): nothing to flush
      }
    },
  };
}
