import { describe, expect, it } from "vitest";
import { fnv1a64, launcherPaths } from "./paths.js";

describe("the single-instance lock's name", () => {
  it("is FNV-1a 64 of the data dir (the published test vectors)", () => {
    expect(fnv1a64("")).toBe("cbf29ce484222325");
    expect(fnv1a64("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64("foobar")).toBe("85944171f73967e8");
    // A character is hashed as its UTF-8 bytes (here C3 A9).
    expect(fnv1a64("é")).toBe("0ac21707b7181e01");
  });

  it("is stable for a data dir and differs between data dirs", () => {
    const a = launcherPaths("/home/u/.local/share/agentmux").lockSocket;
    expect(launcherPaths("/home/u/.local/share/agentmux").lockSocket).toBe(a);
    expect(launcherPaths("/home/u/.local/share/agentmux2").lockSocket).not.toBe(a);
    if (process.platform === "linux") expect(a).toMatch(/^\0agentmux-launcher-[0-9a-f]{16}$/);
  });
});
