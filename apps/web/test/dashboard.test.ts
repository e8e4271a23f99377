import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { RelayClient } from "@agentmux/relay/client";
import {
  AUTH_KEY,
  claudeAgent,
  claudeEnv,
  type EventOf,
  type FakeAnthropic,
  is,
  newTab,
  onCleanup,
  PipeClient,
  Srv,
  startFakeAnthropic,
  tempDir,
  until,
} from "@agentmux/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, launchBrowser, loggedInPage, loginLink, screenshot } from "./browser.js";

let fake: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.close();
});

/** srv on a fixed web port (the page reconnects to the same origin), running claude against the fake model server. */
async function start(port: number, dataDir?: string, env = claudeEnv(fake.url)) {
  const srv = await Srv.start({ args: ["--web-port", String(port)], env, ...(dataDir ? { dataDir } : {}) });
  const client = await PipeClient.connect(srv.pipe);
  await client.register(process.pid);
  return { srv, client, env };
}

describe("dashboard login", () => {
  it("a one-time link logs the browser in with an HttpOnly cookie; the key never reaches the browser", async () => {
    const { srv } = await start(await freePort());
    const browser = await launchBrowser();

    // Without a session: a page that says how to get in, and nothing else (no script at all).
    const anon = await browser.newPage();
    const refused = await anon.goto(`${srv.web}/`);
    expect(refused?.status()).toBe(401);
    expect(await anon.textContent("body")).toContain("agentmux dashboard");
    expect(await anon.locator("script").count()).toBe(0);
    const asset = await fetch(`${srv.web}/assets/anything.js`);
    expect(asset.status).toBe(401);

    const link = await loginLink(srv);
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
    });
    await page.goto(link);
    await page.getByTestId("connection").filter({ hasText: "connected" }).waitFor();
    // The token left the address bar at once: the URL is clean.
    expect(new URL(page.url()).pathname).toBe("/");
    expect(page.url()).not.toContain("token");
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === "agentmux_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(await page.evaluate(() => document.cookie)).not.toContain("agentmux_session");
    // The key is nowhere the page can see: not in its HTML, its scripts, its storage or its history.
    const seen = await page.evaluate(async () => {
      const scripts = await Promise.all(
        [...document.querySelectorAll("script[src]")].map((s) =>
          fetch((s as HTMLScriptElement).src).then((r) => r.text()),
        ),
      );
      return [
        document.documentElement.outerHTML,
        ...scripts,
        JSON.stringify({ ...localStorage }),
        JSON.stringify({ ...sessionStorage }),
        location.href,
      ].join("\n");
    });
    expect(seen).not.toContain(AUTH_KEY);
    // A strict CSP on every dashboard response, and the page broke none of it.
    const res = await fetch(`${srv.web}/`, {
      headers: { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ") },
    });
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(problems).toEqual([]);
    await screenshot(page, "login-fleet");

    // The same link again: refused, with how to get a new one.
    const again = await browser.newPage();
    expect((await again.goto(link))?.status()).toBe(401);
    expect(await again.textContent("body")).toContain("used already");
    await screenshot(anon, "login-refused");
  }, 60_000);
});

describe("a session that is gone", () => {
  it("the page says to sign in again, rather than reconnecting in silence", async () => {
    const port = await freePort();
    const { srv, env } = await start(port);
    const browser = await launchBrowser();
    const { page } = await loggedInPage(browser, srv);
    await srv.kill("SIGKILL");
    // The sessions srv kept are lost (a wiped data dir would do the same).
    rmSync(join(srv.dataDir, "dashboard"), { recursive: true, force: true });
    await start(port, srv.dataDir, env);
    await page.getByRole("alert").filter({ hasText: "Signed out" }).waitFor({ timeout: 20_000 });
    expect(await page.getByTestId("connection").textContent()).toBe("reconnecting");
    await screenshot(page, "signed-out");
  }, 60_000);
});

