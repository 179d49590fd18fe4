#!/usr/bin/python3
"""The system calls a design makes per connection, counted in the server's whole process tree.

    /usr/bin/python3 bench/tcplab_suite/syscalls.py --bin build/bin [--server-cpus 0]
        [--load-cpus 1] [--designs iterative,fork] [--requests-per-conn 1]
        [--tracer strace|perf] [--json FILE]

prints a table: one row per design, one column per system call, calls per connection.

How it counts: with perf where it may count the syscall tracepoints, else with strace
(--tracer auto; the result names the tracer used). `strace -f -c` runs the server
(`tcplab-server DESIGN --port 0`); -f follows every child of fork() and every thread of clone(),
and -c sums the calls of the whole tree into one table, written when the last traced process
has ended (checked: a shell's three forked subshells' writes are all in its table). perf counts
with the kernel's syscall tracepoints under `perf stat`, whose counters every child and thread
inherits: the server is not stopped at each call, and calls that never return are counted too,
but it needs the right to trace (root, or kernel.perf_event_paranoid <= -1). It names the calls
of PERF_NAMED; the rest of raw_syscalls:sys_enter's count is "other". The
load (tcplab-load, the suite's shape: 5 clients, one 4000-byte request per connection) is not
traced.

Start-up, warm-up and shutdown are taken out by difference: two counted runs, each a fresh
server, the same warm-up connections and then N1 or N2 measured connections, stopped the same
way (SIGTERM to the server, as the suite stops it). Everything but the measured connections is
the same in both runs, so for every call (count2 - count1) / (N2 - N1) is its count per
connection, and a call made once per process (the pool's fork()s, the listener, the exit) cancels
out. A single run less a separate start-and-stop run would do the same, but a run with no
connections leaves the pool's lazily made things (a thread's malloc arena, a child's first
accept) out of one side only.

What the figures are, and are not:
- Counts only. strace stops the server at every call (and perf's tracepoints slow each call a
  little), so no time from these runs may enter a CPU figure; this module returns none.
- A call whose number follows the interleaving (futex on a contended lock, epoll_wait returning
  one event or several, a poll loop that wakes for nothing) is counted as it happened under the
  tracer, which slows the server and so changes the interleaving, strace much more than perf
  (prefork-mutex: some 2.2 futex calls per connection under strace, 0.6 under perf). A
  fraction is such a call; a call the code makes once per connection counts 1.00.
- Calls made by the clock rather than by connections (a manager's periodic wake-up) fall into
  the difference in proportion to how much longer the N2 run lasted; with N2 - N1 in the
  thousands they are small fractions.
- strace -c counts a call when it returns, so exit_group and exit (which never return) are not
  in its table: the fork design's children each make one exit_group per connection that the
  table does not show (nor the thread design's threads their exit). EXIT_CALLS names them;
  perf counts them.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

try:
    from . import core, procfs
except ImportError:  # run as a script (bench/tcplab_suite/syscalls.py), not as the package's
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from tcplab_suite import core, procfs

# The suite's usual shape (the unp workload): 5 clients, one request of 4000 bytes.
CLIENTS = 5
BYTES = 4000
WARMUP_CONNECTIONS = 200
CONNECTIONS = (500, 2500)       # N1, N2: per-connection figures over N2 - N1 = 2000 connections
START_TIMEOUT_S = 20            # under the tracer a pool of 15 children starts slowly
STOP_TIMEOUT_S = 60             # the server's --grace-ms plus strace writing its table
LOAD_TIMEOUT_S = 300
QUIET_S = 0.05                  # the server's tree has caught up when no thread ran for this long
QUIET_LIMIT_S = 5

# The calls that send a response, and those that never return (not in strace -c's table).
WRITE_CALLS = ("write", "writev", "send", "sendto", "sendmsg", "sendmmsg", "sendfile")
EXIT_CALLS = ("exit", "exit_group")

_BY_DIFFERENCE = ("two runs with N1 and N2 measured connections after the same warm-up; "
                  "per connection = (count2 - count1) / (N2 - N1)")
METHODS = {"strace": "strace -f -c over the server's process tree; " + _BY_DIFFERENCE,
           "perf": "perf stat of the syscall tracepoints (inherited) over the server's "
                   "process tree; " + _BY_DIFFERENCE}


class CountError(Exception):
    """A counted run that could not be made: strace missing, a server that did not start or
    stop, or a load with failed requests. The message says which."""


# --------------------------------------------------------------------------- strace's table

def parse_strace_summary(text):
    """strace -c's table as {syscall: calls}. Summed over every section (strace prints one per
    personality, e.g. "System call usage summary for 32 bit mode:"); the "total" row and the
    header are left out. ValueError if no row was found (strace failed, or a different format).

    A row: "% time  seconds  usecs/call  calls  [errors]  syscall"; errors is blank when 0."""
    counts = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) not in (5, 6) or fields[-1] == "total":
            continue
        try:
            float(fields[0])
            calls = int(fields[3])
        except ValueError:
            continue  # the header, a dashed rule, a section title
        counts[fields[-1]] = counts.get(fields[-1], 0) + calls
    if not counts:
        raise ValueError("no system call rows in strace's summary:\n" + text[:400])
    return counts


def parse_perf_stat(text):
    """`perf stat -x, -e syscalls:sys_enter_NAME,...[,raw_syscalls:sys_enter]`'s output as
    {syscall: calls}, the calls made 0 times (and "<not counted>" ones) left out. With the raw
    count, the calls it has beyond the named ones are OTHER. ValueError if no syscalls row was
    found."""
    counts, rows, total = {}, 0, None
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) < 3:
            continue
        n = int(fields[0]) if fields[0].isdigit() else 0
        if fields[2] == "raw_syscalls:sys_enter":
            total = n
        elif fields[2].startswith("syscalls:sys_enter_"):
            rows += 1
            if n > 0:
                counts[fields[2].removeprefix("syscalls:sys_enter_")] = n
    if not rows:
        raise ValueError("no syscalls:sys_enter_ rows in perf stat's output:\n" + text[:400])
    if total is not None and total > sum(counts.values()):
        counts[OTHER] = total - sum(counts.values())
    return counts


PARSERS = {"strace": parse_strace_summary, "perf": parse_perf_stat}


# The calls perf counts by name: a server's, and more. Each tracepoint perf enables costs tens of
# milliseconds on a busy machine (all 360 of them, some 15 s per run), so not every one is
# named; raw_syscalls:sys_enter counts every call, and what the named ones leave is "other".
PERF_NAMED = (
    "read", "write", "readv", "writev", "close", "accept", "accept4", "sendmsg", "recvmsg",
    "sendto", "recvfrom", "sendmmsg", "recvmmsg", "setsockopt", "getsockopt", "shutdown",
    "futex", "clone", "clone3", "fork", "vfork", "exit", "exit_group", "wait4", "waitid",
    "ppoll", "poll", "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "epoll_ctl", "fcntl", "dup", "dup3", "ioctl", "mmap", "munmap", "mprotect", "madvise", "brk",
    "rt_sigprocmask", "rt_sigaction", "rt_sigreturn", "rt_sigsuspend", "set_robust_list", "rseq",
    "nanosleep", "clock_nanosleep", "getrusage", "openat", "eventfd2", "getpid", "gettid",
    "sched_yield", "kill", "tgkill", "io_uring_enter", "io_uring_setup", "io_uring_register")
OTHER = "other"
TRACEFS_SYSCALLS = "/sys/kernel/tracing/events/syscalls"


def perf_events():
    """PERF_NAMED's tracepoints that this kernel has, and raw_syscalls:sys_enter."""
    try:
        have = set(os.listdir(TRACEFS_SYSCALLS))
    except OSError:
        have = {"sys_enter_" + n for n in PERF_NAMED}  # perf will say if they are not there
    named = [f"syscalls:sys_enter_{n}" for n in PERF_NAMED if f"sys_enter_{n}" in have]
    return ",".join(named + ["raw_syscalls:sys_enter"])


