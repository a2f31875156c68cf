// `make test-bundle`: the .AppImage that `make bundle` packed (packaging/appimage/pack.sh), run as a user would
// (the file itself, mounted through FUSE by its runtime) in a private desktop session
// (tests/support/desktop-session.sh). The image holds the app, the CLI and the desktop entry; the app starts to
// its first screen from a fresh data directory with WebKit's helper processes and libraries from the image and
// glibc from the host; it registers the AppImage as the desktop's handler of `kontor://`, and `xdg-open` hands
// such an address to the running app through that entry. At the end no process and no mount of the image is
// left, and the registration is taken away again (install.test.mjs expects a desktop that never ran Kontor).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const ROOT = resolve(import.meta.dirname, "../..");
const APPIMAGE_DIR = process.env.KONTOR_APPIMAGE_DIR ?? join(ROOT, "target/release/bundle/appimage");
const images = existsSync(APPIMAGE_DIR) ? readdirSync(APPIMAGE_DIR).filter((f) => f.endsWith(".AppImage")) : [];
assert.equal(images.length, 1, `one .AppImage in ${APPIMAGE_DIR} (make bundle packs it): ${images}`);
const APPIMAGE = join(APPIMAGE_DIR, images[0]);
const HOST_LIBS = "/usr/lib/x86_64-linux-gnu/";

// driver.mjs reads the app's path when it is loaded: the AppImage, which tauri-driver starts with the
// session's arguments (the runtime passes them on through AppRun to the app).
process.env.KONTOR_APP_BIN = APPIMAGE;
const { Session, SHOTS } = await import("../webdriver/driver.mjs");
const { kontorHandler, xdgOpen } = await import("./desktop.mjs");

/** Processes started from this AppImage (the runtime sets APPIMAGE in their environment): pid → exe. */
function imageProcesses() {
  const found = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (environ.includes(`APPIMAGE=${APPIMAGE}`)) found.set(Number(entry), readlinkSync(`/proc/${entry}/exe`));
    } catch {
      // ended meanwhile, or a kernel thread
    }
  }
  return found;
}

const imageMounts = () =>
  readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .filter((line) => line.includes("/.mount_Kontor"));

/** The files a process has mapped (its libraries), by file name → full path. */
function mappedLibraries(pid) {
  const libs = new Map();
  for (const line of readFileSync(`/proc/${pid}/maps`, "utf8").split("\n")) {
    const path = line.split(/\s+/).slice(5).join(" ");
    if (path.startsWith("/")) libs.set(path.slice(path.lastIndexOf("/") + 1), path);
  }
  return libs;
}

/**
 * What the session's X display shows, as target/e2e/<name>.png (ImageMagick), once it shows a painted page
 * (more than a window background: many colours) and, given `changedFrom` (an earlier shot's name), once it
 * differs from that shot: the display follows the DOM with a delay. Returns how many colours it has.
 * WebDriver's own screenshot command never answers for the app in the AppImage (the page renders and every other
 * command works), so the display is captured instead: it is what a user sees, fonts and icons included.
 */
async function screenshot(name, { changedFrom, timeout = 15_000 } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  const deadline = Date.now() + timeout;
  for (;;) {
    execFileSync("import", ["-window", "root", file]);
    const colours = Number(execFileSync("identify", ["-format", "%k", file], { encoding: "utf8" }));
    const changed =
      changedFrom === undefined ||
      spawnSync("compare", ["-metric", "AE", file, join(SHOTS, `${changedFrom}.png`), "null:"]).status === 1;
    if ((colours > 50 && changed) || Date.now() > deadline) return colours;
    await sleep(200);
  }
}

const dataHome = process.env.XDG_DATA_HOME;
const configHome = process.env.XDG_CONFIG_HOME;
const handlerEntry = () => join(dataHome, "applications", `${images[0]}-handler.desktop`);
let mimeappsBefore;
let applicationsBefore;
let session;

