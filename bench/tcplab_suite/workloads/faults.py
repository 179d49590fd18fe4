"""faults: how each chapter-30 design and each io_uring design behaves when clients or workers misbehave, over real
loopback sockets (whole only when named: --workloads faults; the default run holds its lab
slice, PLANS["lab"]: one crashing handler on the two designs of bench/LAB.md's question 11).

  bad_input  the request corpus (tests/corpus/bad_requests.txt): each case's exact answer, a good
             request after it, and the descriptors of the server and its children before/after
  slow       100 clients that send nothing, one byte a second, or never read a 1 MiB answer,
             with a normal client's latency measured alongside (--io-timeout-ms short)
  resets     clients that reset (SO_LINGER 0) in the middle of a large response: the server
             survives and counts them (failures.reset)
  crashes    kill -9 of a random worker every 200 ms under load (process designs: success rate,
             respawn time from the scoreboard's worker_pids), and one crashing handler
             (--fault-inject "crash"): every design
  emfile     RLIMIT_NOFILE 64 (prlimit) and 500 clients at once: survives, CPU while saturated,
             serves everyone once the load drops

Every scenario is bounded in count and time, connects to 127.0.0.1 only, kills only pids the
suite started (the server, or a worker whose parent is that server), and reaps everything.
"""

import errno
import json
import os
import random
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import threading
import time

from .. import designs as D
from .. import procfs
from ..core import LOAD_TIMEOUT_S, Server, StepError, load_command, record_step
from ..corpus import body, load_corpus

NAME = "faults"
DEFAULT = "lab"
COST = "about 4.5 min (--quick under 1 min)"
LAB_COST = ("under a second (LAB question 11: one crashing handler on prefork-fdpass and "
            "prethread-dispatch)")
LOOPBACK_ONLY = "its clients are the suite's own Python sockets to 127.0.0.1"
SCENARIOS = ("bad_input", "slow", "resets", "crashes", "emfile")
# The steps a plan may run ("steps"; all of them by default), in this order: the crashes
# scenario is two, kill -9 under load ("kill") and one crashing handler ("crash_request").
STEPS = ("bad_input", "slow", "resets", "kill", "crash_request", "emfile")
PLANS = {
    "default": {
        "workers": 15,
        "slow": {"clients": 100, "kinds": ["silent", "trickle", "nonreader"],
                 "io_timeout_ms": 2000, "window_s": 4.0, "probe_requests": 20,
                 "nonreader_bytes": 1 << 20},
        "resets": {"clients": 50, "concurrency": 10, "bytes": 1 << 26, "read_bytes": 65536},
        "crashes": {"duration_s": 30.0, "interval_s": 0.2, "clients": 4, "bytes": 4000},
        "emfile": {"nofile": 64, "clients": 500, "hold_s": 2.0, "after": 50},
    },
    "quick": {
        "workers": 15,
        "slow": {"clients": 100, "kinds": ["silent", "trickle", "nonreader"],
                 "io_timeout_ms": 1000, "window_s": 1.0, "probe_requests": 20,
                 "nonreader_bytes": 1 << 20},
        "resets": {"clients": 20, "concurrency": 10, "bytes": 1 << 26, "read_bytes": 65536},
        # quick: kill -9 only the process pools without an accept lock
        "crashes": {"duration_s": 5.0, "interval_s": 0.2, "clients": 4, "bytes": 4000,
                    "only_lockless": True},
        "emfile": {"nofile": 64, "clients": 500, "hold_s": 0.5, "after": 20},
    },
    # The default run's slice: bench/LAB.md's question 11, a crashing handler in a process
    # pool that passes descriptors against one in a thread pool.
    "lab": {"workers": 15, "slice": "lab", "steps": ["crash_request"],
            "designs": ["prefork-fdpass", "prethread-dispatch"]},
}
CHARTS = ("faults_bad_input", "faults_slow_clients", "faults_resets", "faults_crashes",
          "faults_emfile")


