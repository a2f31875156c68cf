// `make test-million` (issue 9): the real window on a vault of 1,000,000 transactions. The vault is seeded with
// the release CLI (`kontor dev seed`, through the sync path; its key in the session's gnome-keyring), then the
// release app opens it and, in English and light and again in German and dark, shows the first rows, jumps to
// the oldest booking, finds a rare word, filters one account and one month with the count and sum the CLI gives
// for the same filter, and exports a CSV (through the real save dialog) whose rows are the rows the list shows
// and which is byte for byte what `kontor export` writes. Screenshots: target/e2e/million-*.png.
//
// KONTOR_MILLION_ROWS chooses another size (e.g. 20000 while working on the test).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ROOT, Session } from "../webdriver/driver.mjs";

const ROWS = Number(process.env.KONTOR_MILLION_ROWS ?? 1_000_000);
const CLI = process.env.KONTOR_CLI_BIN ?? join(ROOT, "target/release/kontor");
const UNTIL = "2026-11-30";
const MONTH = { from: "2025-03-01", to: "2025-03-31" };
const VARIANTS = [
  { locale: "en", theme: "light" },
  { locale: "de", theme: "dark" },
];

let session;
let dataDir;
let work;

/** Runs the CLI on the test's vault (beside the running app) and returns its JSON result's body. */
function cli(args) {
  const out = execFileSync(CLI, ["--data-dir", dataDir, "--json", ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  const result = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l))
    .find((l) => l.type === "result");
  assert.ok(result, `no result line from kontor ${args.join(" ")}: ${out.slice(0, 400)}`);
  return result;
}

const ROWS_JS = `return [...document.querySelectorAll('[data-testid="tx-row"]')]
  .map((r) => ({ index: Number(r.dataset.index), id: r.dataset.id, text: r.textContent.replace(/\\s+/g, ' ').trim() }))
  .sort((a, b) => a.index - b.index);`;

async function shownRows() {
  return session.execute(ROWS_JS);
}

/** The count the screen shows once the list is loaded (the element's `data-count`). */
async function shownCount(expected) {
  const count = await session.waitUntil(
    "const c = document.querySelector('[data-testid=\"tx-count\"]'); return c && c.dataset.count === arguments[0] ? c.dataset.count : null;",
    [String(expected)],
    60_000,
    `the count ${expected}`,
  ).catch(async (err) => {
    const now = await session.execute("const c = document.querySelector('[data-testid=\"tx-count\"]'); return c && c.dataset.count;");
    throw new Error(`${err.message}; the screen shows ${now}`);
  });
  return Number(count);
}

async function select(css, value) {
  await session.waitFor(css);
  await session.execute(
    "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', { bubbles: true }));",
    [css, value],
  );
}

async function setInput(css, value) {
  await session.waitFor(css);
  await session.execute(
    "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('input', { bubbles: true }));",
    [css, value],
  );
}

/** Waits until the first rendered row is the transaction `id`. */
async function firstRowIs(id, what) {
  await session.waitUntil(
    `const first = [...document.querySelectorAll('[data-testid="tx-row"]')].find((r) => r.dataset.index === '0');
     return first && first.dataset.id === arguments[0];`,
    [String(id)],
    60_000,
    what,
  );
}

