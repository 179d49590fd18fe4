"""The chart of the workload `ballast` (issue 13), drawn from results.json alone.

cpu_and_p99(results, out_dir): small multiples against the main process's ballast (MiB), one
column per design on a scale of its own: server CPU µs per connection above, p99 latency below,
each point the median over the repetitions with its 95 % interval as an error bar. Writes ballast-1-cpu-and-p99.png and .svg
and returns that name, or None when the run has no ballast sweep.
"""

import matplotlib

matplotlib.use("Agg")
from matplotlib import ticker  # noqa: E402

from plots import style  # noqa: E402

NAME = "ballast-1-cpu-and-p99"


def series(entries, design, figure):
    """(MiB, median, [below, above]) of `figure` for one design's measured points, by size."""
    xs, ys, err = [], [], [[], []]
    for e in sorted((e for e in entries if e["design"] == design and e.get("summary")),
                    key=lambda e: e["ballast_mb"]):
        s = e["summary"][figure]
        lo, hi = s.get("ci95") or (s["median"], s["median"])
        xs.append(e["ballast_mb"])
        ys.append(s["median"])
        err[0].append(s["median"] - lo)
        err[1].append(hi - s["median"])
    return xs, ys, err


def _sparse(xs, gap=0.12):
    """Tick labels for the sizes on a linear axis, a size left unlabelled when it lies within
    `gap` of the range from the last one labelled (0 and 16 MiB of 0..256 would touch)."""
    out, last = [], None
    for x in xs:
        near = last is not None and x - last < gap * (xs[-1] - xs[0])
        out.append("" if near else f"{x:g}")
        last = last if near else x
    return out


def cpu_and_p99(results, out_dir):
    """Small multiples: one column per design, each on a scale of its own (fork's cost grows a
    hundredfold, the others' would be a flat line at zero beside it), server CPU per
    connection above and p99 below, against the ballast; each point the median over the
    repetitions with its interval."""
    w = results.get("workloads", {}).get("ballast")
    if not w or not any(e.get("summary") for e in w.get("entries", [])):
        return None
    designs = list(dict.fromkeys(e["design"] for e in w["entries"]))
    styles = style.styles(designs, results.get("designs"))
    fig, panels = style.small_multiples(designs, ("server CPU µs\nper connection", "p99, µs"),
                                        cols=len(designs), panel_in=2.4, head_in=1.8)
    sizes = sorted({e["ballast_mb"] for e in w["entries"]})
    for block, figure in enumerate(("cpu_us_per_conn", "p99_us")):
        for design in designs:
            ax = panels[block, design]
            xs, ys, err = series(w["entries"], design, figure)
            if xs:
                ax.errorbar(xs, ys, yerr=err, capsize=3, ms=7, lw=1.6, **styles[design].line())
            ax.set_ylim(0, max((y + e for y, e in zip(ys, err[1])), default=1) * 1.15)
            ax.tick_params(labelleft=True)  # each design on its own scale
            ax.set_xticks(sizes, _sparse(sizes))
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    fig.supxlabel("ballast of the main process, MiB (--ballast-mb)")
    quick = "; --quick: indicative only" if w["params"].get("quick") else ""
    fig.suptitle("Does a bigger server make each connection dearer? one fork per connection "
                 "copies\nthe parent's page tables; each design on a scale of its own, from 0;\n"
                 "whiskers: the median's interval over repetitions" + quick)
    return style.save(fig, out_dir, NAME)
