#!/usr/bin/python3
"""The suite's charts, drawn from results.json alone (schema: bench/RESULTS.md).

    plots/charts.py results/<timestamp>            # redraw every chart of a run

One function per chart; each takes the loaded results and the output folder, writes NAME.png
and NAME.svg, and returns NAME, or None when the run has no data for it.
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib import ticker  # noqa: E402

from tcplab_suite.workloads import REGISTRY  # noqa: E402

USER_COLOR, SYS_COLOR, SOFTIRQ_COLOR = "#4878a8", "#e8a33d", "#c44e52"


def _save(fig, out_dir, name):
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out_dir, f"{name}.{ext}"), dpi=110)
    plt.close(fig)
    return name


def _entries(results, workload):
    w = results.get("workloads", {}).get(workload)
    return [e for e in (w or {}).get("entries", []) if e.get("summary")]


def _line_style(i):
    """Distinct colour and dash for the i-th of up to 20 lines."""
    return {"color": plt.get_cmap("tab10")(i % 10), "ls": "-" if i < 10 else "--"}


def _plain_log_axis(axis):
    """Log-scale tick labels as plain numbers (200, 1,000, 5,000), not 10^3."""
    fmt = ticker.FuncFormatter(lambda v, _: f"{v:,.0f}")
    axis.set_major_formatter(fmt)
    axis.set_minor_formatter(ticker.FuncFormatter(
        lambda v, _: f"{v:,.0f}" if str(round(v))[0] in "25" else ""))


def _med(e, key):
    return e["summary"][key]["median"]


def _ci(stat):
    """The 95 % interval of a stats.summary, or the median twice when there is none."""
    return stat.get("ci95") or [stat["median"], stat["median"]]


def _err(entries, key):
    """The 95 % confidence interval as asymmetric error bars around the median."""
    return [[_med(e, key) - _ci(e["summary"][key])[0] for e in entries],
            [_ci(e["summary"][key])[1] - _med(e, key) for e in entries]]


def _top(e, key):
    return _ci(e["summary"][key])[1]


def _subtitle(results, workload):
    p = results["workloads"][workload]["params"]
    reps = p.get("repeat", 1)
    return (f"{p.get('clients', '')} clients, {p['requests_per_conn']} req/conn of {p['bytes']} B"
            f", {p.get('workers', '')} workers; median of {reps} interleaved run(s), bars 95 % CI"
            + (" (--quick: indicative only)" if results["config"].get("quick") else ""))


def cpu_per_connection(results, out_dir):
    """1. Server CPU µs per connection, iterative baseline marked. The split into user, system
    and softirq is the server CPUs' /proc/stat over the window (tick samples of the whole CPU);
    the per-process getrusage split beside it is shown only as a teaching contrast."""
    es = _entries(results, "unp")
    if not es:
        return None
    names = [e["variant"] for e in es]
    total = [_med(e, "cpu_us_per_conn") for e in es]
    has_split = all("server_cpu_user_share" in e["summary"] for e in es)
    fig, (ax, contrast) = plt.subplots(1, 2, figsize=(14, 5.5), sharey=True,
                                       gridspec_kw={"width_ratios": [3, 1]})
    y = range(len(es))
    cpus = results["pinning"].get("server")
    if has_split:
        left = [0.0] * len(es)
        for share, color in (("user", USER_COLOR), ("system", SYS_COLOR),
                             ("softirq", SOFTIRQ_COLOR)):
            part = [t * _med(e, f"server_cpu_{share}_share") for t, e in zip(total, es)]
            ax.barh(y, part, left=left, color=color, label=f"{share} (CPU {cpus}'s /proc/stat)")
            left = [a + b for a, b in zip(left, part)]
        split_note = f"split: CPU {cpus}'s /proc/stat share of busy time"
    else:
        ax.barh(y, total, color="#999", label="total (no per-CPU split: CPU shared or unpinned)")
        split_note = "no per-CPU split in this run"
    ax.errorbar(total, list(y), xerr=_err(es, "cpu_us_per_conn"), fmt="none", ecolor="#444",
                capsize=3)
    for i, e in enumerate(es):
        ax.text(_top(e, "cpu_us_per_conn") * 1.01 + 1, i, f"{total[i]:.1f}", va="center",
                fontsize=8)
    base = next((e for e in es if e["variant"] == results["workloads"]["unp"].get("baseline")),
                None)
    if base:
        ax.axvline(_med(base, "cpu_us_per_conn"), color="crimson", ls="--", lw=1.2,
                   label=f"{base['variant']} baseline {_med(base, 'cpu_us_per_conn'):.1f} µs")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel(f"server CPU per connection, µs (whole process tree; {split_note})")
    ax.set_title("Server CPU per connection — workload unp (cf. UNP Fig. 30.1)\n"
                 + _subtitle(results, "unp"), fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, frameon=False, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.1)
    user = [100 * _med(e, "cpu_user_us_per_conn") / max(t, 1e-9) for e, t in zip(es, total)]
    contrast.barh(y, user, color="#bbb")
    contrast.set_xlim(0, 100)
    contrast.set_xlabel("user share, % (getrusage)")
    contrast.set_title("Contrast only: getrusage's\nper-process split (biased)", fontsize=9)
    contrast.grid(axis="x", alpha=0.3)
    return _save(fig, out_dir, "1-cpu-per-connection")


def process_control(results, out_dir):
    """2. Process-control CPU: each design's CPU/conn minus the iterative server's."""
    es = [e for e in _entries(results, "unp")
          if e.get("process_control_us_per_conn") and e["variant"] != "iterative"]
    if not es:
        return None
    names = [e["variant"] for e in es]
    vals = [e["process_control_us_per_conn"]["median"] for e in es]
    err = [[v - _ci(e["process_control_us_per_conn"])[0] for v, e in zip(vals, es)],
           [_ci(e["process_control_us_per_conn"])[1] - v for v, e in zip(vals, es)]]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    y = range(len(es))
    colors = ["#c44e52" if v < 0 else "#55a868" for v in vals]
    ax.barh(y, vals, color=colors, xerr=err, ecolor="#444", capsize=3)
    for i, v in enumerate(vals):
        ax.text(v, i, f" {v:+.1f} ", va="center", ha="left" if v >= 0 else "right", fontsize=8)
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("process-control CPU per connection, µs (design − iterative; "
                  "negative = cheaper than the baseline)")
    ax.set_title("Process-control CPU per connection — workload unp (Stevens' subtraction)\n"
                 + _subtitle(results, "unp"), fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.15)
    return _save(fig, out_dir, "2-process-control")


def latency(results, out_dir):
    """3. Latency p50 / p99 / p99.9 per design, and the CDF of every design overlaid."""
    es = _entries(results, "unp")
    if not es:
        return None
    fig, (ax, cdf) = plt.subplots(1, 2, figsize=(14, 5.5), gridspec_kw={"width_ratios": [1, 1]})
    names = [e["variant"] for e in es]
    width = 0.27
    for k, (key, label) in enumerate((("p50_us", "p50"), ("p99_us", "p99"),
                                      ("p99_9_us", "p99.9"))):
        xs = [i + (k - 1) * width for i in range(len(es))]
        ax.bar(xs, [_med(e, key) for e in es], width, label=label, yerr=_err(es, key),
               capsize=2, ecolor="#444")
    ax.set_xticks(range(len(es)), names, rotation=35, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("request latency, µs (connect to last byte; log scale)")
    ax.set_title("Latency percentiles — workload unp", fontsize=11)
    ax.legend()
    ax.grid(axis="y", alpha=0.3, which="both")
    _plain_log_axis(ax.yaxis)
    for i, e in enumerate(es):
        pts = e.get("latency_cdf") or []
        if pts:
            cdf.plot([p[0] for p in pts], [p[1] for p in pts], label=e["variant"], lw=1.4,
                     **_line_style(i))
    _plain_log_axis(cdf.xaxis)
    cdf.set_xscale("log")
    cdf.set_xlabel("request latency, µs (log scale)")
    cdf.set_ylabel("fraction of requests ≤ latency")
    cdf.set_ylim(0, 1.01)
    cdf.set_title("Latency CDF (all runs pooled, from tcplab-load's histogram)", fontsize=11)
    cdf.grid(alpha=0.3, which="both")
    cdf.legend(fontsize=7, loc="lower right")
    fig.suptitle(_subtitle(results, "unp"), fontsize=9)
    return _save(fig, out_dir, "3-latency")


def worker_distribution(results, out_dir):
    """4. Connections per worker slot for every pooled design (Stevens' distribution table)."""
    es = [e for e in _entries(results, "unp") if len(e.get("workers_per_slot") or []) > 1]
    if not es:
        return None
    cols = min(4, len(es))
    rows = (len(es) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows + 0.6), squeeze=False,
                             sharey=True)
    top = max(max(e["workers_per_slot"]) for e in es)
    for ax, e in zip(axes.flat, es):
        counts = e["workers_per_slot"]
        ax.bar(range(len(counts)), counts, color="#4878a8")
        even = sum(counts) / len(counts)
        ax.axhline(even, color="crimson", ls="--", lw=1, label=f"even share {even:,.0f}")
        ax.set_title(e["variant"], fontsize=10)
        ax.set_xlabel("worker slot")
        step = max(1, len(counts) // 8)
        ax.set_xticks(range(0, len(counts), step))
        ax.set_ylim(0, top * 1.1)
        ax.legend(fontsize=7, loc="upper right")
    for ax in axes[:, 0]:
        ax.set_ylabel("connections served")
    for ax in list(axes.flat)[len(es):]:
        ax.axis("off")
    p = results["workloads"]["unp"]["params"]
    fig.suptitle(f"Connections per worker — workload unp, median run of "
                 f"{p['connections']:,} connections, {p['workers']} workers", fontsize=12)
    return _save(fig, out_dir, "4-connections-per-worker")


def herd(results, out_dir):
    """5. The thundering-herd sweep: CPU per connection against pool size."""
    es = _entries(results, "herd")
    if not es:
        return None
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for name in dict.fromkeys(e["variant"] for e in es):
        pts = sorted((e for e in es if e["variant"] == name), key=lambda e: e["workers"])
        ax.errorbar([e["workers"] for e in pts], [_med(e, "cpu_us_per_conn") for e in pts],
                    yerr=_err(pts, "cpu_us_per_conn"), marker="o", capsize=3, label=name)
    p = results["workloads"]["herd"]["params"]
    ax.set_xticks(p["pool_sizes"])
    ax.set_xlabel("pool size (workers)")
    ax.set_ylabel("server CPU per connection, µs (user + sys)")
    ax.set_ylim(bottom=0)
    ax.set_title("Thundering herd: server CPU per connection against pool size\n"
                 f"{p['clients']} clients, {p['connections']:,} connections per point, "
                 f"{p['repeat']} run(s) per point, bars 95 % CI", fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(fig, out_dir, "5-herd")


def concurrency(results, out_dir):
    """6. Throughput and p99 latency against the number of concurrent clients."""
    es = _entries(results, "concurrency")
    if not es:
        return None
    fig, (tp, p99) = plt.subplots(1, 2, figsize=(14, 5.5))
    for i, name in enumerate(dict.fromkeys(e["variant"] for e in es)):
        pts = sorted((e for e in es if e["variant"] == name), key=lambda e: e["clients"])
        xs = [e["clients"] for e in pts]
        style = dict(marker="o", ms=4, label=name, lw=1.4, **_line_style(i))
        tp.plot(xs, [_med(e, "conn_per_s") for e in pts], **style)
        p99.plot(xs, [_med(e, "p99_us") for e in pts], **style)
    p = results["workloads"]["concurrency"]["params"]
    for ax in (tp, p99):
        ax.set_xscale("log", base=2)
        ax.set_xticks(p["levels"], [str(c) for c in p["levels"]])
        ax.set_xlabel("concurrent clients (closed loop, log scale)")
        ax.grid(alpha=0.3, which="both")
    tp.set_ylabel("connections per second (1 request each)")
    tp.set_ylim(bottom=0)
    tp.set_title("Throughput against concurrency", fontsize=11)
    p99.set_yscale("log")
    _plain_log_axis(p99.yaxis)
    p99.set_ylabel("p99 request latency, µs (log scale)")
    p99.set_title("p99 latency against concurrency", fontsize=11)
    p99.legend(fontsize=7)
    fig.suptitle(f"{p['bytes']} B per request, {p['duration_s']} s measured per point, "
                 f"{p['workers']} workers, {p['repeat']} run(s) per point", fontsize=9)
    return _save(fig, out_dir, "6-concurrency")


def context_switches(results, out_dir):
    """7. Server context switches per connection, voluntary and involuntary stacked."""
    es = _entries(results, "unp")
    if not es:
        return None
    names = [e["variant"] for e in es]
    vol = [_med(e, "vol_ctxt_per_conn") for e in es]
    invol = [_med(e, "invol_ctxt_per_conn") for e in es]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    y = range(len(es))
    ax.barh(y, vol, color="#55a868", label="voluntary (blocked)")
    ax.barh(y, invol, left=vol, color="#c44e52", label="involuntary (preempted)",
            xerr=_err(es, "ctxt_per_conn"), ecolor="#444", capsize=3)
    for i, e in enumerate(es):
        ax.text(_top(e, "ctxt_per_conn") * 1.01 + 0.03, i, f"{_med(e, 'ctxt_per_conn'):.2f}",
                va="center", fontsize=8)
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("server context switches per connection (whole process tree)")
    ax.set_title("Context switches per connection — workload unp\n" + _subtitle(results, "unp"),
                 fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.1)
    return _save(fig, out_dir, "7-context-switches")


def microbenchmarks(results, out_dir):
    """8. The cost of each primitive, from tcplab-micro (Google Benchmark)."""
    micro = results.get("micro") or {}
    bs = [b for b in micro.get("benchmarks", []) if "real_us" in b]
    if not bs:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(bs) + 1.8))
    y = range(len(bs))
    ax.barh(y, [b["real_us"] for b in bs], color="#8172b2")
    for i, b in enumerate(bs):
        ax.text(b["real_us"], i, f" {b['real_us']:.2f}", va="center", fontsize=8)
    ax.set_yticks(list(y), [b["name"] for b in bs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("real time per iteration, µs (log scale)")
    stat = bs[0].get("statistic", "")
    ax.set_title(f"Microbenchmarks: cost of each primitive (tcplab-micro, {stat})", fontsize=11)
    ax.grid(axis="x", alpha=0.3, which="both")
    return _save(fig, out_dir, "8-microbenchmarks")


def _faults(results, scenario):
    f = results.get("workloads", {}).get("faults") or {}
    return (f.get("scenarios") or {}).get(scenario) or []


def faults_bad_input(results, out_dir):
    """Faults 1. The request corpus: exact answers, and descriptors before and after."""
    rs = _faults(results, "bad_input")
    if not rs:
        return None
    fig, (ax, fx) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    y = range(len(rs))
    exact = [100 * r["exact"] / r["cases"] for r in rs]
    good = [100 * r["good_after"] / r["cases"] for r in rs]
    ax.barh([i - 0.2 for i in y], exact, height=0.4, color="#55a868", label="exact answer")
    ax.barh([i + 0.2 for i in y], good, height=0.4, color=USER_COLOR,
            label="good request served after")
    ax.set_yticks(list(y), [r["design"] for r in rs])
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    ax.set_xlabel(f"% of the {rs[0]['cases']} corpus cases")
    ax.legend(fontsize=8, loc="lower left")
    fx.barh([i - 0.2 for i in y], [r["fds_before"] for r in rs], height=0.4, color="#999",
            label="before the corpus")
    fx.barh([i + 0.2 for i in y], [r["fds_after"] for r in rs], height=0.4, color=SYS_COLOR,
            label="after")
    fx.set_xlabel("open descriptors, server + children")
    fx.legend(fontsize=8, loc="lower right")
    fig.suptitle("Bad input: every corpus case over a real socket (tests/corpus/bad_requests.txt)",
                 fontsize=11)
    return _save(fig, out_dir, "faults-1-bad-input")


def faults_slow_clients(results, out_dir):
    """Faults 2. Slow clients: how long a normal client waits for its first answer."""
    rs = _faults(results, "slow")
    if not rs:
        return None
    p = results["workloads"]["faults"]["params"]["slow"]
    designs = list(dict.fromkeys(r["design"] for r in rs))
    kinds = list(dict.fromkeys(r["kind"] for r in rs))
    fig, ax = plt.subplots(figsize=(11, 5.5))
    h = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        for i, d in enumerate(designs):
            r = next((x for x in rs if x["design"] == d and x["kind"] == kind), None)
            if r is None:
                continue
            blocked = r.get("first_ok_s") is None
            v = p["window_s"] if blocked else r["first_ok_s"] * 1e3 / 1e3
            ax.barh(i - 0.4 + (k + 0.5) * h, v, height=h, color=_line_style(k)["color"],
                    hatch="//" if blocked else None, alpha=0.6 if blocked else 1,
                    label=kind if i == 0 else None)
            ax.text(v, i - 0.4 + (k + 0.5) * h,
                    " blocked for the whole window" if blocked
                    else f" {r['first_ok_s'] * 1e3:,.1f} ms", va="center", fontsize=7)
    ax.set_yticks(range(len(designs)), designs)
    ax.invert_yaxis()
    ax.set_xlabel(f"s until a normal client's first answer (window {p['window_s']} s)")
    ax.set_title(f"Slow clients: {p['clients']} that send nothing (silent), one byte a second "
                 f"(trickle), or never read (nonreader)\n--io-timeout-ms {p['io_timeout_ms']}; "
                 "hatched: no answer within the window", fontsize=10)
    ax.legend(fontsize=8)
    ax.margins(x=0.25)
    return _save(fig, out_dir, "faults-2-slow-clients")


def faults_resets(results, out_dir):
    """Faults 3. Resets mid-response: sent by the clients, counted by the server."""
    rs = _faults(results, "resets")
    if not rs:
        return None
    fig, ax = plt.subplots(figsize=(10, 4.5))
    y = range(len(rs))
    ax.barh([i - 0.2 for i in y], [r["resets_sent"] for r in rs], height=0.4, color="#999",
            label="resets sent (SO_LINGER 0)")
    ax.barh([i + 0.2 for i in y], [r["counted_reset"] for r in rs], height=0.4,
            color="#c44e52", label="failures.reset counted by the server")
    for i, r in enumerate(rs):
        ax.text(r["counted_reset"], i + 0.2, "" if r["alive"] else "  server died", va="center",
                fontsize=8)
    ax.set_yticks(list(y), [r["design"] for r in rs])
    ax.invert_yaxis()
    ax.set_xlabel("connections")
    ax.set_title("Resets in the middle of a large response", fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, out_dir, "faults-3-resets")


def faults_crashes(results, out_dir):
    """Faults 4. kill -9 under load (success rate, respawn time), and one crashing handler."""
    rs = _faults(results, "crashes")
    kills = [r for r in rs if r.get("mode") == "kill"]
    crash = [r for r in rs if r.get("mode") == "crash-request"]
    if not rs:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8))
    a, b, c = axes
    if kills:
        y = range(len(kills))
        a.barh(list(y), [100 * (1 - (r["success_rate"] or 0)) for r in kills], color="#c44e52")
        for i, r in enumerate(kills):
            a.text(100 * (1 - (r["success_rate"] or 0)), i,
                   f" {r['requests_failed']} of {r['requests_ok'] + r['requests_failed']:,}"
                   f" ({r['kills']} kills)", va="center", fontsize=7)
        a.set_yticks(list(y), [r["design"] for r in kills])
        a.invert_yaxis()
        a.set_xlabel("% of requests failed")
        a.set_title("kill -9 every %g ms under load" % (1e3 * kills[0]["interval_s"]), fontsize=10)
        a.margins(x=0.6)
        pooled = [r for r in kills if r.get("respawn_ms")]
        if pooled:
            b.boxplot([r["respawn_ms"] for r in pooled], vert=False,
                      labels=[r["design"] for r in pooled])
            b.invert_yaxis()
            b.set_xscale("log")
            b.set_xlabel("respawn time, ms (kill to a new pid in the scoreboard)")
            b.set_title("Respawn time", fontsize=10)
    y = range(len(crash))
    alive = [1 if r["server_alive"] else 0 for r in crash]
    c.barh(list(y), [1] * len(crash), color=["#55a868" if v else "#c44e52" for v in alive])
    for i, r in enumerate(crash):
        c.text(0.5, i, ("survives; bystander served" if r["bystander_ok"] else "survives")
               if r["server_alive"] else f"dies ({r['exit_text']})", ha="center", va="center",
               fontsize=8, color="white")
    c.set_yticks(list(y), [r["design"] for r in crash])
    c.invert_yaxis()
    c.set_xticks([])
    c.set_title("One crashing handler (--fault-inject)", fontsize=10)
    fig.suptitle("Crashes: what one dead worker or handler costs", fontsize=11)
    return _save(fig, out_dir, "faults-4-crashes")


