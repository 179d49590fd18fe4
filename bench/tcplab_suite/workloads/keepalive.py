"""keepalive: 100 requests per connection on every design, a window of at least 2 s."""

from .. import table

NAME = "keepalive"
DEFAULT = True
COST = "about 3.5 min (15 variants x 5 repetitions x a window of 2 s or more)"
PLANS = {
    "default": {"clients": 5, "connections": 200, "requests_per_conn": 100, "bytes": 4000,
                "workers": 15, "warmup_connections": 20, "min_window_s": 2.0},
    "quick": {"clients": 5, "connections": 50, "requests_per_conn": 100, "bytes": 4000,
              "workers": 15, "warmup_connections": 5, "min_window_s": 0},
}
CHARTS = ()


def steps(ctx):
    return table.table_steps(ctx)


def run(ctx):
    table.run_table(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.table_lines(results, NAME)