def fault_designs(ctx, p):
    """The chapter-30 designs and the io_uring ones (the epoll designs have their own
    workloads: stall, idle), or those of them the plan names."""
    chosen = D.chapter30(ctx.designs) + D.io_uring(ctx.designs)
    return D.names(D.subset(chosen, p.get("designs")))


def crash_designs(ctx, p):
    """Designs whose workers are processes, for kill -9 (quick: the lock-free pools only)."""
    ds = D.subset(D.processes(ctx.designs), p.get("designs"))
    if p.get("crashes", {}).get("only_lockless"):
        ds = [d for d in ds if d["pooled"] and d["accept_lock"] is None]
    return D.names(ds)


def plan_steps(p):
    return [s for s in STEPS if s in p.get("steps", STEPS)]


def steps(ctx):
    p = ctx.plan(PLANS)
    n, todo = len(fault_designs(ctx, p)), plan_steps(p)
    per_design = {"bad_input": 1, "slow": len(p["slow"]["kinds"]) if "slow" in todo else 0,
                  "resets": 1, "crash_request": 1, "emfile": 1}
    return (n * sum(per_design.get(s, 0) for s in todo)
            + (len(crash_designs(ctx, p)) if "kill" in todo else 0))


# --------------------------------------------------------------------------- helpers

def open_clients(port, n, rcvbuf=None):
    """n non-blocking connections to 127.0.0.1:port, connecting in the background."""
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    return socks