/** The fields of one CSV line (RFC 4180 quoting). */
function csvFields(line, sep) {
  const fields = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      fields.push(field);
      field = "";
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/** The digits and sign of a money text, e.g. "−1.234,50 €" and "-1234.50" both give "-123450". */
const digits = (text) => text.replace(/\u2212/g, "-").replace(/[^0-9-]/g, "");

/** Answers GTK's save dialog like a user: the file name field gets the full path, then Enter. */
async function saveAs(path) {
  const deadline = Date.now() + 30_000;
  let window = "";
  while (!window && Date.now() < deadline) {
    window = spawnSync("xdotool", ["search", "--onlyvisible", "--name", "^(Save File|Datei speichern|Save|Speichern)"], {
      encoding: "utf8",
    }).stdout.trim().split("\n")[0];
    if (!window) await sleep(200);
  }
  assert.ok(window, "the save dialog opened");
  execFileSync("xdotool", ["windowfocus", "--sync", window]);
  execFileSync("xdotool", ["key", "--clearmodifiers", "ctrl+a"]);
  execFileSync("xdotool", ["type", "--delay", "5", path]);
  execFileSync("xdotool", ["key", "Return"]);
}

before(
  async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing (make test-million builds it)`);
    work = mkdtempSync(join(tmpdir(), "kontor-million-"));
    dataDir = join(work, "vault");
    const seeded = cli(["dev", "seed", "--transactions", String(ROWS), "--until", UNTIL]);
    assert.equal(seeded.body?.transactions ?? seeded.transactions, ROWS, JSON.stringify(seeded).slice(0, 300));
    session = await Session.start({ dataDir });
  },
  { timeout: 45 * 60_000 },
);

after(async () => {
  await session?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const body = (result) => result.body ?? result;

for (const { locale, theme } of VARIANTS) {
  const tag = `${locale}-${theme}`;

  test(`${tag}: the app opens the vault on its overview`, async () => {
    await session.click('[data-testid="nav-overview"]');
    await session.waitFor('[data-testid="overview"]', 60_000);
    await session.click('[data-testid="nav-settings"]');
    await select('[data-testid="theme-select"]', theme);
    await select('[data-testid="language-select"]', locale);
    await session.waitUntil(
      "return document.documentElement.lang === arguments[0] && document.documentElement.dataset.theme === arguments[1];",
      [locale, theme],
    );
    await session.click('[data-testid="nav-overview"]');
    await session.waitFor('[data-testid="account-row"]', 60_000);
    await session.screenshot(`million-overview-${tag}`);
  });

  test(`${tag}: the Transactions screen shows the newest rows of all ${ROWS}`, async () => {
    await session.click('[data-testid="nav-transactions"]');
    await session.waitFor('[data-testid="tx-row"]', 60_000);
    // Filters a failed step left behind would not make the next variant fail too.
    if (await session.execute("return document.querySelector('[data-testid=\"chip-clear\"]') !== null;")) {
      await session.click('[data-testid="chip-clear"]');
    }
    await setInput('[data-testid="tx-search"]', "");
    assert.equal(await shownCount(ROWS), ROWS);
    const newest = body(cli(["transactions", "--limit", "20"]));
    await firstRowIs(newest.transactions[0].id, "the newest booking first");
    const rows = await shownRows();
    assert.ok(rows.length > 5 && rows.length < 100, `a window of rows is rendered, not all of them: ${rows.length}`);
    assert.deepEqual(
      rows.slice(0, 10).map((r) => r.id),
      newest.transactions.slice(0, 10).map((t) => String(t.id)),
      "the first rows are the newest ten bookings",
    );
    const withBalance = newest.transactions.slice(0, 10).find((t) => t.running_balance !== null);
    assert.ok(withBalance, "the newest booked rows have a running balance");
    const shown = rows.find((r) => r.id === String(withBalance.id));
    assert.ok(
      digits(shown?.text ?? "").includes(digits(Number(withBalance.running_balance).toFixed(2))),
      `the balance after ${withBalance.id}, ${withBalance.running_balance}, in "${shown?.text}"`,
    );
    await session.screenshot(`million-first-rows-${tag}`);
  });

  test(`${tag}: it jumps to the oldest booking`, async () => {
    const oldest = body(cli(["transactions", "--oldest-first", "--limit", "10"]));
    await select('[data-testid="chip-order"]', "oldest");
    await firstRowIs(oldest.transactions[0].id, "the oldest booking first");
    const rows = await shownRows();
    assert.ok(rows[0].text.includes(oldest.transactions[0].purpose), `${rows[0].text} / ${oldest.transactions[0].purpose}`);
    assert.equal(await shownCount(ROWS), ROWS);
    await session.screenshot(`million-oldest-${tag}`);
    await select('[data-testid="chip-order"]', "newest");
    const newest = body(cli(["transactions", "--limit", "1"]));
    await firstRowIs(newest.transactions[0].id, "the newest booking first again");
  });

  test(`${tag}: a search finds a rare word among a million`, async () => {
    // A booking from the middle of the history; its 8-digit reference occurs in very few purposes.
    const middle = body(cli(["transactions", "--from", "2023-06-01", "--to", "2023-06-30", "--limit", "1"])).transactions[0];
    const word = middle.purpose.split(/\s+/).find((w) => /^\d{8}$/.test(w));
    assert.ok(word, `a reference number in "${middle.purpose}"`);
    const expected = body(cli(["transactions", "--search", word, "--limit", "1000"]));
    assert.ok(expected.count >= 1 && expected.count < 50, `a rare word: ${expected.count} matches`);
    await setInput('[data-testid="tx-search"]', word);
    assert.equal(await shownCount(expected.count), expected.count);
    await session.waitUntil(
      `const rows = [...document.querySelectorAll('[data-testid="tx-row"]')];
       return rows.length === Math.min(arguments[1], rows.length) && rows.length > 0 && rows.every((r) => r.textContent.includes(arguments[0]));`,
      [word, expected.count],
      30_000,
      `only rows with ${word}`,
    );
    const ids = (await shownRows()).map((r) => r.id);
    assert.ok(ids.includes(String(middle.id)), `the booking the word came from is found: ${ids}`);
    assert.deepEqual(ids, expected.transactions.slice(0, ids.length).map((t) => String(t.id)));
    await session.screenshot(`million-search-${tag}`);
    await setInput('[data-testid="tx-search"]', "");
    assert.equal(await shownCount(ROWS), ROWS);
  });

  test(`${tag}: one account and one month: the count and sum the CLI gives, and a CSV of exactly those rows`, async () => {
    const accounts = body(cli(["accounts"])).accounts;
    assert.ok(accounts.length >= 2, `several accounts: ${accounts.length}`);
    const account = accounts[1];
    const filter = ["--account", account.id, "--from", MONTH.from, "--to", MONTH.to];
    const expected = body(cli(["transactions", ...filter, "--limit", "1000"]));
    assert.ok(expected.count > 0, `the account has bookings in ${MONTH.from.slice(0, 7)}`);
    assert.equal(expected.totals.length, 1, "one currency");

    await select('[data-testid="chip-account"]', account.id);
    await select('[data-testid="chip-period"]', "custom");
    await setInput('[data-testid="chip-from"]', MONTH.from);
    await setInput('[data-testid="chip-to"]', MONTH.to);
    assert.equal(await shownCount(expected.count), expected.count);
    const summary = await session.text('[data-testid="tx-summary"]');
    assert.ok(
      digits(summary).endsWith(digits(Number(expected.totals[0].sum).toFixed(2))),
      `the sum ${expected.totals[0].sum} in "${summary}"`,
    );
    const rows = await shownRows();
    assert.deepEqual(
      rows.map((r) => r.id),
      expected.transactions.slice(0, rows.length).map((t) => String(t.id)),
      "the list shows the filtered bookings in order",
    );
    await session.screenshot(`million-filtered-${tag}`);

    const saved = join(work, `export-${tag}.csv`);
    await session.click('[data-testid="export-csv"]');
    await saveAs(saved);
    await session.waitFor('[data-testid="export-done"]', 60_000);
    await session.screenshot(`million-exported-${tag}`);
    const csv = readFileSync(saved, "utf8");
    const lines = csv.replace(/^\uFEFF/, "").split("\r\n").filter(Boolean);
    assert.equal(lines.length - 1, expected.count, "a header and one line per booking of the filtered set");
    // The list's rows are the CLI's first rows (checked above); the CSV's first lines are the same bookings.
    const sep = locale === "de" ? ";" : ",";
    const header = csvFields(lines[0].replace(/^\uFEFF/, ""), sep);
    const column = (names) => header.findIndex((h) => names.includes(h));
    const [dateAt, purposeAt] = [column(["Booking date", "Buchungstag"]), column(["Purpose", "Verwendungszweck"])];
    assert.ok(dateAt >= 0 && purposeAt >= 0, `date and purpose columns in ${header}`);
    const csvRows = lines.slice(1, 1 + rows.length).map((l) => csvFields(l, sep)).map((f) => [f[dateAt], f[purposeAt]]);
    const listed = expected.transactions.slice(0, rows.length).map((t) => [t.booking_date, t.purpose ?? ""]);
    assert.deepEqual(csvRows, listed, "the CSV starts with the rows the list shows");
    const cliCsv = join(work, `cli-${tag}.csv`);
    cli(["export", "--format", "csv", "--locale", locale, ...filter, "--output", cliCsv]);
    assert.equal(csv, readFileSync(cliCsv, "utf8"), "the app's CSV is the CLI's for the same filter");

    await session.click('[data-testid="chip-clear"]');
    assert.equal(await shownCount(ROWS), ROWS);
  });
}
