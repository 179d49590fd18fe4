"""The open-loop latency charts of the workloads `latency` and `latency-full` (issue 12), drawn
from results.json and the tcplab-load JSON files it names (raw/*.load.json), nothing else.

Each chart function takes (results, out_dir, workload), writes WORKLOAD-N-NAME.png and .svg
and returns that name, or None when the run has no data for it. The workload modules name
them in their CHARTS; plots/charts.py draws them with the others.

1. load_curves: p50 and p99 against offered load (the hockey stick), log axes, a panel per
   design (plots/style.py's small multiples); a point that is not a latency (over capacity,
   generator bound) is never drawn as one: a cross on the x axis marks the rate; a band
   spans the capacity's bracket, where the knee lies.
2. spectrum: the percentile spectrum at one common rate, HdrHistogram style (x = 1/(1-p)),
   from the histograms of every repetition summed bucket by bucket, never averaged; a panel
   per design.
3. capacity: capacity at the latency target per design, with its interval (or the search's
   bracket when there is none), and the designs whose capacity lies outside the grid.
"""

import json
import math
import os

import matplotlib

matplotlib.use("Agg")
from matplotlib import ticker  # noqa: E402

from plots import style  # noqa: E402

def _workload(results, workload):
    w = results.get("workloads", {}).get(workload)
    return w if w and w.get("entries") else None


def _plain(axis, minors="235"):
    """Plain tick labels (300, 1,000) on a log axis; on one that spans under two decades,
    its 2s, 3s and 5s too (the `minors`), so it is never left with one labelled tick."""
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    lo, hi = sorted(axis.get_view_interval())
    few = lo > 0 and hi / lo < 100
    axis.set_minor_formatter(ticker.FuncFormatter(
        lambda v, _: f"{v:,.0f}" if few and f"{v:.0e}"[0] in minors else ""))


def mode_text(mode, short=False):
    if short:
        return "1 req./conn." if mode == "conn" else "keep-alive"
    return "1 request per connection" if mode == "conn" else "keep-alive (100 per connection)"


def _title(w, text):
    return text + (" — --quick, indicative only" if w["params"].get("quick") else "")


def measured(entry):
    """One design's curve over every rate measured: the grid's and the capacity search's
    (`searched`), in rate order."""
    return sorted(entry.get("curve", []) + entry.get("searched", []), key=lambda c: c["rate"])


def curve_points(entry, key):
    """(plain, other) for one design's curve of figure `key` (the median over repetitions):
    plain = [(rate, value)] of the points that are a latency, in rate order, the only ones a
    line joins; other = [(rate, value, status)] of those over capacity or generator bound."""
    plain, other = [], []
    for c in measured(entry):
        if c["status"] == "error" or key not in c.get("summary", {}):
            continue
        v = c["summary"][key]["median"]
        (plain.append((c["rate"], v)) if c["status"] == "ok" else
         other.append((c["rate"], v, c["status"])))
    return plain, other


def _rate_text(r):
    return f"{r / 1000:g}k" if r >= 1000 else f"{r:g}"


def _rate_ticks(axis, rates, gap=0.55):
    """Every rate of a grid marked on a log axis, labelled only where it stands `gap` of a
    decade or more from the last one labelled (6.3k and 16k, or 12k and 16k, would touch)."""
    labelled = rates[:1]
    for r in rates[1:]:
        if math.log10(r / labelled[-1]) >= gap:
            labelled.append(r)
    axis.set_ticks(labelled, [_rate_text(r) for r in labelled])
    axis.set_ticks(rates, minor=True)
    axis.set_minor_formatter(ticker.NullFormatter())


