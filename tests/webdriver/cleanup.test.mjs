// No process outlives its test, also when the test fails. Each case runs a WebDriver test that fails on
// purpose (fixtures/fails-on-purpose.mjs) in a child `node --test` run, outside this suite's result, with a
// marker in its environment; once the child run has ended, no process carrying that marker may be left:
// no kontor-app, tauri-driver or WebKitWebDriver, nor anything they started.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { endGroup, logPath, spawnGroup } from "./processes.mjs";

const FIXTURE = join(import.meta.dirname, "fixtures/fails-on-purpose.mjs");
const LEFTOVERS = resolve(import.meta.dirname, "../support/leftovers.mjs");

/** Runs the fixture in `mode` in a child test run; resolves with its exit code once it has ended. */
async function failingRun(mode, marker, scratch, windowUpFile) {
  const name = `fails-on-purpose-${mode}`;
  // Without this, node's runner takes the child run for a recursive call inside this file and runs nothing.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawnGroup(
    process.execPath,
    ["--test", "--test-timeout=45000", "--test-force-exit", FIXTURE],
    {
      name,
      env: {
        ...env,
        KONTOR_CHILD_RUN: marker,
        KONTOR_FAIL_MODE: mode,
        KONTOR_WINDOW_UP_FILE: windowUpFile,
        // the app's data directory, which a run that never stops its session leaves, goes to the scratch folder
        TMPDIR: scratch,
      },
    },
  );
  try {
    return await new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child run (${mode}) did not end within 120 s`)), 120_000);
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        resolvePromise(code ?? signal);
      });
    });
  } finally {
    // a child run that hangs is itself a failure; its group must not outlive this test either
    await endGroup(child);
  }
}

/** The processes of the child run that are still there (leftovers.mjs reports and ends them). */
function leftoversOf(marker) {
  const result = spawnSync(process.execPath, [LEFTOVERS, "--marker", `KONTOR_CHILD_RUN=${marker}`, "--wait", "3"], {
    encoding: "utf8",
  });
  return { clean: result.status === 0, report: result.stderr };
}

for (const mode of ["assert", "hang", "sigterm"]) {
  test(`a WebDriver test that fails (${mode}) leaves no app, driver or WebKitWebDriver behind`, async () => {
    const scratch = mkdtempSync(join(tmpdir(), "kontor-cleanup-"));
    const windowUp = join(scratch, "window-up");
    const marker = `${process.pid}-${mode}-${Date.now()}`;
    try {
      const code = await failingRun(mode, marker, scratch, windowUp);
      assert.ok(existsSync(windowUp), `the app's window never came up in the child run; see ${logPath(`fails-on-purpose-${mode}`)}`);
      assert.notEqual(code, 0, "the child run should have failed");
      const { clean, report } = leftoversOf(marker);
      assert.ok(clean, `the failed child run left processes behind:\n${report}`);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
}
