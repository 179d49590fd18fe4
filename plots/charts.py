#!/usr/bin/python3
"""The suite's charts, drawn from results.json alone (schema: bench/RESULTS.md).

    plots/charts.py results/<timestamp>            # redraw every chart of a run

One function per chart; each takes the loaded results and the output folder, writes NAME.png
and NAME.svg, and returns NAME, or None when the run has no data for it.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib import ticker  # noqa: E402

USER_COLOR, SYS_COLOR = "#4878a8", "#e8a33d"


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


def _err(entries, key):
    """Min–max as asymmetric error bars around the median."""
    return [[_med(e, key) - e["summary"][key]["min"] for e in entries],
            [e["summary"][key]["max"] - _med(e, key) for e in entries]]


def _subtitle(results, workload):
    p = results["workloads"][workload]["params"]
    reps = results["config"]["repeat"] if workload in ("unp", "keepalive") else p.get("repeat", 1)
    return (f"{p.get('clients', '')} clients, {p['requests_per_conn']} req/conn of {p['bytes']} B"
            f", {p.get('workers', '')} workers; median of {reps} run(s), bars min–max")


def cpu_per_connection(results, out_dir):
    """1. Server CPU µs per connection, user + sys stacked, iterative baseline marked."""
    es = _entries(results, "unp")
    if not es:
        return None
    names = [e["variant"] for e in es]
    user = [_med(e, "cpu_user_us_per_conn") for e in es]
    sys_ = [_med(e, "cpu_sys_us_per_conn") for e in es]
    fig, ax = plt.subplots(figsize=(10, 5.5))
    y = range(len(es))
    ax.barh(y, user, color=USER_COLOR, label="user")
    ax.barh(y, sys_, left=user, color=SYS_COLOR, label="sys",
            xerr=_err(es, "cpu_us_per_conn"), ecolor="#444", capsize=3)
    for i, e in enumerate(es):
        ax.text(e["summary"]["cpu_us_per_conn"]["max"] * 1.01 + 1, i, f"{_med(e, 'cpu_us_per_conn'):.1f}",
                va="center", fontsize=8)
    base = next((e for e in es if e["variant"] == "iterative"), None)
    if base:
        ax.axvline(_med(base, "cpu_us_per_conn"), color="crimson", ls="--", lw=1.2,
                   label=f"iterative baseline {_med(base, 'cpu_us_per_conn'):.1f} µs")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("server CPU per connection, µs (user + sys, whole process tree)")
    ax.set_title("Server CPU per connection — workload unp (cf. UNP Fig. 30.1)\n"
                 + _subtitle(results, "unp"), fontsize=11)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.1)
    return _save(fig, out_dir, "1-cpu-per-connection")


def process_control(results, out_dir):
    """2. Process-control CPU: each design's CPU/conn minus the iterative server's."""
    es = [e for e in _entries(results, "unp")
          if e.get("process_control_us_per_conn") and e["variant"] != "iterative"]
    if not es:
        return None
    names = [e["variant"] for e in es]
    vals = [e["process_control_us_per_conn"]["median"] for e in es]
    err = [[v - e["process_control_us_per_conn"]["min"] for v, e in zip(vals, es)],
           [e["process_control_us_per_conn"]["max"] - v for v, e in zip(vals, es)]]
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
                 f"{p['repeat']} run(s) per point", fontsize=11)
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
        ax.text(e["summary"]["ctxt_per_conn"]["max"] * 1.01 + 0.03, i, f"{_med(e, 'ctxt_per_conn'):.2f}",
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


CHARTS = (cpu_per_connection, process_control, latency, worker_distribution, herd, concurrency,
          context_switches, microbenchmarks)


def draw_all(results_path, out_dir):
    """Every chart the run has data for; returns their names (files NAME.png and NAME.svg)."""
    with open(results_path) as f:
        results = json.load(f)
    drawn = []
    for chart in CHARTS:
        name = chart(results, out_dir)
        if name:
            drawn.append(name)
    return drawn


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: plots/charts.py RESULTS_DIR")
    folder = sys.argv[1]
    print("\n".join(draw_all(os.path.join(folder, "results.json"), folder)))