before(() => {
  assert.ok(dataHome?.startsWith("/tmp/") && configHome?.startsWith("/tmp/"), "a private desktop session (desktop-session.sh)");
  assert.equal(imageProcesses().size, 0, "no process of this AppImage runs before the test");
  const mimeapps = join(configHome, "mimeapps.list");
  mimeappsBefore = existsSync(mimeapps) ? readFileSync(mimeapps, "utf8") : undefined;
  applicationsBefore = existsSync(join(dataHome, "applications"));
});

after(async () => {
  await session?.stop();
  // The FUSE mount ends shortly after the last process using it.
  const deadline = Date.now() + 15_000;
  while ((imageProcesses().size > 0 || imageMounts().length > 0) && Date.now() < deadline) await sleep(200);
  // the app also ran update-desktop-database there (mimeinfo.cache)
  if (applicationsBefore) rmSync(handlerEntry(), { force: true });
  else rmSync(join(dataHome, "applications"), { recursive: true, force: true });
  const mimeapps = join(configHome, "mimeapps.list");
  if (mimeappsBefore === undefined) rmSync(mimeapps, { force: true });
  else writeFileSync(mimeapps, mimeappsBefore);
  assert.deepEqual([...imageProcesses()], [], "no process of the AppImage is left");
  assert.deepEqual(imageMounts(), [], "no mount of the AppImage is left");
});

test("the AppImage holds the app, the CLI, the desktop entry for the kontor scheme and the icon", async () => {
  assert.match(execFileSync(APPIMAGE, ["cli", "--version"], { encoding: "utf8" }), /^kontor \d+\.\d+\.\d+/);

  // --appimage-mount mounts the image, prints where, and holds the mount until it is ended.
  const mounter = spawn(APPIMAGE, ["--appimage-mount"], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const mount = await new Promise((done, fail) => {
      mounter.stdout.once("data", (chunk) => done(chunk.toString().trim()));
      mounter.once("exit", (code) => fail(new Error(`--appimage-mount ended with ${code}`)));
    });
    const entry = readFileSync(join(mount, "kontor.desktop"), "utf8");
    assert.match(entry, /^Exec=kontor-app %u$/m);
    assert.match(entry, /^Icon=kontor-app$/m);
    assert.match(entry, /^MimeType=x-scheme-handler\/kontor$/m);
    assert.equal(readlinkSync(join(mount, ".DirIcon")), "kontor-app.png");
    for (const file of [
      "AppRun",
      "kontor-app.png",
      "usr/bin/kontor-app",
      "usr/bin/kontor",
      "usr/share/icons/hicolor/256x256/apps/kontor-app.png",
      "usr/lib/libwebkit2gtk-4.1.so.0",
      "usr/lib/libgtk-3.so.0",
      "usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebProcess",
      "usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitNetworkProcess",
      "usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitGPUProcess",
      "usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/injected-bundle/libwebkit2gtkinjectedbundle.so",
      "usr/lib/gdk-pixbuf-loaders.cache",
      "usr/lib/gio/modules/libgiognutls.so",
      "usr/share/glib-2.0/schemas/gschemas.compiled",
    ]) {
      assert.ok(existsSync(join(mount, file)), `${file} in the image`);
    }
    for (const hostOnly of ["libc.so.6", "libstdc++.so.6", "libGL.so.1", "libEGL.so.1", "libX11.so.6", "libfontconfig.so.1"]) {
      assert.ok(!existsSync(join(mount, "usr/lib", hostOnly)), `${hostOnly} is left to the host`);
    }
  } finally {
    mounter.kill("SIGTERM");
    await new Promise((done) => (mounter.exitCode !== null ? done() : mounter.once("exit", done)));
  }
});