describe("dashboard with real agents", () => {
  it("the fleet shows the agents; a message sent from the page streams its reply; Allow lets a tool run", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    const alpha = await claudeAgent(client, tabId, "alpha");
    await claudeAgent(client, tabId, "beta");
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    const rows = page.getByTestId("agent-row");
    await until("both agents in the fleet", async () => (await rows.count()) === 2, 15_000);
    expect(await page.locator('[data-agent-name="alpha"]').count()).toBe(1);
    // Never run yet: "new", the word `agentmux agent ls` uses.
    const status = (name: string) =>
      page.locator(`[data-agent-name="${name}"] [data-testid="agent-status"]`).textContent();
    expect([await status("alpha"), await status("beta")]).toEqual(["new", "new"]);

    await page.locator('[data-agent-name="alpha"]').getByRole("link").first().click();
    await page.getByTestId("transcript").waitFor({ state: "attached" });
    await page.getByLabel("Message").fill("reply hello from the page");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("transcript").getByText("hello from the page").last().waitFor({ timeout: 30_000 });
    // The turn's tokens and cost, charted.
    await page.getByTestId("turn-chart").filter({ hasText: "1 turn," }).waitFor({ timeout: 10_000 });
    await screenshot(page, "agent-reply");

    // A tool call the agent must ask for: the banner appears, Allow lets the turn finish.
    await page.getByLabel("Message").fill("tool touch allowed.txt");
    await page.getByRole("button", { name: "Send" }).click();
    const banner = page.getByTestId("permission");
    await banner.waitFor({ timeout: 30_000 });
    await screenshot(page, "agent-permission");
    await banner.getByRole("button", { name: "Allow" }).click();
    await client.next(
      is("agent_status", (e) => e.block_id === alpha && !e.turn_active && e.requests.length === 0),
      30_000,
    );
    await page.getByTestId("transcript").getByText("done").last().waitFor({ timeout: 30_000 });
    // Back on the fleet: alpha has run and waits (idle), ahead of beta, which never ran.
    await page.goto(`${srv.web}/#/`);
    await until("alpha idle", async () => (await status("alpha")) === "idle");
    expect(await status("beta")).toBe("new");
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-agent-name")))).toEqual([
      "alpha",
      "beta",
    ]);
    expect(problems).toEqual([]);
  }, 120_000);

  it("shows the file edits the agent makes as diffs of their lines", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    const cwd = tempDir("agent-cwd-");
    const id = await claudeAgent(client, tabId, "zeta", cwd);
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    await page.goto(`${srv.web}/#/agent/${id}`);
    await page.getByTestId("transcript").waitFor({ state: "attached" });
    // The real CLI's own Write and Edit tools, each allowed from the page.
    const file = join(cwd, "notes.txt");
    const allowed = async (message: string, content: string) => {
      await page.getByLabel("Message").fill(message);
      await page.getByRole("button", { name: "Send" }).click();
      const banner = page.getByTestId("permission");
      await banner.waitFor({ timeout: 60_000 });
      await banner.getByRole("button", { name: "Allow" }).click();
      await until("the banner gone", async () => (await banner.count()) === 0);
      await until(
        `the file holding ${JSON.stringify(content)}`,
        () => existsSync(file) && readFileSync(file, "utf8") === content,
        30_000,
      );
    };
    await allowed(`call Write ${JSON.stringify({ file_path: file, content: "alpha\nbeta\n" })}`, "alpha\nbeta\n");
    await allowed(
      `call Edit ${JSON.stringify({ file_path: file, old_string: "beta", new_string: "gamma" })}`,
      "alpha\ngamma\n",
    );
    // Each call is folded; opened, it shows the file and its lines, removed and added.
    const call = (tool: string) =>
      page
        .locator('[data-kind="tool_call"]')
        .filter({ has: page.locator("summary strong", { hasText: new RegExp(`^${tool}$`) }) });
    const write = call("Write").last();
    await write.locator("summary").click();
    await expect.poll(() => write.locator(".diff-file").textContent()).toBe(file);
    expect(await write.locator(".diff .add").allTextContents()).toEqual(["+ alpha", "+ beta"]);
    expect(await write.locator(".diff .del").count()).toBe(0);
    const edit = call("Edit").last();
    await edit.locator("summary").click();
    expect(await edit.locator(".diff .del").allTextContents()).toEqual(["- beta"]);
    expect(await edit.locator(".diff .add").allTextContents()).toEqual(["+ gamma"]);
    await screenshot(page, "agent-diffs");
    expect(problems).toEqual([]);
  }, 120_000);

  it("Deny keeps the tool from running; Interrupt ends a turn that is still streaming", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    const cwd = tempDir("agent-cwd-");
    const id = await claudeAgent(client, tabId, "epsilon", cwd);
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    // From the fleet, as a person would: the page knows the agent before its view opens.
    await page.locator('[data-agent-name="epsilon"]').getByRole("link").first().click();
    await page.getByTestId("transcript").waitFor({ state: "attached" });
    await page.getByLabel("Message").fill("tool touch denied.txt");
    await page.getByRole("button", { name: "Send" }).click();
    const banner = page.getByTestId("permission");
    // The agent's CLI starts on this first message: on a loaded machine that takes a while.
    await banner.waitFor({ timeout: 60_000 });
    await banner.getByRole("button", { name: "Deny" }).click();
    await client.next(
      is("agent_status", (e) => e.block_id === id && !e.turn_active && e.requests.length === 0),
      30_000,
    );
    await until("the banner gone", async () => (await banner.count()) === 0);
    expect(existsSync(join(cwd, "denied.txt"))).toBe(false);

    // 200 chunks 200 ms apart: 40 s of streaming, unless it is interrupted.
    await page.getByLabel("Message").fill("slow 200");
    await page.getByRole("button", { name: "Send" }).click();
    await client.next(
      is("agent_status", (e) => e.block_id === id && e.turn_active),
      30_000,
    );
    const asked = Date.now();
    await page.getByRole("button", { name: "Interrupt" }).click();
    await client.next(
      is("agent_status", (e) => e.block_id === id && !e.turn_active),
      30_000,
    );
    expect(Date.now() - asked).toBeLessThan(30_000);
    await screenshot(page, "agent-denied-interrupted");
    expect(problems).toEqual([]);
  }, 120_000);

  it("once the person allows notifications, an agent that starts needing input raises one", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    const id = await claudeAgent(client, tabId, "zeta");
    const browser = await launchBrowser();
    const context = await browser.newContext();
    await context.grantPermissions(["notifications"]);
    // Records what the page shows, through the real Notification API's shape.
    await context.addInitScript(() => {
      const shown: { title: string; body: string }[] = [];
      (window as unknown as { __shown: typeof shown }).__shown = shown;
      const Real = window.Notification;
      class Recorded extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body ?? "" });
        }
      }
      window.Notification = Recorded as typeof Notification;
    });
    const page = await context.newPage();
    await page.goto(await loginLink(srv));
    // The browser's permission is granted (as after the person allowed it): the page says so.
    await page.getByText("Notifications are on").waitFor();
    client.send({ cmd: "agent_send", block_id: id, message: "tool touch noted.txt" });
    const shown = await until(
      "a notification",
      async () => {
        const list = await page.evaluate(
          () => (window as unknown as { __shown: { title: string; body: string }[] }).__shown,
        );
        return list.length > 0 && list;
      },
      60_000,
    );
    expect(shown[0]).toEqual({ title: "zeta needs input", body: "It asks to use Bash." });
  }, 90_000);

  it("srv killed -9 and restarted: the page reconnects by itself and the transcript is whole, nothing twice", async () => {
    const port = await freePort();
    const { srv, client, env } = await start(port);
    const tabId = await newTab(client);
    const id = await claudeAgent(client, tabId, "gamma");
    const browser = await launchBrowser();
    const { page } = await loggedInPage(browser, srv);
    await page.goto(`${srv.web}/#/agent/${id}`);
    await page.getByLabel("Message").fill("reply first-answer");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByTestId("transcript").getByText("first-answer").last().waitFor({ timeout: 30_000 });

    await srv.kill("SIGKILL");
    await page.getByTestId("connection").filter({ hasText: "reconnecting" }).waitFor();
    const again = await start(port, srv.dataDir, env);
    await page.getByTestId("connection").filter({ hasText: "connected" }).waitFor({ timeout: 20_000 });
    // A turn after the restart shows up live, and what was there before is there once.
    again.client.send({ cmd: "agent_send", block_id: id, message: "reply second-answer" });
    await page.getByTestId("transcript").getByText("second-answer").last().waitFor({ timeout: 30_000 });
    const items = await page.getByTestId("transcript-item").allTextContents();
    const first = items.filter((t) => t.includes("first-answer") && !t.includes("reply first-answer"));
    expect(first).toHaveLength(1);
    // The page shows exactly what the transcript holds, by byte offset: compare with srv's own copy.
    const out = (await again.client.call(
      { cmd: "get_block_output", block_id: id, req_id: "whole" },
      is("block_output", (e) => e.req_id === "whole"),
    )) as EventOf<"block_output">;
    expect(out.data).toContain("second-answer");
    await screenshot(page, "agent-after-restart");
  }, 120_000);

  it("an agent created, renamed and deleted from the page", async () => {
    const { srv, client } = await start(await freePort());
    await newTab(client);
    const browser = await launchBrowser();
    const { page } = await loggedInPage(browser, srv);
    await page.getByLabel("Provider").selectOption("claude");
    await page.getByLabel("Name", { exact: true }).fill("from-the-page");
    await page.getByLabel("Working directory").fill("/tmp");
    await page.getByRole("button", { name: "Create agent" }).click();
    const row = page.locator('[data-agent-name="from-the-page"]');
    await row.waitFor();
    const created = (await client.next(
      is("block_created", (e) => e.meta?.["agent:name"] === "from-the-page"),
    )) as EventOf<"block_created">;
    await row.getByRole("link").first().click();
    // Renamed from the page; a name another agent of the workspace has is refused, in srv's words.
    await claudeAgent(client, created.tab_id, "taken");
    await page.getByRole("button", { name: "Rename agent" }).click();
    await page.getByLabel("New agent name").fill("taken");
    await page.getByRole("button", { name: "Save name" }).click();
    await page.getByRole("alert").filter({ hasText: 'agent name "taken" is already used' }).waitFor();
    await page.getByLabel("New agent name").fill("renamed");
    await page.getByRole("button", { name: "Save name" }).click();
    await client.next(
      is("block_meta_updated", (e) => e.block_id === created.block_id && e.meta_patch["agent:name"] === "renamed"),
    );
    await page.getByRole("heading", { level: 1, name: "renamed" }).waitFor();
    await page.getByRole("button", { name: "Delete agent" }).click();
    await client.next(is("block_deleted", (e) => e.block_id === created.block_id));
    await page.goto(`${srv.web}/#/`);
    await until("the row gone", async () => (await row.count()) === 0);
  }, 60_000);
});

