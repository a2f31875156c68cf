#!/usr/bin/env node
// `make bench`: every figure of issues 9 and 13 in one run, written to BENCHMARKS.md.
//
// Runs inside a private desktop session (tests/support/desktop-session.sh: D-Bus, an unlocked gnome-keyring,
// Xvfb), after `make bundle-deb` built the release binaries (the app, the CLI and crates/bench's programs, in
// one cargo build) and the .deb. In order:
//
//   1. one vault of 1,000,000 transactions seeded with the release CLI (`kontor dev seed`), its key in the
//      session's keyring, reused by what follows;
//   2. the read benchmarks (`kontor-bench-read --json`, crates/bench) at each size, beside the plain-SQLite
//      floor, with issue 9's goals; at the largest size on the vault of 1 when the sizes match (`--seeded`)
//      instead of filling a second one;
//   3. the ingest and re-sync benchmarks (`kontor-bench-ingest`), beside the SQLCipher and plain-SQLite floors;
//   4. vault open: a new `kontor accounts` process on that vault, from its start to its exit after the first
//      query; the Argon2id cost as the difference between an empty passphrase vault and an empty keyring vault;
//      the full page check (`kontor vault check`, no longer part of the open) once;
//   5. the release app on that vault: from the process start to the first painted overview (the app prints a
//      timestamp when KONTOR_REPORT_FIRST_PAINT is set, and a timeline of its startup steps), then the PSS of
//      the app and of each WebKit process;
//   6. the sizes of the bundles and binaries.
//
// Each timing of 4 and 5 is the median of several runs with min and max. Environment:
//   KONTOR_BENCH_SIZES   sizes for 1 and 2 (default "10000 100000 1000000")
//   KONTOR_BENCH_SEED    rows of the vault for 3–5 (default 1000000)
//   KONTOR_BENCH_RUNS    runs of each timing in 4 and 5 (default 5)
//   KONTOR_BENCH_INGEST_RUNS  runs of 2 at each size below 1M (default 3; 1M and above run once)
//   KONTOR_BENCH_OUT     the report (default BENCHMARKS.md in the checkout)
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnGroup, endGroup, logPath } from "../webdriver/processes.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const RELEASE = join(ROOT, "target/release");
const CLI = join(RELEASE, "kontor");
const APP = join(RELEASE, "kontor-app");
const READ_BENCH = join(RELEASE, "kontor-bench-read");
const INGEST_BENCH = join(RELEASE, "kontor-bench-ingest");
const SIZES = (process.env.KONTOR_BENCH_SIZES ?? "10000 100000 1000000").split(/\s+/).filter(Boolean).map(Number);
const SEED_ROWS = Number(process.env.KONTOR_BENCH_SEED ?? 1_000_000);
const RUNS = Number(process.env.KONTOR_BENCH_RUNS ?? 5);
const INGEST_RUNS = Number(process.env.KONTOR_BENCH_INGEST_RUNS ?? 3);
const OUT = process.env.KONTOR_BENCH_OUT ?? join(ROOT, "BENCHMARKS.md");
const UNTIL = "2026-11-30";
const started = Date.now();
const loadAtStart = loadavg()[0];

/** Issue 9's goals at 1M rows, by the read benchmark's id (ms, p95). */
const READ_GOALS = {
  newest_all: 5,
  newest_small_account: 5,
  page_random_depth: 5,
  search_rare: 20,
  count_rare: 20,
  monthly_sums: 50,
};
const GOALS = { ingestRatio: 0.7, resyncMs: 1000, vaultOpenMs: 300, firstPaintMs: 800, pssMb: 150, debMb: 15, bytesPerTx: 1024 };

function log(message) {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), n: sorted.length };
}

const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }) : "–";
const spread = (s, digits = 0, unit = "") =>
  `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)}, ${s.n} runs)`;
const verdict = (ok) => (ok ? "met" : "**not met**");

/** Runs a command to its end; resolves with its stdout (its stderr goes to ours, so cargo's progress shows). */
function run(command, args, { env = process.env } = {}) {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.on("error", fail);
    child.on("exit", (code, signal) =>
      code === 0 ? done(out) : fail(new Error(`${command} ${args.join(" ")} ended with ${code ?? signal}`)),
    );
  });
}

const jsonLines = (text) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));

