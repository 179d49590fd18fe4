#!/usr/bin/python3
"""The suite's charts, drawn from results.json alone (schema: bench/RESULTS.md).

    plots/charts.py results/<timestamp>            # redraw every chart of a run

One function per chart; each takes the loaded results and the output folder, writes NAME.png
and NAME.svg, and returns NAME, or None when the run has no data for it. Each title is the
question the chart answers; colours, markers and type sizes come from plots/style.py.
"""

import json
import math
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib import ticker, transforms  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from tcplab_suite import findings  # noqa: E402
from tcplab_suite.workloads import REGISTRY  # noqa: E402

from plots import style  # noqa: E402

USER_COLOR, SYS_COLOR, SOFTIRQ_COLOR = "#4878a8", "#e8a33d", "#c44e52"
KIND_COLORS = ["#4878a8", "#e8a33d", "#c44e52", "#55a868"]  # kinds of fault, not designs
GHOST = "#d0d0d0"  # the other designs, behind the one a small multiple shows
OUTLIER = 2.5  # designs past a gap of this many times above the rest get a panel of their own

_fig = style.figure


def _save(fig, out_dir, name):
    return style.save(fig, out_dir, name)


def _entries(results, workload):
    w = results.get("workloads", {}).get(workload)
    return [e for e in (w or {}).get("entries", []) if e.get("summary")]


def _styles(results, variants):
    """{variant: style.Style}, from the run's design table."""
    return style.styles(variants, results.get("designs"))


def _plain_log_axis(axis, minor=False, compact=False):
    """Log-scale tick labels as plain numbers (100, 1,000, 10,000), not 10^3, or with `compact`
    as 100, 1k, 10k (narrow panels); with `minor`, the 2s and 5s between them too (for axes
    spanning a decade or two)."""
    def plain(v):
        if compact and v >= 1000:
            return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1000:g}k"
        return f"{v:,.0f}" if v >= 1 else f"{v:g}"
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: plain(v)))
    axis.set_minor_formatter(ticker.FuncFormatter(
        lambda v, _: plain(v) if minor and v >= 1 and str(round(v))[0] in "25" else ""))


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


def _interval_text(entries, key):
    """What the whiskers are, from the summaries themselves: 'whiskers: 93.75 % interval over
    5 repetitions', or that one repetition has none."""
    stats = [e["summary"][key] for e in entries if key in e["summary"]]
    n = min((s["n"] for s in stats), default=0)
    cov = [s.get("coverage") for s in stats if s.get("ci95")]
    if not cov:
        return f"{n} repetition(s): no interval"
    return f"whiskers: the median's {100 * min(cov):.4g} % interval over {n} repetitions"


def _subtitle(results, workload, key="cpu_us_per_conn", entries=None):
    p = results["workloads"][workload]["params"]
    return (f"{p.get('clients', '')} clients, {p['requests_per_conn']} request(s)/conn of "
            f"{p['bytes']} B, {p.get('workers', '')} workers;\n"
            + _interval_text(entries or _entries(results, workload), key)
            + ("; --quick: indicative only" if results.get("config", {}).get("quick") else ""))


