import { lstatSync } from "node:fs";
import { dirname, join } from "node:path";
import { is, PipeClient, Srv, tempDir } from "@agentmux/testkit";
import { describe, expect, it } from "vitest";

async function world() {
  const srv = await Srv.start();
  const client = await PipeClient.connect(srv.pipe);
  await client.register(8001);
  const snap = await client.call({ cmd: "get_srv_snapshot" }, is("srv_snapshot"));
  if (snap.event !== "srv_snapshot") throw new Error("setup");
  const workspace = snap.workspaces[0]?.[0] as string;
  const tab = snap.tabs[0]?.[0] as string;
  return { srv, client, workspace, tab };
}

describe("saga commands", () => {
  it("tear_off_tab moves a tab into a new workspace, and refuses a workspace's only tab", async () => {
    const { client, workspace, tab } = await world();
    client.send({ cmd: "tear_off_tab", tab_id: tab, req_id: "t1" });
    expect(await client.next((e) => e.event === "error" && e.version === 0)).toMatchObject({
      code: "invalid_command",
      req_id: "t1",
      message: expect.stringMatching(/only tab/),
    });
    const second = await client.call({ cmd: "create_tab", workspace_id: workspace, name: "two" }, is("tab_created"));
    if (second.event !== "tab_created") throw new Error("setup");
    client.send({ cmd: "tear_off_tab", tab_id: second.tab_id, req_id: "t2" });
    expect(await client.next(is("saga_started"))).toMatchObject({ name: "tear_off_tab", req_id: "t2" });
    const created = await client.next(is("workspace_created"));
    const moved = await client.next(is("tab_moved"));
    expect(moved).toMatchObject({ tab_id: second.tab_id, src_workspace_id: workspace });
    expect(created.event === "workspace_created" && moved.event === "tab_moved" && moved.dst_workspace_id).toBe(
      created.event === "workspace_created" && created.workspace_id,
    );
    expect(await client.next(is("saga_completed"))).toMatchObject({ req_id: "t2" });
  });

  it("promote_block_to_tab moves a block into a new tab of its workspace", async () => {
    const { client, workspace, tab } = await world();
    const block = await client.call({ cmd: "create_block", tab_id: tab, meta: null }, is("block_created"));
    if (block.event !== "block_created") throw new Error("setup");
    client.send({ cmd: "promote_block_to_tab", block_id: block.block_id });
    const newTab = await client.next(is("tab_created"));
    expect(newTab).toMatchObject({ workspace_id: workspace });
    expect(await client.next(is("block_moved"))).toMatchObject({ block_id: block.block_id, src_tab_id: tab });
    expect(await client.next(is("saga_completed"))).toBeTruthy();
    client.send({ cmd: "promote_block_to_tab", block_id: "missing" });
    expect(await client.next((e) => e.event === "error" && e.version === 0)).toMatchObject({
      message: "promote_block_to_tab: block not found: missing",
    });
  });
});

describe("the Unix socket", () => {
  it("lives in a 0700 directory and is itself 0600", async () => {
    const dir = join(tempDir(), "run", "agentmux");
    const pipe = join(dir, "srv.sock");
    const srv = await Srv.start({ env: { AGENTMUX_SRV_PIPE_PATH: pipe } });
    expect(srv.estart).toBeDefined();
    expect(lstatSync(dirname(pipe)).mode & 0o777).toBe(0o700);
    expect(lstatSync(pipe).mode & 0o777).toBe(0o600);
  });

  it("a socket left behind by a SIGKILLed srv is replaced on the next start", async () => {
    const pipe = join(tempDir(), "srv.sock");
    const first = await Srv.start({ env: { AGENTMUX_SRV_PIPE_PATH: pipe } });
    await first.kill("SIGKILL");
    expect(lstatSync(pipe).isSocket()).toBe(true);
    const second = await Srv.start({ dataDir: first.dataDir, env: { AGENTMUX_SRV_PIPE_PATH: pipe } });
    const client = await PipeClient.connect(pipe);
    expect(await client.register(8100)).toMatchObject({ event: "registered", launcher_pid: second.child.pid });
  });
});
