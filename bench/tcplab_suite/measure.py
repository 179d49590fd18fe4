"""One measured run on a running server, its figures, and their summary over repetitions:
shared by the workloads that measure designs with tcplab-load (unp, keepalive, herd,
concurrency)."""

import math
import os
import resource
import time

from . import procfs, procstat, stats
from .core import Server, Step, StepError, run_load
from .designs import variant_name


def delta(a, b):
    """Server accounting over the measurement window: snapshot B minus snapshot A."""
    d = {}
    for key in ("monotonic_s", "cpu_user_s", "cpu_sys_s", "voluntary_ctxt_switches",
                "involuntary_ctxt_switches", "processes_created", "threads_created",
                "connections", "requests", "bytes_sent"):
        d[key] = b.get(key, 0) - a.get(key, 0)
    wa, wb = a.get("workers") or [], b.get("workers") or []
    d["workers"] = [y - (wa[i] if i < len(wa) else 0) for i, y in enumerate(wb)]
    for group in ("failures", "events"):
        ga, gb = a.get(group) or {}, b.get(group) or {}
        d[group] = {k: gb.get(k, 0) - ga.get(k, 0) for k in gb}
    d["peak_rss_max_kb"] = b.get("peak_rss_max_kb")
    d["peak_rss_sum_kb"] = b.get("peak_rss_sum_kb")
    return d


def run_figures(load, server, cpu=None):
    """The per-run figures every table and chart is drawn from. `cpu` is the server CPUs'
    /proc/stat split over the window (procstat.cpu_split), when there is one."""
    conns = max(server["connections"], 1)
    reqs = max(server["requests"], 1)
    lat = load["latency"]["total"]
    user_us = server["cpu_user_s"] * 1e6
    sys_us = server["cpu_sys_s"] * 1e6
    ctxt = server["voluntary_ctxt_switches"] + server["involuntary_ctxt_switches"]
    f = {
        "conn_per_s": load["rates"]["connections_per_s"],
        "req_per_s": load["rates"]["requests_per_s"],
        "cpu_user_us_per_conn": user_us / conns,
        "cpu_sys_us_per_conn": sys_us / conns,
        "cpu_us_per_conn": (user_us + sys_us) / conns,
        "cpu_us_per_req": (user_us + sys_us) / reqs,
        "ctxt_per_conn": ctxt / conns,
        "vol_ctxt_per_conn": server["voluntary_ctxt_switches"] / conns,
        "invol_ctxt_per_conn": server["involuntary_ctxt_switches"] / conns,
        "p50_us": lat["p50_us"],
        "p99_us": lat["p99_us"],
        "p99_9_us": lat["p99_9_us"],
        "load_errors": load["counts"]["failed"],
        "server_failures": sum(server["failures"].values()),
        "load_cpu_us_per_req": load["cpu"]["us_per_request"],
    }
    if cpu and cpu.get("shares") and not cpu.get("shared"):
        # The server CPUs' own tick samples, not the per-process split (see bench/RESULTS.md).
        for share in ("user", "system", "softirq"):
            f[f"server_cpu_{share}_share"] = cpu["shares"][share] / max(cpu["busy"], 1e-9)
    return f


def summarize(runs):
    """stats.summary of every figure over the runs that succeeded (median, CI, n, min, max)."""
    good = [r["figures"] for r in runs if r.get("figures")]
    if not good:
        return None
    keys = [k for k, v in good[0].items() if isinstance(v, (int, float)) and
            not isinstance(v, bool) and all(k in f for f in good)]
    return {k: stats.summary([f[k] for f in good]) for k in keys}