/** Wall time of one process from its start to its exit, in ms. */
function timed(command, args, env) {
  const t = process.hrtime.bigint();
  const result = spawnSync(command, args, { env, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.status}\n${result.stdout}${result.stderr}`);
  return ms;
}

function machine() {
  const cpu = cpus()[0]?.model ?? "unknown";
  const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).trim();
  const os = readFileSync("/etc/os-release", "utf8").match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1] ?? "Linux";
  const rustc = execFileSync("rustc", ["--version"], { encoding: "utf8" }).trim();
  return {
    cpu,
    cores: cpus().length,
    ramGb: totalmem() / 2 ** 30,
    kernel: execFileSync("uname", ["-r"], { encoding: "utf8" }).trim(),
    os,
    rustc,
    commit: dirty ? `${commit} (with uncommitted changes)` : commit,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
}

/** The read benchmarks; `seeded` is the data directory of the CLI-seeded vault when its size is the largest. */
async function readBenchmarks(seeded) {
  log(`read benchmarks at ${SIZES.join(", ")} rows (kontor-bench-read${seeded ? ", the largest on the seeded vault" : ""})`);
  const out = await run(READ_BENCH, ["--json", ...SIZES.map(String), ...(seeded ? ["--seeded", seeded] : [])]);
  return jsonLines(out);
}

/**
 * The ingest bench at each size: KONTOR_BENCH_INGEST_RUNS runs (default 3) below 1M rows, one at 1M and above
 * (1M costs minutes per run: Kontor and both floors fill a vault each). Each run is one process, and its ratios
 * compare Kontor and the floors of that same run.
 */
async function ingestBenchmarks() {
  const runsOf = (rows) => (rows >= 1_000_000 ? 1 : INGEST_RUNS);
  const rounds = Math.max(...SIZES.map(runsOf));
  const lines = [];
  for (let round = 0; round < rounds; round++) {
    const sizes = SIZES.filter((rows) => round < runsOf(rows));
    log(`ingest benchmarks, run ${round + 1} of ${rounds}, at ${sizes.join(", ")} rows (kontor-bench-ingest)`);
    const out = await run(INGEST_BENCH, sizes.map(String));
    lines.push(...jsonLines(out));
  }
  return lines;
}

/** The ingest runs of one size with the median (min–max) of each figure. */
function ingestBySize(lines) {
  const sizes = [...new Set(lines.filter((r) => r.bench === "ingest").map((r) => r.rows))].sort((a, b) => a - b);
  return sizes.map((rows) => {
    const runs = lines.filter((r) => r.bench === "ingest" && r.rows === rows);
    const resyncs = lines.filter((r) => r.bench === "resync" && r.rows === rows);
    const of = (list, key) => stats(list.map((r) => r[key]).filter(Number.isFinite));
    return {
      rows,
      runs: runs.length,
      kontor: of(runs, "kontor_tx_per_s"),
      cipher: of(runs, "sqlcipher_floor_tx_per_s"),
      plain: of(runs, "sqlite_floor_tx_per_s"),
      ratio: of(runs, "ratio_to_sqlcipher"),
      cpuRatio: of(runs, "cpu_ratio_to_sqlcipher"),
      loadFirst: of(runs, "load_ms_first_sync"),
      loadLast: of(runs, "load_ms_last_sync"),
      bytes: of(runs, "bytes_per_tx"),
      resync: of(resyncs, "ms"),
      resyncRows: resyncs[0]?.resync_rows,
      resyncDays: resyncs[0]?.days,
    };
  });
}

/** `median (min–max)` when there are several runs, the one value otherwise. */
const range = (s, digits = 0) => (s.n > 1 ? `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : fmt(s.median, digits));

/** The PSS in kB of `pid` and every process below it (the WebKit web and network processes). */
function treePss(root) {
  const parents = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // ended meanwhile
    }
  }
  const inTree = (pid) => {
    for (let p = pid; p > 1; p = parents.get(p) ?? 0) if (p === root) return true;
    return false;
  };
  const members = [];
  for (const pid of parents.keys()) {
    if (!inTree(pid)) continue;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      members.push({ comm, pssKb: Number(rollup.match(/^Pss:\s+(\d+) kB/m)?.[1] ?? 0) });
    } catch {
      // ended meanwhile
    }
  }
  return members;
}

