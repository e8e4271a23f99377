import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, until } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";
import { createLogger, LOG_FILE } from "../src/logging.js";

describe("srv logging", () => {
  it("rotates a log over 8 MiB at start (srv.log → srv.log.1 → …) and redacts the auth key", async () => {
    const dataDir = tempDir();
    const logs = join(dataDir, "logs");
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, `${LOG_FILE}.1`), "older\n");
    writeFileSync(join(logs, LOG_FILE), "x".repeat(8 * 1024 * 1024 + 1));
    const key = "secret-key-do-not-log-0123456789";
    const log = await createLogger(dataDir);
    log.redact(key);
    log.logger.info({ authKey: key, note: `contains ${key} inline` }, "hello");
    log.flush();
    expect(statSync(join(logs, `${LOG_FILE}.1`)).size).toBe(8 * 1024 * 1024 + 1);
    expect(readFileSync(join(logs, `${LOG_FILE}.2`), "utf8")).toBe("older\n");
    // Written asynchronously: wait for the line.
    const fresh = await until("the log line", () => {
      const text = readFileSync(join(logs, LOG_FILE), "utf8");
      return text.includes('"msg":"hello"') && text;
    });
    expect(fresh).not.toContain(key);
    expect(fresh).toContain("[redacted]");
    expect(existsSync(join(logs, `${LOG_FILE}.3`))).toBe(false);
  });
});
