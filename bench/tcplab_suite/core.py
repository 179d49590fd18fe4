"""What every workload shares: the machine, one Server, one load runner, one Step with its
error policy, and the results writer.

A measured step starts a fresh tcplab-server (pinned to the server CPUs) on port 0 with its
own control socket, warms it up, takes a snapshot of its accounting, runs tcplab-load (pinned
to the load CPUs), takes a second snapshot, and stops the server with SIGTERM. Server figures
are the difference of the two snapshots, so start-up and warm-up are left out.

Where they run is decided in one place, the Context: over loopback the server listens on
127.0.0.1 and one tcplab-load runs beside it; with --net veth (netns.TwoHosts) the server runs
in its own network namespace on 198.18.0.1 and one tcplab-load per generator namespace, from
that namespace's own source addresses, all at once, their JSON merged (`tcplab-load merge`).
"""

import contextlib
import json
import os
import platform
import select
import signal
import socket
import subprocess
import time

from . import procfs

SCHEMA = "tcplab-suite/2"
LOOPBACK = "127.0.0.1"
SERVER_START_TIMEOUT_S = 10
SERVER_STOP_TIMEOUT_S = 15   # the server's own grace is --grace-ms 3000
LOAD_TIMEOUT_S = 120
CONTROL_TIMEOUT_S = 15


class StepError(Exception):
    """A failure of one measured step: recorded in results, and the suite goes on."""


# The failures a step records and goes on after: the suite's own StepError, a process or file
# that failed (OSError, a subprocess error or timeout), a process's JSON output cut short.
# Anything else propagates with its traceback: a KeyError or a ValueError is a bug in the suite,
# not a measurement that failed, and Ctrl-C stops the run.
STEP_FAILURES = (StepError, OSError, json.JSONDecodeError, subprocess.SubprocessError)


# --------------------------------------------------------------------------- the machine

def machine_info():
    return {"cpu_model": procfs.cpu_model() or platform.processor() or "unknown", "kernel": platform.release(), "system": platform.system(),
            "cpus": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "loadavg_start": list(os.getloadavg())}


def first_line(proc, timeout):
    """A started server's first line of stdout ("listening on HOST:PORT"), or why not."""
    deadline = time.monotonic() + timeout
    fd, data = proc.stdout.fileno(), b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return f"(no 'listening' line within {timeout} s)"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 4096)
            if not chunk:
                return f"(exited with status {proc.wait(timeout=5)})"
            data += chunk
    return data.split(b"\n", 1)[0].decode(errors="replace").strip()


def pin_text(cpus):
    return ",".join(map(str, cpus))


# --------------------------------------------------------------------------- interrupts

_held = 0        # how many held_interrupts() blocks are open
_pending = None  # the signal that came during one


def interrupt(signum, frame):
    """The suite's SIGINT and SIGTERM handler: KeyboardInterrupt, so that every `with Server`
    stops and reaps its server and the partial results are written; held while a server is
    being started or stopped, where an exception would lose its pid."""
    global _pending
    if _held:
        _pending = signum
        return
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def held_interrupts():
    """Ctrl-C and SIGTERM wait until the block is done (each block is bounded in time)."""
    global _held, _pending
    _held += 1
    try:
        yield
    finally:
        _held -= 1
        if not _held and _pending is not None:
            signum, _pending = _pending, None
            raise KeyboardInterrupt(f"signal {signum}")


# --------------------------------------------------------------------------- one server

