// Issue 2: the real app in a real WebKitGTK window, a real Secret Service, a fresh data directory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Session, secretToolLookup, exists } from "./driver.mjs";

let session;

before(async () => {
  session = await Session.start();
});

after(async () => {
  await session?.stop();
});

test("first start shows the welcome screen", async () => {
  await session.waitFor('[data-testid="first-run"]');
  const title = await session.cmd("GET", "/title");
  assert.equal(title, "Kontor");
  const file = await session.screenshot("first-run");
  assert.ok(exists(file));
});

test("the vault was created and its key is in the Secret Service", async () => {
  const db = join(session.dataDir, "kontor.db");
  assert.ok(exists(db), "kontor.db missing");
  const header = readFileSync(db).subarray(0, 16).toString("latin1");
  assert.notEqual(header, "SQLite format 3\0", "the database is not encrypted");

  const meta = JSON.parse(readFileSync(join(session.dataDir, "vault.json"), "utf8"));
  assert.equal(meta.key_source, "keyring");
  const key = secretToolLookup({ service: "dev.kontor.Kontor", username: `vault-key-${meta.vault_id}` });
  assert.match(key, /^[0-9a-f]{64}$/, "no 32-byte key in the Secret Service");
  // The key that libsecret returns is the one that opens this vault: its check value matches.
  const check = createHmac("sha256", Buffer.from(key, "hex")).update("kontor vault key check v1").digest("hex");
  assert.equal(check, meta.key_check);
  assert.ok(!readFileSync(join(session.dataDir, "vault.json"), "utf8").includes(key), "key written to vault.json");
});

test("getting started leads to the empty overview with a next step", async () => {
  await session.click('[data-testid="get-started"]');
  await session.waitFor('[data-testid="overview-empty"]');
  await session.waitFor('[data-testid="link-bank"]');
  await session.screenshot("overview-empty");
});