def connect(port, rcvbuf=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def read_to_eof(s, limit=1 << 27):
    data = bytearray()
    while len(data) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def request(port, n=100, timeout=5.0):
    """One good line request on a fresh connection: (ok, seconds)."""
    t0 = time.monotonic()
    try:
        with connect(port, timeout=timeout) as s:
            s.sendall(b"%d\n" % n)
            s.shutdown(socket.SHUT_WR)
            ok = read_to_eof(s) == body(n)
    except OSError:
        ok = False
    return ok, time.monotonic() - t0


def reset_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


# --------------------------------------------------------------------------- 1. bad input

def bad_input(ctx, design, workers):
    cases = load_corpus()
    caps = sorted({c["max_bytes"] for c in cases})
    r = {"design": design, "cases": len(cases), "exact": 0, "wrong": [], "good_after": 0,
         "fds_before": None, "fds_after": None, "alive": True}
    for cap in caps:
        group = [c for c in cases if c["max_bytes"] == cap]
        with Server(ctx, design, workers, extra=["--max-bytes", str(cap)]) as srv:
            request(srv.port)
            before = procfs.settled_fds(srv.pid)
            for c in group:
                try:
                    with connect(srv.port) as s:
                        s.sendall(c["input"])
                        if not c["closes"]:
                            got = b""
                            while len(got) < len(c["expect"]):
                                chunk = s.recv(65536)
                                if not chunk:
                                    break
                                got += chunk
                            s.shutdown(socket.SHUT_WR)
                            got += read_to_eof(s)
                        else:
                            got = read_to_eof(s)
                except OSError as e:
                    got = f"({e})".encode()
                if got == c["expect"]:
                    r["exact"] += 1
                else:
                    r["wrong"].append({"name": c["name"], "line": c["line"],
                                       "got": got[:80].decode("latin-1")})
                r["good_after"] += request(srv.port)[0]
            after = procfs.settled_fds(srv.pid)
            r["fds_before"] = (r["fds_before"] or 0) + before
            r["fds_after"] = (r["fds_after"] or 0) + after
            r["alive"] = r["alive"] and srv.alive()
    return r


# --------------------------------------------------------------------------- 2. slow clients

def slow_clients(ctx, design, workers, kind, p):
    """100 slow clients of one kind, then a normal client's requests for window_s."""
    extra = ["--io-timeout-ms", str(p["io_timeout_ms"])]
    if kind == "nonreader":
        extra += ["--max-bytes", str(p["nonreader_bytes"])]
    r = {"design": design, "kind": kind, "clients": p["clients"]}
    raise_nofile(4 * p["clients"] + 256)
    stop = threading.Event()
    socks = []
    with Server(ctx, design, workers, extra=extra) as srv:
        a = srv.snapshot()
        try:
            # A small receive window for the non-reader: the server's writes really block.
            socks += open_clients(srv.port, p["clients"], rcvbuf=4096 if kind == "nonreader" else None)
            time.sleep(0.05)
            for s in socks:
                try:
                    if kind == "nonreader":
                        s.send(b"%d\n" % p["nonreader_bytes"])
                    elif kind == "trickle":
                        s.send(b"0")
                except OSError:
                    pass
            trickler = None
            if kind == "trickle":
                def trickle():
                    while not stop.wait(1.0):
                        for s in socks:
                            try:
                                s.send(b"0")  # leading zeros: a valid number, one byte a second
                            except OSError:
                                pass
                trickler = threading.Thread(target=trickle, daemon=True)
                trickler.start()
            # The normal client: one request after another, each with a time limit.
            t0 = time.monotonic()
            lat, failed, first_ok = [], 0, None
            while len(lat) < p["probe_requests"]:
                left = p["window_s"] - (time.monotonic() - t0)
                if left <= 0.01:
                    break
                ok, took = request(srv.port, 4000, timeout=left)
                if ok:
                    lat.append(took)
                    if first_ok is None:
                        first_ok = time.monotonic() - t0
                else:
                    failed += 1
            r["probe_ok"] = len(lat)
            r["probe_failed"] = failed
            r["probe_p50_ms"] = statistics.median(lat) * 1e3 if lat else None
            r["probe_max_ms"] = max(lat) * 1e3 if lat else None
            r["first_ok_s"] = first_ok
            r["window_s"] = p["window_s"]
            b = srv.snapshot()
            r["server_timeouts"] = b["failures"]["timeout"] - a["failures"]["timeout"]
            r["alive"] = srv.alive()
        finally:
            stop.set()
            for s in socks:
                s.close()
    r["exit"] = srv.exit
    return r


# --------------------------------------------------------------------------- 3. resets

def resets(ctx, design, workers, p):
    r = {"design": design, "resets_sent": 0}
    with Server(ctx, design, workers, extra=["--max-bytes", str(p["bytes"])]) as srv:
        a = srv.snapshot()

        def one():
            try:
                with connect(srv.port, timeout=10) as s:
                    s.sendall(b"%d\n" % p["bytes"])
                    got = 0
                    while got < p["read_bytes"]:
                        chunk = s.recv(p["read_bytes"] - got)
                        if not chunk:
                            return False
                        got += len(chunk)
                    reset_close(s)
                    return True
            except OSError:
                return False

        sent = 0
        for start in range(0, p["clients"], p["concurrency"]):
            n = min(p["concurrency"], p["clients"] - start)
            results = []
            threads = [threading.Thread(target=lambda: results.append(one())) for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            sent += sum(results)
        r["resets_sent"] = sent
        deadline = time.monotonic() + 5
        while True:  # a connection is counted when it ends: wait for the server to see each RST
            b = srv.snapshot()
            counted = b["failures"]["reset"] - a["failures"]["reset"]
            if counted >= sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        r["counted_reset"] = counted
        r["counted_io_error"] = b["failures"]["io_error"] - a["failures"]["io_error"]
        r["good_after"] = request(srv.port, 4000)[0]
        r["alive"] = srv.alive()
    r["exit"] = srv.exit
    return r


# --------------------------------------------------------------------------- 4. crashes

def kill_loop(ctx, design, workers, p):
    """kill -9 of a random worker every interval_s while tcplab-load runs for duration_s."""
    r = {"design": design, "duration_s": p["duration_s"], "interval_s": p["interval_s"],
         "kills": 0, "respawn_ms": []}
    rng = random.Random(6)
    with Server(ctx, design, workers) as srv:
        raw = os.path.join(ctx.raw_dir, f"faults_crashes_{design}.load.json")
        cmd = load_command(ctx, srv.port, p["clients"], 1, p["bytes"],
                           duration_s=p["duration_s"], json_path=raw)
        a = srv.snapshot()
        load = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            pending = {}  # slot -> (killed pid, when)
            next_kill = time.monotonic() + p["interval_s"]
            while load.poll() is None:
                now = time.monotonic()
                snap = srv.snapshot()
                pids = snap.get("worker_pids") or []
                for slot, (dead, when) in list(pending.items()):
                    if slot < len(pids) and pids[slot] not in (0, dead):
                        r["respawn_ms"].append((time.monotonic() - when) * 1e3)
                        del pending[slot]
                if now >= next_kill:
                    next_kill += p["interval_s"]
                    if design == "fork":
                        victims = procfs.children(srv.pid)
                    else:
                        victims = [pid for slot, pid in enumerate(pids)
                                   if pid and slot not in pending]
                    victims = [v for v in victims if procfs.parent_of(v) == srv.pid]  # ours only
                    if victims:
                        victim = rng.choice(victims)
                        try:
                            os.kill(victim, signal.SIGKILL)
                        except ProcessLookupError:
                            continue  # it exited by itself in between (fork's children live briefly)
                        r["kills"] += 1
                        if design != "fork":
                            pending[pids.index(victim)] = (victim, time.monotonic())
                time.sleep(0.005)
            r["not_respawned_at_end"] = len(pending)
        finally:
            if load.poll() is None:
                load.kill()
            load.wait(LOAD_TIMEOUT_S)
        if load.returncode != 0:
            raise StepError(f"tcplab-load exited {load.returncode}: "
                              f"{load.stderr.read().decode(errors='replace')[-300:]}")
        load.stderr.close()
        with open(raw) as f:
            lj = json.load(f)
        b = srv.snapshot()
        ok, failed = lj["counts"]["requests"], lj["counts"]["failed"]
        r["requests_ok"], r["requests_failed"] = ok, failed
        r["failures_by_kind"] = {k: v for k, v in lj["counts"]["failures"].items() if v}
        r["success_rate"] = ok / (ok + failed) if ok + failed else None
        r["worker_died"] = b["events"]["worker_died"] - a["events"]["worker_died"]
        r["worker_respawned"] = b["events"]["worker_respawned"] - a["events"]["worker_respawned"]
        rs = sorted(r["respawn_ms"])
        r["respawn_p50_ms"] = statistics.median(rs) if rs else None
        r["respawn_max_ms"] = rs[-1] if rs else None
        r["alive"] = srv.alive()
    r["exit"] = srv.exit
    return r


def crash_request(ctx, design, workers):
    """One handler crashes (--fault-inject, request "crash") while another client is mid-
    conversation: does the server survive, and does the bystander?"""
    r = {"design": design}
    with Server(ctx, design, workers, extra=["--fault-inject"]) as srv:
        request(srv.port)
        # iterative serves one connection at a time: a bystander would keep the crash waiting.
        by = connect(srv.port) if design != "iterative" else None
        try:
            if by:
                by.sendall(b"10\n")
                got = b""
                while len(got) < 10:
                    got += by.recv(10 - len(got)) or b"!"
            t0 = time.monotonic()
            try:
                with connect(srv.port) as c:
                    c.sendall(b"crash\n")
                    c.settimeout(5)
                    r["crasher_got_bytes"] = len(read_to_eof(c))
            except OSError as e:
                r["crasher_got_bytes"] = 0
                r["crasher_error"] = errno.errorcode.get(e.errno, str(e))
            time.sleep(0.2)
            r["server_alive"] = srv.alive()
            try:
                if by is None:
                    raise OSError("no bystander")
                by.sendall(b"20\n")
                by.settimeout(2)
                got = b""
                while len(got) < 20:
                    chunk = by.recv(20 - len(got))
                    if not chunk:
                        break
                    got += chunk
                r["bystander_ok"] = got == body(20)
            except OSError:
                r["bystander_ok"] = False if by else None
            r["new_client_ok"] = request(srv.port, 1000, timeout=2)[0] if srv.alive() else False
            if not srv.alive():
                r["server_down_after_ms"] = (time.monotonic() - t0) * 1e3
        finally:
            if by:
                by.close()
    r["exit"] = srv.exit
    r["exit_text"] = (f"killed by signal {-srv.exit}" if isinstance(srv.exit, int) and srv.exit < 0
                      else f"exit {srv.exit}")
    return r


# --------------------------------------------------------------------------- 5. descriptors

def emfile(ctx, design, workers, p):
    r = {"design": design, "nofile": p["nofile"], "clients": p["clients"]}
    if not os.access("/usr/bin/prlimit", os.X_OK):
        raise StepError("prlimit (util-linux) not installed")
    raise_nofile(p["clients"] + 256)
    launcher = ["/usr/bin/prlimit", f"--nofile={p['nofile']}:{p['nofile']}"]
    # prlimit execs taskset, which execs the server: the pid stays the server's.
    with Server(ctx, design, workers, launcher=launcher) as srv:
        request(srv.port)
        sel = selectors.DefaultSelector()
        socks = []
        try:
            socks += open_clients(srv.port, p["clients"])
            time.sleep(0.2)
            a = srv.snapshot()  # the control socket keeps a spare descriptor for this
            time.sleep(p["hold_s"])
            b = srv.snapshot()
            r["saturated_fds"] = procfs.fd_count(srv.pid)
            r["saturated_cpu_s_per_s"] = (cpu_s(b) - cpu_s(a)) / (b["monotonic_s"] - a["monotonic_s"])
            r["alive_saturated"] = srv.alive()
            # The load drops: every client asks for 100 bytes and reads the answer.
            t0 = time.monotonic()
            got = {}
            for s in socks:
                try:
                    s.send(b"100\n")
                    s.shutdown(socket.SHUT_WR)
                    sel.register(s, selectors.EVENT_READ)
                    got[s] = b""
                except OSError:
                    pass
            served, deadline = 0, time.monotonic() + 30
            while got and time.monotonic() < deadline:
                for key, _ in sel.select(0.5):
                    s = key.fileobj
                    try:
                        chunk = s.recv(65536)
                    except OSError:
                        chunk = b""
                    if chunk:
                        got[s] += chunk
                        continue
                    served += got.pop(s) == body(100)
                    sel.unregister(s)
            r["served"] = served
            r["drain_s"] = time.monotonic() - t0
            r["served_after"] = sum(request(srv.port, 4000)[0] for _ in range(p["after"]))
            r["alive"] = srv.alive()
            c = srv.snapshot()
            r["fork_failed"] = c["events"]["fork_failed"]
            r["thread_failed"] = c["events"]["thread_failed"]
            r["dropped"] = c["events"]["dropped"]
        finally:
            sel.close()
            for s in socks:
                s.close()
    err = srv.stderr_text()
    r["backed_off"] = "backing off" in err
    r["log"] = sorted({line.split("]: ", 1)[-1] for line in err.splitlines()
                       if "logged once" in line})[:6]
    r["exit"] = srv.exit
    return r




def cpu_s(snap):
    return snap["cpu_user_s"] + snap["cpu_sys_s"]


def run(ctx):
    plan = ctx.plan(PLANS)
    if not steps(ctx):
        return   # a lab slice whose designs --only left out
    workers = ctx.workers(plan["workers"])
    names = fault_designs(ctx, plan)
    todo = plan_steps(plan)
    sc = {k: [] for k in SCENARIOS}
    ctx.workload(NAME, kind="faults", params=plan, entries=[], scenarios=sc)
    for d in names if "bad_input" in todo else ():
        record_step(ctx, f"faults/bad_input/{d}", f"{d:<26} faults: bad input", sc["bad_input"],
             lambda: bad_input(ctx, d, workers),
             lambda r: f"{r['exact']}/{r['cases']} exact, {r['good_after']} good after, "
                       f"fds {r['fds_before']}→{r['fds_after']}")
    for d in names if "slow" in todo else ():
        for kind in plan["slow"]["kinds"]:
            record_step(ctx, f"faults/slow/{d}/{kind}", f"{d:<26} faults: slow {kind}", sc["slow"],
                 lambda: slow_clients(ctx, d, workers, kind, plan["slow"]),
                 lambda r: f"probe {r['probe_ok']} ok / {r['probe_failed']} failed, first ok "
                           f"{r['first_ok_s'] if r['first_ok_s'] is None else round(r['first_ok_s'], 2)} s")
    for d in names if "resets" in todo else ():
        record_step(ctx, f"faults/resets/{d}", f"{d:<26} faults: resets", sc["resets"],
             lambda: resets(ctx, d, workers, plan["resets"]),
             lambda r: f"{r['resets_sent']} sent, {r['counted_reset']} counted, alive {r['alive']}")
    for d in crash_designs(ctx, plan) if "kill" in todo else ():
        record_step(ctx, f"faults/crashes/{d}", f"{d:<26} faults: kill -9 loop", sc["crashes"],
             lambda: {**kill_loop(ctx, d, workers, plan["crashes"]), "mode": "kill"},
             lambda r: f"{r['kills']} kills, success {100 * (r['success_rate'] or 0):.2f} %, "
                       f"respawn p50 {_ms(r['respawn_p50_ms'])} ms")
    for d in names if "crash_request" in todo else ():
        record_step(ctx, f"faults/crash-request/{d}", f"{d:<26} faults: crash request", sc["crashes"],
             lambda: {**crash_request(ctx, d, workers), "mode": "crash-request"},
             lambda r: f"server {'survives' if r['server_alive'] else 'DIES'} "
                       f"({r['exit_text']}), bystander ok {r['bystander_ok']}")
    for d in names if "emfile" in todo else ():
        record_step(ctx, f"faults/emfile/{d}", f"{d:<26} faults: RLIMIT_NOFILE 64", sc["emfile"],
             lambda: emfile(ctx, d, workers, plan["emfile"]),
             lambda r: f"{r['served']}/{r['clients']} served, {r['saturated_cpu_s_per_s']:.3f} "
                       f"CPU s/s saturated, alive {r['alive']}")


# --------------------------------------------------------------------------- summary.md

def _ms(v):
    return "–" if v is None else f"{v:,.0f}"


def summary(results):
    lines = []
    f = results["workloads"].get("faults")
    if f:
        sc, p = f["scenarios"], f["params"]
        lines += ["", "## Faults (`--workloads faults`)", "",
                  "Every scenario on a fresh server, loopback only; see bench/tcplab_suite/workloads/faults.py.", ""]
        if p.get("slice") == "lab":
            lines += ["The default run's slice for bench/LAB.md (question 11): one crashing "
                      f"handler on {', '.join(p['designs'])}; `--workloads {NAME}` runs every "
                      "scenario on every design.", ""]
        if sc["bad_input"]:
            lines += ["### Bad input: the request corpus over real sockets", "",
                      "| design | exact answers | good request after each | descriptors before → after | alive |",
                      "|---|---:|---:|---:|---|"]
            for r in sc["bad_input"]:
                lines.append(f"| {r['design']} | {r['exact']}/{r['cases']} | {r['good_after']}/{r['cases']} "
                             f"| {r['fds_before']} → {r['fds_after']} | {r['alive']} |")
                for w in r["wrong"][:3]:
                    lines.append(f"|  ↳ wrong: `{w['name']}` | `{w['got'][:40]!r}` | | | |")
        if sc["slow"]:
            q = p["slow"]
            lines += ["", f"### Slow clients: {q['clients']} slow clients, then a normal client's "
                      f"requests one after another ({q['probe_requests']} at most, within "
                      f"{q['window_s']} s; --io-timeout-ms {q['io_timeout_ms']})", "",
                      "| design | slow kind | normal requests ok / failed | first ok after s | p50 ms | max ms | server timeouts |",
                      "|---|---|---:|---:|---:|---:|---:|"]
            for r in sc["slow"]:
                fo = "never" if r.get("first_ok_s") is None else f"{r['first_ok_s']:.2f}"
                lines.append(f"| {r['design']} | {r['kind']} | {r['probe_ok']} / {r['probe_failed']} "
                             f"| {fo} | {_ms(r['probe_p50_ms'])} | {_ms(r['probe_max_ms'])} "
                             f"| {r['server_timeouts']} |")
        if sc["resets"]:
            lines += ["", "### Resets in the middle of a response (SO_LINGER 0 after "
                      f"{p['resets']['read_bytes']} of {p['resets']['bytes']:,} bytes)", "",
                      "| design | resets sent | failures.reset | failures.io_error | good request after | alive |",
                      "|---|---:|---:|---:|---|---|"]
            for r in sc["resets"]:
                lines.append(f"| {r['design']} | {r['resets_sent']} | {r['counted_reset']} "
                             f"| {r['counted_io_error']} | {r['good_after']} | {r['alive']} |")
        kills = [r for r in sc["crashes"] if r.get("mode") == "kill"]
        if kills:
            q = p["crashes"]
            lines += ["", f"### kill -9 of a random worker every {q['interval_s'] * 1e3:.0f} ms "
                      f"for {q['duration_s']:g} s under load ({q['clients']} clients)", "",
                      "| design | kills | requests ok | failed | success rate | respawn p50 ms | respawn max ms | failures |",
                      "|---|---:|---:|---:|---:|---:|---:|---|"]
            for r in kills:
                rate = "–" if r["success_rate"] is None else f"{100 * r['success_rate']:.3f} %"
                fails = ", ".join(f"{k} {v}" for k, v in r["failures_by_kind"].items()) or "–"
                lines.append(f"| {r['design']} | {r['kills']} | {r['requests_ok']:,} | "
                             f"{r['requests_failed']} | {rate} | {_ms(r['respawn_p50_ms'])} "
                             f"| {_ms(r['respawn_max_ms'])} | {fails} |")
        crashes = [r for r in sc["crashes"] if r.get("mode") == "crash-request"]
        if crashes:
            lines += ["", "### One crashing handler (`--fault-inject`, request `crash`) while "
                      "another client is mid-conversation", "",
                      "| design | server | exit | bystander served | new client served |",
                      "|---|---|---|---|---|"]
            for r in crashes:
                lines.append(f"| {r['design']} | {'survives' if r['server_alive'] else '**dies**'} "
                             f"| {r['exit_text']} | {r['bystander_ok']} | {r['new_client_ok']} |")
        if sc["emfile"]:
            q = p["emfile"]
            lines += ["", f"### Descriptor exhaustion: RLIMIT_NOFILE {q['nofile']}, "
                      f"{q['clients']} clients held {q['hold_s']} s, then all ask", "",
                      "| design | server fds when saturated | CPU s per s saturated | backed off | served | drain s | served after | alive |",
                      "|---|---:|---:|---|---:|---:|---:|---|"]
            for r in sc["emfile"]:
                lines.append(f"| {r['design']} | {r['saturated_fds']} | {r['saturated_cpu_s_per_s']:.3f} "
                             f"| {r['backed_off']} | {r['served']}/{r['clients']} | {r['drain_s']:.2f} "
                             f"| {r['served_after']}/{q['after']} | {r['alive']} |")
    return lines
