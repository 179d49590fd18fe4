"""unp: Stevens' measurement of UNP ch. 30 — 5 clients, one 4000-byte request per connection —
on every design, the count scaled so each window lasts at least min_window_s: sized from the
warm-up's rate and how much faster than their warm-ups this workload's earlier windows ran
(measure.expected_rate), and measured again with a larger count when a window still comes out
short (measure.long_enough), so that no short window is reported.

Repetitions and windows (issue 20): the findings pair repetition k of one variant with
repetition k of another, and the signed-rank interval over 9 pairs ([A(6), A(40)] of the 45
Walsh averages, 96.1 %; stats.hodges_lehmann) decides unless the few differences on the other
side are large, where 5 pairs need all 5 on one side ([min, max], 93.75 %).
The CPU a window measures is the server's own getrusage, exact to the scheduler's clock, so a
window need not last 2 s to count ticks; the /proc/stat split, which does count ticks, pools
them over the variant's repetitions (table.pooled_split). So 9 repetitions of 0.7 s or more
rather than 5 of 2 s: about the same time, more pairs.
Fork against a pool (some 100 us per connection) is decided by 9 pairs; accept against fd
passing (some 3 us, the paired differences spread by about as much) was decided in 7 of 9
pairs by each of two quiet default runs, different ones undecided each time, and in all 9 with
the two runs' 18 pairs pooled. So the designs of that question, and only they, are measured 18
times ("central": repetitions 10 to 18 interleave those six variants among themselves), fixed
in advance rather than run until decided, which would bias the intervals.
The count's floor is 2000 connections (it was Stevens' 5000) so that the window's length is
the sizing's, not the floor's, on a slow machine; Fig. 30.1's seconds are scaled to 5000 from
the CPU per connection.
"""

from .. import table

NAME = "unp"
DEFAULT = True
COST = ("about 3.7 min (18 variants x 9 repetitions and 6 of them x 9 more, x a window of "
        "0.7 s or more: 221 s measured on a quiet machine)")
PLANS = {
    "default": {"clients": 5, "connections": 2000, "requests_per_conn": 1, "bytes": 4000,
                "workers": 15, "warmup_connections": 1000, "min_window_s": 0.7, "repeat": 9,
                "central": {"designs": ["prefork", "prefork-fcntl", "prefork-mutex",
                                        "prefork-fdpass"], "repeat": 18},
                "process_control": True},
    "quick": {"clients": 5, "connections": 3000, "requests_per_conn": 1, "bytes": 4000,
              "workers": 15, "warmup_connections": 200, "min_window_s": 0},
}
CHARTS = ("cpu_per_connection", "process_control", "latency", "worker_distribution",
          "context_switches")


def steps(ctx):
    return table.table_steps(ctx, ctx.plan(PLANS))


def run(ctx):
    table.run_table(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.table_lines(results, NAME) + table.workers_lines(results, NAME)
