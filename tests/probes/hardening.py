#!/usr/bin/env python3
"""Hardening probes of issue 12, re-run against the `kontor` CLI.

Each probe drives the real binary (KONTOR_BIN) in `--json` mode on throwaway data directories, against the
Demo Bank the CLI starts in-process, and counts tries that held and tries that failed. Prints a markdown
table and the details of every failure. Exit status 1 when a probe failed, 0 otherwise.

Run through tests/probes/hardening.sh (a private keyring session); see tests/probes/README.md.
Every process started here is killed and reaped when the script ends (normally, by an exception, or by
SIGINT/SIGTERM).
"""

import atexit
import base64
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import urllib.error

BIN = os.environ.get("KONTOR_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "target", "debug", "kontor"))
SEED = int(os.environ.get("PROBES_SEED", "12"))
RNG = random.Random(SEED)
ROOT = tempfile.mkdtemp(prefix="kontor-probes-")
os.chmod(ROOT, 0o700)
KEYRING_SERVICE = "dev.kontor.Kontor"

# ---------------------------------------------------------------------------------------------------------
# processes: every child is tracked, killed and reaped at exit

CHILDREN = set()
CHILDREN_LOCK = threading.Lock()


def _spawn(args, **kw):
    proc = subprocess.Popen(args, **kw)
    with CHILDREN_LOCK:
        CHILDREN.add(proc)
    return proc


def _forget(proc):
    with CHILDREN_LOCK:
        CHILDREN.discard(proc)


def _end_all():
    with CHILDREN_LOCK:
        procs = list(CHILDREN)
        CHILDREN.clear()
    for proc in procs:
        if proc.poll() is None:
            try:
                proc.kill()
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except Exception:
            pass
    shutil.rmtree(ROOT, ignore_errors=True)


def _on_signal(signum, _frame):
    _end_all()
    sys.exit(128 + signum)


atexit.register(_end_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def base_env(log=False):
    env = dict(os.environ)
    for name in ("KONTOR_LOG", "KONTOR_DEMO_BANK_URL", "KONTOR_CLIENT_SECRET", "KONTOR_PASSPHRASE", "KONTOR_DATA_DIR"):
        env.pop(name, None)
    env["KONTOR_POLL_INTERVAL_MS"] = "0"
    if log:
        env["KONTOR_LOG"] = "trace"
    return env


class Result:
    def __init__(self, rc, out, err, argv):
        self.rc, self.out, self.err, self.argv = rc, out, err, argv
        self.lines = []
        for line in out.decode("utf-8", "replace").splitlines():
            try:
                self.lines.append(json.loads(line))
            except ValueError:
                self.lines.append({"type": "<not json>", "text": line})

    @property
    def errors(self):
        return [l for l in self.lines if l.get("type") in ("error", "<not json>")]

    @property
    def results(self):
        return [l for l in self.lines if l.get("type") == "result"]

    def panicked(self):
        return self.rc == 101 or b"panicked" in self.err or b"panicked" in self.out

    def describe(self, limit=600):
        argv = " ".join(a if isinstance(a, str) else repr(a) for a in self.argv[1:])
        out = self.out.decode("utf-8", "replace").strip()
        err = self.err.decode("utf-8", "replace").strip()
        text = f"`kontor {argv}` → exit {self.rc}"
        if self.errors:
            text += "; error lines: " + " ".join(json.dumps(e)[:limit] for e in self.errors)
        text += f"; stdout: {out[:limit]!r}"
        if err:
            text += f"; stderr: {err[:limit]!r}"
        return text


def kontor(data_dir, *args, stdin=b"", timeout=120, env=None, json_mode=True):
    argv = [BIN] + (["--json"] if json_mode else []) + (["--data-dir", data_dir] if data_dir is not None else []) + list(args)
    proc = _spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or base_env())
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += b"\n[probe: timed out after %d s and was killed]" % timeout
    finally:
        _forget(proc)
    return Result(proc.returncode, out, err, argv)


class Player:
    """A `kontor --json` process answered line by line."""

    def __init__(self, data_dir, *args, env=None):
        self.argv = [BIN, "--json", "--data-dir", data_dir] + list(args)
        self.proc = _spawn(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=env or base_env())
        self.seen = []
        self.err_chunks = []
        self._lines = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for raw in self.proc.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"type": "<not json>", "text": raw.decode("utf-8", "replace")}
            with self._cond:
                self._lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._lines.append(None)
            self._cond.notify_all()

    def _read_err(self):
        for raw in self.proc.stderr:
            self.err_chunks.append(raw)

    def next(self, timeout=60):
        deadline = time.time() + timeout
        with self._cond:
            while True:
                for i, line in enumerate(self._lines):
                    if line is None:
                        return None
                    if line.get("type") != "progress":
                        del self._lines[: i + 1]
                        self.seen.append(line)
                        return line
                # drop progress lines
                self.seen.extend(self._lines)
                self._lines.clear()
                left = deadline - time.time()
                if left <= 0:
                    return {"type": "<timeout>"}
                self._cond.wait(left)

    def send(self, answer):
        self.proc.stdin.write((json.dumps(answer) + "\n").encode())
        self.proc.stdin.flush()

    def finish(self, timeout=60):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        _forget(self.proc)
        while self.next(timeout=2) not in (None, {"type": "<timeout>"}):
            pass
        return rc

    @property
    def stderr(self):
        return b"".join(self.err_chunks)


# ---------------------------------------------------------------------------------------------------------
# helpers

