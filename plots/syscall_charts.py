"""The chart of the workload `syscalls` (issue 13), drawn from results.json alone.

stacked(results, out_dir): two panels, per connection (one request each) and per request
(keep-alive), one stacked horizontal bar per design, one legend for both: the count of each
of the commonest calls (the columns of summary.md's table), the rest as "other". Writes
syscalls-1-per-connection.png and .svg and returns that name, or None when the run counted
nothing.
"""

import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib.patches import Patch  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
from tcplab_suite.workloads import syscalls as workload  # noqa: E402

from plots import style  # noqa: E402

NAME = "syscalls-1-per-connection"


def stacked(results, out_dir):
    w = results.get("workloads", {}).get(workload.NAME)
    if not w:
        return None
    panels = [(mode, workload.per_design(w, mode)) for mode in workload.MODES]
    panels = [(mode, counts) for mode, counts in panels if counts]
    if not panels:
        return None
    n = max(len(counts) for _, counts in panels)
    fig, axes = style.figure(min(5 * len(panels) + 2.5, 12), 0.36 * n + 2.6, ncols=len(panels),
                             squeeze=False)
    # tab20 without its greys (grey is "other"), then tab20b's darkest: no call shares a colour
    palette = ([c for k, c in enumerate(plt.get_cmap("tab20").colors) if k not in (14, 15)]
               + list(plt.get_cmap("tab20b").colors[::4]))
    colours = {}  # call -> colour; a call past the palette is drawn within "other"
    for ax, (mode, counts) in zip(axes[0], panels):
        columns, rows = workload.split_calls(counts, w["params"]["top"], w.get("baseline"))
        for call in columns:
            if call not in colours and len(colours) < len(palette):
                colours[call] = palette[len(colours)]
        for row in rows.values():
            row[workload.OTHER] += sum(row[c] for c in columns if c not in colours)
        designs = list(rows)
        base = [0.0] * len(designs)
        for call in [c for c in columns if c in colours] + [workload.OTHER]:
            colour = colours.get(call, "#bbbbbb")
            widths = [max(rows[d][call], 0.0) for d in designs]
            ax.barh(range(len(designs)), widths, left=base, color=colour, height=0.75,
                    edgecolor="white", linewidth=0.4)
            base = [b + h for b, h in zip(base, widths)]
        ax.set_yticks(range(len(designs)), designs if ax is axes[0][0] else [""] * len(designs))
        ax.set_ylim(len(designs) - 0.5, -0.5)
        rpc = w["params"]["modes"][mode]["requests_per_conn"]
        ax.set_xlabel("system calls per connection" if mode == "conn" else
                      "system calls per request")
        ax.set_title("1 request per connection" if mode == "conn" else
                     f"keep-alive, {rpc} requests/conn.")
        ax.grid(axis="x", alpha=0.3)
    handles = [Patch(color=c, label=call) for call, c in colours.items()]
    handles.append(Patch(color="#bbbbbb", label=workload.OTHER))
    axes[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       frameon=False, title="call")
    quick = " (--quick)" if w["params"].get("quick") else ""
    fig.suptitle("Which system calls does each design make per connection and per request?\n"
                 f"the server's process tree, counted by {w.get('tracer', '?')}{quick}")
    return style.save(fig, out_dir, NAME)