def load_curves(results, out_dir, workload):
    """latency-1. p50 and p99 against offered load: small multiples, one panel per design (one
    row of panels per mode), the other designs' p99 grey behind; only points that are
    latencies are drawn and joined. A rate at which the design could not keep the schedule
    (over capacity, generator bound) is a cross on the x axis; the band is where its p99 turns
    past the target (the capacity's bracket: the highest rate that met it, the first that
    did not)."""
    w = _workload(results, workload)
    if not w:
        return None
    p = w["params"]
    modes = p["modes"]
    variants = list(dict.fromkeys(e["variant"] for e in w["entries"]))
    styles = style.styles(variants, results.get("designs"))
    rates = sorted({r for m in modes for r in p["rates"].get(m, [])})
    fig, panels = style.small_multiples(variants, [f"µs, {mode_text(m, short=True)}" for m in modes],
                                        panel_in=2.1, head_in=1.9)
    values = [v for e in w["entries"] for key in ("p50_us", "p99_us")
              for _, v in curve_points(e, key)[0]] + [p["slo_us"]]
    for block, mode in enumerate(modes):
        mine = {e["variant"]: e for e in w["entries"] if e["mode"] == mode}
        p99 = {v: curve_points(e, "p99_us")[0] for v, e in mine.items()}
        for v in variants:
            a, e, st = panels[block, v], mine.get(v), styles[v]
            if e is None:
                a.text(0.5, 0.5, "not measured", ha="center", transform=a.transAxes)
                continue
            for other, pts in p99.items():
                if other != v and pts:
                    a.plot(*zip(*pts), color="#d0d0d0", lw=1, zorder=1)
            lo, hi = ((e.get("capacity") or {}).get("bracket") or [None, None])[:2]
            if lo and hi:
                a.axvspan(lo, hi, color=st.color, alpha=0.12, lw=0, zorder=0)
            plain50 = curve_points(e, "p50_us")[0]
            if plain50:
                a.plot(*zip(*plain50), color=st.color, marker=st.marker, mfc="white", ms=5,
                       lw=1.2, ls="--", zorder=2)
            if p99[v]:
                a.plot(*zip(*p99[v]), color=st.color, marker=st.marker, ms=6, lw=2, zorder=3)
                band = [(c["rate"], *c["summary"]["p99_us"]["ci95"]) for c in measured(e)
                        if c["status"] == "ok" and (c["summary"].get("p99_us") or {}).get("ci95")]
                if band:
                    a.fill_between(*zip(*band), color=st.color, alpha=0.25, lw=0, zorder=2)
            for rate, _, _ in curve_points(e, "p99_us")[1]:
                a.plot([rate], [0.04], ls="none", marker="x", ms=8, mew=2, color=st.color,
                       transform=a.get_xaxis_transform(), clip_on=False, zorder=4)
            a.axhline(p["slo_us"], color="#444444", lw=1, ls=":")
            a.set_xscale("log")
            a.set_yscale("log")
            a.set_xlim(rates[0] / 1.5, rates[-1] * 1.5)
            _rate_ticks(a.xaxis, rates)
            a.set_ylim(min(values) / 1.6, max(values) * 1.6)
            _plain(a.yaxis, minors="3")
    fig.supxlabel("offered load, requests/s (open loop, log)")
    fig.suptitle(_title(w, f"At what load does each design's latency turn up? (`{workload}`, "
                        f"median of {p.get('repeat', 1)} repetition(s))\n"
                        "solid: p99 (shaded: its interval), dashed: p50, grey: the other "
                        "designs' p99;\n"
                        f"dotted: the target, p99 ≤ {p['slo_us']:,.0f} µs; band: from the "
                        "highest rate that met it to the first that did not;\n×: could not "
                        "keep the schedule at that rate (not a latency)"))
    return style.save(fig, out_dir, f"{workload}-1-latency-vs-load")


