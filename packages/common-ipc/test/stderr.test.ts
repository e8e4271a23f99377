import { describe, expect, it } from "vitest";
import {
  formatEstart,
  formatMigrating,
  formatMigrationFailed,
  formatStderrEvent,
  parseSrvStderrLine,
} from "../src/index.js";

const info = {
  ws: "127.0.0.1:41001",
  web: "127.0.0.1:41002",
  version: "0.1.0",
  buildtime: "2026-11-21T19:00:00Z",
  instance: "default",
  pending_migrations: 2,
};

describe("srv stderr line protocol", () => {
  it("formats and parses ESTART", () => {
    const line = formatEstart(info);
    expect(line).toBe(
      "AGENTMUXSRV-ESTART ws:127.0.0.1:41001 web:127.0.0.1:41002 version:0.1.0 buildtime:2026-11-21T19:00:00Z instance:default pending_migrations:2",
    );
    expect(parseSrvStderrLine(line)).toEqual({ kind: "estart", ...info });
    expect(parseSrvStderrLine(`${line}\r`)).toEqual({ kind: "estart", ...info });
  });

  it("carries srv's Unix socket path as the pipe extension, whitespace and all", () => {
    const info = {
      ws: "127.0.0.1:1",
      web: "127.0.0.1:2",
      version: "0.2.0",
      buildtime: "t",
      instance: "default",
      pending_migrations: 0,
      pipe: "/run/user/1000/my agents/100%/srv.sock",
      relay: "/run/user/1000/agentmux/0f-relay/bundles/default/relay.sock",
    };
    const line = formatEstart(info);
    expect(line).toContain(" pipe:/run/user/1000/my%20agents/100%25/srv.sock");
    expect(line).toContain(" relay:/run/user/1000/agentmux/0f-relay/bundles/default/relay.sock");
    expect(parseSrvStderrLine(line)).toEqual({ kind: "estart", ...info });
    expect(parseSrvStderrLine(`${line.slice(0, line.indexOf(" pipe:"))} pipe:%E0%A4%A`)).toMatchObject({
      kind: "invalid",
    });
    expect(parseSrvStderrLine(`${line.slice(0, line.indexOf(" relay:"))} relay:%E0%A4%A`)).toMatchObject({
      kind: "invalid",
      reason: "bad relay %E0%A4%A",
    });
  });

  it("reads an ESTART from the original srv (no pending_migrations) with 0 pending", () => {
    const line = "AGENTMUXSRV-ESTART ws:127.0.0.1:1 web:127.0.0.1:2 version:0.33 buildtime:x instance:i";
    expect(parseSrvStderrLine(line)).toMatchObject({ kind: "estart", pending_migrations: 0, ws: "127.0.0.1:1" });
  });

  it("refuses to format values that would break the line", () => {
    expect(() => formatEstart({ ...info, version: "1 2" })).toThrow(RangeError);
    expect(() => formatEstart({ ...info, instance: "" })).toThrow(RangeError);
    expect(() => formatMigrating(-1)).toThrow(RangeError);
  });

  it("flags a broken ESTART as invalid, not ready", () => {
    expect(parseSrvStderrLine("AGENTMUXSRV-ESTART ws:1 version:1 instance:i")).toMatchObject({
      kind: "invalid",
      reason: "ESTART without web",
    });
  });

  it("formats and parses MIGRATING", () => {
    expect(formatMigrating(3)).toBe("AGENTMUXSRV-MIGRATING migrations:3");
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATING migrations:3")).toEqual({ kind: "migrating", migrations: 3 });
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATING migrations:x").kind).toBe("invalid");
  });

  it("MIGRATION-FAILED is one line with a non-empty reason", () => {
    const line = formatMigrationFailed("no such table: x\n  at migrate (m.ts:1)\r\n\nfatal");
    expect(line).toBe("AGENTMUXSRV-MIGRATION-FAILED error:no such table: x | at migrate (m.ts:1) | fatal");
    expect(line).not.toMatch(/[\r\n]/);
    expect(parseSrvStderrLine(line)).toEqual({
      kind: "migration_failed",
      error: "no such table: x | at migrate (m.ts:1) | fatal",
    });
    expect(formatMigrationFailed("\n \n")).toBe("AGENTMUXSRV-MIGRATION-FAILED error:unknown error");
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATION-FAILED error:")).toEqual({
      kind: "migration_failed",
      error: "unknown error",
    });
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATION-FAILED")).toEqual({
      kind: "migration_failed",
      error: "unknown error",
    });
  });

  it("no prefix is mistaken for another", () => {
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATING migrations:1").kind).toBe("migrating");
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATION-FAILED error:x").kind).toBe("migration_failed");
    expect(parseSrvStderrLine("AGENTMUXSRV-MIGRATIONS-FAILED error:x").kind).toBe("log");
    expect(parseSrvStderrLine("AGENTMUXSRV-ESTARTED ws:1 web:2 version:1 instance:i").kind).toBe("log");
    expect(parseSrvStderrLine("AGENTMUXSRV-EVENTS: x").kind).toBe("log");
    expect(parseSrvStderrLine(" AGENTMUXSRV-ESTART ws:1 web:2 version:1 instance:i").kind).toBe("log");
    expect(parseSrvStderrLine("info: AGENTMUXSRV-ESTART ws:1 web:2 version:1 instance:i").kind).toBe("log");
  });

  it("EVENT lines carry their payload", () => {
    const line = formatStderrEvent('{"a":1}\n{"b":2}');
    expect(line).toBe('AGENTMUXSRV-EVENT:{"a":1} | {"b":2}');
    expect(parseSrvStderrLine('AGENTMUXSRV-EVENT:{"a":1}')).toEqual({ kind: "event", data: '{"a":1}' });
  });

  it("anything else is a log line", () => {
    expect(parseSrvStderrLine("hello")).toEqual({ kind: "log", line: "hello" });
    expect(parseSrvStderrLine("")).toEqual({ kind: "log", line: "" });
  });
});