def _outliers(entries, key):
    """The dearest entries, when a gap of over OUTLIER times separates them from the rest
    (fork's process per connection): drawn on a scale of their own so the others can be
    compared. The gap is the largest ratio between neighbours in the upper half, in order."""
    es = sorted((e for e in entries if _med(e, key) > 0), key=lambda e: _med(e, key))
    if len(es) < 3:
        return []
    ratios = [(_med(b, key) / _med(a, key), k + 1) for k, (a, b) in enumerate(zip(es, es[1:]))
              if k + 1 >= len(es) // 2]
    ratio, cut = max(ratios)
    return es[cut:] if ratio > OUTLIER else []


def _rows(ax, es, styles):
    """One row per entry (or name), top down, labelled with its variant, the design's own
    marker and colour just left of the label."""
    names = [e if isinstance(e, str) else e["variant"] for e in es]
    left = transforms.ScaledTranslation(-9 / 72, 0, ax.figure.dpi_scale_trans)  # 9 pt left
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    for y, name in enumerate(names):
        st = styles[name]
        ax.plot([0], [y], marker=st.marker, color=st.color, ms=8, ls="none", clip_on=False,
                transform=ax.get_yaxis_transform() + left)
    ax.tick_params(axis="y", pad=16)


def _labels_right(ax, entries, key, fmt="{:.1f}"):
    """Each row's median as text in a column at the right edge, after every whisker; a signed
    figure (a difference) whose interval holds zero reads "≈ 0", never a negative cost."""
    tops = [_top(e, key) for e in entries]
    lo, hi = ax.get_xlim()
    ax.set_xlim(lo, max(hi, max(tops) * 1.22))
    for i, e in enumerate(entries):
        ci_lo, ci_hi = _ci(e["summary"][key])
        text = "≈ 0" if fmt.startswith("{:+") and ci_lo <= 0 <= ci_hi else \
            fmt.format(_med(e, key))
        ax.text(0.995, i, text, ha="right", va="center", transform=ax.get_yaxis_transform())


def _bars(ax, es, styles, key="cpu_us_per_conn", split=False, fmt="{:.1f}"):
    """One bar per entry, the median of `key` with its interval and the figure in a column at
    the right; with `split`, the bar is cut in the /proc/stat proportions (user, system,
    softirq), else drawn in the design's colour. The x axis starts at 0, or below it for a
    figure that may be negative."""
    total = [_med(e, key) for e in es]
    y = list(range(len(es)))
    if split:
        shares = ("user", "system", "softirq")
        whole = [sum(_share(e, x) for x in shares) or 1.0 for e in es]
        left = [0.0] * len(es)
        for share, color in zip(shares, (USER_COLOR, SYS_COLOR, SOFTIRQ_COLOR)):
            part = [t * _share(e, share) / w
                    for t, e, w in zip(total, es, whole)]
            ax.barh(y, part, left=left, color=color, height=0.7, label=f"{share} (/proc/stat)")
            left = [a + b for a, b in zip(left, part)]
    else:
        for i, e in enumerate(es):
            ax.barh(i, total[i], height=0.7, **styles[e["variant"]].bar())
    ax.errorbar(total, y, xerr=_err(es, key), fmt="none", ecolor="#222", capsize=3, lw=1.2)
    _rows(ax, es, styles)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(min(0, min(_ci(e["summary"][key])[0] for e in es) * 1.1), None)
    _labels_right(ax, es, key, fmt)


def _share(e, part):
    """The server CPUs' /proc/stat share ("user", "system", "softirq") of an entry: pooled over
    its repetitions' ticks where the table pooled them (short windows), else the median of the
    windows' own; None without a split."""
    pooled = e.get("server_cpu_split_pooled")
    if pooled:
        return pooled[part]
    s = e["summary"].get(f"server_cpu_{part}_share")
    return s["median"] if s else None


def _user_shares(ax, es, styles, has_split):
    """The user share two ways: getrusage's per-process split (hollow) against the server
    CPU's /proc/stat (filled), one row per design."""
    shown = [0.0]
    for i, e in enumerate(es):
        st = styles[e["variant"]]
        t = max(_med(e, "cpu_us_per_conn"), 1e-9)
        rusage = 100 * _med(e, "cpu_user_us_per_conn") / t
        ax.plot([rusage], [i], marker="o", mfc="white", mec="#555", ms=7, ls="none",
                label="getrusage" if i == 0 else None)
        shown.append(rusage)
        if has_split:
            proc = 100 * _share(e, "user")
            ax.plot([rusage, proc], [i, i], color="#999", lw=1)
            ax.plot([proc], [i], marker=st.marker, color=st.color, ms=8, ls="none",
                    label="/proc/stat" if i == 0 else None)
            shown.append(proc)
    # a scale that fits the row's shares (a few %), so the two can be told apart
    ax.set_xlim(0, min(100, 10 * math.ceil(max(shown) * 1.2 / 10 + 1e-9)))
    ax.set_ylim(len(es) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)


def cpu_per_connection(results, out_dir):
    """1. Server CPU µs per connection. The designs far dearer than the rest (fork) get a
    panel of their own scale below. The bars' split into user, system and softirq is the
    server CPUs' /proc/stat over the window; the panel beside compares the user share that
    split gives with getrusage's per-process split (biased, see bench/RESULTS.md)."""
    es = _entries(results, "unp")
    if not es:
        return None
    styles = _styles(results, [e["variant"] for e in es])
    far = _outliers(es, "cpu_us_per_conn")
    near = [e for e in es if e not in far]
    has_split = all(_share(e, "user") is not None for e in es)
    rows = [near, far] if far else [near]
    fig, axes = _fig(11, 0.34 * len(es) + 2.6 + 0.6 * bool(far), nrows=len(rows), ncols=2,
                     squeeze=False, gridspec_kw={"width_ratios": [3, 1.1],
                                                 "height_ratios": [len(r) + 1.2 for r in rows]})
    for (ax, contrast), group in zip(axes, rows):
        _bars(ax, group, styles, split=has_split)
        _user_shares(contrast, group, styles, has_split)
        contrast.set_yticks(range(len(group)), [""] * len(group))
    base_name = results["workloads"]["unp"].get("baseline")
    base = next((e for e in es if e["variant"] == base_name), None)
    top, contrast = axes[0]
    if base:
        b = _med(base, "cpu_us_per_conn")
        top.axvline(b, color="black", ls="--", lw=1.2, label=f"{base_name}: {b:.1f} µs")
    if far:
        axes[1][0].set_title(f"{', '.join(e['variant'] for e in far)}: on a scale of its own "
                             f"(over {OUTLIER:g}× the next dearest)", loc="left")
    cpus = (results.get("pinning") or {}).get("server")
    axes[-1][0].set_xlabel("server CPU per connection, µs (whole process tree)"
                           + (f"\nbars split by CPU {cpus}'s /proc/stat" if has_split else ""))
    top.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=4, frameon=False,
               borderaxespad=0.2, handlelength=1.5, columnspacing=1)
    contrast.set_title("user share, %")
    axes[-1][1].set_xlabel("getrusage ○\nvs /proc/stat ●" if has_split else
                           "getrusage ○ only\n(no /proc/stat split)")
    fig.suptitle("Which design costs the least CPU per connection? (workload unp, cf. UNP "
                 "Fig. 30.1)\n" + _subtitle(results, "unp"))
    return _save(fig, out_dir, "1-cpu-per-connection")


def process_control(results, out_dir):
    """2. Process-control CPU: each design's CPU/conn minus the iterative server's, fork on a
    scale of its own like chart 1."""
    key = "process_control_us_per_conn"
    es = [dict(e, summary=dict(e["summary"], **{key: e[key]}))  # the figure as a summary
          for e in _entries(results, "unp") if e.get(key) and e["variant"] != "iterative"]
    if not es:
        return None
    styles = _styles(results, [e["variant"] for e in es])
    far = _outliers(es, key)
    rows = [[e for e in es if e not in far], far] if far else [es]
    fig, axes = _fig(10, 0.34 * len(es) + 2.4 + 0.6 * bool(far), nrows=len(rows),
                     squeeze=False, gridspec_kw={"height_ratios": [len(r) + 1.2 for r in rows]})
    for (ax,), group in zip(axes, rows):
        ax.axvline(0, color="black", lw=1)
        _bars(ax, group, styles, key, fmt="{:+.1f}")
    if far:
        axes[1][0].set_title(f"{', '.join(e['variant'] for e in far)}: on a scale of its own",
                             loc="left")
    axes[-1][0].set_xlabel("process-control CPU per connection, µs\n(design − iterative, "
                           "paired by repetition; below 0: cheaper than the iterative server)")
    fig.suptitle("What does handing each connection to a process or thread cost? "
                 "(Stevens' subtraction)\n" + _subtitle(results, "unp", key, es))
    return _save(fig, out_dir, "2-process-control")


