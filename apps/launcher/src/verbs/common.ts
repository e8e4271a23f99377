import type { Event } from "@agentmux/common-ipc";
import { SrvClient } from "../client.js";

export interface VerbContext {
  dataDir: string;
  json: boolean;
  out: (text: string) => void;
}

export type Of<K extends Event["event"]> = Extract<Event, { event: K }>;

export async function withClient<T>(ctx: VerbContext, fn: (client: SrvClient) => Promise<T>): Promise<T> {
  const { client } = await SrvClient.connect(ctx.dataDir);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ")).join("\n");
}
