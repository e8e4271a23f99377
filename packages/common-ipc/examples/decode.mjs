// Decode NDJSON frames from byte chunks, validate them as commands, and answer bad ones with typed errors.
import { decodeCommand, encodeFrame, NdjsonDecoder, protocolErrorEvent } from "@agentmux/common-ipc";

const decoder = new NdjsonDecoder({ maxFrameBytes: 64 });
const chunks = [
  '{"cmd":"register","kind":"tool","pid":42,"version":"1.0"}\n{"cmd":"pi',
  'ng","nonce":7,"req_id":"a1"}\r\n\n',
  '{"cmd":"banana"}\n',
  `{"cmd":"create_workspace","name":"${"x".repeat(100)}"}\n`,
  '{"cmd":"goodbye"}\n',
];

for (const chunk of chunks) {
  for (const item of decoder.push(chunk)) {
    if (!item.ok) {
      process.stdout.write(`reply: ${encodeFrame(protocolErrorEvent(item.error))}`);
      continue;
    }
    const parsed = decodeCommand(item.frame);
    if (parsed.ok) process.stdout.write(`command: ${parsed.value.cmd} ${JSON.stringify(parsed.value)}\n`);
    else process.stdout.write(`reply: ${encodeFrame(protocolErrorEvent(parsed.error))}`);
  }
}
