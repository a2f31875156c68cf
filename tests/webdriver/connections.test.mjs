// Connections the user controls, in the real window against the in-process Demo Bank, whose finAPI
// imports get a 10-day consent here (KONTOR_DEMO_IMPORT_CONSENT_DAYS, read by the app's Demo Bank):
// the consent warning with its badge, renewing it with the bank's SCA (accounts, names and transactions
// kept), renaming and hiding accounts (the total changes), the sync history after a failed and a
// successful sync, a finX one-time import of a bank already linked (counted once, the user keeps one),
// and removing a connection. Screenshots in English and German, light and dark, under target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Session } from "./driver.mjs";
import { openLinkDialog, chooseProvider, pickBank, signIn, chooseProcedure, enterTan } from "./link-steps.mjs";
import { playFinxWidget } from "./finx-widget.mjs";

process.env.KONTOR_DEMO_IMPORT_CONSENT_DAYS = "10";

let session;

before(async () => {
  session = await Session.start();
});

after(async () => {
  await session?.stop();
});

/** Invokes a Kontor command from the page (as the UI does), for what the test needs to read or arrange. */
async function invoke(command, args = {}) {
  return session.cmd("POST", "/execute/async", {
    script:
      "const [command, args, done] = arguments; window.__TAURI_INTERNALS__.invoke(command, args).then((v) => done({ ok: v }), (e) => done({ err: e }));",
    args: [command, args],
  });
}

async function demoBankUrl() {
  const reply = await invoke("provider_configs");
  assert.ok(reply.ok, JSON.stringify(reply));
  const demo = reply.ok.find((p) => p.is_demo && p.kind === "finapi");
  assert.ok(demo, "the Demo Bank's finAPI face is configured");
  return demo.base_url;
}

