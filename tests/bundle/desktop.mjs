// What both bundle tests ask of the desktop session: which entry handles `kontor://`, and `xdg-open` of an
// address, the way a browser hands a bank's redirect back to Kontor.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { spawnGroup, endGroup, logPath } from "../webdriver/processes.mjs";

/** The desktop entry the session's desktop opens `kontor://` addresses with (`xdg-mime`). */
export const kontorHandler = () =>
  execFileSync("xdg-mime", ["query", "default", "x-scheme-handler/kontor"], { encoding: "utf8" }).trim();

/** Runs `xdg-open url` to its end (as process group `name`, logged) and asserts it succeeded. */
export async function xdgOpen(url, name) {
  const opener = spawnGroup("xdg-open", [url], { name });
  try {
    const code = await new Promise((done) => opener.on("exit", (c) => done(c)));
    assert.equal(code, 0, readFileSync(logPath(name), "utf8"));
  } finally {
    await endGroup(opener);
  }
}