describe("workspaces and tabs", () => {
  it("are created, renamed and deleted from the page; srv's refusals are shown as srv words them", async () => {
    const { srv, client } = await start(await freePort());
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    await page.getByLabel("Workspace title").fill("Ops");
    await page.getByRole("button", { name: "New workspace" }).click();
    const ws = (await client.next(is("workspace_created", (e) => e.name === "Ops"))) as EventOf<"workspace_created">;
    await page.getByRole("button", { name: "New tab in Ops" }).click();
    const tab = (await client.next(
      is("tab_created", (e) => e.workspace_id === ws.workspace_id),
    )) as EventOf<"tab_created">;
    // The starter workspace has a "Tab 1" too: act within Ops's own group.
    const ops = page
      .locator(".tab-groups > li")
      .filter({ has: page.getByRole("button", { name: "Delete workspace Ops" }) });
    await ops.getByRole("button", { name: `Rename tab ${tab.name}` }).click();
    await page.getByLabel(`New name for ${tab.name}`).fill("logs");
    await page.getByRole("button", { name: "Save" }).click();
    await client.next(is("tab_renamed", (e) => e.tab_id === tab.tab_id && e.name === "logs"));
    // The last tab of a workspace is not deleted without force: srv says so, the page shows it.
    await ops.getByRole("button", { name: "Delete tab logs" }).click();
    await page.getByRole("alert").filter({ hasText: "cannot delete the last tab" }).waitFor();
    await page.getByRole("button", { name: "Delete workspace Ops" }).click();
    await client.next(is("workspace_deleted", (e) => e.workspace_id === ws.workspace_id));
    await until(
      "the workspace gone from the page",
      async () => (await page.getByText("Ops", { exact: true }).count()) === 0,
    );
    await screenshot(page, "workspaces-tabs");
    expect(problems).toEqual([]);
  }, 60_000);
});

