"""soak: a million connections through the chapter-30 pools whose main thread or process hands
connections out (prefork-fdpass, prethread-dispatch): descriptors and RSS at the start and the
end (only when named: --workloads soak; never in --quick, whose plan is the same)."""

import time

from .. import designs as D
from .. import procfs
from ..core import Server, record_step, run_load
from .faults import request

NAME = "soak"
DEFAULT = False
COST = "about 1 min per design (1,000,000 connections each)"
PLAN = {"workers": 15, "connections": 1_000_000, "chunk": 100_000, "clients": 4, "bytes": 100}
PLANS = {"default": PLAN, "quick": PLAN}
CHARTS = ("soak",)


def soak_designs(ctx):
    return D.names(D.dispatchers(ctx.designs))


def steps(ctx):
    return len(soak_designs(ctx))


def soak(ctx, design, p):
    r = {"design": design, "connections": 0, "samples": [], "load_failed": 0}
    with Server(ctx, design, ctx.workers(p["workers"])) as srv:
        request(srv.port)
        t0 = time.monotonic()

        def sample():
            snap = srv.snapshot()
            r["samples"].append({"connections": snap["connections"], "t_s": time.monotonic() - t0,
                                 "fds": procfs.tree_fds(srv.pid),
                                 "rss_kb": procfs.tree_rss_kb(srv.pid),
                                 "peak_rss_max_kb": snap["peak_rss_max_kb"]})
        sample()
        while r["connections"] < p["connections"]:
            n = min(p["chunk"], p["connections"] - r["connections"])
            load, _ = run_load(ctx, srv.port, p["clients"], 1, p["bytes"], f"soak/{design}",
                               connections=n)
            r["connections"] += n
            r["load_failed"] += load["counts"]["failed"]
            sample()
        r["wall_s"] = time.monotonic() - t0
        r["alive"] = srv.alive()
    r["exit"] = srv.exit
    first, last = r["samples"][0], r["samples"][-1]
    r["fds_start"], r["fds_end"] = first["fds"], last["fds"]
    r["rss_start_kb"], r["rss_end_kb"] = first["rss_kb"], last["rss_kb"]
    return r


def run(ctx):
    p = ctx.plan(PLANS)
    entry = ctx.workload(NAME, kind="soak", params=p, entries=[], designs=[])
    for d in soak_designs(ctx):
        record_step(ctx, f"soak/{d}", f"{d:<26} soak {p['connections']:,} connections", entry["designs"],
             lambda: soak(ctx, d, p),
             lambda r: f"fds {r['fds_start']}→{r['fds_end']}, RSS {r['rss_start_kb']}→"
                       f"{r['rss_end_kb']} KiB, {r['wall_s']:.0f} s")


def summary(results):
    lines = []
    soak_part = results["workloads"].get(NAME)
    if soak_part and soak_part["designs"]:
        lines += ["", "## Soak (`--workloads soak`)", "",
                  "| design | connections | load failures | descriptors start → end | RSS KiB start → end | wall s |",
                  "|---|---:|---:|---:|---:|---:|"]
        for r in soak_part["designs"]:
            lines.append(f"| {r['design']} | {r['connections']:,} | {r.get('load_failed', 0)} "
                         f"| {r['fds_start']} → {r['fds_end']} | {r['rss_start_kb']:,} → "
                         f"{r['rss_end_kb']:,} | {r['wall_s']:.0f} |")
    return lines