def median_run(runs, figure="conn_per_s"):
    """The successful run whose `figure` is the median one (the lower middle for even counts)."""
    good = sorted((r for r in runs if r.get("figures")), key=lambda r: r["figures"][figure])
    return good[(len(good) - 1) // 2] if good else None


def cdf_points(runs, max_points=200):
    """The latency CDF of all runs pooled, from the load generator's histogram buckets:
    [[upper edge µs, fraction ≤ it], ...], thinned to at most max_points."""
    counts = {}
    for r in runs:
        for lo, hi, n in r.get("latency_buckets_ns") or []:
            counts[hi] = counts.get(hi, 0) + n
    total = sum(counts.values())
    if not total:
        return []
    points, seen = [], 0
    for hi in sorted(counts):
        seen += counts[hi]
        points.append([hi / 1000.0, seen / total])
    if len(points) > max_points:
        # keep the tail exactly; thin the body evenly in probability
        keep, last_p = [], -1.0
        for us, p in points:
            if p - last_p >= 1.0 / max_points or p > 0.99:
                keep.append([us, p])
                last_p = p
        points = keep
    return points


# Sizing a count-based window (unp, herd, ballast): Stevens' shape keeps its clients, requests
# and bytes, and only the count of connections grows until the window lasts min_window_s.
# A warm-up of a thousand connections on a fresh server lasts some 50 ms, and on a busy 2-core
# machine the window after it ran at 0.83 to 1.54 times its rate (sd 12 %, 75 runs of unp in
# results/20261201-232134; most of the spread is the machine's, from one run to the next).
# So the warm-up's rate is scaled by the speed-up the workload's own windows have shown so far,
# and a window that still comes out short is measured again with a larger count.
FIRST_SPEEDUP = 1.35      # until SPEEDUP_RUNS windows are in
SPEEDUP_RUNS = 8
SPEEDUP_QUANTILE = 0.9    # of window rate / warm-up rate over the workload's earlier runs
MARGIN = 1.05             # the least speed-up assumed, and over the variant's fastest window
RETRY_MARGIN = 1.1        # over the rate a short window ran at
WINDOW_ATTEMPTS = 3       # windows per repetition before it fails rather than report a short one


def expected_rate(warm_rate, speedups=(), variant_rates=()):
    """The connection rate to size a window for: the warm-up's rate times the SPEEDUP_QUANTILE
    of `speedups` (window rate / warm-up rate of the workload's earlier runs; FIRST_SPEEDUP
    while there are fewer than SPEEDUP_RUNS), at least MARGIN times it, and never below MARGIN
    times the fastest window of the same variant so far (`variant_rates`)."""
    if len(speedups) >= SPEEDUP_RUNS:
        ranked = sorted(speedups)
        factor = max(MARGIN, ranked[round(SPEEDUP_QUANTILE * (len(ranked) - 1))])
    else:
        factor = FIRST_SPEEDUP
    return max([(warm_rate or 0) * factor] + [r * MARGIN for r in variant_rates])


def sized_connections(plan, rate, min_window_s):
    """How many connections last min_window_s at `rate`: in whole rounds of the plan's clients,
    never fewer than the plan's count."""
    need = math.ceil(round(rate * min_window_s, 6))  # 27500.000000000004 is 27,500
    step = max(plan["clients"], 1)
    return max(plan["connections"], -(-need // step) * step)


def resized_connections(plan, connections, window_s, min_window_s):
    """The count for another try after a window of `connections` lasted only window_s: sized
    for RETRY_MARGIN times the rate it ran at, and at least one round of clients more."""
    rate = connections / max(window_s, 1e-3) * RETRY_MARGIN
    return max(sized_connections(plan, rate, min_window_s), connections + max(plan["clients"], 1))


def sizing_history(ctx, entry):
    """What sizes ENTRY's next window: the speed-ups (first window's rate / warm-up rate) of
    every earlier run of the workload ENTRY is in, and the window rates of ENTRY's own runs,
    both read from the results being filled. ([], []) without an entry."""
    if entry is None:
        return [], []
    entries = next((w["entries"] for w in ctx.results["workloads"].values()
                    if any(e is entry for e in w.get("entries") or [])), [entry])
    speedups = [s["attempts"][0]["conn_per_s"] / s["warmup_conn_per_s"]
                for e in entries for r in e["runs"]
                if (s := r.get("sizing")) and s["attempts"] and s["warmup_conn_per_s"] > 0]
    return speedups, [r["figures"]["conn_per_s"] for r in entry["runs"] if r.get("figures")]


def long_enough(measure, connections, plan, min_window_s, attempts=WINDOW_ATTEMPTS):
    """measure(connections) -> run, until the run's window lasts min_window_s: a short one is
    measured again (a count-based one with resized_connections, a timed one as it was), at most
    `attempts` windows in all; StepError rather than a short window. Returns the run and the
    [{connections, window_s, conn_per_s}] of every window tried, the kept one last."""
    tried = []
    while True:
        run = measure(connections)
        window = run["load_window_s"]
        tried.append({"connections": connections, "window_s": window,
                      "conn_per_s": run["figures"]["conn_per_s"]})
        if window >= min_window_s:
            return run, tried
        if len(tried) >= attempts:
            raise StepError(f"every window was below {min_window_s} s after {attempts} tries ("
                            + ", ".join(f"{t['window_s']:.2f} s" for t in tried) + ")")
        if connections is not None:
            connections = resized_connections(plan, connections, window, min_window_s)


def cpu_accounting(ctx, a, b, server_cpu_s, softirqd_s=0.0):
    """Both sides' /proc/stat split over the window (procstat.cpu_split), which side saturated
    (busy >= 95 %), and whether the server was alone on its CPUs: its own CPU time, with the
    time those CPUs' ksoftirqd threads spent on the packets, is at least 85 % of their busy time,
    and the generator is pinned elsewhere. When it was not, the split is not the server's, and
    run_figures leaves it out."""
    if not ctx.server_cpus or not ctx.load_cpus:
        return {"error": "not pinned: no per-CPU split"}
    try:
        out = {"server": procstat.cpu_split(a, b, ctx.server_cpus),
               "load": procstat.cpu_split(a, b, ctx.load_cpus)}
    except ValueError as e:  # a window shorter than a tick (--quick's HTTP windows): no split
        return {"error": str(e)}
    s = out["server"]
    busy_s = s["busy"] * s["window_s"] * len(s["cpus"])
    s["process_cpu_s"] = server_cpu_s
    s["ksoftirqd_cpu_s"] = softirqd_s
    s["process_share_of_busy"] = (server_cpu_s + softirqd_s) / busy_s if busy_s > 0 else None
    s["shared"] = bool(set(ctx.server_cpus) & set(ctx.load_cpus)) or \
        (s["process_share_of_busy"] or 0) < 0.85
    out["saturated"] = [side for side in ("server", "load") if procstat.saturated(out[side])]
    return out


def measured_run(ctx, server, label, plan, clients=None, duration_s=None, entry=None):
    """Warm-up, then the measured window on a running server. Count-based plans (no duration)
    are sized from the warm-up's rate and what ENTRY's workload has measured so far
    (expected_rate), so the window lasts plan["min_window_s"]; a window that comes out shorter
    is measured again with a larger count (long_enough), and every window tried is kept in the
    run's "sizing". Returns the run record of the window kept."""
    clients = clients or plan["clients"]
    rpc, nbytes = plan["requests_per_conn"], plan["bytes"]
    min_window = plan.get("min_window_s", 0)
    duration_s = duration_s or plan.get("duration_s")
    connections, sizing = None, None
    if duration_s is None:
        # A counted warm-up always completes, however slow the machine; its rate sizes the run.
        warm, warm_file = run_load(ctx, server.port, clients, rpc, nbytes, label + "-warmup",
                                   connections=plan["warmup_connections"])
        os.unlink(os.path.join(ctx.out_dir, warm_file))
        speedups, rates = sizing_history(ctx, entry)
        warm_rate = warm["rates"]["connections_per_s"]
        expected = expected_rate(warm_rate, speedups, rates)
        connections = sized_connections(plan, expected, min_window)
        sizing = {"warmup_connections": plan["warmup_connections"],
                  "warmup_conn_per_s": warm_rate, "expected_conn_per_s": expected}
    else:
        run_load(ctx, server.port, clients, rpc, nbytes, duration_s=plan["warmup_s"])
    run, tried = long_enough(
        lambda n: guarded(ctx, label, lambda: one_window(ctx, server, label, clients, rpc,
                                                         nbytes, n, duration_s, min_window)),
        connections, plan, min_window)
    if sizing is not None:
        run["sizing"] = dict(sizing, attempts=tried)
    elif len(tried) > 1:
        run["sizing"] = {"attempts": tried}
    return run


def window(ctx, server, load, quiet=True):
    """The one measured window of the suite: snapshot A of the server's accounting (once it is
    quiet: server.quiet_snapshot; quiet=False takes it as it is), /proc/stat, the ksoftirqd
    threads and the suite's own CPU read around load() (WindowProbe), snapshot B. load() runs
    the load and returns (its JSON, its raw file). Returns {"load", "load_file", "server" (the
    accounting delta), "cpu" (cpu_accounting), "noise" (the quiet guard's record), "probe"}."""
    snap = server.quiet_snapshot if quiet else server.snapshot
    a = snap()
    probe = WindowProbe(ctx).start()
    result, raw = load()
    probe.stop()
    d = delta(a, snap())
    server_s = d["cpu_user_s"] + d["cpu_sys_s"]
    cpu = cpu_accounting(ctx, probe.stat_a, probe.stat_b, server_s, probe.softirqd_s("server"))
    return {"load": result, "load_file": raw, "server": d, "cpu": cpu,
            "noise": probe.noise(server_s), "probe": probe}


def one_window(ctx, server, label, clients, rpc, nbytes, connections, duration_s, min_window):
    """One window (window()) of CONNECTIONS loads, or for DURATION_S: one run record, with its
    noise (quiet-machine guard)."""
    w = window(ctx, server, lambda: run_load(ctx, server.port, clients, rpc, nbytes, label,
                                             connections=connections, duration_s=duration_s))
    load, d = w["load"], w["server"]
    return {"server": d, "load_file": w["load_file"], "connections_asked": connections,
            "load_window_s": load["window_s"], "window_ok": load["window_s"] >= min_window,
            "load_counts": load["counts"], "cpu": w["cpu"], "noise": w["noise"],
            "latency_buckets_ns": load["latency"]["total"]["buckets_ns"],
            "figures": run_figures(load, d, w["cpu"].get("server"))}


# --------------------------------------------------------------------------- quiet machine

# The quiet-machine guard (issue 20, item 3). Each window records, for the server's CPUs and
# for the generator's, the CPU time that none of the measured processes used
# (procstat.foreign_cpu: busy time less the server's tree or the generator, the CPUs'
# ksoftirqd, the suite itself, and softirq and irq), as a share of those CPUs' time.
#
# The threshold: on a quiet machine that share is zero but for the counters' resolution.
# Busy time is sampled by the tick (CONFIG_HZ 250: a 2 s window on one CPU is 500 samples,
# whose 95 % bound on a share is about 4.9 points, 7 points at 1 s, 14 at 0.2 s;
# procstat.error_pp) and printed in 10 ms USER_HZ units; the processes' own times are
# precise (getrusage) or 10 ms ticks (ksoftirqd). A quiet Debian machine's daemons take well
# under 1 % of a CPU. So a window is noisy when its foreign share exceeds QUIET_THRESHOLD
# beyond its own 95 % sampling bound (procstat.noisy) on either side: 5 % of a CPU is five
# times what a quiet machine's background takes, and well under what one other process does
# to a pinned CPU (a busy loop beside the server takes about half of it, as CFS shares it).
# Measured here while seven other engineers' builds ran: both CPUs 100 % busy, user 93 %,
# system 7 %, load average 7.9 on 2 CPUs; every window of that would be noisy, as it should.
QUIET_THRESHOLD = 0.05
QUIET_RETRIES = 2         # windows measured again after a noisy one, at most
QUICK_QUIET_RETRIES = 1   # with --quick: CI runs on a busy machine and must not loop
QUIET_WHAT = ("CPU time on the pinned CPUs that neither the server's processes nor the load "
              "generator (nor the CPUs' ksoftirqd, nor the suite) used, softirq and irq "
              "excluded, as a share of each side's CPU time in the window; a window is noisy "
              "when that share exceeds the threshold beyond its 95 % tick-sampling bound on "
              "either side, and is measured again")

# A host that stops this virtual machine for milliseconds at a time leaves no trace in what the
# guard reads (no foreign CPU time, often no steal either), yet an open-loop generator then
# falls behind its schedule and every latency holds the host's pauses: measured here one
# afternoon, 2 % of the sends of a 2,500/s schedule late by up to 4.6 ms with both CPUs three
# quarters idle, where the morning's run had kept every schedule. So the guard also sleeps on
# each pinned CPU, STALL_PROBE_S in STALL_SLEEP_S naps, before each workload and at the end:
# the time its wake-ups came more than STALL_LATE_AFTER_S late (tcplab-load's --late-after),
# as a share of the probe, is the share of an open-loop generator's sends that such pauses
# would make late. Over STALL_MAX (the latency workload's MAX_LATE, 1 %) on any CPU, the
# machine stalls and the run is not quiet. Not with --quick (CI's machines are busy).
STALL_SLEEP_S, STALL_PROBE_S, STALL_LATE_AFTER_S, STALL_MAX = 0.001, 1.0, 0.001, 0.01


def stall_probe(cpus, probe_s=STALL_PROBE_S, sleep_s=STALL_SLEEP_S):
    """{"cpu", "wakeups", "late_share", "p99_us", "max_us"} per CPU of `cpus` (None: this
    process's own), each probed by a thread pinned to it, all at once: naps of `sleep_s` for
    `probe_s`; a wake-up's lateness is past its nap's end."""
    import threading
    out = [None] * len(cpus)

    def nap(i, cpu):
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})  # this thread's
        late, end = [], time.perf_counter() + probe_s
        while (t := time.perf_counter()) < end:
            time.sleep(sleep_s)
            late.append(time.perf_counter() - t - sleep_s)
        late.sort()
        out[i] = {"cpu": cpu, "wakeups": len(late),
                  "late_share": round(sum(max(0.0, x - STALL_LATE_AFTER_S) for x in late)
                                      / probe_s, 5),
                  "p99_us": round(1e6 * late[int(0.99 * (len(late) - 1))], 1),
                  "max_us": round(1e6 * late[-1], 1)}

    threads = [threading.Thread(target=nap, args=(i, c)) for i, c in enumerate(cpus)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def stalling(probe, limit=STALL_MAX):
    """The CPUs of a stall_probe() whose late share is over `limit`."""
    return [p["cpu"] for p in probe if p["late_share"] > limit]


def own_cpu_s():
    """CPU seconds of this process and of its children reaped so far (the generators)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime)


class WindowProbe:
    """What is read around one window's load: /proc/stat, each side's ksoftirqd threads, and
    the CPU of the suite and of the children it reaps during the window (the load generators,
    which start and end inside it)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.sides = {"server": ctx.server_cpus, "load": ctx.load_cpus}
        self.softirqd = {side: procfs.pids_named({f"ksoftirqd/{c}" for c in cpus})
                         for side, cpus in self.sides.items()}

    def start(self):
        self.softirqd_a = {side: procfs.cpu_s(p) for side, p in self.softirqd.items()}
        self.own_a = own_cpu_s()
        self.stat_a = procstat.read_stat()
        return self

    def stop(self):
        self.stat_b = procstat.read_stat()
        self.own_b = own_cpu_s()
        self.softirqd_b = {side: procfs.cpu_s(p) for side, p in self.softirqd.items()}
        self.load_avg = procstat.loadavg()
        return self

    def softirqd_s(self, side):
        return self.softirqd_b[side] - self.softirqd_a[side]

    def noise(self, server_s):
        """The window's noise record (noise_record) with the server's CPU seconds."""
        suite_s = self.own_b[0] - self.own_a[0]
        generator_s = self.own_b[1] - self.own_a[1]
        return noise_record(self.stat_a, self.stat_b, self.sides,
                            {"server": server_s + suite_s + self.softirqd_s("server"),
                             "load": generator_s + suite_s + self.softirqd_s("load")},
                            self.ctx.quiet_threshold, self.load_avg)


def noise_record(stat_a, stat_b, sides, own_s, threshold, load_avg=None):
    """{"server": foreign_cpu, "load": foreign_cpu, "share": the larger side's share,
    "margin": the larger side's share less its error, "threshold", "noisy" (margin over the
    threshold), "loadavg", "running"} for one window; SIDES the CPUs of each
    side, OWN_S the measured processes' CPU seconds on each. The suite's own CPU is counted on
    both sides (it is not pinned), which can only make a window look quieter than it was by
    that much (a few ms a window). Without pinning, or with both sides on the same CPUs, the
    figure cannot be split: {"error": why, "noisy": True}."""
    load_avg = load_avg or {}
    out = {"threshold": threshold, "loadavg": load_avg.get("loadavg"),
           "running": load_avg.get("running")}
    if not sides["server"] or not sides["load"]:
        return dict(out, error="not pinned: no per-CPU split, the guard cannot measure",
                    noisy=True)
    if set(sides["server"]) & set(sides["load"]):
        return dict(out, error="server and generator share CPUs: the guard cannot split them",
                    noisy=True)
    share, margin = -1.0, -1.0
    for side, cpus in sides.items():
        f = procstat.foreign_cpu(stat_a, stat_b, cpus, own_s[side])
        out[side] = {k: round(v, 4) if isinstance(v, float) else v for k, v in f.items()}
        share = max(share, f["share"])
        margin = max(margin, f["share"] - f["error"])
    out["share"], out["margin"] = round(share, 4), round(margin, 4)
    out["noisy"] = margin > threshold  # procstat.noisy of the larger side
    return out


def noise_note(rec):
    """The end of a progress line for a window the guard measured again or kept noisy."""
    n = rec.get("noise") or {}
    tries = n.get("tries") or ([n["share"]] if n.get("share") is not None else [])
    if rec.get("quiet", True) and len(tries) < 2:
        return ""
    if "error" in n:
        return f" [quiet guard: {n['error']}]"
    state = "quiet" if rec.get("quiet") else "NOT QUIET"
    return (f" [{state} after {len(tries)} windows: other work took "
            + ", ".join(f"{100 * max(t, 0):.0f}" for t in tries) + " % of the pinned CPUs]")


def quiet_retries(ctx):
    return QUICK_QUIET_RETRIES if ctx.quick else QUIET_RETRIES


def guarded(ctx, label, measure, retries=None):
    """measure() -> a record with its window's "noise"; a noisy window is measured again, at
    most `retries` (default quiet_retries(ctx)) more times (a threshold of 1 or more never
    retries). The record
    kept is the last one, with "quiet" (its window was not noisy) and, when it took more
    than one, "noise"["tries"]: the larger side's share of every window. Each window is
    counted in the run's guard (ctx.count_window)."""
    shares = []
    retries = quiet_retries(ctx) if retries is None else retries
    while True:
        rec = measure()
        n = rec.setdefault("noise", {"noisy": True, "error": "no noise record"})
        shares.append(n.get("share"))
        retry = n["noisy"] and ctx.quiet_threshold < 1 and "error" not in n
        ctx.count_window(n["noisy"], kept=not retry or len(shares) > retries, label=label)
        if not retry or len(shares) > retries:
            break
    rec["quiet"] = not n["noisy"]
    if len(shares) > 1:
        rec["noise"]["tries"] = shares
    return rec


def progress_note(run):
    f = run.get("figures")
    if not f:
        return ""
    note = (f"{f['conn_per_s']:,.0f} conn/s, {f['req_per_s']:,.0f} req/s, "
            f"{f['cpu_us_per_conn']:.1f} µs CPU/conn, p99 {f['p99_us']:.0f} µs")
    sat = (run.get("cpu") or {}).get("saturated")
    if sat:
        note += f" [{' and '.join(sat)} CPU saturated]"
    note += noise_note(run)
    tried = (run.get("sizing") or {}).get("attempts") or []
    if len(tried) > 1:
        note += (f" [window {run['load_window_s']:.2f} s on try {len(tried)}: "
                 + ", ".join(f"{t['window_s']:.2f} s" for t in tried[:-1]) + " too short]")
    return note


def window_report(entries, min_window_s):
    """The check that no reported window is short: over ENTRIES' runs with figures, how many
    windows, the shortest, those below min_window_s (by variant and repetition; long_enough
    leaves none), the repetitions measured again after a short window, and the seconds spent
    in windows against the seconds of the steps (step_s: server start and stop, warm-up and
    the snapshots are the difference)."""
    runs = [(e, r) for e in entries for r in e["runs"] if r.get("figures")]
    windows = [r["load_window_s"] for _, r in runs]
    retried = [r for _, r in runs if len((r.get("sizing") or {}).get("attempts") or []) > 1]
    return {"min_window_s": min_window_s, "windows": len(windows),
            "shortest_s": min(windows) if windows else None,
            "below_min": [f"{e['variant']}/rep{r['rep']}" for e, r in runs
                          if min_window_s and r["load_window_s"] < min_window_s],
            "retried": len(retried),
            "retried_windows_s": sum(t["window_s"] for r in retried
                                     for t in r["sizing"]["attempts"][:-1]),
            "windows_s": sum(windows),
            "steps_s": sum(r.get("step_s", 0) for e in entries for r in e["runs"])}


def window_line(report):
    """The summary.md line of a window_report."""
    if not report or not report["windows"]:
        return "Windows: none measured."
    line = f"Windows: {report['windows']} measured, the shortest {report['shortest_s']:.2f} s"
    if report["min_window_s"]:
        below = report["below_min"]
        line += (f"; **{len(below)} below {report['min_window_s']} s: {', '.join(below)}**"
                 if below else f", none below {report['min_window_s']} s")
    if report["retried"]:
        line += (f"; {report['retried']} repetition(s) measured again with a larger count "
                 f"after a short window ({report['retried_windows_s']:.1f} s of windows "
                 "discarded)")
    if report["steps_s"]:
        line += (f"; {report['windows_s']:.0f} s of windows in {report['steps_s']:.0f} s of "
                 "steps")
    return line + "."


def new_entry(design, dispatch, workers, clients):
    return {"variant": variant_name(design, dispatch), "design": design, "dispatch": dispatch,
            "workers": workers, "clients": clients, "runs": []}


def one_run(ctx, entry, rep, label, what, plan, server_extra=()):
    """One repetition on a fresh server, appended to entry["runs"] whatever happens."""
    run = {"rep": rep}
    entry["runs"].append(run)
    began = time.monotonic()
    with Step(ctx, label, what, run) as st:
        server = Server(ctx, entry["design"], entry["workers"], entry["dispatch"], server_extra)
        with server:
            run.update(measured_run(ctx, server, label, plan, clients=entry["clients"],
                                    entry=entry))
        server.check_exit()
        st.note = progress_note(run)
    run["step_s"] = round(time.monotonic() - began, 3)
    return run
