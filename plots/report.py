#!/usr/bin/python3
"""Fills the generated blocks of REPORT.md from one suite results folder.

    /usr/bin/python3 plots/report.py results/<timestamp> [--report REPORT.md]

Every number in REPORT.md comes from a run: the blocks between
<!-- BEGIN generated:NAME --> and <!-- END generated:NAME --> are rewritten from
results.json (and summary.md, micro data and charts of the same folder); the prose around
them is written by hand and names no measured figure. The charts are copied into
plots/report/ so that REPORT.md can show them.
"""
import argparse
import json
import re
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Stevens, UNP vol. 1, 3rd ed., Fig. 30.1: process-control CPU seconds over 5000 connections
# (the design's CPU minus the iterative server's), as the issue quotes it.
STEVENS_3RD = {
    "fork": 20.90, "prefork": 1.80, "prefork-fcntl": 2.07, "prefork-mutex": 1.75,
    "prefork-fdpass": 2.58, "thread": 0.99, "prethread-mutex": 1.93, "prethread-dispatch": 2.05,
}

# UNP vol. 1, 2nd ed., Fig. 27.1: the same quantity on Solaris, Digital Unix and BSD/OS, as
# design -> (solaris, dunix, bsdos), None where the book has no figure. Not transcribed yet: no
# copy of the book was at hand to check them against, and a figure from memory is not a source.
# Fill it from the book and the table grows the three columns.
STEVENS_2ND = {}

# The cost model (issue 5): what each design pays per connection on top of the iterative
# server, as (microbenchmark, times per connection). The floor itself is measured.
COST_MODEL = {
    "iterative": [],
    "fork": [("BM_ForkExitWait/heap_mib:0", 1)],
    "prefork": [],
    "prefork-fcntl": [("BM_FcntlLock/uncontended", 1)],
    "prefork-mutex": [("BM_SharedMutex/uncontended", 1)],
    # The parent's ppoll, and the descriptor's trip to a child and the "done" record back.
    "prefork-fdpass": [("BM_Poll/ppoll_sigmask", 1), ("BM_SendRecvFdToChild", 1)],
    # Create, run, exit, and one wake-up of the creator: the closest benchmark to the server's
    # create-and-forget (the detached variant also waits on a latch per thread).
    "thread": [("BM_ThreadCreateJoin", 1)],
    "prethread-mutex": [("BM_ThreadMutex/uncontended", 1)],
    # One way of the round trip: main thread to a sleeping worker.
    "prethread-dispatch": [("BM_ThreadHandoff/round_trip", 0.5)],
}


def load(folder):
    data = json.loads((folder / "results.json").read_text())
    summary = (folder / "summary.md").read_text() if (folder / "summary.md").exists() else ""
    return data, summary


def entry(workload, variant):
    for e in workload.get("entries", []):
        if e["variant"] == variant:
            return e
    return None


def med(e, figure):
    if not e or not e.get("summary") or not e["summary"].get(figure):
        return None
    return e["summary"][figure]["median"]


