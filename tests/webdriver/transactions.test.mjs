// The transactions the user came for, in the real window against the real core: after linking the Demo
// Bank, the Transactions screen lists the vault's bookings with their count and exact sum, finds a word,
// narrows to one account, shows a booking's details with the provider's raw data, opens an account's page
// with its charts, and reads the same in German and dark. Screenshots under target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Session } from "./driver.mjs";
import { openLinkDialog, pickBank, signIn, chooseProcedure, enterTan } from "./link-steps.mjs";

let session;

before(async () => {
  session = await Session.start();
  await openLinkDialog(session);
  await pickBank(session, "DEMO0001", "280001");
  await signIn(session);
  await chooseProcedure(session, "DEMO-TSP-01");
  await enterTan(session);
  await session.waitFor('[data-testid="link-done"]', 60_000);
  await session.click('[data-testid="link-finish"]');
  await session.waitGone('[data-testid="link-bank-dialog"]');
});

after(async () => {
  await session?.stop();
});

const ROWS = "return [...document.querySelectorAll('[data-testid=\"tx-row\"]')].map((r) => r.textContent.replace(/\\s+/g, ' ').trim());";
/** The count of the filtered set the screen shows (the element's `data-count`). */
async function shownCount() {
  const count = await session.waitUntil(
    "const c = document.querySelector('[data-testid=\"tx-count\"]'); return c && c.dataset.count;",
    [],
    20_000,
    "the result count",
  );
  return Number(count);
}

test("the Transactions screen lists every booking with its count", async () => {
  await session.click('[data-testid="nav-transactions"]');
  await session.waitFor('[data-testid="tx-row"]', 20_000);
  const count = await shownCount();
  assert.ok(count >= 100, `the Demo Bank's history has over a hundred bookings; the screen says ${count}`);
  const rows = await session.execute(ROWS);
  assert.ok(rows.length > 5 && rows.length < 80, `a window of rows is rendered, not all of them: ${rows.length}`);
  assert.match(await session.text('[data-testid="tx-summary"]'), /€/);
  await session.screenshot("transactions-en-light");
});

test("a search finds a word and only rows that have it", async () => {
  await session.type('[data-testid="tx-search"]', "miete");
  await session.waitUntil(
    `const rows = ${ROWS.replace("return ", "")}; return rows.length > 0 && rows.every((r) => /miete/i.test(r));`,
    [],
    20_000,
    "only rows with 'Miete'",
  );
  const count = await shownCount();
  assert.ok(count >= 1 && count < 100, `the search narrows the list: ${count}`);
  await session.screenshot("transactions-search");
  await session.execute(
    "const s = document.querySelector('[data-testid=\"tx-search\"]'); s.value = ''; s.dispatchEvent(new Event('input', { bubbles: true }));",
  );
  await session.waitUntil(
    "const c = document.querySelector('[data-testid=\"tx-count\"]'); return c && Number(c.dataset.count) >= 100;",
    [],
    20_000,
    "the whole list again",
  );
});

test("Enter opens a booking with the provider's raw data", async () => {
  await session.waitFor('[data-testid="tx-row"]');
  await session.click('[data-testid="tx-row"]');
  await session.cmd("POST", "/actions", {
    actions: [{ type: "key", id: "keyboard", actions: [{ type: "keyDown", value: "\uE007" }, { type: "keyUp", value: "\uE007" }] }],
  });
  await session.waitFor('[data-testid="tx-detail"]');
  const raw = await session.text('[data-testid="tx-raw"]');
  assert.doesNotThrow(() => JSON.parse(raw), `the raw data is the provider's JSON: ${raw.slice(0, 120)}`);
  await session.screenshot("transactions-detail");
  await session.click('[data-testid="tx-detail-close"]');
});

test("an account's page shows its balance, charts and its own bookings", async () => {
  await session.click('[data-testid="nav-overview"]');
  await session.click('[data-testid="account-row"]');
  await session.waitFor('[data-testid="account-page"]');
  await session.waitFor('[data-testid="tx-row"]', 20_000);
  const balance = await session.text('[data-testid="account-balance"]');
  assert.match(balance, /€/);
  // The newest booked row shows the balance after it: the account's balance (pending rows show none).
  const rows = await session.execute(ROWS);
  const after = rows.map((r) => r.match(/Balance ([−-]?€?\s?[\d.,]+(\s?€)?)/)?.[1]).find(Boolean);
  const digits = (text) => (text ?? "").replace(/[^\d]/g, "");
  assert.ok(after, `a row with the balance after it: ${rows.slice(0, 3).join(" | ")}`);
  assert.equal(digits(after), digits(balance), `${after} / ${balance}`);
  await session.screenshot("account-page");
});

test("in German and dark the screen reads the same", async () => {
  await session.click('[data-testid="nav-settings"]');
  await session.execute(
    "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
    ['[data-testid="theme-select"]', "dark"],
  );
  await session.execute(
    "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
    ['[data-testid="language-select"]', "de"],
  );
  await session.waitUntil("return document.documentElement.lang === 'de' && document.documentElement.dataset.theme === 'dark';");
  await session.screenshot("settings-de-dark");
  await session.click('[data-testid="nav-transactions"]');
  await session.waitFor('[data-testid="tx-row"]', 20_000);
  const count = await shownCount();
  assert.ok(count >= 100);
  assert.match(await session.text('[data-testid="tx-count"]'), /Umsätze · Summe/);
  await session.screenshot("transactions-de-dark");
});

test("in German a custom range is typed and shown as German dates, and the subtitle follows the order", async () => {
  // Continues in German from the test above. <input type=date> showed the WebView's locale (03/01/2025);
  // the From/To fields follow Kontor's language.
  const select = (css, value) =>
    session.execute(
      "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
      [css, value],
    );
  assert.equal(await session.text('[data-testid="tx-subtitle"]'), "Alle Buchungen Ihrer Konten, die neuesten zuerst.");
  const all = await shownCount();
  await select('[data-testid="chip-period"]', "custom");
  await session.waitFor('[data-testid="chip-from"]');
  assert.equal(await session.attribute('[data-testid="chip-from"]', "placeholder"), "TT.MM.JJJJ");
  await session.type('[data-testid="chip-from"]', "1.1.2000");
  await session.type('[data-testid="chip-to"]', "31.12.2099");
  await session.click('[data-testid="tx-search"]'); // leaves the field: the date is written out
  assert.equal(await session.execute("return document.querySelector('[data-testid=\"chip-from\"]').value;"), "01.01.2000");
  assert.equal(await session.execute("return document.querySelector('[data-testid=\"chip-to\"]').value;"), "31.12.2099");
  assert.equal(await shownCount(), all, "every booking lies in the range");
  await select('[data-testid="chip-order"]', "oldest");
  await session.waitUntil(
    "return document.querySelector('[data-testid=\"tx-subtitle\"]').textContent.includes('die ältesten zuerst');",
  );
  await session.screenshot("transactions-de-dark-custom-range");
});