def faults_emfile(results, out_dir):
    """Faults 5. RLIMIT_NOFILE 64 and 500 clients: CPU while saturated, clients served."""
    rs = _faults(results, "emfile")
    if not rs:
        return None
    p = results["workloads"]["faults"]["params"]["emfile"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    y = range(len(rs))
    a.barh(list(y), [r["saturated_cpu_s_per_s"] for r in rs], color=SYS_COLOR)
    for i, r in enumerate(rs):
        a.text(r["saturated_cpu_s_per_s"], i, f" {r['saturated_cpu_s_per_s']:.3f}"
               + (" (backed off)" if r["backed_off"] else ""), va="center", fontsize=8)
    a.set_yticks(list(y), [r["design"] for r in rs])
    a.invert_yaxis()
    a.set_xlim(0, max(0.05, max(r["saturated_cpu_s_per_s"] for r in rs) * 2))
    a.set_xlabel("server CPU s per wall s while saturated (1.0 = one core spinning)")
    b.barh(list(y), [100 * r["served"] / r["clients"] for r in rs], color="#55a868")
    for i, r in enumerate(rs):
        b.text(1, i, f"{r['served']}/{r['clients']}, then {r['served_after']}/{p['after']}",
               va="center", fontsize=8, color="white")
    b.set_xlim(0, 100)
    b.set_xlabel("% of the held clients served once the load dropped")
    fig.suptitle(f"Descriptor exhaustion: RLIMIT_NOFILE {p['nofile']}, {p['clients']} clients",
                 fontsize=11)
    return _save(fig, out_dir, "faults-5-emfile")


def slowhttp_availability(results, out_dir):
    """slowhttp. Which designs stay available under slowhttptest: its verdict each second, one
    row per design, slowloris and slow read side by side."""
    w = results.get("workloads", {}).get("slowhttp") or {}
    runs = w.get("runs") or []
    if not runs:
        return None
    p = w["params"]
    designs = list(dict.fromkeys(r["design"] for r in runs))
    modes = [m for m in ("slowloris", "slowread") if any(r["mode"] == m for r in runs)]
    titles = {"slowloris": "slowloris (-H): headers never finished",
              "slowread": "slow read (-X): a large answer read a few bytes a second"}
    up, down = "#55a868", "#c44e52"
    fig, axes = plt.subplots(1, len(modes), figsize=(6 * len(modes), 0.42 * len(designs) + 1.9),
                             sharey=True, squeeze=False)
    for ax, mode in zip(axes[0], modes):
        for i, d in enumerate(designs):
            r = next((x for x in runs if x["design"] == d and x["mode"] == mode), None)
            if r is None:
                ax.text(0.2, i, "not measured", va="center", fontsize=8, color="#777")
                continue
            tl = r["timeline"]
            ax.broken_barh([(s, 1) for s, ok in enumerate(tl) if ok], (i - 0.35, 0.7),
                           color=up)
            ax.broken_barh([(s, 1) for s, ok in enumerate(tl) if not ok], (i - 0.35, 0.7),
                           color=down, hatch="//", edgecolor="#fff")
            ax.text(len(tl) + 0.2, i, f"{100 * r['available_fraction']:.0f} %"
                    + (" (server closed every slow client: test over)" if r.get("all_closed")
                       else ""), va="center", fontsize=8)
        n = max(len(r["timeline"]) for r in runs)
        ax.set_xlim(0, n + 1.6)
        ax.set_xticks(range(0, n + 1, 2))
        ax.axvspan(0, p["probe_timeout_s"], color="#000", alpha=0.06, lw=0)
        ax.set_xlabel("second of the test")
        ax.set_title(titles[mode], fontsize=10)
        ax.grid(axis="x", color="#fff", lw=0.8)
    axes[0][0].set_yticks(range(len(designs)), designs)
    axes[0][0].invert_yaxis()
    fig.suptitle(f"Which designs stay available under slow clients? slowhttptest's verdict each "
                 f"second, {p['workers']} workers, --io-timeout-ms {p['io_timeout_ms']}\n"
                 f"green: its probe request answered within {p['probe_timeout_s']} s, red hatched: not; "
                 "grey band: before a probe could time out; % = share of the seconds available",
                 fontsize=10)
    return _save(fig, out_dir, "slowhttp-availability")


def soak(results, out_dir):
    """Soak: descriptors and RSS against connections served."""
    part = results.get("workloads", {}).get("soak") or {}
    rs = part.get("designs") or []
    if not rs:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, r in enumerate(rs):
        xs = [smp["connections"] for smp in r["samples"]]
        a.plot(xs, [smp["fds"] for smp in r["samples"]], marker="o", label=r["design"],
               **_line_style(i))
        b.plot(xs, [smp["rss_kb"] / 1024 for smp in r["samples"]], marker="o",
               label=r["design"], **_line_style(i))
    a.set_xlabel("connections served")
    a.set_ylabel("open descriptors, server + children")
    a.set_ylim(bottom=0)
    b.set_xlabel("connections served")
    b.set_ylabel("RSS, MiB (server + children)")
    b.set_ylim(bottom=0)
    a.legend(fontsize=8)
    fig.suptitle("Soak: descriptors and memory stay flat", fontsize=11)
    return _save(fig, out_dir, "faults-6-soak")


def beyond(results, out_dir):
    """beyond-1. Event-loop designs beside the classic ones and nginx, all driven over HTTP:
    req/s and server CPU per request, for unp and keepalive (workloads/beyond.py)."""
    w = results.get("workloads", {}).get("beyond")
    rows = [e for e in (w or {}).get("servers", []) if e.get("figures")]
    if not rows:
        return None
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    for col, sub in enumerate(("unp", "keepalive")):
        es = [e for e in rows if e["table"] == sub]
        names = [e["variant"] for e in es]
        loops = {d["name"] for d in results.get("designs", []) if d.get("event_loop")}
        colors = ["#c44e52" if e["design"].startswith("nginx") else "#55a868"
                  if e["design"] in loops else "#4878a8" for e in es]
        for row, (key, label) in enumerate((("req_per_s", "requests per second"),
                                             ("cpu_us_per_req", "server CPU µs per request"))):
            ax = axes[row][col]
            vals = [e["figures"][key] for e in es]
            cis = [_ci(e["summary"][key]) if key in (e.get("summary") or {}) else [v, v]
                   for e, v in zip(es, vals)]
            ax.barh(range(len(es)), vals, color=colors, ecolor="#444", capsize=3,
                    xerr=[[v - c[0] for v, c in zip(vals, cis)],
                          [c[1] - v for v, c in zip(vals, cis)]])
            ax.set_yticks(range(len(es)), names, fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel(label)
            ax.grid(axis="x", alpha=0.3)
            if row == 0:
                p = w["params"]
                ax.set_title(f"{sub}: {p[sub]['requests_per_conn']} req/conn, {p['clients']} clients,"
                             f" {p['workers']} workers, HTTP", fontsize=10)
    fig.suptitle("Beyond chapter 30: classic (blue), event loops (green), nginx (red); "
                 "bars 95 % CI")
    return _save(fig, out_dir, "beyond-1-throughput-cpu")


def beyond_idle_and_stall(results, out_dir):
    """beyond-2. KiB per idle connection; failed fraction with one stalled worker."""
    ws = results.get("workloads", {})
    idle = [e for e in (ws.get("idle") or {}).get("servers", []) if e.get("figures")]
    stall = [e for e in (ws.get("stall") or {}).get("servers", []) if e.get("figures")]
    if not idle and not stall:
        return None
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    if idle:
        a.barh(range(len(idle)), [e["figures"]["rss_kb_per_conn"] for e in idle], color="#4878a8")
        a.set_yticks(range(len(idle)), [e["variant"] for e in idle], fontsize=8)
        a.invert_yaxis()
        a.set_xlabel("server RSS per idle connection, KiB")
        a.set_title(f"{ws['idle']['params']['connections']:,} idle connections", fontsize=10)
    if stall:
        b.barh(range(len(stall)), [100 * e["figures"]["failed_fraction"] for e in stall],
               color="#c44e52")
        b.set_yticks(range(len(stall)), [e["variant"] for e in stall], fontsize=8)
        b.invert_yaxis()
        b.set_xlabel("connections not served in time, %")
        b.set_title("worker 0 stalled (--stall-worker 0)", fontsize=10)
    return _save(fig, out_dir, "beyond-2-idle-and-stall")


def charts():
    """The chart functions of every workload in the registry, in its order, each once."""
    out = []
    for w in REGISTRY.values():
        for c in w.CHARTS:
            fn = c if callable(c) else globals()[c]
            if fn not in out:
                out.append(fn)
    return out


def draw_all(results_path, out_dir):
    """Every chart the run has data for; returns their names (files NAME.png and NAME.svg)."""
    with open(results_path) as f:
        results = json.load(f)
    drawn = []
    for chart in charts():
        name = chart(results, out_dir)
        if name:
            drawn.append(name)
    return drawn


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plots/charts.py RESULTS_DIR")
    folder = sys.argv[1]
    print("\n".join(draw_all(os.path.join(folder, "results.json"), folder)))
