// Undo after each test: temp dirs, processes, connections. Importing this module (any import of
// the testkit does) registers vitest hooks in the importing test file, so it must only be
// imported from test files and what they import.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach } from "vitest";

/** Something to undo; may be async. */
export type Cleanup = () => unknown;

// Registered from inside a test (or its beforeEach): undone after that test. Registered anywhere
// else (module scope, beforeAll): undone after the file's last test, so a beforeAll's directory
// is not removed under the tests that follow the first.
const afterThisTest: Cleanup[] = [];
const afterThisFile: Cleanup[] = [];
let inTest = false;

// Registered when the test file imports the testkit, that is before the file's own hooks: vitest
// runs after-hooks in reverse order, so a file's own afterEach (closing a session, say) runs
// before the testkit removes the directories that session used.
beforeEach(() => {
  inTest = true;
});
afterEach(async () => {
  inTest = false;
  await runAll(afterThisTest);
});
afterAll(() => runAll(afterThisFile));

/** Runs every cleanup, newest first; one that throws does not stop the others. */
async function runAll(list: Cleanup[]): Promise<void> {
  const errors: unknown[] = [];
  for (const fn of list.splice(0).reverse()) {
    try {
      await fn();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} cleanups failed`);
}

/**
 * Runs `fn` after the current test (called outside a test: after the file's tests), newest
 * first, so what was made last is undone first: a process is stopped before its directory goes.
 */
export function onCleanup(fn: Cleanup): void {
  (inTest ? afterThisTest : afterThisFile).push(fn);
}

/**
 * A new empty directory under the OS temp dir, removed with everything in it by `onCleanup`.
 * The removal retries for a moment (ENOTEMPTY, EBUSY): a process stopped just before, such as an
 * agent CLI that srv's guardian is still taking down, may write its last file while it runs.
 */
export function tempDir(prefix = "agentmux-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 }));
  return dir;
}
