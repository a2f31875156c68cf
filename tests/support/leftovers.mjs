#!/usr/bin/env node
// Finds the processes a test run left behind. A run exports a marker (`NAME=VALUE`) that every process it
// starts inherits in its environment, whatever process group or session it moved to; this lists those still
// running, apart from this process and its ancestors (the run itself), ends them, and exits 1 if there were
// any, so a leak fails the run instead of outliving it.
//
//   node tests/support/leftovers.mjs --marker NAME=VALUE [--wait SECONDS] [--spare comm,comm] [--quiet-spared]
//
// --wait   how long processes that are already ending get to exit before they count (default 5)
// --spare  process names (as in /proc/PID/comm) that are not reported nor ended, e.g. the Xvfb and D-Bus
//          daemon that their wrappers end right after
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : process.argv[at + 1];
}

const marker = option("--marker");
if (!marker || !marker.includes("=")) {
  console.error("usage: leftovers.mjs --marker NAME=VALUE [--wait SECONDS] [--spare comm,comm]");
  process.exit(2);
}
const waitMs = Number(option("--wait", "5")) * 1000;
const spared = new Set(option("--spare", "").split(",").filter(Boolean));

function read(path) {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

function parentOf(pid) {
  const stat = read(`/proc/${pid}/stat`)?.toString();
  if (!stat) return { ppid: 0, state: "" };
  // the command name in parentheses may itself contain spaces or parentheses
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), state: fields[0] };
}

function ancestors() {
  const chain = new Set();
  let pid = process.pid;
  while (pid > 1 && !chain.has(pid)) {
    chain.add(pid);
    pid = parentOf(pid).ppid;
  }
  return chain;
}

function marked() {
  const own = ancestors();
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (own.has(pid)) continue;
    const environ = read(`/proc/${pid}/environ`);
    if (!environ || !environ.toString("latin1").split("\0").includes(marker)) continue;
    if (parentOf(pid).state === "Z") continue;
    const comm = read(`/proc/${pid}/comm`)?.toString().trim() ?? "?";
    const args = read(`/proc/${pid}/cmdline`)?.toString().split("\0").join(" ").trim() ?? "";
    found.push({ pid, comm, args });
  }
  return found;
}

function leftovers() {
  return marked().filter((p) => !spared.has(p.comm));
}

let left = leftovers();
const deadline = Date.now() + waitMs;
while (left.length > 0 && Date.now() < deadline) {
  await sleep(100);
  left = leftovers();
}
if (left.length === 0) process.exit(0);

console.error(`These processes were left running by the test run (${marker}); ending them:`);
for (const p of left) console.error(`  ${p.pid} ${p.comm}: ${p.args.slice(0, 200)}`);
for (const p of left) {
  try {
    process.kill(p.pid, "SIGKILL");
  } catch {
    // already gone
  }
}
process.exit(1);
