"""The open-loop latency charts of the workloads `latency` and `latency-full` (issue 12), drawn
from results.json and the tcplab-load JSON files it names (raw/*.load.json), nothing else.

Each chart function takes (results, out_dir, workload), writes WORKLOAD-N-NAME.png and .svg
and returns that name, or None when the run has no data for it. The workload modules name
them in their CHARTS; plots/charts.py draws them with the others.

1. load_curves: p50 and p99 against offered load per design (the hockey stick), log axes;
   a point that is not a plain latency (over capacity, generator bound) is a hollow red or
   grey marker on a strip along the top, placed by its rate only, never joined to a curve
   nor drawn at its p99; rates skipped after one are not drawn.
2. spectrum: the percentile spectrum at one common rate, HdrHistogram style (x = 1/(1-p)),
   from the histograms of every repetition summed bucket by bucket, never averaged.
3. capacity: capacity at the latency target per design (every rate up to it met the target),
   the whisker to the first rate that missed it, and the designs whose capacity lies outside
   the grid.
"""

import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib import ticker, transforms  # noqa: E402

from plots.charts import _save  # noqa: E402  (the suite's one way to write a chart)

OVER = {"over_capacity": {"color": "#c44e52", "marker": "o", "label": "over capacity"},
        "generator_bound": {"color": "#888888", "marker": "X", "label": "generator bound"}}


def _workload(results, workload):
    w = results.get("workloads", {}).get(workload)
    return w if w and w.get("entries") else None


def _style(i):
    return {"color": plt.get_cmap("tab10")(i % 10), "ls": "-" if i < 10 else "--"}


def _plain(axis):
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))


def mode_text(mode):
    return "1 request per connection" if mode == "conn" else "keep-alive (100 per connection)"


def _title(w, text):
    return text + (" — --quick, indicative only" if w["params"].get("quick") else "")


def curve_points(entry, key):
    """(plain, other) for one design's curve of figure `key` (the median over repetitions):
    plain = [(rate, value)] of the points that are a latency, in rate order, the only ones a
    line joins; other = [(rate, value, status)] of those over capacity or generator bound."""
    plain, other = [], []
    for c in entry.get("curve", []):
        if c["status"] == "error" or key not in c.get("summary", {}):
            continue
        v = c["summary"][key]["median"]
        (plain.append((c["rate"], v)) if c["status"] == "ok" else
         other.append((c["rate"], v, c["status"])))
    return plain, other


def load_curves(results, out_dir, workload):
    w = _workload(results, workload)
    if not w:
        return None
    modes = w["params"]["modes"]
    fig, axes = plt.subplots(len(modes), 2, figsize=(12, 4.6 * len(modes)), squeeze=False)
    for row, mode in enumerate(modes):
        mine = [e for e in w["entries"] if e["mode"] == mode]
        for col, (key, what) in enumerate((("p50_us", "p50"), ("p99_us", "p99"))):
            a = axes[row][col]
            seen = set()
            for i, e in enumerate(mine):
                plain, other = curve_points(e, key)
                if plain:
                    a.plot(*zip(*plain), marker="o", ms=4, lw=1.4, label=e["variant"],
                           **_style(i))
                # A point that is no latency is placed by its rate alone, on a strip along
                # the top: its p99 would read as a latency, and it is none.
                top = transforms.blended_transform_factory(a.transData, a.transAxes)
                for rate, _, status in other:
                    s = OVER[status]
                    a.plot([rate], [0.96 - 0.025 * (i % 4)], transform=top, ls="none",
                           marker=s["marker"], ms=6, mfc="none", mec=s["color"], mew=1.2,
                           clip_on=False,
                           label=s["label"] + " (no latency)" if status not in seen else None)
                    seen.add(status)
            a.axhline(w["params"]["slo_us"], color="#444444", lw=0.8, ls=":")
            a.set_xscale("log")
            a.set_yscale("log")
            _plain(a.xaxis)
            _plain(a.yaxis)
            a.set_xlabel("offered load, requests/s (open loop)")
            a.set_ylabel(f"{what} latency from the scheduled send, µs")
            a.set_title(f"{what}, {mode_text(mode)}", fontsize=10)
            a.grid(True, which="both", alpha=0.3)
        axes[row][1].legend(fontsize=7, ncol=2, loc="upper left")
    fig.suptitle(_title(w, f"`{workload}`: latency against offered load; hollow markers along "
                        "the top: rates that were no latency (dotted: the target)"), fontsize=11)
    return _save(fig, out_dir, f"{workload}-1-latency-vs-load")