def fmt(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


def section(summary, heading):
    """The text of one '## heading' section of summary.md, without the heading."""
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", summary, re.S | re.M)
    return m.group(1).strip() if m else f"_(no `{heading}` section in this run)_"


def section_prefix(summaries, prefix):
    """The first '## heading' section, in any of `summaries`, whose heading starts with
    `prefix`: its heading line in bold, then its body (### subsections included)."""
    for summary in summaries:
        m = re.search(rf"^## ({re.escape(prefix)}[^\n]*)\n(.*?)(?=^## |\Z)", summary, re.S | re.M)
        if m:
            return f"**{m.group(1).strip()}**\n\n{m.group(2).strip()}"
    return f"_(no section starting `{prefix}` in the runs given)_"


def block_run(data, folder):
    m = data["machine"]
    return "\n".join([
        f"- results folder: `{folder.name}` (suite started {data['started']}, took {data['duration_s']:.0f} s)",
        f"- machine: {m.get('cpu_model')}, {m.get('cpus')} CPUs; kernel {m.get('kernel')}",
        f"- load average at start and end: {m.get('loadavg_start')} / {m.get('loadavg_end')}",
        f"- pinning: server on CPU {data['pinning'].get('server')}, load generator on CPU {data['pinning'].get('load')}",
        f"- command: `{data['command_line']}`, then `/usr/bin/python3 plots/report.py results/{folder.name}`",
        f"- failed steps: {len(data['errors'])}" + "".join(f"\n  - `{e['step']}`: {e['message']}" for e in data["errors"]),
    ])


def variant_for(design):
    return "prefork-fdpass/least-loaded" if design == "prefork-fdpass" else design


def block_fig301(data):
    unp = data["workloads"].get("unp", {})
    second = bool(STEVENS_2ND)
    rows = ["| design | CPU µs/conn (median) | process control µs/conn | × 5000 conn = s | Stevens 3rd ed. s / 5000 conn |"
            + (" 2nd ed. Solaris | 2nd ed. Digital Unix | 2nd ed. BSD/OS |" if second else ""),
            "|---|---:|---:|---:|---:|" + ("---:|---:|---:|" if second else "")]
    for design in ["iterative"] + list(STEVENS_3RD):
        e = entry(unp, variant_for(design))
        pc = e.get("process_control_us_per_conn") if e else None
        pc_med = pc["median"] if pc else None
        rows.append(f"| `{design}` | {fmt(med(e, 'cpu_us_per_conn'))} | {fmt(pc_med)} | "
                    f"{fmt(pc_med * 5000 / 1e6 if pc_med is not None else None, 3)} | "
                    f"{'0 (baseline)' if design == 'iterative' else fmt(STEVENS_3RD[design], 2)} |"
                    + ("".join(f" {fmt(v, 1)} |" for v in STEVENS_2ND.get(design, (None,) * 3)) if second else ""))
    return "\n".join(rows)


def block_claims(data):
    unp = data["workloads"].get("unp", {})

    def pc(design):
        e = entry(unp, variant_for(design))
        p = e.get("process_control_us_per_conn") if e else None
        return p["median"] if p else None

    def cpu(variant):
        return med(entry(unp, variant), "cpu_us_per_conn")

    def rate(variant):
        return med(entry(unp, variant), "conn_per_s")

    out = []
    fork = pc("fork")
    pools = {d: pc(d) for d in ["prefork", "prefork-fcntl", "prefork-mutex", "prefork-fdpass",
                                "prethread-mutex", "prethread-dispatch"]}
    pools = {d: v for d, v in pools.items() if v is not None}
    if fork is not None and pools:
        worst = max(pools, key=pools.get)
        # A pool at or below the baseline has no process-control cost to divide by.
        ratio = fork / pools[worst] if pools[worst] > 0 else float("inf")
        verdict = "holds" if ratio >= 10 else "does not hold"
        out.append(f"- **Pools cut process-control CPU tenfold or more against fork per client: {verdict}.** "
                   f"`fork` costs {fmt(fork)} µs/conn of process control; the most expensive pool, "
                   f"`{worst}`, {fmt(pools[worst])} µs/conn: {fmt(ratio)}×. "
                   f"Every pool: " + ", ".join(f"`{d}` {fmt(v)}" for d, v in sorted(pools.items(), key=lambda kv: kv[1])) + ".")
    accepting = {d: cpu(d) for d in ["prefork", "prefork-fcntl", "prefork-mutex"]}
    accepting = {d: v for d, v in accepting.items() if v is not None}
    fdpass = {p: cpu(f"prefork-fdpass/{p}") for p in ["least-loaded", "round-robin", "first-free"]}
    fdpass = {p: v for p, v in fdpass.items() if v is not None}
    if accepting and fdpass:
        best = min(accepting, key=accepting.get)
        fd_best = min(fdpass.values())
        faster = sum(1 for v in accepting.values() if v < fd_best)
        verdict = "holds" if faster == len(accepting) else ("holds in part" if faster else "does not hold")
        out.append(f"- **Children calling accept() themselves are cheaper than the parent passing descriptors: {verdict}.** "
                   f"CPU µs/conn of the accepting designs: " + ", ".join(f"`{d}` {fmt(v)}" for d, v in accepting.items())
                   + f"; of `prefork-fdpass`: " + ", ".join(f"{p} {fmt(v)}" for p, v in fdpass.items())
                   + f". Throughput, conn/s: `{best}` {fmt(rate(best), 0)} against `prefork-fdpass/least-loaded` "
                   f"{fmt(rate('prefork-fdpass/least-loaded'), 0)}.")
    herd = data["workloads"].get("herd")
    if herd and herd.get("entries"):
        lines = []
        for design in ["prefork", "prefork-fcntl", "prefork-mutex", "prethread-mutex"]:
            pts = sorted(((e["workers"], med(e, "cpu_us_per_conn")) for e in herd["entries"]
                          if e["design"] == design and med(e, "cpu_us_per_conn") is not None))
            if len(pts) >= 2:
                lines.append(f"`{design}` {fmt(pts[0][1])} µs/conn at {pts[0][0]} workers → {fmt(pts[-1][1])} at {pts[-1][0]}")
        if lines:
            out.append("- **Thundering herd (CPU per connection as the pool grows):** " + "; ".join(lines) + ".")
    return "\n".join(out) if out else "_(this run has no `unp` workload)_"


def micro_medians(data):
    micro = data.get("micro") or {}
    return {b["name"]: b["real_us"] for b in micro.get("benchmarks", [])}


def block_micro(data):
    m = micro_medians(data)
    if not m:
        return "_(this run has no microbenchmark data: build/bin/tcplab-micro was not there)_"
    rows = ["| primitive (Google Benchmark) | median real time, µs |", "|---|---:|"]
    rows += [f"| `{name}` | {fmt(us, 2)} |" for name, us in sorted(m.items())]
    return "\n".join(rows)


def lookup(m, name):
    """The median of benchmark `name`, matching a prefix (Google Benchmark appends /args and
    /real_time to names)."""
    if name in m:
        return m[name]
    for key, value in m.items():
        if key.startswith(name + "/") or key.startswith(name + "_"):
            return value
    return None


def block_cost_model(data):
    m = micro_medians(data)
    unp = data["workloads"].get("unp", {})
    floor = med(entry(unp, "iterative"), "cpu_us_per_conn")
    if not m or floor is None:
        return "_(needs both the `unp` workload and the microbenchmarks in one run)_"
    base_ctxt = med(entry(unp, "iterative"), "ctxt_per_conn") or 0
    rows = ["| design | model: iterative floor + primitives | model µs/conn | measured µs/conn | measured / model "
            "| context switches / conn beyond iterative's (measured) |",
            "|---|---|---:|---:|---:|---:|"]
    for design, parts in COST_MODEL.items():
        measured = med(entry(unp, variant_for(design)), "cpu_us_per_conn")
        total, terms, missing = floor, [f"{fmt(floor)} floor"], []
        for name, times in parts:
            us = lookup(m, name)
            if us is None:
                missing.append(name)
                continue
            total += us * times
            terms.append(f"{times:g}× `{name}` {fmt(us, 2)}")
        model = None if missing else total
        ratio = measured / model if model and measured else None
        flag = " ⚠" if ratio and abs(ratio - 1) > 0.2 else ""
        ctxt = med(entry(unp, variant_for(design)), "ctxt_per_conn")
        rows.append(f"| `{design}` | {' + '.join(terms)}{' (missing: ' + ', '.join(missing) + ')' if missing else ''} | "
                    f"{fmt(model)} | {fmt(measured)} | {fmt(ratio, 2)}{flag} | "
                    f"{fmt(ctxt - base_ctxt if ctxt is not None else None, 2)} |")
    floor_parts = [lookup(m, "BM_ConnectAcceptClose"), lookup(m, "BM_Response4000")]
    if all(p is not None for p in floor_parts):
        rows.append("")
        rows.append(f"The floor against its syscalls: one loopback connection's life (`BM_ConnectAcceptClose`, both ends) "
                    f"{fmt(floor_parts[0], 2)} µs plus a 4000-byte response written and read (`BM_Response4000`) "
                    f"{fmt(floor_parts[1], 2)} µs = {fmt(sum(floor_parts), 2)} µs, against the iterative server's measured "
                    f"{fmt(floor)} µs/conn of server-side CPU. ⚠ marks a design more than 20 % from its model.")
    return "\n".join(rows)


def block_repeat(data, previous):
    """The same figure from two runs of the suite on the same machine: how far to trust a
    difference between two designs."""
    if not previous or not (previous / "results.json").exists():
        return "_(no earlier run given: `plots/report.py DIR --previous OLDER_DIR`)_"
    old, _ = load(previous)
    unp, old_unp = data["workloads"].get("unp", {}), old["workloads"].get("unp", {})
    rows = [f"CPU µs per connection, workload `unp`, median of 3 repetitions: this run (`{data['started']}`) "
            f"and an earlier one (`{old['started']}`, results folder `{previous.name}`).", "",
            "| design | this run | earlier run | difference | process control, this run | earlier run |",
            "|---|---:|---:|---:|---:|---:|"]
    for e in unp.get("entries", []):
        now, then = med(e, "cpu_us_per_conn"), med(entry(old_unp, e["variant"]), "cpu_us_per_conn")
        pc_now = (e.get("process_control_us_per_conn") or {}).get("median")
        oe = entry(old_unp, e["variant"])
        pc_then = ((oe or {}).get("process_control_us_per_conn") or {}).get("median")
        diff = now - then if now is not None and then is not None else None
        rows.append(f"| `{e['variant']}` | {fmt(now)} | {fmt(then)} | {fmt(diff)} | {fmt(pc_now)} | {fmt(pc_then)} |")
    return "\n".join(rows)


def block_loadgen(path):
    if not path or not path.exists():
        return "_(no bench/compare_loadgen.sh result given: `plots/report.py DIR --loadgen FILE`)_"
    r = json.loads(path.read_text())
    names = {"keepalive": "keep-alive, 50 connections, 5 s", "perconn": "one request per connection, 5 clients, 20,000",
             "sources": "tcplab-server prefork, one request per connection, 5 clients, 40,000"}
    rows = [f"Medians of {r['reps']} runs, rates with their min–max; generator CPU: {r['cpu_method']}; core busy: that CPU over "
            "the generator's wall-clock time.", "",
            "| workload | generator | req/s | conn/s | p50 ms | p99 ms | generator CPU µs/req | of which user | of which system | core busy |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    def with_range(v, field):  # "median (min–max)" over the runs
        values = [run[field] for run in v["runs"]]
        return f"{fmt(v['median'][field], 0)} ({fmt(min(values), 0)}–{fmt(max(values), 0)})"

    for key, v in r["summary"].items():
        workload, tool = key.split("/")
        m = v["median"]
        busy = m.get("core_busy")
        rows.append(f"| {names.get(workload, workload)} | {tool} | {with_range(v, 'req_s')} | {with_range(v, 'conn_s')} | "
                    f"{fmt(m['p50_ms'], 3)} | {fmt(m['p99_ms'], 3)} | {fmt(m['cpu_us_per_req'], 2)} | "
                    f"{fmt(m.get('user_us_per_req'), 2)} | {fmt(m.get('sys_us_per_req'), 2)} | "
                    f"{'—' if busy is None else f'{busy:.0%}'} |")
    rows += ["", "| ratio (same run) | value | target |", "|---|---:|---|"]
    targets = {"keepalive_req_s_tcplab_over_wrk": "≥ 1.0", "keepalive_cpu_tcplab_over_wrk": "≤ 1.0",
               "perconn_conn_s_tcplab_over_ab": "≥ 1.5", "perconn_cpu_tcplab_over_ab": "(lower is better)",
               "perconn_bound_ab_cpu_over_tcplab_sys": "(the most conn/s could gain were user time free)",
               "sources_conn_s_16_over_1": "(above 1: one address held the generator back)",
               "sources_cpu_16_over_1": "(below 1: the port scan it saves)"}
    for key, value in r.get("ratios", {}).items():
        rows.append(f"| `{key}` | {fmt(value, 3)} | {targets.get(key, '')} |")
    calls = r.get("perconn_tcplab_cpu_by_call_pct")
    if calls:
        rows += ["", "tcplab-load's CPU with a connection per request, by system call "
                 "(`perf record -g`, share of all samples, kernel work the call caused included):", "",
                 "| " + " | ".join(calls) + " |", "|" + "---:|" * len(calls),
                 "| " + " | ".join(f"{v:.1f} %" for v in calls.values()) + " |"]
    return "\n".join(rows)


BLOCKS = {
    "run": lambda d, s, f: block_run(d, f),
    "fig30-1": lambda d, s, f: block_fig301(d),
    "claims": lambda d, s, f: block_claims(d),
    "unp": lambda d, s, f: section(s, "Workload `unp`"),
    "keepalive": lambda d, s, f: section(s, "Workload `keepalive`"),
    "workers": lambda d, s, f: section(s, "Connections per worker (`unp`, the median repetition)"),
    "herd": lambda d, s, f: section(s, "Sweep `herd`: server CPU µs per connection against pool size"),
    "concurrency": lambda d, s, f: section(s, "Sweep `concurrency`: connections per second against concurrent clients")
    + "\n\n" + section(s, "Sweep `concurrency`: p99 latency, µs against concurrent clients"),
    "micro": lambda d, s, f: block_micro(d),
    "cost-model": lambda d, s, f: block_cost_model(d),
    "loadgen": lambda d, s, f: block_loadgen(LOADGEN),
    "repeat": lambda d, s, f: block_repeat(d, PREVIOUS),
    "extra-runs": lambda d, s, f: "\n".join(f"- `{x.name}`: `{json.loads((x / 'results.json').read_text())['command_line']}`"
                                           for x in EXTRA) or "_(none)_",
    "faults": lambda d, s, f: section_prefix(SUMMARIES, "Faults ("),
    "soak": lambda d, s, f: section_prefix(SUMMARIES, "Soak ("),
    "beyond-unp": lambda d, s, f: section_prefix(SUMMARIES, "Beyond chapter 30: `unp`"),
    "beyond-keepalive": lambda d, s, f: section_prefix(SUMMARIES, "Beyond chapter 30: `keepalive`"),
    "work": lambda d, s, f: section_prefix(SUMMARIES, "CPU-bound requests"),
    "idle": lambda d, s, f: section_prefix(SUMMARIES, "Memory of "),
    "stall": lambda d, s, f: section_prefix(SUMMARIES, "One stalled worker"),
}
LOADGEN = None
PREVIOUS = None  # an earlier results folder, for the run-to-run block
EXTRA = []       # further results folders (faults, beyond…) whose summary sections are quoted
SUMMARIES = []


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, help="a suite results folder (results/<timestamp>)")
    ap.add_argument("--report", type=Path, default=ROOT / "REPORT.md")
    ap.add_argument("--charts", type=Path, default=ROOT / "plots" / "report")
    ap.add_argument("--loadgen", type=Path, help="bench/compare_loadgen.sh's JSON")
    ap.add_argument("--previous", type=Path, help="an earlier results folder of the same machine, "
                                                   "for the run-to-run block")
    ap.add_argument("--extra", type=Path, action="append", default=[],
                    help="another results folder (e.g. --workloads faults) whose sections fill the "
                         "faults and beyond blocks; may be repeated")
    args = ap.parse_args()
    global LOADGEN, EXTRA, SUMMARIES, PREVIOUS
    LOADGEN = args.loadgen
    PREVIOUS = args.previous
    EXTRA = args.extra
    if not (args.results / "results.json").exists():
        sys.exit(f"report.py: no results.json in {args.results}")
    data, summary = load(args.results)
    SUMMARIES = [summary] + [load(x)[1] for x in EXTRA]
    text = args.report.read_text()
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN generated:{re.escape(name)} -->\n).*?(<!-- END generated:{re.escape(name)} -->)", re.S)
        if pattern.search(text):
            body = make(data, summary, args.results)
            text = pattern.sub(lambda mm: mm.group(1) + body + "\n" + mm.group(2), text)
    args.report.write_text(text)
    args.charts.mkdir(parents=True, exist_ok=True)
    for folder in [args.results] + EXTRA:
        for png in sorted(folder.glob("*.png")):
            shutil.copy2(png, args.charts / png.name)
    print(f"report.py: REPORT.md blocks filled from {args.results}; charts copied to {args.charts}")


if __name__ == "__main__":
    main()
