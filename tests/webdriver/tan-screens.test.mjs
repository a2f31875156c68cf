// The TAN dialog in the real window: a chipTAN flicker code (DEMO-TSP-03) and a chipTAN-QR image
// (DEMO-TSP-04) from the in-process Demo Bank, with screenshots under target/e2e/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Session } from "./driver.mjs";
import { openLinkDialog, chooseProvider, pickBank, signIn, chooseProcedure, enterTan } from "./link-steps.mjs";

let session;

before(async () => {
  session = await Session.start();
  await openLinkDialog(session);
});

after(async () => {
  await session?.stop();
});

const BARS = "return [...document.querySelectorAll('[data-bar-index]')].map((b) => b.dataset.on === 'true' ? '1' : '0').join('');";

test("chipTAN optical: the flicker code animates", async () => {
  await pickBank(session, "DEMO0001", "280001");
  await signIn(session);
  await chooseProcedure(session, "DEMO-TSP-03");
  await session.waitFor('[data-testid="tan-challenge"][data-kind="flicker"]');
  await session.waitFor('[data-testid="flicker-graphic"]');

  // A few frames are enough; a loaded machine may paint late, so watch for up to 5 s.
  const samples = [];
  const start = Date.now();
  while (Date.now() - start < 5000 && new Set(samples).size < 3) {
    samples.push(await session.execute(BARS));
    await sleep(20);
  }
  assert.ok(samples.every((s) => s.length === 5), `five bars expected, got ${samples[0]}`);
  assert.ok(new Set(samples).size > 1, `the bars did not change within 5 s: ${samples.join(" ")}`);
  await session.screenshot("tan-flicker");

  await session.click('[data-testid="tan-cancel"]');
  await session.waitGone('[data-testid="link-bank-dialog"]');
});

test("chipTAN QR: the image loads, and the TAN finishes the link", async () => {
  // independent of the test before: a dialog it left open is cancelled first
  if (await session.execute("return document.querySelector('[data-testid=\"link-bank-dialog\"]') !== null;")) {
    await session.click('[data-testid="tan-cancel"]');
    await session.waitGone('[data-testid="link-bank-dialog"]');
  }
  await session.click('[data-testid="link-bank"]');
  await chooseProvider(session, "finapi");
  await pickBank(session, "DEMO0001", "280001");
  await signIn(session);
  await chooseProcedure(session, "DEMO-TSP-04");
  await session.waitFor('[data-testid="photo-image"]');
  const src = await session.attribute('[data-testid="photo-image"]', "src");
  assert.match(src, /^data:image\/png;base64,/);
  const width = await session.waitUntil(
    "const img = document.querySelector('[data-testid=\"photo-image\"]'); return img.complete && img.naturalWidth;",
    [],
    10_000,
    "the photo to load",
  );
  assert.ok(width > 0);
  await session.screenshot("tan-photo");

  await enterTan(session);
  await session.waitFor('[data-testid="link-done"]', 60_000);
  await session.click('[data-testid="link-finish"]');
  await session.waitUntil("return document.querySelectorAll('[data-testid=\"account-row\"]').length === 3;");
});