test("without FUSE the image unpacks itself to a temporary directory, runs, and removes the copy", () => {
  const scratch = mkdtempSync(join(tmpdir(), "kontor-appimage-tmp-"));
  try {
    const env = { ...process.env, APPIMAGE_EXTRACT_AND_RUN: "1", TMPDIR: scratch };
    assert.match(execFileSync(APPIMAGE, ["cli", "--version"], { encoding: "utf8", env }), /^kontor \d+\.\d+\.\d+/);
    assert.deepEqual(readdirSync(scratch), [], "the unpacked copy is removed when the program ends");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("the AppImage starts to its first screen with WebKit from the image and glibc from the host", async () => {
  session = await Session.start();
  await session.waitFor('[data-testid="first-run"]', 60_000);
  assert.equal(await session.cmd("GET", "/title"), "Kontor");
  assert.ok((await screenshot("appimage-first-run")) > 50, "the display shows the painted first screen");

  const running = [...imageProcesses()];
  const app = running.find(([, exe]) => exe.endsWith("/usr/bin/kontor-app"));
  assert.ok(app, `the app runs from the image: ${JSON.stringify(running)}`);
  const mount = app[1].slice(0, -"/usr/bin/kontor-app".length);
  assert.match(mount, /^\/tmp\/\.mount_Kontor/, "mounted by the AppImage runtime");
  const webProcess = running.find(([, exe]) => exe === `${mount}/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebProcess`);
  const networkProcess = running.find(([, exe]) => exe === `${mount}/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitNetworkProcess`);
  assert.ok(webProcess && networkProcess, `WebKit's helper processes run from the image: ${JSON.stringify(running)}`);

  for (const [pid, exe] of [app, webProcess, networkProcess]) {
    const libs = mappedLibraries(pid);
    for (const bundled of ["libwebkit2gtk-4.1.so.0", "libjavascriptcoregtk-4.1.so.0", "libgtk-3.so.0", "libglib-2.0.so.0"]) {
      assert.equal(libs.get(bundled), `${mount}/usr/lib/${bundled}`, `${exe} maps ${bundled} from the image`);
    }
    for (const host of ["libc.so.6", "libstdc++.so.6"]) {
      // the host's file may be the versioned one its soname links to (libstdc++.so.6.0.30)
      const mapped = [...libs].filter(([name]) => name.startsWith(host)).map(([, path]) => path);
      assert.equal(mapped.length, 1, `${exe} maps one ${host}: ${mapped}`);
      assert.ok(mapped[0].startsWith(HOST_LIBS), `${exe} maps ${host} from the host: ${mapped[0]}`);
    }
  }
  assert.ok(
    mappedLibraries(webProcess[0]).get("libwebkit2gtkinjectedbundle.so")?.startsWith(`${mount}/`),
    "the web process loads the injected bundle from the image",
  );

  await session.click('[data-testid="get-started"]');
  await session.waitFor('[data-testid="overview"]');
});

test("the app registers the AppImage for kontor:// and xdg-open hands an address to the running app", async () => {
  // The app writes the entry at its start, on a thread of its own.
  const deadline = Date.now() + 20_000;
  while (!existsSync(handlerEntry()) && Date.now() < deadline) await sleep(200);
  const entry = readFileSync(handlerEntry(), "utf8");
  assert.match(entry, new RegExp(`^Exec=${APPIMAGE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} %u$`, "m"), "Exec names the AppImage, not its mount");
  assert.match(entry, /^MimeType=x-scheme-handler\/kontor$/m);
  const handler = kontorHandler();
  assert.equal(handler, `${images[0]}-handler.desktop`);

  await xdgOpen("kontor://sca-callback?state=x", `appimage-xdg-open-${Date.now()}`);
  // A second Kontor started from the AppImage handed the address to the first and ended; no pending flow has
  // state "x", so the running window says the link was refused.
  await session.waitFor('[data-testid="overview-notice"][data-kind="callback-refused"]', 30_000);
  assert.ok((await screenshot("appimage-callback", { changedFrom: "appimage-first-run" })) > 50, "the display shows the overview");
});