describe("a long transcript", () => {
  it("opens at its end, reads history back as the reader scrolls up, and the page stays small", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    // A stand-in CLI (speaking srv's claude stream-json) that answers with 1,500 text lines.
    const cwd = tempDir("agent-cwd-");
    const cli = join(cwd, "wordy-cli");
    writeFileSync(
      cli,
      `#!${process.execPath}
const sid = "wordy-" + process.pid;
const out = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
out({ type: "system", subtype: "init", session_id: sid });
process.stdin.on("data", () => {
  for (let n = 0; n < 1500; n++) out({ type: "assistant", session_id: sid, message: { role: "assistant", content: [{ type: "text", text: "line-" + n + "-end" }] } });
  out({ type: "result", subtype: "success", is_error: false, session_id: sid, usage: { input_tokens: 1, output_tokens: 1 } });
});
`,
    );
    chmodSync(cli, 0o755);
    const made = (await client.call(
      {
        cmd: "create_block",
        tab_id: tabId,
        meta: {
          view: "agent",
          "agent:provider": "claude",
          "agent:name": "wordy",
          "agent:cwd": cwd,
          "agent:command": cli,
        },
      },
      is("block_created"),
    )) as EventOf<"block_created">;
    client.send({ cmd: "agent_send", block_id: made.block_id, message: "go" });
    await client.next(
      is("agent_status", (e) => e.block_id === made.block_id && e.session_id !== null && !e.turn_active),
      30_000,
    );
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    await page.goto(`${srv.web}/#/agent/${made.block_id}`);
    const transcript = page.getByTestId("transcript");
    await transcript.getByText("line-1499-end").waitFor();
    // Only the end was read (~64 KiB of ~190 KiB), and only a window of it is on the page.
    const from = Number(await transcript.getAttribute("data-from"));
    expect(from).toBeGreaterThan(0);
    expect(await page.getByTestId("transcript-item").count()).toBeLessThanOrEqual(200);
    expect(await transcript.getByText("line-0-end").count()).toBe(0);
    // Scrolling up reads the history back, page by page, until the first line.
    await until(
      "the first line, scrolling up",
      async () => {
        await page.mouse.wheel(0, -20_000);
        return (await transcript.getByText("line-0-end").count()) > 0;
      },
      60_000,
    );
    expect(await transcript.getAttribute("data-from")).toBe("0");
    expect(await page.getByTestId("transcript-item").count()).toBeLessThanOrEqual(200);
    await page.getByText("The start of the transcript.").waitFor();
    // Every line once, in order, across the pages read: the first window holds 0, 1, 2, ….
    const texts = await transcript.getByTestId("transcript-item").allTextContents();
    const shown = texts.flatMap((t) => [...t.matchAll(/line-(\d+)-end/g)].map((m) => Number(m[1])));
    expect(shown.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    // Scrolling down moves the window forward again, until it follows the newest.
    await until(
      "the last line, scrolling down",
      async () => {
        await page.mouse.wheel(0, 20_000);
        return (await transcript.getByText("line-1499-end").count()) > 0;
      },
      60_000,
    );
    await until(
      "following the newest again",
      async () => {
        await page.mouse.wheel(0, 20_000);
        return (await page.getByRole("button", { name: "Back to the newest" }).count()) === 0;
      },
      10_000,
    );
    // From far back, one button returns to the newest.
    await until(
      "back in the history",
      async () => {
        await page.mouse.wheel(0, -20_000);
        return (await page.getByRole("button", { name: "Back to the newest" }).count()) > 0;
      },
      30_000,
    );
    await page.getByRole("button", { name: "Back to the newest" }).click();
    await transcript.getByText("line-1499-end").waitFor();
    await screenshot(page, "long-transcript");
    expect(problems).toEqual([]);
  }, 90_000);
});

