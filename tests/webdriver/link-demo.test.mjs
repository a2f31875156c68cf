// Linking the Demo Bank in the real app: the in-process Demo Bank, the real SCA flow (smsTan), and
// the accounts on the overview.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Session } from "./driver.mjs";
import { openLinkDialog, pickBank, signIn, chooseProcedure, enterTan } from "./link-steps.mjs";

let session;

before(async () => {
  session = await Session.start();
});

after(async () => {
  await session?.stop();
});

test("links the finAPI Test Bank with smsTan and shows its three accounts", async () => {
  await openLinkDialog(session);
  assert.match(await session.text('[data-testid="provider-label"]'), /Demo Bank/);

  await session.type('[data-testid="bank-search-input"]', "DEMO0001");
  await session.waitFor('[data-testid="bank-result"][data-bank-id="280001"]');
  const result = await session.text('[data-testid="bank-result"][data-bank-id="280001"]');
  assert.match(result, /finAPI Test Bank/);
  assert.match(result, /DEMODE01XXX/);
  await session.screenshot("link-search");
  await session.click('[data-testid="bank-result"][data-bank-id="280001"]');

  await signIn(session);
  await chooseProcedure(session, "DEMO-TSP-01");
  await session.waitFor('[data-testid="step-tan"]');
  assert.match(await session.text('[data-testid="tan-text"]'), /123456/);
  await session.screenshot("link-tan-sms");
  await enterTan(session);

  await session.waitFor('[data-testid="link-done"]', 60_000);
  await session.waitUntil(
    "return /3 accounts|3 Konten/.test(document.querySelector('[data-testid=\"link-done\"]').textContent);",
    [],
    20_000,
    "the account count",
  );
  await session.screenshot("link-done");
  await session.click('[data-testid="link-finish"]');
  await session.waitGone('[data-testid="link-bank-dialog"]');

  await session.waitUntil("return document.querySelectorAll('[data-testid=\"account-row\"]').length === 3;");
  const names = await session.texts('[data-testid="account-row"] .name');
  assert.deepEqual([...names].sort(), ["Girokonto", "Haushaltskonto", "Tagesgeld"]);
  const ibans = await session.texts('[data-testid="iban"]');
  assert.equal(ibans.length, 3);
  for (const iban of ibans) assert.match(iban.replace(/\s/g, ""), /^DE\d{2}28000100\d{10}$/);
  assert.equal(new Set(ibans).size, 3);
  assert.match(await session.text('[data-testid="bank-group"] h2'), /finAPI Test Bank/);
  await session.screenshot("overview-linked");
});

test("syncs the linked bank from the overview", async () => {
  await session.click('[data-testid="sync-all"]');
  await session.waitFor('[data-testid="overview-notice"][data-kind="sync-done"]', 60_000);
  assert.match(await session.text('[data-testid="last-synced"]'), /Synced|Aktualisiert/);
  await session.screenshot("overview-synced");
});