/** What each cold-start step of the timeline means (src-tauri/src/startup.rs, ui/src/lib/app/startupMarks.ts). */
const STEP_MEANINGS = {
  process: "main() entered",
  setup: "Tauri's setup hook: GTK is up, the window and its webview are being created",
  "setup-done": "the window exists and the event loop is free",
  "vault-open": "the vault opened on its own thread",
  "ui-navigation": "the webview's page load started (the web process is up)",
  "ui-html-received": "index.html received",
  "ui-script-received": "the script bundle received",
  "ui-css-received": "the style sheet received",
  "ui-dom-interactive": "the HTML parsed",
  "ui-script": "the bundle's code runs (parsed and its modules evaluated)",
  "ui-mount": "the backend is chosen, the app is mounted",
  "ui-mounted": "the app's first DOM (the loading screen) built",
  "ui-first-paint": "WebKit's first paint",
  "ui-first-contentful-paint": "WebKit's first paint with content (the loading screen or the overview)",
  "ui-listening": "the UI listens for callbacks and drained the waiting ones",
  "status-asked": "the UI asked for the vault's state",
  "ui-status-received": "the vault's state arrived in the UI",
  "overview-answered": "the overview's data left the core",
  "ui-overview-received": "the overview's data arrived in the UI",
  "ui-overview-rendered": "the overview's DOM built",
  "ui-frame": "the next animation frame began (its paint follows)",
  "ui-painted": "that frame painted: the end mark",
};

/** PSS in MB of one app run's processes, or of those named `comm` only. */
const pssMb = (app, comm) =>
  app.members.filter((m) => comm === undefined || m.comm === comm).reduce((sum, m) => sum + m.pssKb, 0) / 1024;

/** The timeline's steps of several app runs, ordered by their median time, and that median. */
function stepsInOrder(apps) {
  const at = (step) => stats(apps.map((a) => a.steps?.[step]).filter(Number.isFinite)).median;
  const steps = [...new Set(apps.flatMap((a) => Object.keys(a.steps ?? {})))].sort((a, b) => at(a) - at(b));
  return { steps, at };
}

/** Starts the release app (or `bin`) on `dataDir` and waits for its first painted overview; returns ms and the PSS. */
async function appRun(dataDir, i, bin = APP) {
  const name = `bench-app-${process.pid}-${i}`;
  const t0 = Date.now();
  const app = spawnGroup(bin, ["--data-dir", dataDir], { name, env: { ...process.env, KONTOR_REPORT_FIRST_PAINT: "1" } });
  try {
    const deadline = Date.now() + 120_000;
    let painted;
    while (!painted) {
      if (Date.now() > deadline) throw new Error(`no first paint within 120 s; see ${logPath(name)}`);
      if (app.exitCode !== null) throw new Error(`the app ended (${app.exitCode}); see ${logPath(name)}`);
      painted = readFileSync(logPath(name), "utf8").match(/KONTOR_FIRST_PAINT unix_ms=(\d+)/)?.[1];
      if (!painted) await sleep(10);
    }
    // The app's timeline (src-tauri/src/startup.rs): each step's first mark, in ms after the spawn.
    const steps = {};
    for (const [, step, at] of readFileSync(logPath(name), "utf8").matchAll(/KONTOR_STARTUP (\S+) unix_ms=(\d+)/g)) {
      steps[step] ??= Number(at) - t0;
    }
    // The overview's queries are done once it is painted; give WebKit a moment to settle before measuring.
    await sleep(3000);
    const members = treePss(app.pid);
    return { firstPaintMs: Number(painted) - t0, members, steps };
  } finally {
    await endGroup(app);
  }
}