def new_dir(name):
    path = os.path.join(ROOT, name)
    # the parent is private; the data directory itself is created by kontor (0700)
    return path


def copy_dir(src, name):
    dst = os.path.join(ROOT, name)
    shutil.copytree(src, dst, symlinks=True)
    os.chmod(dst, 0o700)
    return dst


def file_hashes(d):
    hashes = {}
    for base, dirs, files in os.walk(d):
        for name in files + [x for x in dirs]:
            path = os.path.join(base, name)
            rel = os.path.relpath(path, d)
            try:
                st = os.lstat(path)
                if stat.S_ISDIR(st.st_mode):
                    hashes[rel] = "dir %o" % (st.st_mode & 0o7777)
                    continue
                with open(path, "rb") as f:
                    hashes[rel] = hashlib.sha256(f.read()).hexdigest() + " %o" % (st.st_mode & 0o7777)
            except OSError as err:
                hashes[rel] = f"unreadable {err.errno} %o" % (os.lstat(path).st_mode & 0o7777)
    return hashes


def vault_files(d):
    """Hashes of the files that hold the vault (the Demo Bank's own state file is not the vault)."""
    return {k: v for k, v in file_hashes(d).items() if k.startswith("kontor.db") or k.startswith("vault.json")}


def snapshot(d):
    """The vault's content as seen through the CLI, or None with the failing result."""
    acc = kontor(d, "accounts")
    con = kontor(d, "connections")
    if acc.rc != 0 or con.rc != 0:
        return None, [r for r in (acc, con) if r.rc != 0][0]
    # every transaction, page by page (the CLI pages by at most 1,000 with a cursor)
    txs, after = {}, None
    while True:
        tx = kontor(d, "transactions", "--limit", "1000", *(["--after", after] if after else []))
        if tx.rc != 0:
            return None, tx
        page = tx.results[0]
        txs.update({t["id"]: (t["account_id"], t["amount"], t["booking_date"]) for t in page["transactions"]})
        after = page.get("next")
        if not after:
            break
    accounts = {a["id"]: (a.get("balance_booked"), a.get("connection_id")) for a in acc.results[0]["accounts"]}
    cons = {c["id"]: c.get("last_synced_at") for c in con.results[0]["connections"]}
    return {"accounts": accounts, "transactions": txs, "connections": cons}, None


