// A small W3C WebDriver client over fetch, and a session helper that starts tauri-driver
// (which runs WebKitWebDriver) and the real Kontor binary in a fresh data directory. tauri-driver runs in a
// process group of its own that `stop()` ends as a whole (processes.mjs), also when a test fails.
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { spawnGroup, endGroup } from "./processes.mjs";

export const ROOT = resolve(import.meta.dirname, "../..");
export const APP = process.env.KONTOR_APP_BIN ?? join(ROOT, "target/debug/kontor-app");
export const SHOTS = join(ROOT, "target/e2e");
const DRIVER = process.env.TAURI_DRIVER_BIN ?? join(ROOT, ".tools/bin/tauri-driver");
const TIMEOUT = 60_000;

async function waitForPort(url, deadline, driver) {
  while (Date.now() < deadline) {
    if (driver.exitCode !== null || driver.signalCode !== null) {
      throw new Error(`tauri-driver ended before it answered (exit ${driver.exitCode ?? driver.signalCode}); see target/e2e/logs`);
    }
    try {
      const res = await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`WebDriver did not come up at ${url}`);
}

export class Session {
  constructor(url, id, dataDir, driver, ownsDataDir = true) {
    this.url = url;
    this.id = id;
    this.dataDir = dataDir;
    this.driver = driver;
    this.ownsDataDir = ownsDataDir;
  }

  /**
   * Starts tauri-driver and the app with a fresh `--data-dir`, or with `dataDir` (e.g. a seeded vault), which
   * is then left in place when the session stops.
   */
  static async start({ port = 4444 + Math.floor(Math.random() * 500), args = [], dataDir: given } = {}) {
    const dataDir = given ?? mkdtempSync(join(tmpdir(), "kontor-e2e-"));
    const nativePort = port + 1000;
    const driver = spawnGroup(DRIVER, ["--port", String(port), "--native-port", String(nativePort)], {
      name: `tauri-driver-${port}`,
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForPort(url, Date.now() + TIMEOUT, driver);
      const res = await fetch(`${url}/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          capabilities: {
            alwaysMatch: { "tauri:options": { application: APP, args: ["--data-dir", dataDir, ...args] } },
          },
        }),
        signal: AbortSignal.timeout(TIMEOUT),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`session not created: ${JSON.stringify(body)}`);
      return new Session(url, body.value.sessionId, dataDir, driver, given === undefined);
    } catch (err) {
      await endGroup(driver);
      if (given === undefined) rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  async cmd(method, path, payload) {
    const res = await fetch(`${this.url}/session/${this.id}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      signal: AbortSignal.timeout(TIMEOUT),
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(body.value)}`);
    return body.value;
  }

  async find(css) {
    const value = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return Object.values(value)[0];
  }

  /** Waits until an element matching `css` exists and returns its id. */
  async waitFor(css, timeout = 20_000) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        return await this.find(css);
      } catch (err) {
        last = err;
        await sleep(100);
      }
    }
    throw new Error(`timed out waiting for ${css}: ${last?.message}`);
  }

  /** Waits until no element matches `css`. */
  async waitGone(css, timeout = 20_000) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const found = await this.execute("return document.querySelector(arguments[0]) !== null;", [css]);
      if (!found) return;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${css} to go away`);
  }

  /** Waits until `script` (a function body returning a value) returns something truthy, and returns it. */
  async waitUntil(script, args = [], timeout = 20_000, what = script) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      const value = await this.execute(script, args);
      if (value) return value;
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** The text of every element matching `css`. */
  async texts(css) {
    return this.execute("return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent.trim());", [css]);
  }

  async click(css) {
    const id = await this.waitFor(css);
    await this.cmd("POST", `/element/${id}/click`, {});
  }

  async type(css, text) {
    const id = await this.waitFor(css);
    await this.cmd("POST", `/element/${id}/value`, { text });
  }

  async text(css) {
    const id = await this.waitFor(css);
    return this.cmd("GET", `/element/${id}/text`);
  }

  async attribute(css, name) {
    const id = await this.waitFor(css);
    return this.cmd("GET", `/element/${id}/attribute/${name}`);
  }

  async execute(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /**
   * Saves a PNG under target/e2e/, after two animation frames so the DOM change is painted. WebKitWebDriver takes
   * it after WebKit's next presentation update, and without accelerated compositing (the app turns it off,
   * src-tauri/src/startup.rs) a page at rest makes none: the screenshot would wait forever. An invisible change
   * (a transparent outline toggled every 50 ms) keeps updates coming until the screenshot is taken.
   */
  async screenshot(name) {
    await this.cmd("POST", "/execute/async", {
      script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
      args: [],
    });
    await this.execute(
      "const root = document.documentElement; window.__kontorRepaint ??= setInterval(() => { root.style.outline = root.style.outline ? '' : '1px solid transparent'; }, 50);",
    );
    let png;
    try {
      png = await this.cmd("GET", "/screenshot");
    } finally {
      await this.execute(
        "clearInterval(window.__kontorRepaint); window.__kontorRepaint = undefined; document.documentElement.style.outline = '';",
      ).catch(() => undefined);
    }
    mkdirSync(SHOTS, { recursive: true });
    const file = join(SHOTS, `${name}.png`);
    writeFileSync(file, Buffer.from(png, "base64"));
    return file;
  }

  /** Ends the WebDriver session, then tauri-driver's whole process group (WebKitWebDriver, the app). */
  async stop() {
    try {
      await fetch(`${this.url}/session/${this.id}`, { method: "DELETE", signal: AbortSignal.timeout(10_000) });
    } catch {
      // the app may already be gone
    }
    await endGroup(this.driver);
    if (this.ownsDataDir && !process.env.KONTOR_E2E_KEEP_DATA) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Reads a secret from the real Secret Service with libsecret's own tool, not through Kontor. */
export function secretToolLookup(attributes) {
  const args = ["lookup", ...Object.entries(attributes).flat()];
  try {
    return execFileSync("secret-tool", args, { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

export function exists(path) {
  return existsSync(path);
}