function fileSize(path) {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

function bundles() {
  const found = [];
  for (const [kind, dir, ext] of [
    [".deb", "bundle/deb", ".deb"],
    [".AppImage", "bundle/appimage", ".AppImage"],
  ]) {
    const full = join(RELEASE, dir);
    const files = existsSync(full) ? readdirSync(full).filter((f) => f.endsWith(ext)) : [];
    if (files.length === 0) found.push({ kind, file: null, bytes: null });
    for (const file of files) found.push({ kind, file: `target/release/${dir}/${file}`, bytes: fileSize(join(full, file)) });
  }
  found.push({ kind: "app binary", file: "target/release/kontor-app", bytes: fileSize(APP) });
  found.push({ kind: "CLI binary", file: "target/release/kontor", bytes: fileSize(CLI) });
  return found;
}

/**
 * `KONTOR_BENCH_ONLY=app KONTOR_BENCH_VAULT=<seeded vault, its key in this session's keyring>`: only the app's cold
 * starts, of each binary in `KONTOR_BENCH_APPS` (default the release app) in turn, so a before/after pair shares
 * the same minutes; prints each binary's timeline and PSS medians instead of writing BENCHMARKS.md.
 */
async function appOnly(vault) {
  const bins = (process.env.KONTOR_BENCH_APPS ?? APP).split(/\s+/).filter(Boolean);
  const runs = new Map(bins.map((bin) => [bin, []]));
  for (let i = 0; i < RUNS; i++) for (const bin of bins) runs.get(bin).push(await appRun(vault, `${i}-${bins.indexOf(bin)}`, bin));
  for (const [bin, apps] of runs) {
    const { steps, at } = stepsInOrder(apps);
    const pss = apps.map((a) => pssMb(a));
    process.stdout.write(`${bin}\n  first paint ${spread(stats(apps.map((a) => a.firstPaintMs)))} ms; PSS ${spread(stats(pss), 1)} MB\n`);
    for (const comm of new Set(apps.flatMap((a) => a.members.map((m) => m.comm)))) {
      process.stdout.write(`  ${comm} ${spread(stats(apps.map((a) => pssMb(a, comm))), 1)} MB\n`);
    }
    for (const step of steps) process.stdout.write(`  ${step.padEnd(28)} ${fmt(at(step))}\n`);
  }
}

async function main() {
  if (process.env.KONTOR_BENCH_ONLY === "app") return appOnly(process.env.KONTOR_BENCH_VAULT);
  for (const bin of [CLI, APP, READ_BENCH, INGEST_BENCH]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run make bench (it builds it)`);
  }
  const host = machine();
  const work = mkdtempSync(join(tmpdir(), "kontor-bench-"));
  try {
    const vault = join(work, "million");
    log(`seeding ${SEED_ROWS} transactions with the release CLI (kontor dev seed)`);
    const seedMs = timed(CLI, ["--data-dir", vault, "dev", "seed", "--transactions", String(SEED_ROWS), "--until", UNTIL], process.env);
    const vaultBytes = fileSize(join(vault, "kontor.db"));

    const read = await readBenchmarks(Math.max(...SIZES) === SEED_ROWS ? vault : null);
    const ingest = await ingestBenchmarks();

    log(`vault open: ${RUNS} new processes each (the seeded keyring vault, an empty keyring vault, an empty passphrase vault)`);
    const keyringEmpty = join(work, "empty-keyring");
    const passphraseEmpty = join(work, "empty-passphrase");
    const envPass = { ...process.env, KONTOR_PASSPHRASE: "bench passphrase, not secret" };
    timed(CLI, ["--data-dir", keyringEmpty, "accounts"], process.env);
    timed(CLI, ["--data-dir", passphraseEmpty, "accounts"], envPass);
    const openMillion = [];
    const openKeyring = [];
    const openPassphrase = [];
    for (let i = 0; i < RUNS; i++) {
      openMillion.push(timed(CLI, ["--data-dir", vault, "accounts"], process.env));
      openKeyring.push(timed(CLI, ["--data-dir", keyringEmpty, "accounts"], process.env));
      openPassphrase.push(timed(CLI, ["--data-dir", passphraseEmpty, "accounts"], envPass));
    }

    // The full page check (off the open path since issue 13): once, on the seeded vault.
    const pageCheckMs = timed(CLI, ["--data-dir", vault, "vault", "check"], process.env);

    log(`desktop app: ${RUNS} cold starts on the seeded vault to the first painted overview, then PSS`);
    const apps = [];
    for (let i = 0; i < RUNS; i++) apps.push(await appRun(vault, i));

    const report = render({
      host,
      read,
      ingest,
      seed: { rows: SEED_ROWS, ms: seedMs, bytes: vaultBytes },
      open: { million: stats(openMillion), keyring: stats(openKeyring), passphrase: stats(openPassphrase), pageCheckMs },
      apps,
      bundles: bundles(),
      minutes: (Date.now() - started) / 60_000,
    });
    writeFileSync(OUT, report);
    log(`wrote ${OUT}`);
    process.stdout.write(report);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function render({ host, read, ingest, seed, open, apps, bundles, minutes }) {
  const lines = [];
  const p = (s = "") => lines.push(s);
  p("# Kontor benchmarks");
  p();
  p("Written by `make bench` (tests/bench/run.mjs); do not edit by hand. Release build (`[profile.release]` in");
  p("Cargo.toml); SQLCipher and the plain-SQLite floors in the same run on the same machine.");
  p();
  p("| machine | |");
  p("|---|---|");
  p(`| CPU | ${host.cpu} |`);
  p(`| cores | ${host.cores} |`);
  p(`| RAM | ${fmt(host.ramGb, 1)} GiB |`);
  p(`| system | ${host.os}, kernel ${host.kernel} |`);
  p(`| Rust | ${host.rustc} |`);
  p(`| date | ${host.date} |`);
  p(`| commit | ${host.commit} |`);
  p(`| whole run | ${fmt(minutes, 1)} minutes |`);
  p(`| load average (1 min) | ${fmt(loadAtStart, 2)} at the start, ${fmt(loadavg()[0], 2)} at the end (above the core count, other work shared the CPU) |`);
  p(`| sizes | ${SIZES.map((n) => fmt(n)).join(", ")} rows; the app and vault-open figures on ${fmt(seed.rows)} |`);
  p();

  p("## Reading transactions (issue 9)");
  p();
  const seededRead = read.find((r) => r.bench === "read_size" && r.ingest_tx_per_s === null);
  p("`kontor-bench-read` (crates/bench): a vault filled through the sync path, and a plain, unencrypted SQLite");
  p("file with the same schema and rows (the floor) running the very same SQL. p50 and p95 over repeated random");
  p(`queries (warm), in ms; the goal applies to Kontor's p95 at 1,000,000 rows.${seededRead ? ` At ${fmt(seededRead.rows)} rows the vault is the one seeded for the app below.` : ""}`);
  p();
  p("| rows | what | Kontor p50 | Kontor p95 | floor p50 | floor p95 | p95 ratio | goal at 1M |");
  p("|---:|---|---:|---:|---:|---:|---:|---|");
  for (const r of read.filter((r) => r.bench === "read")) {
    const goal = READ_GOALS[r.id];
    const goalText = goal === undefined ? "" : r.rows >= 1_000_000 ? `< ${goal} ms: ${verdict(r.kontor_p95_ms < goal)}` : `< ${goal} ms`;
    p(
      `| ${fmt(r.rows)} | ${r.what} | ${fmt(r.kontor_p50_ms, 2)} | ${fmt(r.kontor_p95_ms, 2)} | ${fmt(r.floor_p50_ms, 2)} | ${fmt(r.floor_p95_ms, 2)} | ${fmt(r.kontor_p95_ms / Math.max(r.floor_p95_ms, 1e-6), 2)} | ${goalText} |`,
    );
  }
  p();
  p("| rows | size per transaction: vault | floor | goal |");
  p("|---:|---:|---:|---|");
  for (const r of read.filter((r) => r.bench === "read_size")) {
    p(
      `| ${fmt(r.rows)} | ${fmt(r.vault_bytes_per_tx)} B | ${fmt(r.floor_bytes_per_tx)} B | ≤ 1 KB: ${verdict(r.vault_bytes_per_tx <= GOALS.bytesPerTx)} |`,
    );
  }
  p();

  p("## Ingest and re-sync (issue 13)");
  p();
  const sizes = ingestBySize(ingest);
  p("`kontor-bench-ingest` (crates/bench): Kontor's sync path (`sync::apply_delivery`: load what the plan");
  p("needs, plan, balance check, write with the search index and monthly sums, raw JSON deflated, journal; one");
  p("`BEGIN IMMEDIATE` per batch of 2,000 rows, as a sync delivers them) into a fresh vault, beside the same rows");
  p("written with one prepared `INSERT` per row, one transaction per batch, into the same schema (indexes, search");
  p("index and monthly-sum triggers): into SQLCipher opened like the vault, and into plain SQLite. The floors write");
  p("final values (their raw JSON deflated beforehand, untimed). Each ratio compares Kontor with the SQLCipher");
  const once = sizes.filter((r) => r.runs === 1).map((r) => fmt(r.rows));
  p("floor of the same run (wall time; CPU time beside it, which swings less on a shared machine). Median");
  p(`(min–max) over the runs${once.length ? `; ${once.join(" and ")} rows ran once, for the time budget` : ""}.`);
  p();
  p("| rows | runs | Kontor tx/s | SQLCipher floor tx/s | SQLite floor tx/s | ratio to SQLCipher | goal ≥ 0.7 at 1M | CPU-time ratio | load ms, first sync | load ms, last sync | bytes/tx |");
  p("|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|");
  for (const r of sizes) {
    const goal = r.rows >= 1_000_000 ? verdict(r.ratio.median >= GOALS.ingestRatio) : "";
    p(
      `| ${fmt(r.rows)} | ${r.runs} | ${range(r.kontor)} | ${range(r.cipher)} | ${range(r.plain)} | ${range(r.ratio, 2)} | ${goal} | ${range(r.cpuRatio, 2)} | ${range(r.loadFirst, 1)} | ${range(r.loadLast, 1)} | ${fmt(r.bytes.median)} |`,
    );
  }
  p();
  p("The load time per sync is what the plan reads from the vault before it writes (first and last batch of the");
  p("fill): it stays flat as the table grows when it seeks instead of scanning.");
  p();
  p("| rows in the vault | re-sync of known days | rows re-delivered | time (median, min–max) | goal < 1 s |");
  p("|---:|---:|---:|---:|---|");
  for (const r of sizes.filter((r) => r.resync.n > 0)) {
    p(`| ${fmt(r.rows)} | ${r.resyncDays} | ${fmt(r.resyncRows)} | ${range(r.resync, 0)} ms | ${verdict(r.resync.median < GOALS.resyncMs)} |`);
  }
  p();

  p(`## Vault open and the desktop app on ${fmt(seed.rows)} transactions (issue 13)`);
  p();
  p(
    `One vault seeded with the release CLI (\`kontor dev seed --transactions ${seed.rows}\`, through the sync path) in ${fmt(seed.ms / 1000, 1)} s, ${fmt(seed.bytes / 2 ** 20)} MiB; its key in a real gnome-keyring (a private desktop session). Every figure: median (min–max) of new processes; the OS file cache is warm.`,
  );
  p();
  const paint = stats(apps.map((a) => a.firstPaintMs));
  const pss = stats(apps.map((a) => pssMb(a)));
  const argon = open.passphrase.median - open.keyring.median;
  p("| what | median (min–max) | goal |");
  p("|---|---|---|");
  p(`| vault open with the keyring: \`kontor accounts\` from process start to exit after the first query | ${spread(open.million, 0, " ms")} | < 300 ms: ${verdict(open.million.median < GOALS.vaultOpenMs)} |`);
  p(`| the same on an empty keyring vault | ${spread(open.keyring, 0, " ms")} | |`);
  p(`| the same on an empty passphrase vault (Argon2id, 19 MiB, 2 passes) | ${spread(open.passphrase, 0, " ms")} | |`);
  p(`| Argon2id's cost (passphrase minus keyring, medians) | ${fmt(argon)} ms | reported separately |`);
  p(`| the full page check, \`kontor vault check\` (every page read and decrypted; off the open path: the app runs it in the background 2 s after start) | ${fmt(open.pageCheckMs)} ms (1 run) | |`);
  p(`| desktop app (release), process start to the first painted overview | ${spread(paint, 0, " ms")} | < 800 ms: ${verdict(paint.median < GOALS.firstPaintMs)} |`);
  p(`| its memory 3 s later: PSS of the app and its WebKit processes | ${spread(pss, 0, " MB")} | < 150 MB: ${verdict(pss.median < GOALS.pssMb)} |`);
  p();
  const processes = [...new Set(apps.flatMap((a) => a.members.map((m) => m.comm)))].sort();
  if (processes.length) {
    p("Its memory by process (PSS, MB; the app's WebKit settings are in src-tauri/src/startup.rs):");
    p();
    p("| process | median (min–max) |");
    p("|---|---|");
    for (const comm of processes) p(`| ${comm} | ${spread(stats(apps.map((a) => pssMb(a, comm))), 1)} |`);
    p();
  }
  const { steps: stepNames, at: order } = stepsInOrder(apps);
  if (stepNames.length) {
    p("Where the cold start's time goes: each step's first mark after the process was spawned (median, ms; `ui-`");
    p("steps are the UI's own, ui/src/lib/app/startupMarks.ts):");
    p();
    p("| step | ms | what |");
    p("|---|---:|---|");
    for (const st of stepNames) p(`| \`${st}\` | ${fmt(order(st))} | ${STEP_MEANINGS[st] ?? ""} |`);
    p(`| first paint | ${fmt(paint.median)} | the end mark (\`ui-painted\`) |`);
    p();
  }

  p("## Bundles (issue 13)");
  p();
  p("| what | file | size | goal |");
  p("|---|---|---:|---|");
  for (const b of bundles) {
    const mb = b.bytes === null ? null : b.bytes / 2 ** 20;
    const goal = b.kind === ".deb" && mb !== null ? `< 15 MB: ${verdict(mb < GOALS.debMb)}` : "";
    p(`| ${b.kind} | ${b.file ?? "not built (see README: make bundle)"} | ${mb === null ? "–" : `${fmt(mb, 1)} MB`} | ${goal} |`);
  }
  p();
  return `${lines.join("\n")}\n`;
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  process.exit(1);
});
