"""The decision table of REPORT.md's student part (issue 23 item 2): rows keyed by what a
user knows of the workload, columns the designs worth choosing, every cell a figure measured
by the run (or by the extra runs merged into it) or "not measured".

`rows(results)` returns the data: [(row label, {design: cell text})], the cells taken from
results.json alone; `lines(results)` renders it as a Markdown table. A design that did not run
has no column; a workload that did not run leaves its row "not measured".
"""

from . import designs as D
from .findings import num

# The designs worth choosing, in the order the table shows them: fork for isolation, the
# chapter-30 pools a server would pick (children accepting, fd passing, a thread pool), a
# thread per connection, and the event loops (one loop, one per core, io_uring).
CANDIDATES = ("fork", "prefork", "prefork-fdpass", "prethread-mutex", "thread", "epoll",
              "prefork-epoll-exclusive", "loop-per-thread", "uring", "uring-msgring")
NOT_MEASURED = "not measured"


def columns(results):
    """The candidates that are in this run's design table, in CANDIDATES' order."""
    ran = {d["name"]: d for d in results.get("designs") or []}
    return [ran[c] for c in CANDIDATES if c in ran]


def entry(workload, variant):
    return next((e for e in (workload or {}).get("entries", []) if e["variant"] == variant),
                None)


def median(e, figure):
    s = ((e or {}).get("summary") or {}).get(figure)
    return s["median"] if s else None


def server_row(workload, design):
    """A row of an nginx-style workload (work, idle): `servers`, one per design."""
    return next((e for e in (workload or {}).get("servers", []) if e["design"] == design
                 and e.get("figures")), None)


def cost(x, unit=""):
    """A figure as a cell, never a negative cost: at or below zero it reads '≈ 0'."""
    if x is None:
        return NOT_MEASURED
    return ("≈ 0" if x <= 0 else num(x)) + unit


def cpu_cell(workload, figure):
    def cell(d):
        return cost(median(entry(workload, D.first_variant(d)), figure))
    return cell


def work_cell(workload):
    def cell(d):
        e = server_row(workload, d["name"])
        return cost(e["figures"]["p99_us"]) if e else NOT_MEASURED
    return cell


def latency_cell(workload):
    """p99 at the common rate (the highest grid rate at which every design kept up), one
    request per connection; a point that is no latency says what it is instead."""
    rate = ((workload or {}).get("spectrum_rate") or {}).get("conn")

    def cell(d):
        e = next((e for e in (workload or {}).get("entries", [])
                  if e.get("mode") == "conn" and e["variant"] == D.first_variant(d)), None)
        c = next((c for c in (e or {}).get("curve", []) if c["rate"] == rate), None)
        if not c or not c.get("summary"):
            return NOT_MEASURED
        if c["status"] != "ok":
            return c["status"].replace("_", " ")
        return cost(c["summary"]["p99_us"]["median"])
    return cell


def idle_cell(workload):
    def cell(d):
        e = server_row(workload, d["name"])
        return cost(e["figures"]["rss_kb_per_conn"]) if e else NOT_MEASURED
    return cell


def slow_cell(workload, mode):
    """The share of slowhttptest's seconds in which the server answered its probe, and the
    second it first did not."""
    def cell(d):
        r = ((workload or {}).get("designs") or {}).get(d["name"]) or {}
        share = r.get(f"{mode}_available_fraction")
        if share is None:
            return NOT_MEASURED
        first = r.get(f"{mode}_first_unavailable_s")
        return f"{100 * share:.0f} %" + ("" if first is None else f", down at {first} s")
    return cell


def crash_cell(workload):
    """The faults workload's crash-request scenario: does the server survive one crashing
    handler, and is the connection beside it served?"""
    def cell(d):
        runs = ((workload or {}).get("scenarios") or {}).get("crashes") or []
        r = next((r for r in runs if r.get("mode") == "crash-request"
                  and r["design"] == d["name"] and "server_alive" in r), None)
        if not r:
            return NOT_MEASURED
        if not r["server_alive"]:
            return "server dies"
        beside = r.get("bystander_ok")
        return "survives" + ("" if beside is None else
                             ", neighbour served" if beside else ", neighbour lost")
    return cell


def cores_cell(workload):
    """The processes or threads that served `unp`'s connections, each of which the kernel can
    run on a core of its own: a pool's workers that served, or one per connection."""
    def cell(d):
        e = entry(workload, D.first_variant(d))
        runs = [r for r in (e or {}).get("runs", []) if r.get("server")]
        if not runs:
            return NOT_MEASURED
        s = runs[0]["server"]
        if s.get("processes_created") or s.get("threads_created"):
            return "one per connection"
        return str(sum(1 for n in s.get("workers", []) if n > 0))
    return cell


def rows(results):
    """[(label, {design name: cell})]: the table's data, one row per thing a user knows."""
    ws = results.get("workloads") or {}
    work_us = ((ws.get("work") or {}).get("params") or {}).get("work_us")
    idle_n = ((ws.get("idle") or {}).get("params") or {}).get("connections")
    rate = ((ws.get("latency") or {}).get("spectrum_rate") or {}).get("conn")
    spec = [
        ("Short connections, little CPU per request: CPU µs/conn (`unp`)",
         cpu_cell(ws.get("unp"), "cpu_us_per_conn")),
        ("Long keep-alive connections: CPU µs/request (`keepalive`)",
         cpu_cell(ws.get("keepalive"), "cpu_us_per_req")),
        ("Requests that need CPU"
         + (f" ({num(work_us)} µs each)" if work_us else "") + ": p99 µs (`work`)",
         work_cell(ws.get("work"))),
        ("A steady rate of new connections"
         + (f" ({rate:,}/s, open loop)" if rate else "") + ": p99 µs (`latency`)",
         latency_cell(ws.get("latency"))),
        ("Many idle connections"
         + (f" ({idle_n:,} held)" if idle_n else "") + ": KiB each (`idle`)",
         idle_cell(ws.get("idle"))),
        ("Slow or hostile clients, slowloris: time available (`slowhttp`)",
         slow_cell(ws.get("slowhttp"), "slowloris")),
        ("Slow readers: time available (`slowhttp`)", slow_cell(ws.get("slowhttp"), "slowread")),
        ("A handler that crashes (`faults`)", crash_cell(ws.get("faults"))),
        ("Several cores: processes or threads that served (`unp`)", cores_cell(ws.get("unp"))),
    ]
    ds = columns(results)
    return [(label, {d["name"]: cell(d) for d in ds}) for label, cell in spec]


def lines(results):
    """The decision table as Markdown lines ([] when the run has no candidate design)."""
    names = [d["name"] for d in columns(results)]
    if not names:
        return []
    out = ["| what you know of the workload | " + " | ".join(f"`{n}`" for n in names) + " |",
           "|---|" + "---:|" * len(names)]
    out += [f"| {label} | " + " | ".join(cells[n] for n in names) + " |"
            for label, cells in rows(results)]
    return out