async function faults(method, body) {
  const res = await fetch(`${await demoBankUrl()}/__demo/faults`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  assert.ok(res.ok, `faults ${method}: ${res.status}`);
}

const total = () => session.text('[data-testid="total"]');

async function navigate(view) {
  await session.click(`[data-testid="nav-${view}"]`);
  await session.waitFor(`[data-testid="${view}"]`);
}

async function setAppearance(language, theme) {
  await navigate("settings");
  for (const [select, value] of [
    ["language-select", language],
    ["theme-select", theme],
  ]) {
    await session.execute(
      "const s = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
      [select, value],
    );
    await session.waitUntil("return document.querySelector(`[data-testid=\"${arguments[0]}\"]`)?.value === arguments[1];", [select, value]);
  }
}

/** Answers the bank in the sync dialog (procedure if asked, the demo TAN) until it is done. */
async function approveInDialog() {
  await session.waitFor('[data-testid="link-bank-dialog"]', 60_000);
  await session.waitFor(
    '[data-testid="step-credentials"], [data-testid="step-tan"], [data-testid="procedure-option"], [data-testid="link-done"]',
    60_000,
  );
  if (await session.execute("return document.querySelector('[data-testid=\"step-credentials\"]') !== null;")) {
    // a renewal logs in at the bank again (finAPI kept no PIN)
    await signIn(session);
    await session.waitFor('[data-testid="step-tan"], [data-testid="procedure-option"], [data-testid="link-done"]', 60_000);
  }
  if (await session.execute("return document.querySelector('[data-testid=\"procedure-option\"]') !== null;")) {
    await chooseProcedure(session, "DEMO-TSP-01");
    await session.waitFor('[data-testid="step-tan"]', 60_000);
  }
  if (await session.execute("return document.querySelector('[data-testid=\"step-tan\"]') !== null;")) {
    await enterTan(session);
  }
  await session.waitFor('[data-testid="link-done"]', 60_000);
}

test("a consent 10 days from its end: warning, badge, renewal with SCA, mapping and transactions kept", async () => {
  await openLinkDialog(session);
  await pickBank(session, "DEMO0001", "280001");
  await signIn(session);
  await chooseProcedure(session, "DEMO-TSP-01");
  await session.waitFor('[data-testid="step-tan"]');
  await enterTan(session);
  await session.waitFor('[data-testid="link-done"]', 60_000);
  await session.click('[data-testid="link-finish"]');
  await session.waitGone('[data-testid="link-bank-dialog"]');

  const warning = await session.text('[data-testid="consent-warning"]');
  assert.match(warning, /ends in (9|10) days/);
  assert.equal(await session.execute("return document.querySelector('[data-testid=\"connections-badge\"] [aria-hidden]').textContent;"), "1");
  await session.screenshot("connections-overview-consent-warning-en-light");

  await session.click('[data-testid="manage-connection"]');
  await session.waitFor('[data-testid="connection-card"]');
  assert.match(await session.text('[data-testid="connection-consent"]'), /(9|10) days left/);
  assert.match(await session.text('[data-testid="connection-provider"]'), /Demo Bank \(offline\) · XS2A/);
  assert.match(await session.text('[data-testid="connection-last-sync"]'), /succeeded/);
  const before = await invoke("connections");
  const accountsBefore = before.ok[0].accounts.map((a) => [a.id, a.transaction_count]);
  assert.equal(accountsBefore.length, 3);

  // Kontor's own name for the first account, before the renewal.
  await session.click('[data-testid="connection-account"]:first-child [data-testid="account-rename"]');
  await session.execute("document.querySelector('[data-testid=\"account-name-input\"]').value = '';");
  await session.type('[data-testid="account-name-input"]', "Haushalt");
  await session.click('[data-testid="account-name-save"]');
  await session.waitUntil("return document.querySelector('[data-testid=\"connection-account-name\"]')?.textContent.trim() === 'Haushalt';");
  await session.screenshot("connections-consent-10-days-en-light");

  await session.click('[data-testid="connection-renew"]');
  await approveInDialog();
  assert.match(await session.text('[data-testid="link-bank-dialog"] h2'), /^Renew consent: finAPI Test Bank/);
  await session.screenshot("connections-renew-done-en-light");
  await session.click('[data-testid="link-finish"]');
  await session.waitGone('[data-testid="link-bank-dialog"]');

  await session.waitUntil(
    "return /(89|90) days left/.test(document.querySelector('[data-testid=\"connection-consent\"]')?.textContent ?? '');",
    [],
    30_000,
    "the renewed consent",
  );
  const after = await invoke("connections");
  assert.equal(after.ok.length, 1, "the same connection, not a second one");
  assert.equal(after.ok[0].connection.id, before.ok[0].connection.id);
  const accountsAfter = after.ok[0].accounts.map((a) => [a.id, a.transaction_count]);
  assert.deepEqual(accountsAfter.map(([id]) => id), accountsBefore.map(([id]) => id), "the account mapping is kept");
  for (const [i, [, count]] of accountsAfter.entries()) assert.ok(count >= accountsBefore[i][1], "no transaction lost");
  assert.equal(after.ok[0].accounts[0].name, "Haushalt");
  assert.equal(await session.execute("return document.querySelector('[data-testid=\"connections-badge\"]');"), null);
  assert.equal(await session.execute("return document.querySelectorAll('[data-testid=\"history-entry\"][data-outcome=\"succeeded\"]').length;"), 2);
  await session.screenshot("connections-renewed-en-light");
});

test("renaming and hiding an account changes the overview and its total", async () => {
  const before = await invoke("overview");
  const totalBefore = Number(before.ok.totals[0].amount);
  const detail = (await invoke("connections")).ok[0];
  const hidden = detail.accounts[2];
  await session.click(`[data-account-id="${hidden.id}"] [data-testid="account-hide"]`);
  await session.waitFor(`[data-account-id="${hidden.id}"] [data-testid="hidden-tag"]`);
  await session.click(`[data-account-id="${detail.accounts[1].id}"] [data-testid="account-rename"]`);
  await session.execute("document.querySelector('[data-testid=\"account-name-input\"]').value = '';");
  await session.type('[data-testid="account-name-input"]', "Urlaubskasse");
  await session.click('[data-testid="account-name-save"]');
  await session.waitFor(`[data-account-id="${detail.accounts[1].id}"] [data-testid="connection-account-bank-name"]`);
  await session.screenshot("connections-renamed-hidden-en-light");

  await navigate("overview");
  await session.waitUntil("return document.querySelectorAll('[data-testid=\"account-row\"]').length === 2;");
  const names = await session.texts('[data-testid="account-row"] .name');
  assert.deepEqual(names, ["Haushalt", "Urlaubskasse"]);
  const after = await invoke("overview");
  assert.equal(Number(after.ok.totals[0].amount), Number((totalBefore - Number(hidden.balance_booked)).toFixed(2)));
  assert.notEqual(await total(), "");
  await session.screenshot("overview-renamed-hidden-en-light");
});

test("the sync history after a failed and a successful sync", async () => {
  await navigate("connections");
  await faults("POST", { serverErrors: 30, serverErrorStatus: 503 });
  await session.click('[data-testid="connection-sync"]');
  await session.waitFor('[data-testid="connections-notice"]', 90_000);
  await faults("DELETE");
  await session.waitUntil("return !document.querySelector('[data-testid=\"connection-sync\"]').disabled;", [], 30_000);
  await session.click('[data-testid="connection-sync"]');
  await session.waitUntil(
    "return document.querySelector('[data-testid=\"history-entry\"]')?.dataset.outcome === 'succeeded' && document.querySelectorAll('[data-testid=\"history-entry\"]').length === 4;",
    [],
    60_000,
    "a failed and a successful sync in the history",
  );
  const outcomes = await session.execute(
    "return [...document.querySelectorAll('[data-testid=\"history-entry\"]')].map((e) => e.dataset.outcome);",
  );
  assert.deepEqual(outcomes, ["succeeded", "failed", "succeeded", "succeeded"]);
  assert.notEqual(await session.text('[data-testid="history-error"]'), "");
  await session.execute("document.querySelector('[data-testid=\"sync-history\"]').scrollIntoView();");
  await session.screenshot("connections-history-failed-then-ok-en-light");

  await setAppearance("de", "dark");
  await navigate("connections");
  await session.waitUntil("return document.querySelector('[data-testid=\"connection-last-sync\"]')?.textContent.includes('erfolgreich');");
  assert.match(await session.text('[data-testid="history-error"]'), /./);
  await session.screenshot("connections-de-dark");
  await session.execute("document.querySelector('[data-testid=\"sync-history\"]').scrollIntoView();");
  await session.screenshot("connections-history-de-dark");
});

test("a finX one-time import of a bank already linked counts once, and the user keeps one", async () => {
  // finX ongoing access to the Demo Bank (TAN-Auswahl), then a one-time import of the same bank.
  for (const flow of ["ongoing", "one_time"]) {
    await navigate("overview");
    await session.click('[data-testid="link-another-bank"]');
    await chooseProvider(session, "finx");
    await session.click(`[data-testid="finx-flow"][data-flow="${flow}"]`);
    await session.click('[data-testid="finx-start"]');
    const url = await session.waitUntil(
      "const f = document.querySelector('[data-testid=\"browser-url\"]'); return f && f.value;",
      [],
      30_000,
      "the widget URL",
    );
    const callback = await playFinxWidget(url);
    // the last resort the dialog offers: paste the address the browser could not hand back
    await session.type('[data-testid="paste-callback-input"]', callback);
    await session.click('[data-testid="paste-callback-submit"]');
    await session.waitFor('[data-testid="link-done"]', 60_000);
    await session.click('[data-testid="link-finish"]');
    await session.waitGone('[data-testid="link-bank-dialog"]');
  }
  await session.waitFor('[data-testid="duplicate-notice"]');
  const overview = (await invoke("overview")).ok;
  const copies = overview.accounts.filter((a) => a.duplicate_of);
  assert.ok(copies.length >= 1, "the one-time import's accounts are recognised");
  const counted = overview.accounts.filter((a) => !a.duplicate_of).reduce((sum, a) => sum + Number(a.balance_booked ?? 0), 0);
  assert.equal(Number(overview.totals[0].amount).toFixed(2), counted.toFixed(2), "the total counts each account once");
  await session.screenshot("overview-duplicate-import-de-dark");

  await setAppearance("en", "light");
  await navigate("overview");
  await session.waitFor('[data-testid="duplicate-notice"]');
  await session.screenshot("overview-duplicate-import-en-light");
  assert.equal(
    await session.execute("return document.querySelectorAll('[data-testid=\"duplicate-notice\"]').length;"),
    1,
    "one question for the one-time import of the whole bank",
  );
  assert.match(await session.text('[data-testid="duplicate-notice"] strong'), /3 accounts appear twice/);
  await session.click('[data-testid="duplicate-notice"] [data-testid="keep-original"]');
  await session.waitGone('[data-testid="duplicate-notice"]');
  const settled = (await invoke("overview")).ok;
  assert.ok(settled.accounts.every((a) => !a.duplicate_of));
  assert.equal(Number(settled.totals[0].amount).toFixed(2), Number(overview.totals[0].amount).toFixed(2));
  await session.screenshot("overview-duplicate-settled-en-light");
});

test("removing a connection names its accounts and transactions, and deletes them", async () => {
  await navigate("connections");
  const detail = (await invoke("connections")).ok.find((c) => c.provider_kind === "finapi");
  await session.click(`[data-connection-id="${detail.connection.id}"] [data-testid="connection-remove"]`);
  await session.waitFor('[data-testid="remove-dialog"]');
  const listed = await session.texts('[data-testid="remove-accounts"] li strong');
  assert.deepEqual(listed, detail.accounts.map((a) => a.name));
  const body = await session.text('[data-testid="remove-dialog"]');
  assert.match(body, new RegExp(`${detail.accounts.length} accounts`));
  assert.match(body, new RegExp(detail.transaction_count.toLocaleString("en-GB")));
  await session.screenshot("connections-remove-confirm-en-light");
  await session.click('[data-testid="remove-confirm"]');
  await session.waitFor('[data-testid="connection-removed"]', 30_000);
  const left = (await invoke("connections")).ok;
  assert.ok(left.every((c) => c.connection.id !== detail.connection.id));
  await session.screenshot("connections-removed-en-light");

  await setAppearance("de", "light");
  await navigate("connections");
  await session.screenshot("connections-de-light");
  await setAppearance("en", "dark");
  await navigate("connections");
  await session.screenshot("connections-en-dark");
});
