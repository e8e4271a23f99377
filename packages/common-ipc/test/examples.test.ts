import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the README example (examples/decode.mjs) runs against the built package", () => {
  const script = fileURLToPath(new URL("../examples/decode.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: "utf8" }).trim().split("\n");
  expect(out).toEqual([
    'command: register {"cmd":"register","kind":"tool","pid":42,"version":"1.0"}',
    'command: ping {"cmd":"ping","nonce":7,"req_id":"a1"}',
    'reply: {"event":"error","code":"invalid_command","message":"parse failed: unknown cmd \\"banana\\"","fatal":false,"version":0}',
    'reply: {"event":"error","code":"frame_too_large","message":"frame exceeds 64 bytes","fatal":false,"version":0}',
    'command: goodbye {"cmd":"goodbye"}',
  ]);
});
