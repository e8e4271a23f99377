// Browser-test helpers: Debian's Chromium driven by playwright-core (Playwright's own browser
// download cannot be fetched here), a srv on a fixed web port (so an open page can reconnect to
// it after a restart), one-time login links, and screenshots for a reviewer.
import { existsSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { AUTH_KEY, onCleanup, type Srv } from "@agentmux/testkit";
import { type Browser, type BrowserContextOptions, chromium, type Page } from "playwright-core";

/** Debian's Chromium (the `chromium` package; the test setup installs it). */
export const CHROMIUM = ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].find((p) => existsSync(p));

/** A headless Chromium, closed after the test. A missing browser fails the test: it is never skipped. */
export async function launchBrowser(): Promise<Browser> {
  if (CHROMIUM === undefined) {
    throw new Error("Chromium is not installed: `./agentmuxw test` installs it (Debian: apt-get install chromium)");
  }
  // --no-sandbox: tests may run as root (in CI containers), where Chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  onCleanup(() => browser.close());
  return browser;
}

/** A free loopback port (to start srv on, and again on the same one after a restart). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A one-time dashboard login link, asked for with the auth key (as the launcher does). */
export async function loginLink(srv: Srv): Promise<string> {
  const res = await fetch(`${srv.web}/api/v1/login-token`, { method: "POST", headers: { "x-authkey": AUTH_KEY } });
  const body = (await res.json()) as { path: string };
  return `${srv.web}${body.path}`;
}

/** A page logged in through a fresh link; CSP violations and page errors are collected. */
export async function loggedInPage(
  browser: Browser,
  srv: Srv,
  options: BrowserContextOptions = {},
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage(options);
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
  });
  await page.goto(await loginLink(srv));
  await page.getByTestId("connection").filter({ hasText: "connected" }).waitFor();
  return { page, problems };
}

const RESULTS = join(import.meta.dirname, "..", "test-results");

/** Saves a screenshot of what a test checked, for a reviewer (test-results/ is not committed). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
}
