"""The chart of the workload `ballast` (issue 13), drawn from results.json alone.

cpu_and_p99(results, out_dir): two panels against the main process's ballast (MiB), one line
per design: server CPU µs per connection and p99 latency, each point the median over the
repetitions with its 95 % interval as an error bar. Writes ballast-1-cpu-and-p99.png and .svg
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


def cpu_and_p99(results, out_dir):
    w = results.get("workloads", {}).get("ballast")
    if not w or not any(e.get("summary") for e in w.get("entries", [])):
        return None
    designs = list(dict.fromkeys(e["design"] for e in w["entries"]))
    styles = style.styles(designs, results.get("designs"))
    fig, axes = style.figure(11, 5, ncols=2)
    for ax, (figure, label) in zip(axes, (("cpu_us_per_conn", "server CPU µs per connection"),
                                          ("p99_us", "p99 latency, µs"))):
        for design in designs:
            xs, ys, err = series(w["entries"], design, figure)
            if xs:
                ax.errorbar(xs, ys, yerr=err, capsize=3, label=design, ms=7, lw=1.6,
                            **styles[design].line())
        ax.set_xlabel("ballast of the main process, MiB (--ballast-mb)")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.grid(alpha=0.3)
        ax.legend()
    quick = "; --quick: indicative only" if w["params"].get("quick") else ""
    fig.suptitle("Does a bigger server make each connection dearer?\none fork per connection "
                 "copies the parent's page tables\nwhiskers: the median's interval over "
                 "repetitions" + quick)
    return style.save(fig, out_dir, NAME)
