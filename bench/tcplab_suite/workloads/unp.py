"""unp: Stevens' measurement of UNP ch. 30 — 5 clients, one 4000-byte request per connection —
on every design, the count scaled so each window lasts at least 2 s: sized from the warm-up's
rate and how much faster than their warm-ups this workload's earlier windows ran
(measure.expected_rate), and measured again with a larger count when a window still comes out
short (measure.long_enough), so that no short window is reported."""

from .. import table

NAME = "unp"
DEFAULT = True
COST = ("about 4 min (15 variants x 5 repetitions x a window of 2 s or more, 2.6 s on "
        "average)")
PLANS = {
    "default": {"clients": 5, "connections": 5000, "requests_per_conn": 1, "bytes": 4000,
                "workers": 15, "warmup_connections": 1000, "min_window_s": 2.0},
    "quick": {"clients": 5, "connections": 3000, "requests_per_conn": 1, "bytes": 4000,
              "workers": 15, "warmup_connections": 200, "min_window_s": 0},
}
CHARTS = ("cpu_per_connection", "process_control", "latency", "worker_distribution",
          "context_switches")


def steps(ctx):
    return table.table_steps(ctx)


def run(ctx):
    table.run_table(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.table_lines(results, NAME) + table.workers_lines(results, NAME)