describe("messages between agents", () => {
  it("the timeline shows who sent what to whom, and its delivery state as it moves", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    await claudeAgent(client, tabId, "bob");
    const human = await RelayClient.connect({
      socketPath: srv.relaySocket,
      bundleName: "default",
      sessionId: "human",
      clientClass: "ui",
      inbox: false,
    });
    onCleanup(() => human.close());
    const sent = await human.send({ message: "reply reviewed", targets: ["bob"], deliveryMode: "async" });
    expect(sent.status).toBe("accepted");
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    await page.getByRole("link", { name: "Messages" }).click();
    const row = page.getByTestId("message-row").filter({ hasText: "reply reviewed" });
    await row.waitFor();
    expect(await row.textContent()).toContain("human");
    expect(await row.textContent()).toContain("bob");
    // Handed to bob's claude, whose transcript shows the turn: delivered, on the page within a refresh or two.
    await row.getByTestId("message-state").filter({ hasText: "delivered" }).waitFor({ timeout: 60_000 });
    await screenshot(page, "messages");
    expect(problems).toEqual([]);
  }, 90_000);
});

describe("tabs as tiles", () => {
  it("a tab's tiles are drawn from its layout; a divider moved from the page is persisted, across a kill -9", async () => {
    const port = await freePort();
    const { srv, client, env } = await start(port);
    const tabId = await newTab(client);
    const ids: string[] = [];
    for (const name of ["left", "right"]) {
      const made = (await client.call(
        {
          cmd: "create_block",
          tab_id: tabId,
          meta: { view: "agent", "agent:provider": "claude", "agent:name": name, "agent:cwd": "/tmp" },
          tile: {},
        },
        is("block_created", (e) => e.meta?.["agent:name"] === name),
      )) as EventOf<"block_created">;
      ids.push(made.block_id);
    }
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    await page.goto(`${srv.web}/#/tab/${tabId}`);
    await until("two tiles", async () => (await page.getByTestId("tile").count()) === 2);
    expect(await page.getByTestId("tile").allTextContents()).toEqual([
      expect.stringContaining("left"),
      expect.stringContaining("right"),
    ]);
    // The keyboard moves the divider: the first tile grows by 5, the second gives 5.
    await page.getByTestId("divider").first().focus();
    await page.keyboard.press("ArrowRight");
    const resized = (await client.next(is("layout_nodes_resized"))) as EventOf<"layout_nodes_resized">;
    expect(resized.ops.map((o) => o.size)).toEqual([15, 5]);
    await screenshot(page, "tab-tiles");
    expect(problems).toEqual([]);

    await srv.kill("SIGKILL");
    const again = await start(port, srv.dataDir, env);
    const state = (await again.client.call(
      { cmd: "get_layout", tab_id: tabId, req_id: "after" },
      is("layout_state", (e) => e.req_id === "after"),
    )) as EventOf<"layout_state">;
    expect(state.new_tree?.children?.map((c) => [c.data?.blockId, c.size])).toEqual([
      [ids[0], 15],
      [ids[1], 5],
    ]);
  }, 60_000);
});

