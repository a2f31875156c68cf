// Processes that end with their test. Every process a WebDriver test starts (tauri-driver, which starts
// WebKitWebDriver, which starts the app; a second app instance) runs in a process group of its own and is
// registered here. A group ends as a whole: when the test stops it, and also when the test fails, times out
// or the test file's process is interrupted or exits, so no window outlives the run.
//
// Their output goes to a log file under target/e2e/logs, never to this process's stdout/stderr: a grandchild
// that inherited the test runner's pipe would keep `node --test` waiting for an end of file forever.
import { spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const LOGS = join(resolve(import.meta.dirname, "../.."), "target/e2e/logs");
const groups = new Set();

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is already gone
  }
}

/** Where the output of the process started as `name` goes. */
export function logPath(name) {
  return join(LOGS, `${name}.log`);
}

/** Starts `command` as the leader of a new process group; its stdout and stderr go to `logs/<name>.log`. */
export function spawnGroup(command, args, { name, env = process.env } = {}) {
  mkdirSync(LOGS, { recursive: true });
  const log = openSync(logPath(name), "a");
  try {
    const child = spawn(command, args, { detached: true, env, stdio: ["ignore", log, log] });
    if (child.pid !== undefined) groups.add(child.pid);
    return child;
  } finally {
    closeSync(log);
  }
}

/** Ends the whole group of `child`: SIGTERM, then SIGKILL after `graceMs`; resolves when no member is left. */
export async function endGroup(child, graceMs = 2000) {
  const pgid = child?.pid;
  if (pgid === undefined) return;
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pgid)) {
    signalGroup(pgid, "SIGKILL");
    const hardDeadline = Date.now() + 5000;
    while (groupAlive(pgid) && Date.now() < hardDeadline) await sleep(50);
  }
  groups.delete(pgid);
  if (groupAlive(pgid)) throw new Error(`process group ${pgid} survived SIGKILL`);
}

function killEveryGroup() {
  for (const pgid of groups) signalGroup(pgid, "SIGKILL");
  groups.clear();
}

process.on("exit", killEveryGroup);
for (const [signal, number] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
  ["SIGHUP", 1],
]) {
  process.on(signal, () => {
    killEveryGroup();
    process.exit(128 + number);
  });
}
