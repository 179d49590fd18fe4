#!/usr/bin/python3
"""tcplab against Stevens' C, same client (issue 13).

Runs each server of UNP vol. 1 ch. 30 from your own unpv13e checkout (server/serv00 ... serv08,
built there as the checkout's README and server/Makefile say) and its tcplab twin, one after the
other, each driven by Stevens' own server/client, and prints the CPU each server spent per
connection:

  design               Stevens   tcplab design
  iterative            serv00    iterative
  fork                 serv01    fork
  prefork              serv02    prefork
  prefork-fcntl        serv03    prefork-fcntl
  prefork-mutex        serv04    prefork-mutex
  prefork-fdpass       serv05    prefork-fdpass
  thread               serv06    thread
  prethread-mutex      serv07    prethread-mutex
  prethread-dispatch   serv08    prethread-dispatch

How it measures. Each server's whole process tree runs in a cgroup of its own (cgroup v1
cpuacct: cpuacct.usage; or cgroup v2: cpu.stat usage_usec), joined before exec so every child
and thread it makes is counted; the CPU is the cgroup's usage from "listening, pool started" to
"client done, every per-connection child or thread gone". Without a writable cgroup the script
stops: it does not fall back to tick-sampled getrusage figures (Stevens' pr_cpu_time, which each
serv0N prints at SIGINT, is kept in --json for reference only). The server is pinned to
--server-cpu, the client to --client-cpu. Repetitions interleave: repetition k of every design,
Stevens' then tcplab's (the order alternating per repetition), before repetition k+1. The table
gives the median over repetitions and the range [min-max].

It connects to 127.0.0.1 only, kills only the servers it started (by pid) and reaps them, and
removes its cgroups. Needs root (or a cgroup delegated to you). Standard library only.

Example (the table of issue 13):
  sudo bench/stevens_compare.py ~/src/unpv13e --reps 3 --json /tmp/stevens.json
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (tcplab design, Stevens' program, does it take a pool size). Checked against server/Makefile
# and the serv0N.c listings: serv00 iterative, serv01 one fork per client, serv02 prefork with
# no locking, serv03 fcntl lock, serv04 pthread mutex in shared memory, serv05 descriptor
# passing, serv06 one thread per client, serv07 mutex around accept, serv08 main thread accepts.
PAIRS = (
    ("iterative", "serv00", False),
    ("fork", "serv01", False),
    ("prefork", "serv02", True),
    ("prefork-fcntl", "serv03", True),
    ("prefork-mutex", "serv04", True),
    ("prefork-fdpass", "serv05", True),
    ("thread", "serv06", False),
    ("prethread-mutex", "serv07", True),
    ("prethread-dispatch", "serv08", True),
)
DESIGNS = [p[0] for p in PAIRS]


class Error(Exception):
    """A problem the user can fix: printed without a traceback, exit status 2."""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="stevens_compare.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__.split("\n\n")[0] + "\n\n" + "\n\n".join(__doc__.split("\n\n")[1:]))
    p.add_argument("unpv13e", help="your unpv13e checkout (its root or its server/ directory), "
                   "with serv00..serv08 and client built in server/")
    p.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"),
                   help="directory holding tcplab-server (default: %(default)s)")
    p.add_argument("--designs", default=",".join(DESIGNS),
                   help="comma-separated tcplab designs to compare (default: all nine)")
    p.add_argument("--reps", type=int, default=3, help="repetitions of each pair (default: 3)")
    p.add_argument("--children", type=int, default=5, help="client processes (default: 5)")
    p.add_argument("--loops", type=int, default=4000,
                   help="connections per client process (default: 4000)")
    p.add_argument("--bytes", type=int, default=4000,
                   help="bytes asked for per connection, 1..16384 (default: 4000)")
    p.add_argument("--workers", type=int, default=15,
                   help="pool size of the pooled designs, both sides (default: 15, the book's)")
    p.add_argument("--server-cpu", type=int, default=0, help="CPU the server runs on (default: 0)")
    p.add_argument("--client-cpu", type=int, default=1, help="CPU the client runs on (default: 1)")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="seconds one client run may take before the script gives up (default: 900)")
    p.add_argument("--json", metavar="FILE", help="also write every run and the table as JSON")
    a = p.parse_args(argv)
    a.designs = [d.strip() for d in a.designs.split(",") if d.strip()]
    unknown = [d for d in a.designs if d not in DESIGNS]
    if unknown or not a.designs:
        p.error(f"--designs: unknown {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(DESIGNS)}")
    for name in ("reps", "children", "loops", "workers"):
        if getattr(a, name) < 1:
            p.error(f"--{name} must be at least 1")
    if not 1 <= a.bytes <= 16384:
        p.error("--bytes must be 1..16384 (Stevens' web_child answers at most MAXN = 16384)")
    ncpu = os.cpu_count() or 1
    for name in ("server_cpu", "client_cpu"):
        if not 0 <= getattr(a, name) < ncpu:
            p.error(f"--{name.replace('_', '-')} must be a CPU number below {ncpu}")
    return a


# ---------------------------------------------------------------- cgroups


def find_cgroup_root(mounts_text):
    """Where to make per-server cgroups: ("v1", dir) for a cpuacct hierarchy, ("v2", dir) for
    cgroup2, or None. mounts_text is /proc/self/mounts; v1 cpuacct wins when both exist (its
    usage is in ns and needs no controller enabled)."""
    v1 = v2 = None
    for line in mounts_text.splitlines():
        f = line.split()
        if len(f) < 4:
            continue
        mountpoint, fstype, options = f[1], f[2], f[3].split(",")
        if fstype == "cgroup" and "cpuacct" in options and v1 is None:
            v1 = mountpoint
        elif fstype == "cgroup2" and v2 is None:
            v2 = mountpoint
    if v1:
        return ("v1", v1)
    if v2:
        return ("v2", v2)
    return None


def parse_usage_ns(version, text):
    """The CPU time a cgroup has used, in ns, from cpuacct.usage (v1) or cpu.stat (v2)."""
    if version == "v1":
        return int(text.strip())
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "usage_usec":
            return int(value) * 1000
    raise Error("cpu.stat has no usage_usec line")


class Cgroup:
    """One cgroup for one server's process tree."""

    def __init__(self, version, root, name):
        self.version, self.path = version, os.path.join(root, name)
        try:
            os.mkdir(self.path)
        except OSError as e:
            raise Error(f"cannot make cgroup {self.path}: {e.strerror} (run as root, or "
                        f"delegate a cgroup to you)") from None
        self.usage_file = "cpuacct.usage" if version == "v1" else "cpu.stat"
        self.threads_file = "tasks" if version == "v1" else "cgroup.threads"

    def join_self(self):
        """Run in the forked child before exec: the server and all it forks are counted."""
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write("0\n" if self.version == "v2" else f"{os.getpid()}\n")

    def usage_ns(self):
        with open(os.path.join(self.path, self.usage_file)) as f:
            return parse_usage_ns(self.version, f.read())

    def threads(self):
        with open(os.path.join(self.path, self.threads_file)) as f:
            return len(f.read().split())

    def remove(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise Error(f"cannot remove cgroup {self.path}: tasks still in it")
                time.sleep(0.05)


def open_cgroups():
    with open("/proc/self/mounts") as f:
        found = find_cgroup_root(f.read())
    if found is None:
        raise Error("no cgroup v1 cpuacct or cgroup v2 hierarchy is mounted: the script measures "
                    "a server's CPU only through a cgroup and will not fall back to tick-sampled "
                    "getrusage figures")
    return found


# ---------------------------------------------------------------- table


def summarize(runs, designs):
    """runs: dicts with design, side ("stevens" or "tcplab") and us_per_conn. One row per
    design: median, min and max per side, and the ratio of the medians (tcplab / Stevens)."""
    rows = []
    for d in designs:
        row = {"design": d}
        for side in ("stevens", "tcplab"):
            xs = [r["us_per_conn"] for r in runs if r["design"] == d and r["side"] == side]
            row[side] = ({"median": statistics.median(xs), "min": min(xs), "max": max(xs),
                          "n": len(xs)} if xs else None)
        s, t = row["stevens"], row["tcplab"]
        row["ratio"] = t["median"] / s["median"] if s and t and s["median"] > 0 else None
        rows.append(row)
    return rows


def format_table(rows):
    def cell(x):
        if not x:
            return "-"
        return f"{x['median']:.1f} [{x['min']:.1f}-{x['max']:.1f}]"

    lines = ["| design | Stevens' C µs/conn | tcplab µs/conn | ratio |",
             "|---|---:|---:|---:|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        lines.append(f"| {r['design']} | {cell(r['stevens'])} | {cell(r['tcplab'])} | {ratio} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- running


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """Whether a socket listens on 127.0.0.1:port (from /proc/net/tcp, so nothing connects)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            f_ = line.split()
            if f_[1] == want and f_[3] == "0A":
                return True
    return False


def wait_steady(cg, proc, out, what, timeout=10.0):
    """Wait until the cgroup's thread count has not changed for 0.3 s (a pool is started, or
    the last per-connection child or thread has gone); return it."""
    deadline = time.monotonic() + timeout
    last, since = cg.threads(), time.monotonic()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Error(f"{what} exited with status {proc.returncode}: {read_output(out)}")
        time.sleep(0.05)
        n = cg.threads()
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= 0.3:
            return n
    raise Error(f"{what}: its thread count did not settle within {timeout:.0f} s")


def read_output(out, tail=400):
    try:
        out.seek(0)
        return out.read().decode(errors="replace")[-tail:].strip() or "(no output)"
    except (OSError, ValueError):
        return "(no output)"


def stop(proc, grace=10.0):
    """SIGINT the server we started (by its pid), wait, SIGKILL if it hangs; always reaped."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def run_one(args, cgroot, design, side, argv, client):
    """One server, one client run; returns the run's record."""
    version, root = cgroot
    what = f"{side} {design} ({os.path.basename(argv[0])})"
    cg = Cgroup(version, root, f"stevens_compare.{os.getpid()}.{side}.{design}")
    out = tempfile.TemporaryFile()
    proc = None
    try:
        def child_setup():
            os.sched_setaffinity(0, {args.server_cpu})
            cg.join_self()

        port = free_port()
        argv = [a.replace("{port}", str(port)) for a in argv]
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, preexec_fn=child_setup)
        deadline = time.monotonic() + 10
        while not listening(port):
            if proc.poll() is not None:
                raise Error(f"{what} exited with status {proc.returncode}: {read_output(out)}")
            if time.monotonic() > deadline:
                raise Error(f"{what} did not listen on 127.0.0.1:{port} within 10 s")
            time.sleep(0.02)
        idle = wait_steady(cg, proc, out, what)
        before = cg.usage_ns()
        t0 = time.monotonic()
        # Its own process group, so that a client that overruns --timeout is stopped with the
        # children it forked.
        cl = subprocess.Popen(
            [client, "127.0.0.1", str(port), str(args.children), str(args.loops), str(args.bytes)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True, preexec_fn=lambda: os.sched_setaffinity(0, {args.client_cpu}))
        try:
            _, err = cl.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(cl.pid, signal.SIGKILL)
            cl.communicate()
            raise Error(f"Stevens' client against {what} took more than {args.timeout:.0f} s "
                        f"(a loaded machine? see --timeout, --loops)") from None
        wall = time.monotonic() - t0
        if cl.returncode != 0:
            raise Error(f"Stevens' client against {what} failed (status {cl.returncode}): "
                        f"{err.decode(errors='replace').strip()[-400:]}")
        after_threads = wait_steady(cg, proc, out, what)
        after = cg.usage_ns()
        if after_threads != idle:
            raise Error(f"{what}: {after_threads} threads after the run, {idle} before")
        conns = args.children * args.loops
        stop(proc)
        text = read_output(out, tail=1 << 20)
        m = re.search(r"user time = ([\d.e+-]+), sys time = ([\d.e+-]+)", text)
        return {"design": design, "side": side, "program": argv[0], "connections": conns,
                "cpu_ns": after - before, "us_per_conn": (after - before) / 1000 / conns,
                "wall_s": wall, "threads_idle": idle,
                "pr_cpu_time_s": (float(m.group(1)) + float(m.group(2))) if m else None}
    finally:
        if proc is not None:
            stop(proc)
        out.close()
        cg.remove()


def locate(args):
    base = os.path.abspath(os.path.expanduser(args.unpv13e))
    if not os.path.isdir(base):
        raise Error(f"{args.unpv13e}: no such directory (give your unpv13e checkout)")
    server_dir = base if os.path.exists(os.path.join(base, "serv01.c")) else os.path.join(base, "server")
    if not os.path.exists(os.path.join(server_dir, "serv01.c")):
        raise Error(f"{base}: not an unpv13e checkout (no server/serv01.c)")
    need = ["client"] + [prog for d, prog, _ in PAIRS if d in args.designs]
    missing = [n for n in need if not os.access(os.path.join(server_dir, n), os.X_OK)]
    if missing:
        raise Error(f"{server_dir}: not built: {' '.join(missing)}. Build them in your checkout "
                    f"as its README and server/Makefile say (configure, then lib/ and libfree/, "
                    f"then the programs in server/; serv00 is not in PROGS, name it)")
    server = os.path.join(os.path.abspath(args.bin), "tcplab-server")
    if not os.access(server, os.X_OK):
        raise Error(f"{server}: not found; build tcplab (cmake --build build) or give --bin DIR")
    return server_dir, server


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        server_dir, server = locate(args)
        cgroot = open_cgroups()
        pairs = [p for p in PAIRS if p[0] in args.designs]
        client = os.path.join(server_dir, "client")
        runs = []
        for rep in range(args.reps):
            for design, prog, pooled in pairs:
                stevens = [os.path.join(server_dir, prog), "127.0.0.1", "{port}"]
                if pooled:
                    stevens.append(str(args.workers))
                tcplab = [server, design, "--host", "127.0.0.1", "--port", "{port}",
                          "--workers", str(args.workers)]
                order = [("stevens", stevens), ("tcplab", tcplab)]
                if rep % 2:
                    order.reverse()
                for side, cmd in order:
                    r = run_one(args, cgroot, design, side, cmd, client)
                    r["rep"] = rep
                    runs.append(r)
                    print(f"rep {rep + 1}/{args.reps} {design:<18} {side:<7} "
                          f"{r['us_per_conn']:7.1f} µs/conn", file=sys.stderr, flush=True)
        rows = summarize(runs, [p[0] for p in pairs])
        print(f"CPU per connection, cgroup {cgroot[0]} ({cgroot[1]}); Stevens' client, "
              f"{args.children} x {args.loops} connections x {args.bytes} bytes; server on CPU "
              f"{args.server_cpu}, client on CPU {args.client_cpu}; median [min-max] of "
              f"{args.reps}:\n")
        print(format_table(rows), end="")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"schema": "tcplab-stevens-compare/1",
                           "config": {k: v for k, v in vars(args).items()},
                           "cgroup": {"version": cgroot[0], "root": cgroot[1]},
                           "rows": rows, "runs": runs}, f, indent=2)
                f.write("\n")
        return 0
    except Error as e:
        print(f"stevens_compare.py: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