def keyring_key(d):
    try:
        with open(os.path.join(d, "vault.json")) as f:
            meta = json.load(f)
    except (OSError, ValueError):
        return None
    if meta.get("key_source") != "keyring":
        return None
    proc = _spawn(["secret-tool", "lookup", "service", KEYRING_SERVICE, "username", "vault-key-" + meta["vault_id"]],
                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(timeout=20)
    finally:
        _forget(proc)
    key = out.decode().strip()
    return key or None


def link(d, bank, login="demo_no_msa", pin="demo_no_msa", env=None):
    """Links a Demo Bank test bank without SCA; returns the result line or raises."""
    p = Player(d, "link", "--bank", bank, env=env)
    line = p.next()
    if line and line.get("type") == "request" and line["request"]["kind"] == "enter_credentials":
        fields = line["request"]["fields"]
        p.send({"kind": "credentials", "values": [{"label": fields[0]["label"], "value": login},
                                                  {"label": fields[1]["label"], "value": pin}]})
        line = p.next()
    while line and line.get("type") == "request":
        kind = line["request"]["kind"]
        if kind == "approve_in_app":
            p.send({"kind": "continue"})
        elif kind == "select_accounts":
            p.send({"kind": "accounts", "ibans": line["request"].get("known_ibans") or []})
        else:
            break
        line = p.next()
    rc = p.finish()
    if not line or line.get("kind") != "linked" or rc != 0:
        raise RuntimeError(f"link {bank} failed: {line} (exit {rc}) {p.stderr[-800:]!r}")
    return line


TABLE = []  # (probe, tried, held, failures)


def record(probe, tried, held, failures):
    TABLE.append((probe, tried, held, failures))
    print(f"[probe] {probe}: tried {tried}, held {held}, failed {tried - held}", file=sys.stderr, flush=True)


def progress(msg):
    print(f"[probe] {msg}", file=sys.stderr, flush=True)


FIXTURE = {}


def fixture(n_connections=3):
    """A vault with `n_connections` Demo Bank connections, made once and copied for each try."""
    if n_connections in FIXTURE:
        return FIXTURE[n_connections]
    d = new_dir(f"fixture-{n_connections}")
    for bank in ["280001", "280004", "280002"][:n_connections]:
        link(d, bank)
    snap, bad = snapshot(d)
    if snap is None:
        raise RuntimeError("fixture unreadable: " + bad.describe())
    FIXTURE[n_connections] = (d, snap)
    return d, snap


# ---------------------------------------------------------------------------------------------------------
# 1. SIGKILL during sync --all

def probe_sync_kill(tries=40):
    base, old = fixture(3)
    timings = []
    for i in range(3):
        d = copy_dir(base, f"synctime-{i}")
        t = time.time()
        r = kontor(d, "sync", "--all")
        timings.append(time.time() - t)
        if r.rc != 0:
            raise RuntimeError("an uninterrupted sync --all failed: " + r.describe())
    window = max(timings)
    progress(f"sync --all takes {window:.2f} s; killing at {tries} points over it")
    held, failures = 0, []
    for i in range(tries):
        d = copy_dir(base, f"synckill-{i}")
        delay = window * (i + 0.5) / tries
        proc = _spawn([BIN, "--json", "--data-dir", d, "sync", "--all"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        time.sleep(delay)
        proc.kill()
        out, _ = proc.communicate()
        _forget(proc)
        synced_before_kill = out.count(b'"synced"')
        problems = []
        snap, bad = snapshot(d)
        if snap is None:
            problems.append("the vault did not open afterwards: " + bad.describe())
        else:
            if set(snap["connections"]) != set(old["connections"]):
                problems.append(f"connections changed: {snap['connections']} vs {old['connections']}")
            for cid, last in old["connections"].items():
                now = snap["connections"].get(cid)
                accounts = {a for a, (_, c) in old["accounts"].items() if c == cid}
                old_tx = {k: v for k, v in old["transactions"].items() if v[0] in accounts}
                new_tx = {k: v for k, v in snap["transactions"].items() if v[0] in accounts}
                if now == last:
                    # not synced: everything of this connection must be the old state
                    new_acc = {a: v for a, v in snap["accounts"].items() if v[1] == cid}
                    old_acc = {a: v for a, v in old["accounts"].items() if v[1] == cid}
                    if new_tx != old_tx or new_acc != old_acc:
                        problems.append(f"connection {cid} not marked synced but its data changed "
                                        f"({len(old_tx)} → {len(new_tx)} bookings)")
                elif not new_tx and old_tx:
                    problems.append(f"connection {cid} marked synced but lost its bookings")
            again = kontor(d, "sync", "--all")
            if again.rc != 0 or len(again.results) != len(old["connections"]) or again.errors:
                problems.append("a new sync --all failed: " + again.describe())
        if problems:
            failures.append(f"kill after {delay*1000:.0f} ms ({synced_before_kill} connections reported synced "
                            f"before the kill): " + "; ".join(problems))
        else:
            held += 1
        shutil.rmtree(d, ignore_errors=True)
    record("SIGKILL during `sync --all` (3 connections)", tries, held, failures)


# ---------------------------------------------------------------------------------------------------------
# 2. secrets in KONTOR_LOG=trace output

PIN_MARKER = "PinProbe4711x"
TAN_MARKER = "918273"
SECRET_MARKER = "ClientSecretProbe-9f8e7d6c"
SECRET_MARKER_ENV = "ClientSecretProbeEnv-1a2b3c4d"
DEMO_CLIENT_SECRET = "kontor-demo-secret"


def tokens_in(path):
    """Token-like strings (access/refresh tokens, codes) from the Demo Bank's state file."""
    found = set()
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return found

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and re.search(r"token|secret|code", key, re.I) and len(node) >= 16:
            found.add(node)

    walk(data)
    return found


def secret_link(d, bank, procedure=None, redirect=False):
    p = Player(d, "link", "--bank", bank, env=base_env(log=True))
    line = p.next()
    asked_pin_again = asked_tan_again = False
    while line and line.get("type") == "request":
        kind = line["request"]["kind"]
        if kind == "enter_credentials":
            fields = line["request"]["fields"]
            pin = "demo" if asked_pin_again else PIN_MARKER
            asked_pin_again = True
            p.send({"kind": "credentials", "values": [{"label": fields[0]["label"], "value": "demo"},
                                                      {"label": fields[1]["label"], "value": pin}]})
        elif kind == "choose_procedure":
            p.send({"kind": "procedure", "id": procedure or line["request"]["procedures"][0]["id"]})
        elif kind == "enter_tan":
            tan = "123456" if asked_tan_again else TAN_MARKER
            asked_tan_again = True
            p.send({"kind": "tan", "tan": tan})
        elif kind == "approve_in_app":
            p.send({"kind": "continue"})
        elif kind == "select_accounts":
            p.send({"kind": "accounts", "ibans": line["request"].get("known_ibans") or []})
        elif kind == "open_browser":
            location = approve(line["request"]["url"])
            p.send({"kind": "callback", "url": location})
        else:
            break
        line = p.next()
    rc = p.finish()
    return rc, line, p


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def approve(url):
    """Plays the browser on the Demo Bank's redirect page: GET <url>/approve, the Location is the callback."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url.rstrip("/") + "/approve", timeout=30)
    except urllib.error.HTTPError as err:
        if err.code in (301, 302, 303, 307, 308):
            return err.headers.get("Location")
        raise
    raise RuntimeError("the Demo Bank's approve page did not redirect")


def probe_secrets():
    held, failures, runs = 0, [], []

    def check(name, d, outputs, extra_secrets=()):
        secrets = {"PIN (wrong attempt)": PIN_MARKER, "TAN (wrong attempt)": TAN_MARKER,
                   "client secret (stdin)": SECRET_MARKER, "client secret (env)": SECRET_MARKER_ENV,
                   "Demo Bank client secret": DEMO_CLIENT_SECRET}
        key = keyring_key(d)
        if key:
            secrets["vault key (keyring)"] = key
        elif os.environ.get("KONTOR_PASSPHRASE"):
            secrets["vault passphrase"] = os.environ["KONTOR_PASSPHRASE"]
        for i, tok in enumerate(sorted(tokens_in(os.path.join(d, "demo-bank.json")))):
            secrets[f"Demo Bank token/code #{i} ({tok[:6]}…)"] = tok
        for i, s in enumerate(extra_secrets):
            secrets[f"extra #{i}"] = s
        logs = list(outputs)
        for base, _, files in os.walk(d):
            for f in files:
                if f.endswith(".log"):
                    with open(os.path.join(base, f), "rb") as fh:
                        logs.append(fh.read())
        blob = b"\n".join(logs)
        leaked = []
        for label, value in secrets.items():
            needle = value.encode()
            for variant in (needle, needle.upper(), needle.lower()):
                at = blob.find(variant)
                if at >= 0:
                    ctx = blob[max(0, at - 120): at + len(needle) + 60].decode("utf-8", "replace")
                    leaked.append(f"{label} found: …{ctx}…")
                    break
        size = len(blob)
        if not key and not os.environ.get("KONTOR_PASSPHRASE"):
            leaked.append("could not read the vault key from the keyring to look for it")
        runs.append(f"{name}: {size} bytes of output searched for {len(secrets)} secrets")
        if leaked:
            failures.append(f"{name}: " + " | ".join(leaked))
            return False
        return True

    # run 1: first start + link 280001 smsTAN, wrong PIN then right, wrong TAN then right
    d = new_dir("secrets-1")
    rc, line, p = secret_link(d, "280001", "DEMO-TSP-01")
    ok = rc == 0 and line and line.get("kind") == "linked"
    if not ok:
        failures.append(f"run 1 did not link: {line} exit {rc}")
    held += check("link 280001 smsTAN (wrong PIN, wrong TAN, then right)", d, [p.stderr] + [json.dumps(l).encode() for l in p.seen]) and ok
    # run 2: chipTAN optical (each link in its own vault: the Demo Bank links one login once per vault)
    d2 = new_dir("secrets-2")
    rc, line, p = secret_link(d2, "280001", "DEMO-TSP-03")
    ok = rc == 0 and line and line.get("kind") == "linked"
    if not ok:
        failures.append(f"run 2 did not link: {line} exit {rc}")
    held += check("link 280001 chipTAN optical", d2, [p.stderr] + [json.dumps(l).encode() for l in p.seen]) and ok
    # run 3: decoupled
    d3 = new_dir("secrets-3")
    rc, line, p = secret_link(d3, "280004")
    ok = rc == 0 and line and line.get("kind") == "linked"
    if not ok:
        failures.append(f"run 3 did not link: {line} exit {rc}")
    held += check("link 280004 decoupled", d3, [p.stderr] + [json.dumps(l).encode() for l in p.seen]) and ok
    # run 4: redirect with the callback as an answer
    d4 = new_dir("secrets-4")
    rc, line, p = secret_link(d4, "280002")
    ok = rc == 0 and line and line.get("kind") == "linked"
    if not ok:
        failures.append(f"run 4 did not link: {line} exit {rc}")
    held += check("link 280002 redirect", d4, [p.stderr] + [json.dumps(l).encode() for l in p.seen]) and ok
    # run 5: sync --all (the Demo Bank's client secret and tokens in use)
    r = kontor(d, "sync", "--all", env=base_env(log=True))
    ok = r.rc == 0
    if not ok:
        failures.append("run 5 sync failed: " + r.describe())
    held += check("sync --all", d, [r.err, r.out]) and ok
    # run 6: provider add with a client secret on stdin
    d6 = new_dir("secrets-6")
    r = kontor(d6, "provider", "add", "--kind", "finapi", "--base-url", "https://bank.example.com", "--client-id",
               "probe-client", "--client-secret-stdin", stdin=(SECRET_MARKER + "\n").encode(), env=base_env(log=True))
    ok = r.rc == 0
    if not ok:
        failures.append("run 6 provider add failed: " + r.describe())
    r2 = kontor(d6, "provider", "list", env=base_env(log=True))
    held += check("provider add --client-secret-stdin, provider list", d6, [r.err, r.out, r2.err, r2.out]) and ok
    # run 7: provider add with KONTOR_CLIENT_SECRET, then banks search (uses the secret: fails offline)
    d7 = new_dir("secrets-7")
    env = base_env(log=True)
    env["KONTOR_CLIENT_SECRET"] = SECRET_MARKER_ENV
    r = kontor(d7, "provider", "add", "--kind", "finapi", "--base-url", "https://bank.example.invalid", "--client-id",
               "probe-client", env=env)
    ok = r.rc == 0
    if not ok:
        failures.append("run 7 provider add failed: " + r.describe())
    r2 = kontor(d7, "banks", "search", "Test", env=base_env(log=True), timeout=90)
    held += check("provider add via KONTOR_CLIENT_SECRET, banks search with it", d7, [r.err, r.out, r2.err, r2.out]) and ok
    for line in runs:
        progress("secrets " + line)
    progress("secrets: finX refresh tokens not reached (needs the sandbox binary's finX face and a widget player)")
    record("secrets in `KONTOR_LOG=trace` output (stdout, stderr, *.log; PIN, TAN, client secrets, vault key, Demo Bank tokens)",
           7, held, failures)


# ---------------------------------------------------------------------------------------------------------
# 3. kill during the very first start

def probe_first_start():
    # The creation window: from the moment the first file appears in the data directory (the keyring
    # entry is written by then; the staging database is being created) to the moment the process ends, measured on uninterrupted first starts.
    starts, ends = [], []
    for i in range(5):
        d = new_dir(f"first-whole-{i}")
        t = time.time()
        proc = _spawn([BIN, "--json", "--data-dir", d, "connections"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=base_env())
        appeared = None
        while proc.poll() is None:
            try:
                if appeared is None and os.listdir(d):
                    appeared = time.time() - t
            except OSError:
                pass
            time.sleep(0.001)
        _forget(proc)
        ends.append(time.time() - t)
        starts.append(appeared if appeared is not None else 0.0)
        if proc.returncode != 0:
            raise RuntimeError(f"an uninterrupted first start failed: exit {proc.returncode}")
    starts.sort()
    ends.sort()
    # a little before the earliest first file to the latest end: kills land before, during and after publishing
    lo, hi = max(0.0, starts[0] - 0.02), ends[-1]
    signals = ([signal.SIGKILL] * 3 + [signal.SIGINT, signal.SIGTERM]) * 10  # 30 KILL, 10 INT, 10 TERM
    progress(f"a first start's first file appears after {starts[0]*1000:.0f}-{starts[-1]*1000:.0f} ms, the process "
             f"ends after {ends[0]*1000:.0f}-{ends[-1]*1000:.0f} ms; {len(signals)} kills spread over "
             f"{lo*1000:.0f}-{hi*1000:.0f} ms")
    held, failures, interrupted, states = 0, [], 0, {}
    for i, sig in enumerate(signals):
        d = new_dir(f"first-kill-{i}")
        delay = lo + (hi - lo) * i / len(signals)
        proc = _spawn([BIN, "--json", "--data-dir", d, "connections"], stdin=subprocess.DEVNULL,
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=base_env())
        time.sleep(delay)
        proc.send_signal(sig)
        rc = proc.wait()
        _forget(proc)
        if rc < 0:
            interrupted += 1
        left = sorted(os.listdir(d)) if os.path.isdir(d) else []
        key = "+".join(left) or "(nothing)"
        states[key] = states.get(key, 0) + 1
        nxt = kontor(d, "connections")
        if nxt.rc != 0 or b"VaultCorrupt" in nxt.out or nxt.panicked():
            failures.append(f"{signal.Signals(sig).name} after {delay*1000:.0f} ms (left: {left}): next start: "
                            + nxt.describe())
        else:
            held += 1
    progress(f"first start: {interrupted} of {len(signals)} were ended by the signal; files left: {states}")
    record("kill during the very first start (SIGKILL 30, SIGINT 10, SIGTERM 10)", len(signals), held, failures)


# ---------------------------------------------------------------------------------------------------------
# 4. tan decode with random and near-valid input

VALID_FLICKER = ["0D8401957624620527479445851D", "0388A01239230520422218", "1784011049174743123456780825041200001234567890",
                 "118B0A1234567890123456781E"]


def mutate(s):
    s = list(s)
    op = RNG.randrange(7)
    if op == 0 and s:
        s[RNG.randrange(len(s))] = RNG.choice("0123456789ABCDEFabcdefxyz %#\u00e9\u200b")
    elif op == 1 and s:
        del s[RNG.randrange(len(s))]
    elif op == 2:
        s.insert(RNG.randrange(len(s) + 1), RNG.choice("0123456789ABCDEF"))
    elif op == 3:
        s = s[: RNG.randrange(len(s) + 1)]
    elif op == 4:
        s = s + s
    elif op == 5 and len(s) > 2:
        s[0:2] = list("%02X" % RNG.randrange(256))
    else:
        s = s + list("F" * RNG.randrange(1, 80))
    return "".join(s)


def tan_inputs(n):
    inputs = []
    while len(inputs) < n:
        k = len(inputs) % 10
        hhd = RNG.choice([None, None, None, "1.3", "1.3", "1.4", "1.4", "1.5", "", "x"])
        extra = ["--hhd", hhd] if hhd is not None else []
        if k < 4:
            inputs.append(["tan", "decode", mutate(RNG.choice(VALID_FLICKER))] + extra)
        elif k == 4:
            n_hex = RNG.randrange(0, 300)
            inputs.append(["tan", "decode", "".join(RNG.choice("0123456789ABCDEF") for _ in range(n_hex))] + extra)
        elif k == 5:
            raw = bytes(RNG.randrange(256) for _ in range(RNG.randrange(1, 60))).replace(b"\0", b"")
            inputs.append([b"tan", b"decode", raw or b"\xff"])  # arbitrary bytes, often not UTF-8
        elif k == 6:
            inputs.append(["tan", "decode", "".join(chr(RNG.randrange(1, 0x3000)) for _ in range(RNG.randrange(1, 40)))] + extra)
        elif k == 7:
            data = bytes(RNG.randrange(256) for _ in range(RNG.randrange(0, 400)))
            if RNG.random() < 0.5:
                data = b"\x89PNG\r\n\x1a\n" + data
            b64 = base64.b64encode(data).decode()
            if RNG.random() < 0.3:
                b64 = mutate(b64)
            mime = RNG.choice([None, "image/png", "image/jpeg", "text/plain", "", "\u00e9/x"])
            inputs.append(["tan", "decode", "--photo", b64] + (["--mime", mime] if mime is not None else []))
        elif k == 8:
            # near-valid: a valid code with a length byte or control byte changed
            s = RNG.choice(VALID_FLICKER)
            pos = RNG.randrange(0, len(s) - 1)
            inputs.append(["tan", "decode", s[:pos] + "%X" % RNG.randrange(16) + s[pos + 1:]] + extra)
        else:
            odd = RNG.choice(["", "-", "--", "-x", " ", "0", "FF" * 2000, "\t", "0D", "0D84", "1784", "%00",
                              "٠١٢٣", "0D8401957624620527479445851D\n", "--photo", "data:image/png;base64,AAAA"])
            inputs.append(["tan", "decode", "--", odd] + extra if odd.startswith("-") else ["tan", "decode", odd] + extra)
    return inputs


def probe_tan(n=2400):
    inputs = tan_inputs(n)
    held, failures, lock = 0, [], threading.Lock()
    counts = {"exit0": 0, "exit1": 0, "exit2": 0, "other": 0, "not_json": 0}
    it = iter(enumerate(inputs))

    def worker():
        nonlocal held
        while True:
            with lock:
                try:
                    i, args = next(it)
                except StopIteration:
                    return
            argv = [BIN] + [a.encode() if isinstance(a, str) else a for a in args]
            proc = _spawn(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=base_env())
            try:
                out, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += b"[probe: timed out]"
            _forget(proc)
            r = Result(proc.returncode, out, err, argv)
            with lock:
                key = {0: "exit0", 1: "exit1", 2: "exit2"}.get(r.rc, "other")
                counts[key] += 1
                if any(l.get("type") == "<not json>" for l in r.lines) or not r.lines:
                    counts["not_json"] += 1
                if r.panicked() or r.rc not in (0, 1, 2) or b"[probe: timed out]" in err:
                    failures.append(f"input #{i} {args!r}: exit {r.rc}; stdout {out[:300]!r}; stderr {err[:400]!r}")
                else:
                    held += 1

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    progress(f"tan decode outcomes: {counts} (not_json: runs whose stdout was not only JSON lines)")
    record("`tan decode` with random and near-valid input", len(inputs), held, failures)


# ---------------------------------------------------------------------------------------------------------
# 5. damaged vault

CLEAR_CODES = {"VaultCorrupt", "VaultWrongKey", "VaultNewerSchema", "VaultKeyMissing", "PassphraseRequired",
               "InvalidInput", "VaultBusy"}


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def set_user_version(d, version):
    """Rewrites page 1 of a SQLCipher 4 database (raw key from the keyring) with another user_version."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes  # type: ignore
    key = bytes.fromhex(keyring_key(d))
    path = os.path.join(d, "kontor.db")
    with open(path, "r+b") as f:
        page = bytearray(f.read(4096))
        salt = bytes(page[:16])
        hmac_key = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in salt), 2, 32)
        iv = bytes(page[4016:4032])
        body = bytes(page[16:4016])
        mac = hmac.new(hmac_key, body + iv + (1).to_bytes(4, "little"), hashlib.sha512).digest()
        if mac != bytes(page[4032:4096]):
            raise RuntimeError("page 1's HMAC does not match (not SQLCipher 4 defaults?)")
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        plain = bytearray(dec.update(body) + dec.finalize())
        plain[60 - 16:64 - 16] = version.to_bytes(4, "big")
        iv = os.urandom(16)
        enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        body = enc.update(bytes(plain)) + enc.finalize()
        mac = hmac.new(hmac_key, body + iv + (1).to_bytes(4, "little"), hashlib.sha512).digest()
        page[16:4016], page[4016:4032], page[4032:4096] = body, iv, mac
        f.seek(0)
        f.write(page)


def damage_kinds(other_vault):
    def db(d):
        return os.path.join(d, "kontor.db")

    def meta(d):
        return os.path.join(d, "vault.json")

    def truncate(n):
        def f(d):
            size = os.path.getsize(db(d))
            with open(db(d), "r+b") as fh:
                fh.truncate(max(0, size - n) if n else 0)
        return f

    def write_file(path_of, data):
        def f(d):
            with open(path_of(d), "wb") as fh:
                fh.write(data() if callable(data) else data)
        return f

    def wrong_key_check(d):
        with open(meta(d)) as fh:
            m = json.load(fh)
        m["key_check"] = hashlib.sha256(b"probe").hexdigest()
        with open(meta(d), "w") as fh:
            json.dump(m, fh)

    def zero_page(d):
        with open(db(d), "r+b") as fh:
            fh.seek(4096)
            fh.write(b"\0" * 4096)

    def directory(d):
        os.rename(db(d), db(d) + ".moved")
        os.mkdir(db(d), 0o700)

    def swapped(d):
        shutil.copyfile(os.path.join(other_vault, "kontor.db"), db(d))

    def world_writable_dir(d):
        os.chmod(d, 0o777)

    # (name, damage, harmless: a success with the data intact is fine)
    return [
        ("kontor.db truncated to 0 bytes", truncate(0), False),
        ("kontor.db truncated by 1 byte", truncate(1), False),
        ("kontor.db: byte flipped at the start (offset 0)", lambda d: flip(db(d), 0), False),
        ("kontor.db: byte flipped in the middle", lambda d: flip(db(d), os.path.getsize(db(d)) // 2), False),
        ("kontor.db: byte flipped at the end", lambda d: flip(db(d), os.path.getsize(db(d)) - 1), False),
        ("kontor.db: page 2 zeroed", zero_page, False),
        ("kontor.db: 1,000 bytes of garbage appended", lambda d: open(db(d), "ab").write(os.urandom(1000)), True),
        ("kontor.db deleted, vault.json kept", lambda d: os.remove(db(d)), False),
        ("vault.json deleted, kontor.db kept", lambda d: os.remove(meta(d)), False),
        ("vault.json: random bytes", write_file(meta, lambda: os.urandom(300)), False),
        ("vault.json: empty", write_file(meta, b""), False),
        ("vault.json: wrong key_check", wrong_key_check, False),
        ("kontor.db-wal: garbage", write_file(lambda d: db(d) + "-wal", lambda: os.urandom(5000)), True),
        ("kontor.db-shm: stale (random bytes)", write_file(lambda d: db(d) + "-shm", lambda: os.urandom(32768)), True),
        ("kontor.db is a directory", directory, False),
        ("kontor.db read-only (0400)", lambda d: os.chmod(db(d), 0o400), True),
        ("kontor.db unreadable (0000; root bypasses it)", lambda d: os.chmod(db(d), 0o000), os.geteuid() == 0),
        ("kontor.db swapped with another vault's", swapped, False),
        ("newer schema version (user_version = 99)", lambda d: set_user_version(d, 99), False),
        ("data directory writable by others (0777)", world_writable_dir, False),
    ]


DAMAGE_COMMANDS = [["accounts"], ["transactions"], ["sync", "--all"], ["connections"], ["provider", "list"]]


def probe_damage():
    base, old = fixture(1)
    other = new_dir("other-vault")
    r = kontor(other, "connections")
    if r.rc != 0:
        raise RuntimeError("could not make a second vault: " + r.describe())
    # sanity check of the page-1 rewriter: the same version must still open
    try:
        chk = copy_dir(base, "schema-check")
        set_user_version(chk, 2)
        s, bad = snapshot(chk)
        if s is None:
            progress("page-1 rewrite check failed: " + bad.describe())
    except Exception as err:  # noqa: BLE001
        progress(f"page-1 rewrite unavailable: {err}")
    held, failures, tried, seen = 0, [], 0, {}
    for k, (name, damage, harmless) in enumerate(damage_kinds(other)):
        for c, cmd in enumerate(DAMAGE_COMMANDS):
            tried += 1
            d = copy_dir(base, f"damage-{k}-{c}")
            try:
                damage(d)
            except Exception as err:  # noqa: BLE001
                failures.append(f"{name} × `{' '.join(cmd)}`: the damage could not be applied ({err})")
                continue
            dir_mode = os.stat(d).st_mode & 0o7777
            before = vault_files(d)
            r = kontor(d, *cmd)
            after = vault_files(d)
            dir_mode_after = os.stat(d).st_mode & 0o7777
            why = None
            codes = [e.get("code") for e in r.errors]
            if r.panicked():
                why = "panicked"
            elif r.rc != 0:
                # Io is clear where it names the file it could not open (e.g. a directory in its place)
                unclear = [e.get("code") for e in r.errors if e.get("code") not in CLEAR_CODES
                           and not (e.get("code") == "Io" and os.path.join(d, "kontor.db") in e.get("message", ""))]
                if not codes:
                    why = "failed without an error line"
                elif unclear:
                    why = f"unclear error code {unclear}"
                elif before != after:
                    why = f"failed ({codes}) but the files changed: {diff(before, after)}"
                elif dir_mode != dir_mode_after:
                    why = f"the data directory's mode changed {dir_mode:o} → {dir_mode_after:o}"
            else:
                if r.errors:
                    why = f"exit 0 with error lines {codes}"
                elif not harmless:
                    # a success is only fine if nothing was lost (the damage turned out harmless)
                    os.chmod(d, 0o700)
                    snap, bad = snapshot(d)
                    if snap is None:
                        why = "succeeded, but the vault fails afterwards: " + bad.describe(200)
                    elif set(old["transactions"]) - set(snap["transactions"]) or set(old["accounts"]) - set(snap["accounts"]):
                        why = (f"succeeded, but data is lost: {len(snap['accounts'])} of {len(old['accounts'])} accounts, "
                               f"{len(snap['transactions'])} of {len(old['transactions'])} bookings")
                    elif before != after and not cmd[0] == "sync":
                        why = f"succeeded on undetected damage and the files changed: {diff(before, after)}"
                    elif before == after:
                        why = None  # harmless: e.g. a flipped byte in an unused page
                        progress(f"note: {name} × {' '.join(cmd)} succeeded with the data intact (damage not in use)")
                else:
                    snap, bad = snapshot(d)
                    if snap is None:
                        why = "succeeded, but the vault fails afterwards: " + bad.describe(200)
                    elif set(old["transactions"]) - set(snap["transactions"]):
                        why = "succeeded, but bookings are lost"
            outcome = ",".join(codes) if r.rc != 0 else "ok"
            seen.setdefault(name, []).append(f"{outcome}")
            if why:
                failures.append(f"{name} × `{' '.join(cmd)}`: {why}. {r.describe(300)}")
            else:
                held += 1
            os.chmod(d, 0o700)
            for base_, dirs, files in os.walk(d):
                for x in dirs + files:
                    try:
                        os.chmod(os.path.join(base_, x), 0o700)
                    except OSError:
                        pass
            shutil.rmtree(d, ignore_errors=True)
    for name, outcomes in seen.items():
        progress(f"damage {name}: {' / '.join(outcomes)} (accounts / transactions / sync --all / connections / provider list)")
    record("damaged vault (20 kinds of damage × 5 commands)", tried, held, failures)


def diff(before, after):
    keys = sorted(set(before) | set(after))
    return ", ".join(f"{k}: {before.get(k, '-')[:14]} → {after.get(k, '-')[:14]}" for k in keys if before.get(k) != after.get(k))


# ---------------------------------------------------------------------------------------------------------
# 6. two sync --all at once

def probe_concurrent_sync(pairs=9):
    base, old = fixture(3)
    allowed = {"VaultBusy", "ResourceBusy"}
    held, failures = 0, []
    for i in range(pairs):
        d = copy_dir(base, f"pair-{i}")
        offset = [0, 0, 0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5][i % 9]
        a = _spawn([BIN, "--json", "--data-dir", d, "sync", "--all"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        time.sleep(offset)
        b = _spawn([BIN, "--json", "--data-dir", d, "sync", "--all"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=base_env())
        results = []
        for proc in (a, b):
            try:
                out, err = proc.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
            _forget(proc)
            results.append(Result(proc.returncode, out, err, proc.args))
        problems = []
        for label, r in zip("AB", results):
            codes = [e.get("code") for e in r.errors]
            if r.panicked():
                problems.append(f"{label} panicked: {r.describe(300)}")
            elif r.rc == 0 and not codes and len(r.results) == len(old["connections"]):
                continue
            elif codes and all(c in allowed for c in codes):
                continue
            else:
                problems.append(f"{label}: {r.describe(400)}")
        snap, bad = snapshot(d)
        if snap is None:
            problems.append("the vault fails afterwards: " + bad.describe(300))
        if problems:
            failures.append(f"pair {i} (second started {offset*1000:.0f} ms later): " + " | ".join(problems))
        else:
            held += 1
        shutil.rmtree(d, ignore_errors=True)
    record("two `sync --all` at once on one data directory (pairs)", pairs, held, failures)


# ---------------------------------------------------------------------------------------------------------
# 7. forged callbacks

def probe_callbacks():
    forged = [
        lambda q: f"javascript:alert(1)//?{q}",
        lambda q: f"file:///etc/passwd?{q}",
        lambda q: f"http://evil.example/callback?{q}",
        lambda q: f"kontor://evil/?{q}",
    ]
    held, failures, tried = 0, [], 0
    for i, make in enumerate(forged):
        d = new_dir(f"callbacks-{i}")  # the Demo Bank links one login once per vault
        p = Player(d, "link", "--bank", "280002")
        line = p.next()
        fields = line["request"]["fields"] if line and line.get("type") == "request" else None
        if not fields:
            failures.append(f"#{i}: no login request: {line}")
            tried += 2
            p.finish()
            continue
        p.send({"kind": "credentials", "values": [{"label": fields[0]["label"], "value": "demo"},
                                                  {"label": fields[1]["label"], "value": "demo"}]})
        line = p.next()
        if not line or line.get("request", {}).get("kind") != "open_browser":
            failures.append(f"#{i}: no open_browser request: {line}")
            tried += 2
            p.finish()
            continue
        flow_id = line["flow_id"]
        right = approve(line["request"]["url"])
        query = right.split("?", 1)[1]
        url = make(query)
        # a) as an answer to the running link
        tried += 1
        p.send({"kind": "callback", "url": url})
        reply = p.next()
        ok_a = (reply and reply.get("type") == "request" and reply["request"]["kind"] == "open_browser"
                and reply.get("error", {}).get("code") in ("InvalidInput", "ScaStateMismatch"))
        # b) as `kontor callback URL` in another process
        tried += 1
        r = kontor(d, "callback", url, timeout=60)
        codes = [e.get("code") for e in r.errors]
        ok_b = r.rc != 0 and codes and all(c in ("InvalidInput", "ScaStateMismatch") for c in codes) and not r.panicked()
        # the flow is still pending and completes with the right address
        p.send({"kind": "callback", "url": right})
        done = p.next()
        rc = p.finish()
        completed = done and done.get("kind") == "linked" and rc == 0
        if ok_a and completed:
            held += 1
        else:
            failures.append(f"{url} as an answer to flow {flow_id}: reply {json.dumps(reply)[:400]}; "
                            f"afterwards the right callback gave {json.dumps(done)[:300]} (exit {rc})")
        if ok_b and completed:
            held += 1
        else:
            failures.append(f"`kontor --json callback '{url}'` while flow {flow_id} waited: {r.describe(300)}; "
                            f"afterwards the right callback gave {json.dumps(done)[:300]} (exit {rc})")
    record("forged callbacks (right state; 4 wrong schemes/hosts × as an answer / `kontor callback`)", tried, held, failures)


# ---------------------------------------------------------------------------------------------------------

PROBES = {
    "sync-kill": probe_sync_kill,
    "secrets": probe_secrets,
    "firststart": probe_first_start,
    "tan": probe_tan,
    "damage": probe_damage,
    "concurrent": probe_concurrent_sync,
    "callbacks": probe_callbacks,
}


def main(argv):
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__ + "\nprobes: " + " ".join(PROBES))
        return 0
    chosen = argv or list(PROBES)
    unknown = [p for p in chosen if p not in PROBES]
    if unknown:
        print(f"unknown probes {unknown}; known: {' '.join(PROBES)}", file=sys.stderr)
        return 2
    progress(f"binary {BIN}, seed {SEED}, work dir {ROOT}")
    started = time.time()
    for name in chosen:
        t = time.time()
        try:
            PROBES[name]()
        except Exception as err:  # noqa: BLE001
            import traceback
            traceback.print_exc()
            record(f"{name} (the probe itself broke: {err})", 1, 0, [f"harness error: {err!r}"])
        progress(f"{name} took {time.time() - t:.0f} s")
    print()
    print("| probe | tried | held | failed |")
    print("|---|---|---|---|")
    for probe, tried, held, failures in TABLE:
        print(f"| {probe} | {tried:,} | {held:,} | {tried - held:,} |")
    print()
    any_failed = False
    for probe, tried, held, failures in TABLE:
        if failures:
            any_failed = True
            print(f"### Failures: {probe}")
            print()
            for f in failures:
                print(f"- {f}")
            print()
    print(f"(seed {SEED}, {time.time() - started:.0f} s)")
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