class Server:
    """One tcplab-server on the context's server address (127.0.0.1, or 198.18.0.1 inside the
    server's namespace), port 0, with its control socket in the suite's temp dir, pinned to the
    server CPUs. `extra` are further options, `launcher` goes in front (prlimit). The namespace
    prefix (`ip netns exec NAME`), the launcher and taskset each exec the next, so the pid is
    the server's. Use as a context manager: leaving the block always stops and reaps it."""

    def __init__(self, ctx, design, workers, dispatch=None, extra=(), launcher=()):
        self.design = design
        self.ctx = ctx
        self.control = os.path.join(ctx.tmp, "control.sock")
        self.stats_path = os.path.join(ctx.tmp, "stats.json")
        self.stderr_path = os.path.join(ctx.tmp, "server.stderr")
        for path in (self.control, self.stats_path):
            if os.path.exists(path):
                os.unlink(path)
        self.host = ctx.server_host
        cmd = [ctx.server_bin, design, "--host", self.host, "--port", "0",
               "--workers", str(workers), "--control", self.control,
               "--stats-json", self.stats_path]
        if dispatch:
            cmd += ["--dispatch", dispatch]
        cmd += list(extra)
        if ctx.server_pin:
            cmd = ["taskset", "-c", ctx.server_pin] + cmd
        self.cmd = ctx.server_prefix + list(launcher) + cmd
        self.proc = None
        self.port = None
        self.exit = None

    def start(self):
        self.ctx.current_server = self
        self._stderr = open(self.stderr_path, "w")
        try:
            with held_interrupts():  # inside Popen a KeyboardInterrupt would lose the pid
                self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                             stderr=self._stderr, stdin=subprocess.DEVNULL)
            line = first_line(self.proc, SERVER_START_TIMEOUT_S)
        except BaseException:  # Ctrl-C while it starts: __exit__ will not run, so stop it here
            self.stop_once_started()
            raise
        if not line.startswith(f"listening on {self.host}:"):
            self.stop()
            raise StepError(f"server did not start: {line!r}; stderr: {self.stderr_tail()}")
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def snapshot(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CONTROL_TIMEOUT_S)
            try:
                s.connect(self.control)
                s.sendall(b"snapshot\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as e:
                raise StepError(f"control socket: {e}") from None
        try:
            return json.loads(data)
        except ValueError:
            raise StepError(f"control socket answered {data[:200]!r}") from None

    def quiet_snapshot(self, limit_s=3.0):
        """A snapshot taken once the server is quiet: nothing being served (`active` 0) and the
        connection count unchanged over 10 ms. A client's last connections are counted when the
        server sees them end, which can be a little after the client has finished; a window
        bounded by quiet snapshots holds exactly the connections made inside it."""
        deadline = time.monotonic() + limit_s
        prev = None
        while True:
            snap = self.snapshot()
            if snap.get("active", 0) == 0 and prev is not None and \
                    prev.get("connections") == snap.get("connections"):
                return snap
            if time.monotonic() >= deadline:
                return snap
            prev = snap
            time.sleep(0.01)

    def stop_once_started(self):
        """stop(), once the server catches SIGTERM (its handlers are installed just before it
        listens): a SIGTERM sent while it still starts would end it by the default action,
        with no summary. Waits at most SERVER_START_TIMEOUT_S, then stops it as it is."""
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        with held_interrupts():
            while self.proc is not None and self.proc.poll() is None and \
                    not procfs.catches(self.proc.pid, signal.SIGTERM) and \
                    time.monotonic() < deadline:
                time.sleep(0.005)
            self.stop()

    def stop(self):
        """SIGTERM, wait, keep the exit status; SIGKILL only if it will not go."""
        if self.proc is None or self.exit is not None:
            return
        with held_interrupts():  # a second Ctrl-C must not leave it running
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.exit = self.proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.exit = "killed after %ds" % SERVER_STOP_TIMEOUT_S
            self.proc.stdout.close()
            self._stderr.close()

    def final_summary(self):
        """The summary the server wrote (--stats-json) when it stopped; None if it wrote none
        (killed, or still running)."""
        try:
            with open(self.stats_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def check_exit(self):
        """After stop(): a non-zero exit status fails the step."""
        if self.exit not in (0, None):
            raise StepError(f"server exited with status {self.exit}: {self.stderr_tail()}")

    def stderr_text(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stderr_tail(self):
        return self.stderr_text()[-400:].strip()


# --------------------------------------------------------------------------- one load run

class Generator:
    """Where one tcplab-load runs: the command prefix that enters its namespace ([] on
    loopback), its CPUs and their taskset list (None when unpinned), and the options that make
    it connect from its own source addresses ([] on loopback: tcplab-load's default)."""

    def __init__(self, name, prefix, cpus, pin, source_args):
        self.name, self.prefix, self.cpus, self.pin = name, list(prefix), cpus, pin
        self.source_args = list(source_args)


def split(total, parts):
    """TOTAL split into PARTS whole shares as equal as they go, the larger first."""
    return [total // parts + (k < total % parts) for k in range(parts)]


def loopback_generator(cpus):
    """The one generator of a loopback run: no namespace, tcplab-load's own source address,
    pinned to CPUS (none: unpinned)."""
    return Generator("loopback", [], list(cpus), pin_text(cpus) if cpus else None, [])


def tcplab_load(load_bin, host, port, clients, requests_per_conn, nbytes, generator,
                connections=None, duration_s=None, json_path=None, http=False, timeout_ms=None,
                threads=None, extra=()):
    """One tcplab-load command line against HOST:PORT, run in GENERATOR: inside its
    namespace, pinned with taskset and --cpu to its CPUs, from its addresses. EXTRA are
    further options (the open loop's --rate, --arrivals, --seed…)."""
    cmd = [load_bin, "--host", host, "--port", str(port),
           "--clients", str(clients), "--requests-per-conn", str(requests_per_conn),
           "--bytes", str(nbytes), "--allow-errors"] + generator.source_args
    if http:
        cmd.append("--http")
    if connections is not None:
        cmd += ["--connections", str(connections)]
    if duration_s is not None:
        cmd += ["--duration", "%gs" % duration_s]
    if timeout_ms:
        cmd += ["--timeout-ms", str(timeout_ms)]
    if threads:
        cmd += ["--threads", str(threads)]
    cmd += list(extra)
    if json_path:
        cmd += ["--json", json_path]
    if generator.pin:
        cmd = ["taskset", "-c", generator.pin] + cmd + ["--cpu", generator.pin]
    return generator.prefix + cmd


def load_command(ctx, port, clients, requests_per_conn, nbytes, connections=None,
                 duration_s=None, json_path=None, http=False, timeout_ms=None, threads=None,
                 generator=None, extra=()):
    """tcplab_load() against the context's server, run in GENERATOR (the context's first by
    default) with the context's thread count unless THREADS says."""
    gen = generator or ctx.generators[0]
    return tcplab_load(ctx.load_bin, ctx.server_host, port, clients, requests_per_conn, nbytes,
                       gen, connections=connections, duration_s=duration_s,
                       json_path=json_path, http=http, timeout_ms=timeout_ms,
                       threads=threads or ctx.load_threads(clients, len(gen.cpus)), extra=extra)


def _run_all(cmds, names, tmp, cwd=None):
    """Runs the commands at the same time to their end (LOAD_TIMEOUT_S for all); StepError
    naming the first that failed. Whatever happens, none is left running."""
    procs = []
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    try:
        for i, (cmd, name) in enumerate(zip(cmds, names)):
            err = open(os.path.join(tmp, f"load{i}.stderr"), "w+")
            procs.append((subprocess.Popen(cmd, stdin=subprocess.DEVNULL, cwd=cwd,
                                           stdout=subprocess.DEVNULL, stderr=err), err, name))
        for proc, err, name in procs:
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                raise StepError(f"{name} took more than {LOAD_TIMEOUT_S}s") from None
            if proc.returncode != 0:
                err.seek(0)
                raise StepError(f"{name} exited {proc.returncode}: {err.read().strip()[-300:]}")
    finally:
        for proc, err, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            err.close()


def run_load(ctx, port, clients, requests_per_conn, nbytes, label=None, connections=None,
             rate=None, seed=1, generators=None, extra=(), **options):
    """Runs the load to its end; with a label, its JSON goes to raw/LABEL.load.json and is
    returned with that file's path relative to the results folder, else (None, None).

    With several generators (--load-hosts K; GENERATORS, by default the context's) one
    tcplab-load runs on each at the same time, the clients and connections split between them
    (never a generator without either), and `tcplab-load merge` adds their JSON up into that
    one file: a workload cannot tell. An open loop's RATE (requests/s in all) is split like the
    clients, each generator on a schedule of its own (--seed SEED + k): K independent Poisson
    schedules add up to one Poisson schedule at their summed rate, so K generators offer the
    load one would, each with less to do, and merge adds up their late and scheduled sends.
    (Uniform schedules from K generators add up to K interleaved ones, not one uniform one.)"""
    raw = os.path.join(ctx.raw_dir, label.replace("/", "_") + ".load.json") if label else None
    gens = generators or ctx.generators
    gens = gens[:max(1, min(len(gens), clients, connections or clients))]
    shares = split(clients, len(gens))
    counts = [None] * len(gens) if connections is None else \
        [connections * c // clients for c in shares]
    if connections is not None:
        counts[0] += connections - sum(counts)
    extras = [list(extra) + ([] if rate is None else
                             ["--rate", "%g" % (rate * c / clients), "--seed", str(seed + k)])
              for k, c in enumerate(shares)]
    if len(gens) == 1:
        parts, names = [raw], ["tcplab-load"]
    else:
        stem = os.path.basename(raw)[:-len(".load.json")] if raw else "load"
        parts = [os.path.join(ctx.tmp, f"{stem}.{g.name}.json") if raw else None for g in gens]
        names = [f"tcplab-load on {g.name}" for g in gens]
    _run_all([load_command(ctx, port, c, requests_per_conn, nbytes, connections=n,
                           json_path=part, generator=gen, extra=more, **options)
              for gen, c, n, part, more in zip(gens, shares, counts, parts, extras)],
             names, ctx.tmp)
    if not raw:
        return None, None
    if len(gens) > 1:
        try:
            # Run where the parts are, so that its merged_from names them, not the temp dir.
            _run_all([[os.path.abspath(ctx.load_bin), "merge", *map(os.path.basename, parts),
                       "--json", os.path.abspath(raw)]], ["tcplab-load merge"], ctx.tmp,
                     cwd=ctx.tmp)
        finally:
            for part in parts:
                if os.path.exists(part):
                    os.unlink(part)
    with open(raw) as f:
        return json.load(f), os.path.relpath(raw, ctx.out_dir)


# --------------------------------------------------------------------------- one step

class Step:
    """One progress line and the one error policy: a failure in STEP_FAILURES is recorded in
    results (in ctx.errors, and in `record` as "error", which then loses its "figures") and
    the suite goes on; Ctrl-C and bugs propagate. Set `note` for the end of the line."""

    def __init__(self, ctx, label, what, record=None):
        self.ctx, self.label, self.what, self.record = ctx, label, what, record
        self.error = None
        self.note = ""

    def __enter__(self):
        self.ctx.step += 1
        return self

    def __exit__(self, kind, exc, tb):
        if exc is not None and not isinstance(exc, STEP_FAILURES):
            return False
        if exc is not None:
            self.error = str(exc) if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
            self.ctx.fail(self.label, self.error, self.record)
        width = len(str(self.ctx.total_steps))
        line = f"[{self.ctx.step:>{width}}/{self.ctx.total_steps}] {self.what}"
        if self.error:
            line += f" ... ERROR: {self.error}"
        elif self.note:
            line += f" ... {self.note}"
        print(line, flush=True)
        return True


def record_step(ctx, label, what, into, run, note):
    """One Step whose run() makes a record that goes into the list `into`; note(record) ends
    its progress line."""
    with Step(ctx, label, what) as st:
        r = run()
        into.append(r)
        st.note = note(r)


# --------------------------------------------------------------------------- the context

class Context:
    """What a workload's run() gets: the binaries, the pinning, where the server and the load
    run (loopback, or the namespaces of NET, a netns.TwoHosts that is up), the results being
    filled, the plan (default or quick) and the designs chosen."""

    def __init__(self, args, out_dir, tmp, designs, results, net=None):
        self.args = args
        self.quick = args.quick
        self.repeat = args.repeat
        self.server_bin = os.path.join(args.bin, "tcplab-server")
        self.load_bin = os.path.join(args.bin, "tcplab-load")
        self.micro_bin = os.path.join(args.bin, "tcplab-micro")
        self.out_dir = out_dir
        self.raw_dir = os.path.join(out_dir, "raw")
        os.makedirs(self.raw_dir, exist_ok=True)
        self.tmp = tmp
        self.server_cpus, self.load_cpus = args.server_cpus, args.load_cpus
        self.server_pin = pin_text(self.server_cpus) if self.server_cpus else None
        self.load_pin = pin_text(self.load_cpus) if self.load_cpus else None
        self.designs = designs          # the rows of the design table chosen by --only
        self.results = results
        self.errors = results["errors"]
        # The quiet-machine guard (measure.guarded): its threshold, and the run's verdict.
        from .measure import QUIET_THRESHOLD, QUIET_WHAT
        threshold = getattr(args, "quiet_threshold", None)
        self.quiet_threshold = QUIET_THRESHOLD if threshold is None else threshold
        results.setdefault("quiet", self.quiet_threshold < 1)  # 100 %: not checked
        results.setdefault("quiet_guard", {"threshold": self.quiet_threshold,
                                           "what": QUIET_WHAT, "windows_noisy": 0,
                                           "windows_total": 0, "windows_kept_noisy": 0,
                                           "kept_noisy": []})
        self.current_server = None  # the Server started last (Server.start)
        self.step = 0
        self.total_steps = 0
        # Where the server and the load run: the one place that decides it for every workload.
        self.net = net
        if net is None:
            self.server_host, self.server_prefix = LOOPBACK, []
            self.generators = [loopback_generator(self.load_cpus)]
        else:
            self.server_host, self.server_prefix = net.server.address, net.prefix(net.server)
            pinned = bool(self.load_pin)
            self.generators = [Generator(h.name.rsplit("-", 1)[1], net.prefix(h),
                                         h.cpus if pinned else [],
                                         pin_text(h.cpus) if pinned else None, h.load_args())
                               for h in net.loads]

    def plan(self, plans):
        """The part of a workload's PLANS this run uses: "quick" with --quick; "lab", the slice
        of a workload that the default run holds for bench/LAB.md's questions (DEFAULT "lab"),
        when the run makes its workloads slices (args.lab_slices, the names of those it runs
        so: the default run without --workloads, or --lab-slices); else "default"."""
        if self.quick:
            return dict(plans["quick"])
        if "lab" in plans and getattr(self.args, "lab_slices", None):
            return dict(plans["lab"])
        return dict(plans["default"])

    def workers(self, planned):
        """Pool size: --workers if given, else the plan's, times the number of server CPUs."""
        return self.args.workers or planned * max(1, len(self.server_cpus))

    def load_threads(self, clients, cpus=None):
        """Generator threads: one per load CPU of the generator (CPUS of them, by default all
        the load CPUs), never more than the clients, unless set."""
        n = self.args.load_threads or (len(self.load_cpus) if cpus is None else cpus)
        return min(n, clients) if n > 1 else None

    def fail(self, label, message, record=None):
        self.errors.append({"step": label, "message": message})
        if record is not None:
            record["error"] = message
            record.pop("figures", None)

    def count_window(self, noisy, kept, label):
        """One measured window in the run's quiet guard; a noisy window that is kept (its
        retries spent) makes the whole run not quiet."""
        g = self.results["quiet_guard"]
        g["windows_total"] += 1
        g["windows_noisy"] += bool(noisy)
        if noisy and kept:
            g["windows_kept_noisy"] += 1
            g["kept_noisy"].append(label)
            self.results["quiet"] = False

    def check_stalls(self, when):
        """The guard's stall probe (measure.stall_probe) on the pinned CPUs, recorded in
        results["quiet_guard"]["stall_probes"] with `when`; a stalling CPU makes the run not
        quiet. None with --quick or an unchecked guard."""
        if self.quick or self.quiet_threshold >= 1:
            return None
        from .measure import stall_probe, stalling
        cpus = sorted(set(self.server_cpus) | set(self.load_cpus)) or [None]
        probe = {"when": when, "cpus": stall_probe(cpus)}
        probe["stalling"] = stalling(probe["cpus"])
        self.results["quiet_guard"].setdefault("stall_probes", []).append(probe)
        if probe["stalling"]:
            self.results["quiet"] = False
            worst = max(probe["cpus"], key=lambda c: c["late_share"])
            print(f"stall probe ({when}): the machine stalls: {100 * worst['late_share']:.2g} % "
                  f"of CPU {worst['cpu']}'s time lost to wake-ups over 1 ms late (up to "
                  f"{worst['max_us'] / 1000:.1f} ms); the run is not quiet", flush=True)
        return probe

    def workload(self, name, **fields):
        """results["workloads"][name], made on first use with `fields`."""
        return self.results["workloads"].setdefault(name, fields)


def write_results(results, path):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, path)