describe("splitting a tile", () => {
  it("makes a new agent beside the tile, in one place in the layout", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    const made = (await client.call(
      {
        cmd: "create_block",
        tab_id: tabId,
        meta: { view: "agent", "agent:provider": "claude", "agent:name": "first", "agent:cwd": "/tmp" },
        tile: {},
      },
      is("block_created"),
    )) as EventOf<"block_created">;
    const browser = await launchBrowser();
    const { page, problems } = await loggedInPage(browser, srv);
    await page.goto(`${srv.web}/#/tab/${tabId}`);
    await until("one tile", async () => (await page.getByTestId("tile").count()) === 1);
    await page.getByText("Split first").click();
    await page.getByLabel("New agent's name").fill("second");
    await page.getByRole("button", { name: "Create agent here" }).click();
    const created = (await client.next(
      is("block_created", (e) => e.meta?.["agent:name"] === "second"),
    )) as EventOf<"block_created">;
    const split = (await client.next(
      is("layout_split_horizontal_applied"),
    )) as EventOf<"layout_split_horizontal_applied">;
    expect(split.new_node.data?.blockId).toBe(created.block_id);
    await until("two tiles", async () => (await page.getByTestId("tile").count()) === 2);
    const state = (await client.call(
      { cmd: "get_layout", tab_id: tabId, req_id: "split" },
      is("layout_state", (e) => e.req_id === "split"),
    )) as EventOf<"layout_state">;
    expect(state.new_tree?.children?.map((c) => c.data?.blockId)).toEqual([made.block_id, created.block_id]);
    await screenshot(page, "tile-split");
    expect(problems).toEqual([]);
  }, 60_000);
});