def summed_buckets(out_dir, files):
    """{upper edge ns: count} of the `total` histograms of these tcplab-load JSON files (paths
    relative to out_dir), added bucket by bucket."""
    counts = {}
    for rel in files:
        with open(os.path.join(out_dir, rel)) as f:
            load = json.load(f)
        for lo, hi, n in load["latency"]["total"]["buckets_ns"]:
            counts[hi] = counts.get(hi, 0) + n
    return counts


def spectrum_points(counts):
    """[(1/(1-p), µs)] of a summed histogram: p the fraction at or below each bucket's upper
    edge, the last bucket (p = 1) left out as HdrHistogram's plot leaves it."""
    total = sum(counts.values())
    out, seen = [], 0
    for hi in sorted(counts):
        seen += counts[hi]
        if seen < total:
            out.append((1.0 / (1.0 - seen / total), hi / 1000.0))
    return out


def spectrum(results, out_dir, workload):
    w = _workload(results, workload)
    if not w or not w.get("spectrum_rate"):
        return None
    mode = w["params"]["modes"][0]
    rate = w["spectrum_rate"][mode]
    fig, a = plt.subplots(figsize=(10, 5.5))
    drawn = 0
    for i, e in enumerate(x for x in w["entries"] if x["mode"] == mode):
        files = [p["load_file"] for p in e["points"] if p["rate"] == rate and p.get("load_file")
                 and p.get("kind") == "grid"]
        pts = spectrum_points(summed_buckets(out_dir, files)) if files else []
        if pts:
            a.plot(*zip(*pts), lw=1.3, label=e["variant"], **_style(i))
            drawn += 1
    if not drawn:
        plt.close(fig)
        return None
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xticks([1, 10, 100, 1000, 10000, 100000],
                 ["0 %", "90 %", "99 %", "99.9 %", "99.99 %", "99.999 %"])
    _plain(a.yaxis)
    a.set_xlabel("percentile (axis 1/(1-p))")
    a.set_ylabel("latency from the scheduled send, µs")
    a.grid(True, which="both", alpha=0.3)
    a.legend(fontsize=7, ncol=2)
    kept_up = (w.get("spectrum_all_ok") or {}).get(mode, True)
    a.set_title(_title(w, f"`{workload}`: percentile spectrum at {rate:,} requests/s "
                       f"({mode_text(mode)}), repetitions' histograms summed"
                       + ("" if kept_up else "\nno rate at which every design kept up: the "
                          "lowest, some curves are not latencies")), fontsize=10)
    return _save(fig, out_dir, f"{workload}-2-percentile-spectrum")


def capacity(results, out_dir, workload):
    w = _workload(results, workload)
    if not w:
        return None
    p = w["params"]
    rows = [e for e in w["entries"] if e.get("capacity")]
    modes = p["modes"]
    height = max(3.5, 0.4 * len(rows) / len(modes) + 2)
    fig, axes = plt.subplots(1, len(modes), figsize=(8 * len(modes), height), squeeze=False)
    for col, mode in enumerate(modes):
        a = axes[0][col]
        mine = [e for e in rows if e["mode"] == mode]
        for y, e in enumerate(mine):
            cap = e["capacity"]
            if cap["censored"] == "below" or not cap["summary"]:
                a.text(e["rates"][0], y, f"  < {e['rates'][0]:,}", va="center", fontsize=8,
                       color="#c44e52")
                continue
            med = cap["summary"]["median"]
            lo, hi = cap["summary"].get("ci95") or cap["bracket"]
            hi = hi if hi is not None else med
            a.barh(y, med, color="#4878a8", alpha=0.8)
            a.errorbar(med, y, xerr=[[med - lo], [max(hi - med, 0)]], fmt="none",
                       ecolor="black", capsize=3)
            if cap["censored"] == "above":
                a.text(med, y, f"  ≥ {med:,.0f}", va="center", fontsize=8)
        a.set_yticks(range(len(mine)), [e["variant"] for e in mine], fontsize=8)
        a.invert_yaxis()
        a.set_xscale("log")
        if mine:
            a.set_xlim(mine[0]["rates"][0] / 2, mine[0]["rates"][-1] * 2)
            a.set_ylim(len(mine) - 0.5, -0.5)
        _plain(a.xaxis)
        a.set_xlabel(f"highest offered rate with p99 ≤ {p['slo_us']:,.0f} µs, requests/s")
        a.set_title(f"{mode_text(mode)}\nbar: every rate up to it met the target; "
                    "whisker: the first that missed", fontsize=10)
        a.grid(True, axis="x", which="both", alpha=0.3)
    fig.suptitle(_title(w, f"`{workload}`: capacity at the latency target"), fontsize=11)
    return _save(fig, out_dir, f"{workload}-3-capacity-at-slo")