MIN_ABOVE = 10  # a percentile is drawn only where a run has this many requests above it


def _requests_per_run(e):
    """The fewest requests any repetition of an entry answered (what a percentile rests on),
    from the server's count, else tcplab-load's; None when the run records neither."""
    ns = [(r.get("server") or {}).get("requests")
          or (r.get("load_counts") or {}).get("requests")
          for r in e.get("runs", []) if r.get("figures")]
    ns = [n for n in ns if n]
    return min(ns) if ns else None


def latency(results, out_dir):
    """3. Latency: p50, p99 and p99.9 per design as points with their intervals (a
    percentile only for a design whose runs each have MIN_ABOVE requests above it); below,
    the tail of each design's distribution, 1 − F on log axes, one small panel per design
    with the others grey behind, shaded where fewer than MIN_ABOVE of the pooled requests lie
    beyond."""
    es = _entries(results, "unp")
    if not es:
        return None
    names = [e["variant"] for e in es]
    styles = _styles(results, names)
    rows = -(-len(es) // 5)
    style.figure(11, 0.3 * len(es) + 2.2 * rows + 4.2)
    fig = plt.gcf()
    fig.delaxes(fig.axes[0])
    top, bottom = fig.subfigures(2, 1, height_ratios=[0.3 * len(es) + 2.2, 2.2 * rows + 1.2])
    ax = top.subplots()
    counts = {e["variant"]: _requests_per_run(e) for e in es}
    left_out = []
    for key, label, p, marker in (("p50_us", "p50", 0.5, "o"), ("p99_us", "p99", 0.99, "s"),
                                  ("p99_9_us", "p99.9", 0.999, "D")):
        need = MIN_ABOVE / (1 - p)
        shown = [(i, e) for i, e in enumerate(es) if key in e["summary"]
                 and (counts[e["variant"]] or need) >= need]
        few = [e["variant"] for e in es if (counts[e["variant"]] or need) < need]
        if few:
            left_out.append(f"{label} for {', '.join(few)} (under {need:,.0f} requests a run)")
        if shown:
            ax.errorbar([_med(e, key) for _, e in shown], [i for i, _ in shown],
                        xerr=_err([e for _, e in shown], key), fmt=marker, ms=6, capsize=2,
                        color={"p50": "#333", "p99": "#c44e52", "p99.9": "#7b3294"}[label],
                        mfc="white" if label == "p50" else None, label=label, lw=1)
    _rows(ax, es, styles)
    ax.set_xscale("log")
    _plain_log_axis(ax.xaxis)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    least = None if None in counts.values() else min(counts.values())
    ax.set_title("percentiles, median over repetitions (fewest requests in a run: "
                 + (f"{least:,})" if least else "not recorded)"), loc="left")
    ax.margins(x=0.08)
    ax.set_xlabel("request latency, µs (connect to last byte; log)"
                  + ("\nnot drawn: " + "; ".join(left_out) if left_out else ""))
    curves = {e["variant"]: [(us, 1 - f) for us, f in e.get("latency_cdf") or [] if 1 - f > 1e-9]
              for e in es}
    floor = min((q for pts in curves.values() for _, q in pts), default=0.01)
    _, panels = style.small_multiples(names, ("slower than x",), panel_in=2.2, fig=bottom)
    ticks = [(t, s) for t, s in ((1, "all"), (0.1, "10 %"), (0.01, "1 %"), (0.001, "0.1 %"),
                                 (1e-4, "0.01 %"), (1e-5, "0.001 %")) if t >= floor / 2]
    for e in es:
        a, st, name = panels[0, e["variant"]], styles[e["variant"]], e["variant"]
        ghosts(a, curves, name, lambda pts: zip(*pts))
        if curves[name]:
            a.plot(*zip(*curves[name]), color=st.color, ls=st.dash, lw=2, zorder=3)
        pooled = sum(r["server"]["requests"] for r in e.get("runs", [])
                     if (r.get("server") or {}).get("requests"))
        if pooled:  # below: fewer than MIN_ABOVE requests lie beyond, a shape of a few samples
            a.axhspan(floor / 2, MIN_ABOVE / pooled, color="#eeeeee", zorder=0, lw=0)
        for q in (0.01, 0.001):
            a.axhline(q, color="#666", lw=0.8, ls=":")
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_ylim(floor / 2, 1.5)
        a.set_yticks(*zip(*ticks))
        a.yaxis.set_minor_formatter(ticker.NullFormatter())
        _plain_log_axis(a.xaxis, compact=True)
    bottom.supxlabel("request latency, µs (log)")
    bottom.suptitle("the tail: share of requests slower than x, all repetitions pooled; dotted: "
                    f"1 % and 0.1 %;\nshaded: fewer than {MIN_ABOVE} requests lie beyond; grey: "
                    "the other designs", x=0.02, ha="left")
    top.suptitle("How long does a request wait, and how long is the tail? (workload unp)\n"
                 + _subtitle(results, "unp", "p99_us"))
    return _save(fig, out_dir, "3-latency")


def worker_distribution(results, out_dir):
    """4. Connections per worker slot for every pooled design (Stevens' distribution table),
    one small panel each in the design's colour, on one scale, the even share dashed."""
    es = [e for e in _entries(results, "unp") if len(e.get("workers_per_slot") or []) > 1]
    if not es:
        return None
    styles = _styles(results, [e["variant"] for e in es])
    fig, panels = style.small_multiples([e["variant"] for e in es], ("connections served",),
                                        cols=4, panel_in=2.4, head_in=1.4)
    top = max(max(e["workers_per_slot"]) for e in es)
    for e in es:
        ax, counts = panels[0, e["variant"]], e["workers_per_slot"]
        ax.bar(range(len(counts)), counts, width=0.8, **styles[e["variant"]].bar())
        ax.axhline(sum(counts) / len(counts), color="black", ls="--", lw=1.2)
        ax.set_xticks(range(0, len(counts), max(1, -(-len(counts) // 5))))
        ax.set_ylim(0, top * 1.1)
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.grid(axis="x", visible=False)
    fig.supxlabel("worker slot")
    p = results["workloads"]["unp"]["params"]
    fig.suptitle("Does each worker get its share of the connections?\n"
                 f"workload unp, the median run (by conn/s), {p['workers']} workers; "
                 "dashed: an even share")
    return _save(fig, out_dir, "4-connections-per-worker")


def herd(results, out_dir):
    """5. The thundering-herd sweep: small multiples, one panel per design on one scale, CPU
    per connection against pool size with each point's interval, and the least-squares slope
    REPORT's verdict takes (findings.herd: one slope per repetition, summarised) drawn through
    the points' mean, its value and interval and what it adds over the sweep in the panel."""
    w = results.get("workloads", {}).get("herd")
    es = _entries(results, "herd")
    if not es:
        return None
    names = list(dict.fromkeys(e["variant"] for e in es))
    styles = _styles(results, names)
    p = w["params"]
    sizes = p["pool_sizes"]
    key = "cpu_us_per_conn"
    fig, panels = style.small_multiples(names, ("CPU per conn., µs",), cols=3, panel_in=2.7,
                                        head_in=1.7)
    top = max(_top(e, key) for e in es) * 1.45
    for name in names:
        ax, st = panels[0, name], styles[name]
        pts = sorted((e for e in es if e["variant"] == name), key=lambda e: e["workers"])
        ax.errorbar([e["workers"] for e in pts], [_med(e, key) for e in pts],
                    yerr=_err(pts, key), color=st.color, marker=st.marker, ms=6, ls="none",
                    capsize=3, lw=1.3)
        fit = findings.herd(dict(w, name="herd"), name, True)
        if fit and len(pts) > 1:
            b, (x0, x1) = fit["estimate"], fit["workers"]
            mx = sum(e["workers"] for e in pts) / len(pts)
            my = sum(_med(e, key) for e in pts) / len(pts)
            ax.plot([x0, x1], [my + b * (x0 - mx), my + b * (x1 - mx)], color=st.color, lw=1.8,
                    ls=st.dash)
            lo, hi = fit["interval"] or (None, None)
            gain = (f"≤ {fit['at_most'] * (x1 - x0):+.1f} µs,\n"
                    f"≤ {100 * fit['at_most_share']:.0f} % of a connection"
                    if fit.get("at_most_share") is not None else f"{b * (x1 - x0):+.1f} µs")
            ax.text(0.03, 0.96, f"slope {b:+.3g} µs/worker\n"
                    + (f"[{lo:+.3g}, {hi:+.3g}]" if lo is not None else "(no interval)")
                    + f"\n{x0}→{x1}: {gain}", transform=ax.transAxes, va="top")
        ax.set_xticks(sizes, [str(x) if k % 2 == 0 or len(sizes) < 5 else ""
                              for k, x in enumerate(sizes)])
        ax.set_ylim(0, top)
    fig.supxlabel("pool size (workers)")
    fig.suptitle("Does a bigger pool cost more CPU per connection (the thundering herd)?\n"
                 f"{p['clients']} clients, {p['connections']:,}+ connections per point; line: "
                 "the least-squares slope, [its interval]\n"
                 + _interval_text(es, key)
                 + ("; --quick: indicative only" if results.get("config", {}).get("quick") else ""))
    return _save(fig, out_dir, "5-herd")


def ghosts(ax, series, name, xy):
    """The other names' lines of a small multiple in grey behind the panel's own: `series`
    {name: points}, `xy(points)` -> (xs, ys)."""
    for other, pts in series.items():
        if other != name and pts:
            ax.plot(*xy(pts), color=GHOST, lw=1, zorder=1)


def concurrency(results, out_dir):
    """6. Throughput and p99 latency against the number of concurrent clients: small
    multiples, one pair of panels per variant (connections/s over p99) with its interval as a
    band, the other variants grey behind it."""
    es = _entries(results, "concurrency")
    if not es:
        return None
    names = list(dict.fromkeys(e["variant"] for e in es))
    styles = _styles(results, names)
    p = results["workloads"]["concurrency"]["params"]
    fig, panels = style.small_multiples(names, ("conn/s", "p99, µs"), panel_in=1.9, head_in=1.8)
    series = {n: sorted((e for e in es if e["variant"] == n), key=lambda e: e["clients"])
              for n in names}
    for block, (key, log) in enumerate((("conn_per_s", False), ("p99_us", True))):
        top = max(_top(e, key) for e in es)
        bottom = min(_ci(e["summary"][key])[0] for e in es)
        for name in names:
            ax, pts, st = panels[block, name], series[name], styles[name]
            ghosts(ax, series, name, lambda ps: ([e["clients"] for e in ps],
                                                 [_med(e, key) for e in ps]))
            xs = [e["clients"] for e in pts]
            ax.fill_between(xs, [_ci(e["summary"][key])[0] for e in pts],
                            [_ci(e["summary"][key])[1] for e in pts], color=st.color,
                            alpha=0.25, lw=0, zorder=2)
            ax.plot(xs, [_med(e, key) for e in pts], color=st.color, marker=st.marker, ms=5,
                    ls=st.dash, lw=2, zorder=3)
            ax.set_xscale("log", base=2)
            ax.set_xticks(p["levels"], [str(c) for c in p["levels"]])
            ax.xaxis.set_minor_locator(ticker.NullLocator())
            if log:
                ax.set_yscale("log")
                ax.set_ylim(max(bottom, 1e-9) * 0.8, top * 1.25)
                _plain_log_axis(ax.yaxis)
            else:
                ax.set_ylim(0, top * 1.08)
                ax.yaxis.set_major_formatter(ticker.FuncFormatter(
                    lambda v, _: f"{v / 1000:,.0f}k" if v else "0"))
    fig.supxlabel("concurrent clients (closed loop, log scale)")
    fig.suptitle("How do throughput and p99 latency change as clients are added?\n"
                 "each design: connections/s above, p99 (log) below; grey: the other designs\n"
                 f"{p['bytes']} B per request, {p['workers']} workers; band: "
                 + _interval_text(es, "conn_per_s").replace("whiskers: ", "")
                 + ("\n--quick: indicative only" if results.get("config", {}).get("quick")
                    else ""))
    return _save(fig, out_dir, "6-concurrency")


def context_switches(results, out_dir):
    """7. Server context switches per connection: the bar is the median total, split in the
    proportion of the voluntary and involuntary medians."""
    es = _entries(results, "unp")
    if not es:
        return None
    names = [e["variant"] for e in es]
    total = [_med(e, "ctxt_per_conn") for e in es]
    vol = [t * _med(e, "vol_ctxt_per_conn") / ((_med(e, "vol_ctxt_per_conn")
                                               + _med(e, "invol_ctxt_per_conn")) or 1.0)
           for t, e in zip(total, es)]
    invol = [t - v for t, v in zip(total, vol)]
    fig, ax = _fig(10, 0.34 * len(es) + 2.4)
    y = range(len(es))
    styles = _styles(results, names)
    ax.barh(y, vol, color="#55a868", label="voluntary (blocked)")
    ax.barh(y, invol, left=vol, color="#c44e52", label="involuntary (preempted)",
            xerr=_err(es, "ctxt_per_conn"), ecolor="#444", capsize=3)
    _rows(ax, es, styles)
    _labels_right(ax, es, "ctxt_per_conn", "{:.2f}")
    ax.set_xlabel("server context switches per connection (whole process tree)")
    fig.suptitle("How often is the server switched out per connection? (workload unp)\n"
                 + _subtitle(results, "unp", "ctxt_per_conn"))
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2)
    ax.grid(axis="x", alpha=0.3)
    ax.margins(x=0.1)
    return _save(fig, out_dir, "7-context-switches")


def microbenchmarks(results, out_dir):
    """8. The cost of each primitive, from tcplab-micro (Google Benchmark): one point per
    benchmark on a log axis (no bars: a bar's length means nothing there), its time in a
    column at the right."""
    micro = results.get("micro") or {}
    bs = [b for b in micro.get("benchmarks", []) if "real_us" in b]
    if not bs:
        return None
    fig, ax = _fig(10, 0.3 * len(bs) + 1.8)
    y = list(range(len(bs)))
    xs = [b["real_us"] for b in bs]
    ax.plot(xs, y, ls="none", marker="o", ms=7, color="#6a51a3")
    for i, b in enumerate(bs):  # a column right of the axes: clear of every point
        ax.text(1.01, i, f"{b['real_us']:,.2f}", ha="left", va="center",
                transform=ax.get_yaxis_transform())
    ax.set_yticks(y, [b["name"].removesuffix("/real_time") for b in bs])
    ax.set_ylim(len(bs) - 0.5, -0.5)
    ax.set_xscale("log")
    ax.set_xlim(min(xs) / 2, max(xs) * 2)
    _plain_log_axis(ax.xaxis)
    ax.set_xlabel("real time per iteration, µs (log scale); the figure at the right")
    stat = bs[0].get("statistic", "")
    ax.set_title("What does each primitive cost on its own?\n"
                 f"(tcplab-micro, Google Benchmark, {stat})")
    ax.grid(axis="both", alpha=0.3)
    return _save(fig, out_dir, "8-microbenchmarks")


def _faults(results, scenario):
    f = results.get("workloads", {}).get("faults") or {}
    return (f.get("scenarios") or {}).get(scenario) or []


def faults_bad_input(results, out_dir):
    """Faults 1. The request corpus: exact answers, and descriptors before and after."""
    rs = _faults(results, "bad_input")
    if not rs:
        return None
    fig, (ax, fx) = _fig(11, 0.34 * len(rs) + 2.6, ncols=2, sharey=True)
    y = range(len(rs))
    exact = [100 * r["exact"] / r["cases"] for r in rs]
    good = [100 * r["good_after"] / r["cases"] for r in rs]
    ax.barh([i - 0.2 for i in y], exact, height=0.4, color="#55a868", label="exact answer")
    ax.barh([i + 0.2 for i in y], good, height=0.4, color=USER_COLOR,
            label="good request served after")
    _rows(ax, [r["design"] for r in rs], _styles(results, [r["design"] for r in rs]))
    ax.set_xlim(0, 105)
    ax.set_xlabel(f"% of the {rs[0]['cases']} corpus cases")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2)
    fx.barh([i - 0.2 for i in y], [r["fds_before"] for r in rs], height=0.4, color="#999",
            label="before the corpus")
    fx.barh([i + 0.2 for i in y], [r["fds_after"] for r in rs], height=0.4, color=SYS_COLOR,
            label="after")
    fx.set_xlabel("open descriptors, server + children")
    fx.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2)
    fig.suptitle("Does every design answer bad input exactly, and leak no descriptor?\n"
                 "(every case of tests/corpus/bad_requests.txt over a real socket)")
    return _save(fig, out_dir, "faults-1-bad-input")


def faults_slow_clients(results, out_dir):
    """Faults 2. Slow clients: how long a normal client waits for its first answer."""
    rs = _faults(results, "slow")
    if not rs:
        return None
    p = results["workloads"]["faults"]["params"]["slow"]
    designs = list(dict.fromkeys(r["design"] for r in rs))
    kinds = list(dict.fromkeys(r["kind"] for r in rs))
    fig, ax = _fig(11, 0.22 * len(designs) * len(kinds) + 2.8)
    h = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        for i, d in enumerate(designs):
            r = next((x for x in rs if x["design"] == d and x["kind"] == kind), None)
            if r is None:
                continue
            blocked = r.get("first_ok_s") is None
            v = p["window_s"] if blocked else r["first_ok_s"] * 1e3 / 1e3
            ax.barh(i - 0.4 + (k + 0.5) * h, v, height=h, color=KIND_COLORS[k % len(KIND_COLORS)],
                    hatch="//" if blocked else None, alpha=0.6 if blocked else 1)
            ax.text(v, i - 0.4 + (k + 0.5) * h,
                    " no answer" if blocked else f" {r['first_ok_s'] * 1e3:,.1f} ms",
                    va="center")
    _rows(ax, designs, _styles(results, designs))
    ax.set_xlabel(f"s until a normal client's first answer (window {p['window_s']} s)")
    ax.set_title("How long does a normal client wait while slow clients hold the server?\n"
                 f"{p['clients']} that send nothing (silent), one byte a second "
                 f"(trickle), or never read (nonreader)\n--io-timeout-ms {p['io_timeout_ms']}; "
                 "hatched: no answer within the window")
    handles = [Patch(color=KIND_COLORS[k % len(KIND_COLORS)], label=kind)
               for k, kind in enumerate(kinds)]
    handles.append(Patch(fc="white", ec="black", hatch="//", label="no answer\nin the window"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              title="slow clients")
    ax.set_xlim(0, p["window_s"] * 1.25)
    return _save(fig, out_dir, "faults-2-slow-clients")


def faults_resets(results, out_dir):
    """Faults 3. Resets mid-response: sent by the clients, counted by the server."""
    rs = _faults(results, "resets")
    if not rs:
        return None
    fig, ax = _fig(10, 0.34 * len(rs) + 2.4)
    y = range(len(rs))
    ax.barh([i - 0.2 for i in y], [r["resets_sent"] for r in rs], height=0.4, color="#999",
            label="resets sent (SO_LINGER 0)")
    ax.barh([i + 0.2 for i in y], [r["counted_reset"] for r in rs], height=0.4,
            color="#c44e52", label="failures.reset counted by the server")
    for i, r in enumerate(rs):
        ax.text(r["counted_reset"], i + 0.2, "" if r["alive"] else "  server died", va="center")
    _rows(ax, [r["design"] for r in rs], _styles(results, [r["design"] for r in rs]))
    ax.set_xlabel("connections")
    fig.suptitle("Does the server count every reset in the middle of a large response?")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2)
    return _save(fig, out_dir, "faults-3-resets")


def faults_crashes(results, out_dir):
    """Faults 4. kill -9 under load (success rate, respawn time), and one crashing handler."""
    rs = _faults(results, "crashes")
    kills = [r for r in rs if r.get("mode") == "kill"]
    crash = [r for r in rs if r.get("mode") == "crash-request"]
    if not rs:
        return None
    if kills:
        fig, axes = _fig(11, 0.45 * len(kills) + 0.3 * len(crash) + 3.8, nrows=2, ncols=2,
                         gridspec_kw={"height_ratios": [len(kills) + 1.5, len(crash) + 1]})
        a, b = axes[0]
        for ax in axes[1]:
            ax.remove()
        c = fig.add_subplot(axes[0][0].get_gridspec()[1, :])  # the crashing handler: full width
    else:  # the default run's lab slice: the crashing handler alone
        fig, c = _fig(11, 0.45 * len(crash) + 1.6)
    if kills:
        y = range(len(kills))
        a.barh(list(y), [100 * (1 - (r["success_rate"] or 0)) for r in kills], color="#c44e52")
        for i, r in enumerate(kills):
            a.text(0.99, i, f"{r['requests_failed']} of {r['requests_ok'] + r['requests_failed']:,}"
                   f" ({r['kills']} kills)", ha="right", va="center",
                   transform=a.get_yaxis_transform())
        _rows(a, [r["design"] for r in kills], _styles(results, [r["design"] for r in rs]))
        a.set_xlabel("% of requests failed")
        a.set_title("kill -9 every %g ms under load" % (1e3 * kills[0]["interval_s"]))
        a.set_xlim(0, max(100 * (1 - (r["success_rate"] or 0)) for r in kills) * 3.5 or 1)
        pooled = [r for r in kills if r.get("respawn_ms")]
        if pooled:
            b.boxplot([r["respawn_ms"] for r in pooled], vert=False,
                      labels=[r["design"] for r in pooled])
            b.invert_yaxis()
            b.set_xscale("log")
            _plain_log_axis(b.xaxis)
            b.set_xlabel("respawn time, ms\n(kill to a new pid in the scoreboard)")
            b.set_title("Respawn time")
    y = range(len(crash))
    alive = [1 if r["server_alive"] else 0 for r in crash]
    c.barh(list(y), [1] * len(crash), color=["#55a868" if v else "#c44e52" for v in alive])
    for i, r in enumerate(crash):
        c.text(0.03, i, ("survives, bystander served" if r["bystander_ok"] else "survives")
               if r["server_alive"] else f"dies: {r['exit_text']}", ha="left", va="center",
               color="white")
    c.set_xlim(0, 1)
    _rows(c, [r["design"] for r in crash], _styles(results, [r["design"] for r in rs]))
    c.set_xticks([])
    c.set_title("One crashing handler (--fault-inject)")
    fig.suptitle("What does one dead worker or one crashing handler cost?" if kills else
                 "Does the server outlive one crashing handler?")
    return _save(fig, out_dir, "faults-4-crashes")


def faults_emfile(results, out_dir):
    """Faults 5. RLIMIT_NOFILE 64 and 500 clients: CPU while saturated, clients served."""
    rs = _faults(results, "emfile")
    if not rs:
        return None
    p = results["workloads"]["faults"]["params"]["emfile"]
    fig, (a, b) = _fig(11, 0.34 * len(rs) + 2.6, ncols=2, sharey=True)
    y = range(len(rs))
    a.barh(list(y), [r["saturated_cpu_s_per_s"] for r in rs], color=SYS_COLOR)
    for i, r in enumerate(rs):
        a.text(r["saturated_cpu_s_per_s"], i, f" {r['saturated_cpu_s_per_s']:.3f}"
               + (" (backed off)" if r["backed_off"] else ""), va="center")
    _rows(a, [r["design"] for r in rs], _styles(results, [r["design"] for r in rs]))
    a.set_xlim(0, max(0.05, max(r["saturated_cpu_s_per_s"] for r in rs) * 2))
    a.set_xlabel("server CPU s per wall s while saturated\n(1.0 = one core spinning)")
    b.barh(list(y), [100 * r["served"] / r["clients"] for r in rs], color="#55a868")
    for i, r in enumerate(rs):
        b.text(1, i, f"{r['served']}/{r['clients']}, then {r['served_after']}/{p['after']}",
               va="center", color="white")
    b.set_xlim(0, 100)
    b.set_xlabel("% of the held clients served\nonce the load dropped")
    fig.suptitle("Out of descriptors: does the server spin, and does it recover?\n"
                 f"RLIMIT_NOFILE {p['nofile']}, {p['clients']} clients")
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
    titles = {"slowloris": "slowloris (-H): headers never end",
              "slowread": "slow read (-X): answers read slowly"}
    up, down = "#55a868", "#c44e52"
    fig, axes = _fig(max(5.5 * len(modes) + 1, 9), 0.42 * len(designs) + 2.4, ncols=len(modes),
                     sharey=True, squeeze=False)
    n = max(len(r["timeline"]) for r in runs)
    for ax, mode in zip(axes[0], modes):
        for i, d in enumerate(designs):
            r = next((x for x in runs if x["design"] == d and x["mode"] == mode), None)
            if r is None:
                ax.text(0.2, i, "not measured", va="center", color="#777")
                continue
            tl = r["timeline"]
            ax.broken_barh([(s, 1) for s, ok in enumerate(tl) if ok], (i - 0.35, 0.7),
                           color=up)
            ax.broken_barh([(s, 1) for s, ok in enumerate(tl) if not ok], (i - 0.35, 0.7),
                           color=down, hatch="//", edgecolor="#fff")
            ax.text(n + 0.3, i, f"{100 * r['available_fraction']:.0f} %"
                    + (" *" if r.get("all_closed") else ""), va="center")
        ax.set_xlim(0, n * 1.3 + 1)
        ax.set_xticks(range(0, n + 1, 2))
        ax.axvspan(0, p["probe_timeout_s"], color="#000", alpha=0.06, lw=0)
        ax.set_xlabel("second of the test")
        ax.set_title(titles[mode])
        ax.grid(axis="x", color="#fff", lw=0.8)
    _rows(axes[0][0], designs, _styles(results, designs))
    closed = any(r.get("all_closed") for r in runs)
    fig.suptitle(f"Which designs stay available under slow clients? slowhttptest, {p['workers']} "
                 f"workers, --io-timeout-ms {p['io_timeout_ms']}\ngreen: its probe answered "
                 f"within {p['probe_timeout_s']} s, red hatched: not; grey: before a probe could "
                 "time out;\n% of the seconds available"
                 + ("; *: the server closed every slow client, the test ended early" if closed
                    else ""))
    return _save(fig, out_dir, "slowhttp-availability")


def soak(results, out_dir):
    """Soak: what each design's descriptors and RSS gained since the first sample, against
    connections served (growth is the question; where each started is in the legend)."""
    part = results.get("workloads", {}).get("soak") or {}
    rs = part.get("designs") or []
    if not rs:
        return None
    fig, (a, b) = _fig(11, 4.8, ncols=2)
    styles = _styles(results, [r["design"] for r in rs])
    for r in rs:
        xs = [smp["connections"] for smp in r["samples"]]
        fds = [smp["fds"] for smp in r["samples"]]
        rss = [smp["rss_kb"] / 1024 for smp in r["samples"]]
        a.plot(xs, [v - fds[0] for v in fds], ms=5, label=r["design"], **styles[r["design"]].line())
        b.plot(xs, [v - rss[0] for v in rss], ms=5,
               label=f"{r['design']} ({fds[0]} fds, {rss[0]:,.1f} MiB)",
               **styles[r["design"]].line())
    for ax in (a, b):
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(
            lambda v, _: f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1000:g}k" if v else "0"))
        ax.set_xlabel("connections served")
        ax.grid(alpha=0.3)
    a.yaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    lo, hi = a.get_ylim()
    a.set_ylim(min(lo, -1), max(hi, 1))  # whole descriptors, even when none was gained
    a.set_ylabel("descriptors gained, server + children")
    b.set_ylabel("RSS gained, MiB (server + children)")
    b.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
             title="design (at the start)")
    fig.suptitle("Do descriptors or memory grow over a million connections? (soak)\n"
                 "each design's gain since its first sample; flat at 0: no leak")
    return _save(fig, out_dir, "faults-6-soak")


def beyond(results, out_dir):
    """beyond-1. Event-loop designs beside the classic ones and nginx, all driven over HTTP:
    req/s and server CPU per request, for unp and keepalive (workloads/beyond.py)."""
    w = results.get("workloads", {}).get("beyond")
    rows = [e for e in (w or {}).get("servers", []) if e.get("figures")]
    if not rows:
        return None
    fig, axes = _fig(12, 9, nrows=2, ncols=2)
    for col, sub in enumerate(("unp", "keepalive")):
        es = [e for e in rows if e["table"] == sub]
        names = [e["variant"] for e in es]
        styles = _styles(results, names)
        for row, (key, label) in enumerate((("req_per_s", "requests per second"),
                                             ("cpu_us_per_req", "server CPU µs per request"))):
            ax = axes[row][col]
            vals = [e["figures"][key] for e in es]
            cis = [_ci(e["summary"][key]) if key in (e.get("summary") or {}) else [v, v]
                   for e, v in zip(es, vals)]
            for i, e in enumerate(es):
                ax.barh(i, vals[i], height=0.7, **styles[e["variant"]].bar())
            ax.errorbar(vals, range(len(es)), fmt="none", ecolor="#222", capsize=3,
                        xerr=[[v - c[0] for v, c in zip(vals, cis)],
                              [c[1] - v for v, c in zip(vals, cis)]])
            same = col and names == [e["variant"] for e in rows if e["table"] == "unp"]
            ax.set_yticks(range(len(es)), [""] * len(es) if same else names)
            ax.set_ylim(len(es) - 0.5, -0.5)
            ax.set_xlabel(label)
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(
                lambda v, _: f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"))
            ax.grid(axis="x", alpha=0.3)
            if row == 0:
                ax.set_title(f"{sub}: {w['params'][sub]['requests_per_conn']} req/conn.")
    p = w["params"]
    fig.suptitle("How do the event loops and nginx compare with chapter 30's designs over "
                 f"HTTP?\n{p['clients']} clients, {p['workers']} workers; "
                 + _interval_text(rows, "req_per_s"))
    return _save(fig, out_dir, "beyond-1-throughput-cpu")


def beyond_idle_and_stall(results, out_dir):
    """beyond-2. KiB per idle connection; failed fraction with one stalled worker."""
    ws = results.get("workloads", {})
    idle = [e for e in (ws.get("idle") or {}).get("servers", []) if e.get("figures")]
    stall = [e for e in (ws.get("stall") or {}).get("servers", []) if e.get("figures")]
    if not idle and not stall:
        return None
    fig, (a, b) = _fig(11, 0.34 * max(len(idle), len(stall)) + 2.6, ncols=2)
    styles = _styles(results, [e["variant"] for e in idle + stall])
    if idle:
        for i, e in enumerate(idle):
            a.barh(i, e["figures"]["rss_kb_per_conn"], height=0.6, **styles[e["variant"]].bar())
            a.text(0.99, i, f"{e['figures']['rss_kb_per_conn']:,.1f}", ha="right", va="center",
                   transform=a.get_yaxis_transform())
        a.set_xlim(0, max(e["figures"]["rss_kb_per_conn"] for e in idle) * 1.25)
        a.set_yticks(range(len(idle)), [e["variant"] for e in idle])
        a.set_ylim(len(idle) - 0.5, -0.5)
        a.set_xlabel("server RSS per idle connection, KiB")
        a.set_title(f"{ws['idle']['params']['connections']:,} idle connections")
    if stall:
        for i, e in enumerate(stall):
            b.barh(i, 100 * e["figures"]["failed_fraction"], height=0.6,
                   **styles[e["variant"]].bar())
            b.text(0.99, i, f"{100 * e['figures']['failed_fraction']:.1f} %", ha="right",
                   va="center", transform=b.get_yaxis_transform())
        b.set_xlim(0, max(max(100 * e["figures"]["failed_fraction"] for e in stall) * 1.3, 1))
        b.set_yticks(range(len(stall)), [e["variant"] for e in stall])
        b.set_ylim(len(stall) - 0.5, -0.5)
        b.set_xlabel("connections not served in time, %")
        b.set_title("worker 0 stalled")
    fig.suptitle("What does an idle connection hold, and what does one stalled worker cost?")
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


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(
        prog="plots/charts.py",
        description="Redraw every chart of a suite run from its results.json (and the raw/ "
        "files it names) into the same folder, NAME.png and NAME.svg each; prints the names "
        "drawn. Each chart's title is the question it answers; one colour and marker per "
        "design in every chart (plots/style.py).")
    ap.add_argument("results_dir", metavar="RESULTS_DIR",
                    help="a folder bench/suite.py wrote (results/<timestamp>)")
    args = ap.parse_args(argv)
    path = os.path.join(args.results_dir, "results.json")
    if not os.path.isfile(path):
        ap.error(f"no results.json in {args.results_dir}")
    print("\n".join(draw_all(path, args.results_dir)))


if __name__ == "__main__":
    main()
