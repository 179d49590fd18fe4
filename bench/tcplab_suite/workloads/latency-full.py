"""latency-full: the `latency` workload at full rigour (only when named): one request per
connection and keep-alive, a finer grid for each, three bisections of the capacity search,
and the suite's --repeat interleaved repetitions for the intervals. The implementation is
latency.py's; only the plan differs."""

from . import latency

NAME = "latency-full"
DEFAULT = False
COST = "about 7.5 min a repetition, 37 min at 5 (13 designs x (9 + 7) points of 2 s)"
PLANS = {
    "default": dict(latency.PLANS["default"], modes=["conn", "keepalive"],
                    rates={"conn": latency.geometric_grid(1000, 64000, 6),
                           "keepalive": latency.geometric_grid(5000, 200000, 4)},
                    duration_s=2.0, search_steps=3, repeat=None),
    "quick": dict(latency.PLANS["quick"], modes=["conn", "keepalive"],
                  rates={"conn": [1000, 30000], "keepalive": [4000, 120000]}, search_steps=1),
}
CHARTS = latency.charts_for(NAME)


def steps(ctx):
    return latency.plan_steps(ctx, PLANS)


def run(ctx):
    latency.run_plan(ctx, NAME, PLANS)


def summary(results):
    return latency.summary_lines(results, NAME)