def tracer_command(tracer, out):
    """The command that counts every call of the program after it, and its children's, into
    `out`."""
    if tracer == "strace":
        return ["strace", "-f", "-c", "-o", out, "--"]
    if tracer == "perf":
        return ["perf", "stat", "-x,", "-e", perf_events(), "-o", out, "--"]
    raise ValueError(f"tracer {tracer!r}: strace or perf")


def perf_can_count():
    """Whether `perf stat` may count the syscall tracepoints here (installed, tracefs mounted,
    allowed)."""
    if not shutil.which("perf"):
        return False
    try:
        r = subprocess.run(["perf", "stat", "-x,", "-e", "syscalls:sys_enter_getpid", "--",
                            "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return (r.returncode == 0 and "syscalls:sys_enter_getpid" in r.stderr
            and "<not" not in r.stderr)


def choose_tracer(tracer):
    """"auto" is perf where it may count, else strace; "strace" and "perf" stay."""
    if tracer == "auto":
        return "perf" if perf_can_count() else "strace"
    if tracer not in PARSERS:
        raise ValueError(f"tracer {tracer!r}: auto, strace or perf")
    return tracer


def difference(counts1, counts2, n1, n2):
    """Per connection: (count2 - count1) / (n2 - n1) for every call in either run, rounded to
    3 decimals; calls whose difference is 0 are left out."""
    if n2 <= n1:
        raise ValueError(f"the second run must have more connections ({n1} then {n2})")
    per = {}
    for name in sorted(set(counts1) | set(counts2)):
        d = (counts2.get(name, 0) - counts1.get(name, 0)) / (n2 - n1)
        if round(d, 3) != 0:
            per[name] = round(d, 3)
    return per


def median_counts(pairs):
    """The median of each call over per-connection counts (a call absent from one: 0 there),
    rounded as difference() rounds; calls whose median is 0 are left out."""
    per = {}
    for name in sorted(set().union(*pairs)):
        xs = sorted(p.get(name, 0.0) for p in pairs)
        mid = len(xs) // 2
        m = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
        if round(m, 3) != 0:
            per[name] = round(m, 3)
    return per


# --------------------------------------------------------------------------- one counted run

def _taskset(cpus):
    return ["taskset", "-c", core.pin_text(cpus)] if cpus else []


def _traced_pid(tracer_pid):
    """The server: strace's only child (the process it started and traces)."""
    children = procfs.children(tracer_pid)
    if len(children) != 1:
        raise CountError(f"strace (pid {tracer_pid}) has children {children}, expected one")
    return children[0]


def _wait_quiet(pid, limit_s=QUIET_LIMIT_S):
    """Waits until the server's tree has caught up with the load: every thread asleep and none
    has run for QUIET_S. The load ends when it has read its last answer; the traced server may
    still be reading that connection's end of file or closing it, and a SIGTERM then would cut
    a varying number of calls short. After `limit_s` it goes on regardless (a design that wakes
    by the clock more often than QUIET_S); returns whether the tree was quiet."""
    deadline = time.monotonic() + limit_s
    before = None
    while time.monotonic() < deadline:
        now = procfs.tree_tasks(pid)
        if now == before and all(state in "SI" for _, state, _ in now):
            return True
        before = now
        time.sleep(QUIET_S)
    return False


def _kill_group(proc):
    """SIGKILL to the tracer's process group, and reaps the tracer. The tracer is started in a
    session of its own and the server makes no other, so the group is the tracer, the server
    and every worker: one kill reaches them all at once, where killing them one by one would
    let a pool's manager start a new worker for each one killed. (strace, killed, does not take
    its tracees with it.) The others are reaped by init."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.wait()


def _load(load_bin, port, connections, requests_per_conn, load_cpus, json_path):
    """tcplab-load to its end, pinned; CountError unless every connection and request came
    back whole."""
    cmd = core.tcplab_load(load_bin, "127.0.0.1", port, CLIENTS, requests_per_conn, BYTES,
                           core.loopback_generator(load_cpus), connections=connections,
                           json_path=json_path)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=LOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CountError(f"tcplab-load took more than {LOAD_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        raise CountError(f"tcplab-load exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    with open(json_path) as f:
        counts = json.load(f)["counts"]
    want = {"connections": connections, "requests": connections * requests_per_conn}
    got = {k: counts.get(k) for k in want}
    if got != want or counts.get("failed"):
        raise CountError(f"tcplab-load: wanted {want}, got {got}, failed {counts.get('failed')}")


def counted_run(server_bin, load_bin, design, workers, connections, requests_per_conn=1,
                server_cpus=(), load_cpus=(), extra_args=(), tmp=None,
                warmup=WARMUP_CONNECTIONS, tracer="strace"):
    """One fresh server under the tracer (strace -f -c, or perf stat): `warmup` connections,
    then `connections` measured ones, then SIGTERM. Returns {syscall: calls} over the whole run
    and the whole tree."""
    if tracer not in PARSERS:
        raise ValueError(f"tracer {tracer!r}: strace or perf")
    if not shutil.which(tracer):  # the program is named as the tracer
        package = "strace" if tracer == "strace" else "linux-perf"
        raise CountError(f"{tracer} is not installed (Debian package {package}, see .ci/setup)")
    with tempfile.TemporaryDirectory(prefix="tcplab-syscalls-", dir=tmp) as d:
        table = os.path.join(d, tracer + ".txt")
        stderr_path = os.path.join(d, "server.stderr")
        cmd = _taskset(server_cpus) + tracer_command(tracer, table) + [
            server_bin, design, "--host", "127.0.0.1", "--port", "0",
            "--workers", str(workers)] + list(extra_args)
        with open(stderr_path, "w") as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err, start_new_session=True)
        try:
            line = core.first_line(proc, START_TIMEOUT_S)
            if not line.startswith("listening on 127.0.0.1:"):
                raise CountError(f"{design} did not start: {line!r}")
            port = int(line.rsplit(":", 1)[1])
            server = _traced_pid(proc.pid)
            load_json = os.path.join(d, "load.json")
            _load(load_bin, port, warmup, requests_per_conn, load_cpus, load_json)
            _load(load_bin, port, connections, requests_per_conn, load_cpus, load_json)
            _wait_quiet(server)
            os.kill(server, signal.SIGTERM)
            status = proc.wait(timeout=STOP_TIMEOUT_S)
        except BaseException as e:  # Ctrl-C too: the server is in a session of its own
            _kill_group(proc)
            if not isinstance(e, (CountError, OSError, subprocess.TimeoutExpired)):
                raise
            with open(stderr_path, errors="replace") as f:
                tail = f.read()[-400:].strip()
            raise CountError(f"{design}: {e}; stderr: {tail}") from None
        finally:
            proc.stdout.close()
        if status != 0:
            with open(stderr_path, errors="replace") as f:
                raise CountError(f"{design}: {tracer}/server exited {status}: {f.read()[-400:]}")
        with open(table) as f:
            try:
                return PARSERS[tracer](f.read())
            except ValueError as e:
                raise CountError(f"{design}: {e}") from None


def count_syscalls(server_bin, load_bin, design, workers=15, connections=CONNECTIONS,
                   requests_per_conn=1, server_cpus=(), load_cpus=(), extra_args=(), tmp=None,
                   warmup=WARMUP_CONNECTIONS, tracer="auto", repeat=1):
    """The system calls of `design` per connection, exact by difference of two counted runs.

    connections: (N1, N2), the measured connections of the two runs (N1 < N2).
    requests_per_conn: requests on each connection (keep-alive when > 1).
    server_cpus, load_cpus: CPU numbers to pin the server (with its tracer) and the load to.
    extra_args: further tcplab-server options (e.g. ["--dispatch", "round-robin"]).
    warmup: connections made before the measured ones in each run (enough to reach every
    worker of the pool, so that its first-use calls are in both runs).
    tmp: the folder for the tracer's table (default: the system's).
    tracer: "auto" (perf where it may count, else strace), "strace" (strace -f -c) or "perf"
    (perf stat of the syscall tracepoints, inherited by every child and thread: counted in the
    kernel at each call's entry, so exit_group is in, and the server is not stopped at every
    call; needs the right to trace, e.g. root or kernel.perf_event_paranoid <= -1; calls
    outside PERF_NAMED are summed as "other").
    repeat: pairs of counted runs; per connection is then each call's median over the pairs.
    Most designs' counts are the same in every pair; a loop whose calls depend on how events
    coincide (uring's io_uring_enter, epoll's epoll_wait) varies from pair to pair, and one
    difference of two runs varies more than either run.

    Returns {"design", "per_connection": {syscall: calls}, "per_request": {syscall: calls},
    "method", "tracer", "connections": [N1, N2], "requests_per_conn", "workers",
    "exit_calls_missing" (calls the tracer cannot see: exit and exit_group under strace),
    with repeat > 1 "repetitions" (each pair's per connection)}:
    per_request is per_connection / requests_per_conn (at one request per connection the two
    are the same). Raises CountError if a run could not be made."""
    n1, n2 = connections
    tracer = choose_tracer(tracer)
    pairs = []
    for _ in range(repeat):
        runs = [counted_run(server_bin, load_bin, design, workers, n, requests_per_conn,
                            server_cpus, load_cpus, extra_args, tmp, warmup, tracer)
                for n in (n1, n2)]
        pairs.append(difference(runs[0], runs[1], n1, n2))
    per_conn = median_counts(pairs) if repeat > 1 else pairs[0]
    more = {"repetitions": pairs} if repeat > 1 else {}
    return {"design": design, "per_connection": per_conn,
            "per_request": {k: round(v / requests_per_conn, 3) for k, v in per_conn.items()},
            "method": METHODS[tracer], "tracer": tracer, "connections": [n1, n2], "requests_per_conn": requests_per_conn,
            "workers": workers,
            "exit_calls_missing": list(EXIT_CALLS) if tracer == "strace" else [], **more}


def writes(per):
    """The calls that sent a response, summed: {syscall: calls} -> calls."""
    return round(sum(per.get(name, 0) for name in WRITE_CALLS), 3)


# --------------------------------------------------------------------------- the table

def list_designs(server_bin):
    out = subprocess.run([server_bin, "--list"], capture_output=True, text=True, check=True,
                         timeout=10).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def table_lines(results, figure="per_connection"):
    """A markdown table: one row per design, a column for every call any design makes at least
    0.005 times per connection, commonest first."""
    totals = {}
    for r in results:
        for name, n in r[figure].items():
            totals[name] = totals.get(name, 0) + abs(n)
    calls = [n for n in sorted(totals, key=lambda n: (-totals[n], n))
             if any(abs(r[figure].get(n, 0)) >= 0.005 for r in results)]
    lines = ["| design | " + " | ".join(calls) + " | total |",
             "|---|" + "---:|" * (len(calls) + 1)]
    for r in results:
        row = [f"{r[figure][n]:.2f}" if abs(r[figure].get(n, 0)) >= 0.005 else "" for n in calls]
        lines.append(f"| `{r['design']}` | " + " | ".join(row) +
                     f" | {sum(r[figure].values()):.2f} |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default="build/bin", help="folder of tcplab-server and tcplab-load")
    p.add_argument("--designs", help="comma-separated designs (default: every one, --list)")
    p.add_argument("--workers", type=int, default=15, help="pool size (default 15)")
    p.add_argument("--connections", default="%d,%d" % CONNECTIONS,
                   help="N1,N2 measured connections of the two runs (default %d,%d)" % CONNECTIONS)
    p.add_argument("--requests-per-conn", type=int, default=1,
                   help="requests per connection (default 1; more: keep-alive, and the table "
                        "is per request)")
    p.add_argument("--server-cpus", default="0",
                   help="CPU list for the server, e.g. 0 or 0-1,3 (default 0; '': not pinned)")
    p.add_argument("--load-cpus", default="1", help="CPU list for the load (default 1)")
    p.add_argument("--tracer", choices=["auto"] + sorted(PARSERS), default="auto",
                   help="perf stat of the syscall tracepoints, or strace -f -c (default auto: "
                        "perf where it may count, else strace)")
    p.add_argument("--repeat", type=int, default=1,
                   help="pairs of counted runs per design, each call's median over them "
                        "(default 1)")
    p.add_argument("--json", help="also write every design's result here")
    a = p.parse_args(argv)
    server_bin, load_bin = (os.path.join(a.bin, n) for n in ("tcplab-server", "tcplab-load"))
    for path in (server_bin, load_bin):
        if not os.access(path, os.X_OK):
            p.error(f"{path}: not an executable (build it, or give --bin)")
    try:
        n1, n2 = (int(x) for x in a.connections.split(","))
        if not 0 < n1 < n2:
            raise ValueError
    except ValueError:
        p.error(f"--connections {a.connections!r}: want N1,N2 with 0 < N1 < N2")
    if a.requests_per_conn < 1:
        p.error(f"--requests-per-conn {a.requests_per_conn}: want 1 or more")
    if a.repeat < 1:
        p.error(f"--repeat {a.repeat}: want 1 or more")
    try:
        cpus = [procfs.cpu_list(s) if s else [] for s in (a.server_cpus, a.load_cpus)]
    except ValueError as e:
        p.error(f"--server-cpus / --load-cpus: {e}")
    designs = a.designs.split(",") if a.designs else list_designs(server_bin)
    a.tracer = choose_tracer(a.tracer)
    results = []
    for design in designs:
        try:
            r = count_syscalls(server_bin, load_bin, design, a.workers, (n1, n2),
                               a.requests_per_conn, cpus[0], cpus[1], tracer=a.tracer,
                               repeat=a.repeat)
        except CountError as e:
            print(f"syscalls: {e}", file=sys.stderr)
            return 1
        results.append(r)
        print(f"{design}: {sum(r['per_connection'].values()):.2f} calls per connection",
              file=sys.stderr, flush=True)
    figure = "per_request" if a.requests_per_conn > 1 else "per_connection"
    print(f"System calls per {'request' if figure == 'per_request' else 'connection'} "
          f"({a.requests_per_conn} request(s) of {BYTES} bytes per connection, {CLIENTS} "
          f"clients, {n2 - n1} connections by difference, counted by {a.tracer}"
          f"{'; exit_group not counted' if a.tracer == 'strace' else ''}):\n")
    print("\n".join(table_lines(results, figure)))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
