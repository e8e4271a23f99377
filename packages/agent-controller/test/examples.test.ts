import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { tempDir } from "@agentmux/testkit";
import { expect, it } from "vitest";

const cwd = tempDir("agentmux-controller-example-");

it("the README example (examples/session.mjs) runs against the built package and its stand-in CLI", () => {
  const script = fileURLToPath(new URL("../examples/session.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [script], { cwd, encoding: "utf8" });
  const lines = out.trim().split("\n");
  const transcript = lines
    .filter((l) => l.startsWith("output @"))
    .map((l) => {
      const m = /^output @(\d+): (.*)$/.exec(l);
      return { offset: Number(m?.[1]), line: JSON.parse(m?.[2] ?? "null") };
    });
  // Control lines (the permission request) are protocol, not transcript.
  expect(transcript.map((t) => t.line.type)).toEqual(["system", "assistant", "result"]);
  expect(transcript[0]?.offset).toBe(0);
  // Offsets are byte offsets: each line starts where the previous one (and its newline) ended.
  for (let i = 1; i < transcript.length; i++) {
    const prev = transcript[i - 1];
    expect(transcript[i]?.offset).toBe((prev?.offset ?? 0) + Buffer.byteLength(`${JSON.stringify(prev?.line)}\n`));
  }
  const sid = transcript[0]?.line.session_id;
  expect(sid).toMatch(/^[0-9a-f-]{36}$/);
  expect(transcript[1]?.line.message.content[0].text).toBe("You said 6 words; reading README.md was allowed.");
  expect(lines).toContain('permission asked: Read {"file_path":"README.md"} -> allow');
  expect(out).toMatch(new RegExp(`^turn ended: status running, session ${sid}, pid \\d+$`, "m"));
  expect(lines).toContain("usage: 60 tokens in, 12 out, $0.001");
  expect(lines.at(-1)).toBe("stopped: exited, status done, exit code 0");
});
