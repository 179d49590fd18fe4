"""keepalive: 100 requests per connection on every design, 9 repetitions of a 0.35 s window.

The default plan runs for a fixed time (duration_s) rather than a count sized from a warm-up:
a warm-up of a few dozen keep-alive connections estimated the rate too loosely, and windows
came in anywhere from 1.3 to 3.7 s. A timed window is exactly its duration (tcplab-load
measures a run that ran out of time over --duration); the warm-up before it
(0.2 s, some 30 connections) only wakes the pool: at 0.1 s, on a machine loaded by other
work, a warm-up now and then completed no request at all and failed its step. The connections still in flight when the
time is up are abandoned by the generator; the server counts them when they end, before
snapshot B, so CPU per connection stays the server's own count over the window; each of them
the server sees reset, which table.unexplained_failures does not count as a failure.

9 repetitions rather than 5 for the paired findings (see unp.py), of 0.35 s: some 7,500
requests a window, and the CPU from getrusage needs no longer window to be exact. The windows
were 0.6 s until the default run took in the lab's slices (workloads/__init__.py, 43 s): 0.25 s
less on each of 162 windows pays 40 s of them and keeps all 9 pairs, where dropping
repetitions would cost the findings their power (the latency sweep's shorter windows pay the
rest)."""

from .. import table

NAME = "keepalive"
DEFAULT = True
COST = ("about 1.7 min (18 variants x 9 repetitions x a window of 0.35 s, a 0.2 s warm-up and "
        "0.08 s besides: 102 s estimated from 140 s measured with 0.6 s windows)")
PLANS = {
    "default": {"clients": 5, "connections": 200, "requests_per_conn": 100, "bytes": 4000,
                "workers": 15, "warmup_s": 0.2, "duration_s": 0.35, "min_window_s": 0.35, "repeat": 9,
                "process_control": False},
    "quick": {"clients": 5, "connections": 50, "requests_per_conn": 100, "bytes": 4000,
              "workers": 15, "warmup_connections": 5, "min_window_s": 0,
              "process_control": False},
}
CHARTS = ()


def steps(ctx):
    return table.table_steps(ctx, ctx.plan(PLANS))


def run(ctx):
    table.run_table(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.table_lines(results, NAME)