MIN_ABOVE = 10  # a percentile rests on at least this many requests above it, or is shaded


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
    """latency-2. The percentile spectrum at one rate, HdrHistogram style: small multiples, one
    panel per design with the others grey behind, each shaded where fewer than MIN_ABOVE of
    its requests lie beyond."""
    w = _workload(results, workload)
    if not w or not w.get("spectrum_rate"):
        return None
    mode = w["params"]["modes"][0]
    rate = w["spectrum_rate"][mode]
    mine = [x for x in w["entries"] if x["mode"] == mode]
    curves, total = {}, {}
    for e in mine:
        files = [p["load_file"] for p in e["points"] if p["rate"] == rate and p.get("load_file")
                 and p.get("kind") == "grid"]
        counts = summed_buckets(out_dir, files) if files else {}
        if spectrum_points(counts):
            curves[e["variant"]] = spectrum_points(counts)
            total[e["variant"]] = sum(counts.values())
    if not curves:
        return None
    names = list(curves)
    styles = style.styles(names, results.get("designs"))
    fig, panels = style.small_multiples(names, ("latency, µs",), panel_in=2.1, head_in=1.8)
    right = max(x for pts in curves.values() for x, _ in pts)
    ticks = [(10 ** k, t) for k, t in enumerate(["0", "90", "99", "99.9", "99.99", "99.999"])
             if 10 ** k <= right * 10]
    end = ticks[-1][0] * 1.2
    ys = [y for pts in curves.values() for _, y in pts]
    for name in names:
        a, st = panels[0, name], styles[name]
        for other, pts in curves.items():
            if other != name:
                a.plot(*zip(*pts), color="#d0d0d0", lw=1, zorder=1)
        a.plot(*zip(*curves[name]), lw=2, color=st.color, ls=st.dash, zorder=3)
        noise = total[name] / MIN_ABOVE  # past it, fewer than MIN_ABOVE requests lie beyond p
        if noise < end:
            a.axvspan(noise, end, color="#eeeeee", zorder=0)
        a.set_xscale("log")
        a.set_yscale("log")
        a.set_xticks(*zip(*[(x, t if k % 2 == 0 else "") for k, (x, t) in enumerate(ticks)]))
        a.xaxis.set_minor_locator(ticker.NullLocator())
        a.set_xlim(0.9, end)
        a.set_ylim(min(ys) / 1.5, max(ys) * 1.5)
        _plain(a.yaxis, minors="")
    fig.supxlabel("percentile, % (axis 1/(1-p))")
    kept_up = (w.get("spectrum_all_ok") or {}).get(mode, True)
    fig.suptitle(_title(w, f"How slow is each design's slowest 1 %, 0.1 %, …? (`{workload}`)\n"
                       f"percentile spectrum at {rate:,} requests/s ({mode_text(mode)}), the "
                       "repetitions' histograms summed;\ngrey: the other designs; shaded: "
                       f"fewer than {MIN_ABOVE} of the design's requests lie beyond"
                       + ("\nno rate at which every design kept up: the lowest, some curves "
                          "are not latencies" if not kept_up else "")))
    return style.save(fig, out_dir, f"{workload}-2-percentile-spectrum")


def capacity(results, out_dir, workload):
    """latency-3. Each design's capacity at the target as a point in its colour and marker
    with its interval (or the search's bracket) as whiskers, on a log axis of offered rate."""
    w = _workload(results, workload)
    if not w:
        return None
    p = w["params"]
    rows = [e for e in w["entries"] if e.get("capacity")]
    modes = p["modes"]
    height = max(3.5, 0.4 * len(rows) / len(modes) + 2)
    styles = style.styles([e["variant"] for e in rows], results.get("designs"))
    fig, axes = style.figure(min(8 * len(modes), 12), height, ncols=len(modes), squeeze=False)
    for col, mode in enumerate(modes):
        a = axes[0][col]
        mine = [e for e in rows if e["mode"] == mode]
        for y, e in enumerate(mine):
            cap = e["capacity"]
            if cap["censored"] == "below" or not cap["summary"]:
                a.text(e["rates"][0], y, f"  < {e['rates'][0]:,}", va="center",
                       color="#c44e52")
                continue
            med = cap["summary"]["median"]
            lo, hi = cap["summary"].get("ci95") or cap["bracket"]
            hi = hi if hi is not None else med
            st = styles[e["variant"]]
            a.errorbar(med, y, xerr=[[med - lo], [max(hi - med, 0)]], color=st.color,
                       marker=st.marker, ms=9, ls="none", capsize=4, lw=1.6)
            if cap["censored"] == "above":
                a.text(med, y, f"  ≥ {med:,.0f}", va="center")
        a.set_yticks(range(len(mine)), [e["variant"] for e in mine])
        a.invert_yaxis()
        a.set_xscale("log")
        if mine:
            a.set_xlim(mine[0]["rates"][0] / 2, mine[0]["rates"][-1] * 2)
            a.set_ylim(len(mine) - 0.5, -0.5)
        if mine:
            _rate_ticks(a.xaxis, mine[0]["rates"], gap=0.3)
        a.set_xlabel(f"highest offered rate with p99 ≤ {p['slo_us']:,.0f} µs, requests/s")
        cis = [bool((e["capacity"].get("summary") or {}).get("ci95")) for e in mine]
        a.set_title(f"{mode_text(mode)};\n" + (
            "whiskers: the median's interval over repetitions" if all(cis) else
            "whiskers: the bracket [highest rate met, first failed]" if not any(cis) else
            "whiskers: the interval over repetitions, or the bracket [met, failed]"))
        a.grid(True, axis="x", alpha=0.3)
    fig.suptitle(_title(w, f"How much load does each design take with p99 ≤ "
                        f"{p['slo_us']:,.0f} µs? (`{workload}`)"))
    return style.save(fig, out_dir, f"{workload}-3-capacity-at-slo")
