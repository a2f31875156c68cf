// The deep link reaches the running app. The app starts a finX flow through the Demo Bank's finX face;
// the test plays the system browser (the widget, with fetch) until it is sent to `kontor://…`, and hands
// that address to the desktop the way a browser does: `xdg-open` (whose Debian 12 version failed on the
// quoted Exec line tauri-plugin-deep-link wrote), which starts a SECOND Kontor from the registered desktop
// entry. It finds the first one over D-Bus (single instance), hands it the URL and exits; the first window's
// pending flow completes. The second test launches the second instance directly.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { APP, Session } from "./driver.mjs";
import { spawnGroup, endGroup, logPath } from "./processes.mjs";
import { chooseProvider } from "./link-steps.mjs";
import { playFinxWidget } from "./finx-widget.mjs";

let session;

before(async () => {
  session = await Session.start();
});

after(async () => {
  await session?.stop();
});

/** Starts a finX flow in the first window and returns the widget URL it shows for the browser. */
async function startFinx(flow) {
  await session.click(`[data-testid="finx-flow"][data-flow="${flow}"]`);
  await session.click('[data-testid="finx-start"]');
  await session.waitFor('[data-testid="step-browser"]', 30_000);
  const url = await session.waitUntil(
    "const f = document.querySelector('[data-testid=\"browser-url\"]'); return f && f.value;",
    [],
    20_000,
    "the widget URL",
  );
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/finx\/widget\?token=/);
  return url;
}

/**
 * Launches a second instance with the callback URL, directly or through `xdg-open` as a browser would; it
 * must forward the URL and exit quickly.
 */
async function secondInstance(callbackUrl, { through = "direct" } = {}) {
  const name = `second-instance-${through}-${Date.now()}`;
  const started = Date.now();
  const [command, args] = through === "xdg-open" ? ["xdg-open", [callbackUrl]] : [APP, [callbackUrl]];
  const child = spawnGroup(command, args, { name });
  const output = () => readFileSync(logPath(name), "utf8");
  try {
    const code = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the second instance did not exit within 15 s (single instance not working?)\n${output()}`)),
        15_000,
      );
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    return { code, ms: Date.now() - started, output: output() };
  } finally {
    await endGroup(child);
  }
}

test("xdg-open hands a kontor:// callback to the running app, which completes the ongoing finX link", async () => {
  await session.click('[data-testid="get-started"]');
  await session.click('[data-testid="link-bank"]');
  await chooseProvider(session, "finx");
  await session.screenshot("deep-link-finx-options");
  const widget = await startFinx("ongoing");
  await session.screenshot("deep-link-waiting");

  const callback = await playFinxWidget(widget);
  assert.match(callback, /^kontor:\/\/[^?]*\?.*state=.*code=/);

  const second = await secondInstance(callback, { through: "xdg-open" });
  assert.equal(second.code, 0, `xdg-open exit code ${second.code}: ${second.output}`);

  await session.waitFor('[data-testid="link-done"]', 60_000);
  await session.click('[data-testid="link-finish"]');
  await session.waitGone('[data-testid="link-bank-dialog"]');
  await session.waitUntil(
    "return document.querySelectorAll('[data-testid=\"account-row\"]').length >= 1;",
    [],
    20_000,
    "the linked accounts on the overview",
  );
  // The URL reaches the first instance twice (single-instance argv and the deep-link event); the
  // repeat is dropped, so no "a link was ignored" notice appears.
  const refused = await session.texts('[data-testid="overview-notice"][data-kind="callback-refused"]');
  assert.deepEqual(refused, []);
  const banks = await session.texts('[data-testid="bank-group"] h2');
  assert.ok(banks.some((b) => /Demo Bank/.test(b)), `banks: ${banks}`);
  await session.screenshot("deep-link-done");
});

test("an income report made through finX is stored and shown", async () => {
  await session.click('[data-testid="link-another-bank"]');
  await chooseProvider(session, "finx");
  const widget = await startFinx("income_report");
  const callback = await playFinxWidget(widget);
  const second = await secondInstance(callback);
  assert.equal(second.code, 0, second.output);

  await session.waitFor('[data-testid="link-report"]', 60_000);
  await session.click('[data-testid="open-report"]');
  await session.waitFor('[data-testid="report-detail"]', 20_000);
  const streams = await session.texts('[data-testid="income-stream"]');
  assert.ok(streams.length >= 1, "at least one income stream");
  assert.match(await session.text('[data-testid="report-income"]'), /€/);
  assert.match(await session.text('[data-testid="report-disposable"]'), /€/);
  await session.screenshot("income-report");

  // Stored in the vault: the list on the Reports page holds it.
  await session.click('[data-testid="reports-back"]');
  await session.waitFor('[data-testid="report-row"]');
  assert.equal((await session.texts('[data-testid="report-row"]')).length, 1);
});