describe("accessibility", () => {
  it("axe-core finds no serious or critical violation on the fleet, agent, tab and messages views, on a desktop in light and a phone in dark; nothing scrolls sideways on the phone", async () => {
    const { srv, client } = await start(await freePort());
    const tabId = await newTab(client);
    const id = await claudeAgent(client, tabId, "delta");
    client.send({
      cmd: "agent_send",
      block_id: id,
      message: "reply a reply long enough to wrap on a phone-sized screen, once",
    });
    await client.next(
      is("agent_status", (e) => e.block_id === id && e.session_id !== null && !e.turn_active),
      30_000,
    );
    const browser = await launchBrowser();
    const axe = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
    const setups = [
      { name: "desktop-light", options: { colorScheme: "light" as const } },
      {
        name: "phone-dark",
        options: {
          colorScheme: "dark" as const,
          viewport: { width: 390, height: 844 },
          isMobile: true,
          hasTouch: true,
        },
      },
    ];
    for (const { name, options } of setups) {
      const { page } = await loggedInPage(browser, srv, options);
      const check = async (view: string) => {
        // Evaluated through the DevTools protocol, which the page's CSP does not govern.
        await page.evaluate(axe);
        const result = (await page.evaluate("axe.run(document)")) as { violations: { id: string; impact: string }[] };
        const serious = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
        expect(serious.map((v) => `${name} ${view}: ${v.id}`)).toEqual([]);
        const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(sideways, `${name} ${view} scrolls sideways`).toBeLessThanOrEqual(0);
        await screenshot(page, `${name}-${view}`);
      };
      await page.getByTestId("agent-row").first().waitFor();
      await check("fleet");
      await page.goto(`${srv.web}/#/agent/${id}`);
      await page.getByTestId("transcript").getByText("long enough to wrap").first().waitFor();
      await check("agent");
      // Keyboard reachable: Tab from the top of the page gets to the composer and its Send button.
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      const reached = await until(
        `${name}: Send reached by Tab`,
        async () => {
          await page.keyboard.press("Tab");
          return page.evaluate(() => document.activeElement?.textContent === "Send");
        },
        10_000,
      );
      expect(reached).toBe(true);
      await page.goto(`${srv.web}/#/tab/${tabId}`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await check("tab");
      await page.goto(`${srv.web}/#/messages`);
      await page.getByTestId("messages").waitFor();
      await check("messages");
      await page.context().close();
    }
  }, 90_000);
});
