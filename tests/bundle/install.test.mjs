// `make test-bundle`: the .deb that `make bundle-deb` built, installed on this machine as a user would
// (`dpkg -i`), in a private desktop session (tests/support/desktop-session.sh). The installed app starts to its
// first screen; the installed desktop entry is the desktop's handler of `kontor://`, and `xdg-open` hands such
// an address to the running app; the package ships the CLI; at the end the package is removed again.
// Runs as root or through sudo (KONTOR_SUDO, set by the Makefile).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");
const DEB_DIR = join(ROOT, "target/release/bundle/deb");
const PACKAGE = "kontor";
const INSTALLED_APP = "/usr/bin/kontor-app";
const INSTALLED_CLI = "/usr/bin/kontor";
const DESKTOP_ENTRY = "/usr/share/applications/Kontor.desktop";
const SUDO = (process.env.KONTOR_SUDO ?? "").trim();

// driver.mjs reads the app's path when it is loaded: the installed one, not the build's.
process.env.KONTOR_APP_BIN = INSTALLED_APP;
const { Session } = await import("../webdriver/driver.mjs");
const { kontorHandler, xdgOpen } = await import("./desktop.mjs");

function asRoot(command, args) {
  const [program, rest] = SUDO ? [SUDO, [command, ...args]] : [command, args];
  const result = spawnSync(program, rest, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")}: ${result.status}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const installed = () => spawnSync("dpkg-query", ["-W", "-f=${Status}", PACKAGE], { encoding: "utf8" }).stdout.includes("install ok installed");

let session;

before(() => {
  const debs = existsSync(DEB_DIR) ? readdirSync(DEB_DIR).filter((f) => f.endsWith(".deb")) : [];
  assert.equal(debs.length, 1, `one .deb in ${DEB_DIR} (make bundle-deb builds it): ${debs}`);
  assert.ok(!installed(), `the package ${PACKAGE} is already installed on this machine; remove it first (dpkg -r ${PACKAGE})`);
  asRoot("dpkg", ["-i", join(DEB_DIR, debs[0])]);
});

after(async () => {
  await session?.stop();
  if (installed()) asRoot("dpkg", ["-r", PACKAGE]);
  assert.ok(!existsSync(INSTALLED_APP), "the package is removed again");
});

test("the package installs the app, the CLI and a desktop entry for the kontor scheme", () => {
  assert.ok(installed());
  const files = execFileSync("dpkg", ["-L", PACKAGE], { encoding: "utf8" }).split("\n");
  for (const file of [INSTALLED_APP, INSTALLED_CLI, DESKTOP_ENTRY]) assert.ok(files.includes(file), `${file} in the package`);
  assert.ok(files.some((f) => /^\/usr\/share\/icons\/hicolor\/.+\/apps\/kontor-app\.png$/.test(f)), "icons");
  const entry = readFileSync(DESKTOP_ENTRY, "utf8");
  assert.match(entry, /^Exec=kontor-app %u$/m);
  assert.match(entry, /^MimeType=.*x-scheme-handler\/kontor;?/m);
  assert.match(execFileSync(INSTALLED_CLI, ["--version"], { encoding: "utf8" }), /^kontor \d+\.\d+\.\d+/);
  // A desktop that never ran Kontor (the session's XDG directories are empty) already knows the handler.
  const handler = kontorHandler();
  assert.equal(handler, "Kontor.desktop");
});

test("the installed app starts to its first screen", async () => {
  session = await Session.start();
  await session.waitFor('[data-testid="first-run"]', 60_000);
  assert.equal(await session.cmd("GET", "/title"), "Kontor");
  await session.screenshot("bundle-first-run");
  await session.click('[data-testid="get-started"]');
  await session.waitFor('[data-testid="overview"]');
});

test("xdg-open hands a kontor:// address to the running app through the installed desktop entry", async () => {
  // At its start the app registers itself as the handler in the user's directories; take that away so the
  // address can only go through the package's entry in /usr/share/applications.
  const data = process.env.XDG_DATA_HOME;
  const config = process.env.XDG_CONFIG_HOME;
  assert.ok(data && config && data.startsWith("/tmp/"), "a private desktop session (desktop-session.sh)");
  rmSync(join(data, "applications"), { recursive: true, force: true });
  rmSync(join(config, "mimeapps.list"), { force: true });
  const handler = kontorHandler();
  assert.equal(handler, "Kontor.desktop");

  await xdgOpen("kontor://sca-callback?state=x", `bundle-xdg-open-${Date.now()}`);
  // The second Kontor handed the address to the first and ended; no pending flow has state "x", so the
  // running window says the link was refused.
  await session.waitFor('[data-testid="overview-notice"][data-kind="callback-refused"]', 30_000);
  await session.screenshot("bundle-callback");
});
