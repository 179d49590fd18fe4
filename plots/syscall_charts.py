"""The chart of the workload `syscalls` (issue 13), drawn from results.json alone.

stacked(results, out_dir): two panels, per connection (one request each) and per request
(keep-alive), one stacked bar per design: the count of each of the commonest calls (the
columns of summary.md's table), the rest as "other". Writes syscalls-1-per-connection.png
and .svg and returns that name, or None when the run counted nothing.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
from tcplab_suite.workloads import syscalls as workload  # noqa: E402

NAME = "syscalls-1-per-connection"


def stacked(results, out_dir):
    w = results.get("workloads", {}).get(workload.NAME)
    if not w:
        return None
    panels = [(mode, workload.per_design(w, mode)) for mode in workload.MODES]
    panels = [(mode, counts) for mode, counts in panels if counts]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5), squeeze=False)
    cmap = plt.get_cmap("tab20")
    colours = {}
    for ax, (mode, counts) in zip(axes[0], panels):
        columns, rows = workload.split_calls(counts, w["params"]["top"], w.get("baseline"))
        designs = list(rows)
        base = [0.0] * len(designs)
        for call in columns + [workload.OTHER]:
            colour = colours.setdefault(call, "#bbbbbb" if call == workload.OTHER
                                        else cmap(len(colours) % 20))
            heights = [max(rows[d][call], 0.0) for d in designs]
            ax.bar(range(len(designs)), heights, bottom=base, color=colour, label=call,
                   edgecolor="white", linewidth=0.4)
            base = [b + h for b, h in zip(base, heights)]
        ax.set_xticks(range(len(designs)), designs, rotation=60, ha="right", fontsize=8)
        rpc = w["params"]["modes"][mode]["requests_per_conn"]
        ax.set_ylabel("system calls per connection" if mode == "conn" else
                      "system calls per request")
        ax.set_title("one request per connection" if mode == "conn" else
                     f"keep-alive, {rpc} requests per connection", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, ncol=2)
    quick = " (--quick)" if w["params"].get("quick") else ""
    fig.suptitle(f"System calls of the server's process tree, counted by "
                 f"{w.get('tracer', '?')}{quick}", fontsize=10)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out_dir, f"{NAME}.{ext}"), dpi=110)
    plt.close(fig)
    return NAME
