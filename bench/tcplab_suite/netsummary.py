"""Which network a run used, and loopback against veth (issue 11): the lines that summary.md
(run_lines, for a `--net veth` run) and REPORT.md's `veth` block (compare_lines, through
`plots/report.py --veth DIR`) share.

What the figures are
--------------------
- CPU µs/conn and process control: the server's own accounting (its whole process tree), as
  in every table of the suite (measure.run_figures, table.add_process_control).
- Each side's user / system / softirq share: of that side's busy time, from the per-CPU
  /proc/stat split the suite records with every run (run["cpu"], procstat.cpu_split), in the
  runs where the side had its CPUs to itself (alone()): the user and system time of its CPUs
  that its own processes do not account for is at most 15 % of their busy time. Softirq is
  left out of that test, unlike measure.cpu_accounting's rule for the unp table (process and
  ksoftirqd time at least 85 % of busy): over veth a side's receive softirq runs partly in the
  idle task, booked to no process, and it is that side's own work, so the older rule would
  drop exactly the runs this comparison is about. The same test serves both networks.
- Server CPUs' busy µs/conn: the busy time of the server's CPUs (/proc/stat) over the
  connections the server served in the window, in the same runs as its shares. It holds the
  receive softirq that runs while the server's CPU is idle (booked to the idle task, so in no
  process's CPU time), which over veth is the server's own.
Every claim is a verdict of stats.py from the intervals (the orders within one run from paired
repetitions, findings.paired_entries); nothing here is typed by hand.
"""

import itertools

from . import findings, stats
from .table import central_phrase, fmt_ci, fmt_diff

WORKLOAD = "unp"
SHARES = ("user", "system", "softirq")
SIDES = ("server", "load")


def is_veth(results):
    return (results.get("net") or {}).get("net") == "veth"


# --------------------------------------------------------------------------- per run

ALONE = 0.85  # as in measure.cpu_accounting: at least 85 % of the busy time is the side's


def own_cpu_s(run, side):
    """The CPU seconds a side's own processes account for over the window: the server's
    process tree, or tcplab-load's rusage (µs per request times requests); None if unknown."""
    if side == "server":
        return ((run.get("cpu") or {}).get("server") or {}).get("process_cpu_s")
    per_req = (run.get("figures") or {}).get("load_cpu_us_per_req")
    requests = (run.get("load_counts") or {}).get("requests")
    return None if per_req is None or requests is None else per_req * requests / 1e6


def alone(run, side):
    """Whether a side had its CPUs to itself in a run: the two sides on different CPUs, and the
    user + system time of the side's CPUs beyond its own processes' at most 1 - ALONE of their
    busy time (softirq left out: see the module docstring)."""
    cpu = run.get("cpu") or {}
    split, own = cpu.get(side), own_cpu_s(run, side)
    if not split or not split.get("shares") or own is None or split.get("busy", 0) <= 0:
        return False
    if set(cpu["server"]["cpus"]) & set(cpu["load"]["cpus"]):
        return False
    span = split["ticks"] / split["user_hz"]  # the CPUs' seconds over the window
    others = (split["shares"]["user"] + split["shares"]["system"]) * span - own
    return others <= (1 - ALONE) * split["busy"] * span


def _split(run, side):
    """A successful run's /proc/stat split of one side, or None: no split, or something else
    ran on that side's CPUs (alone())."""
    if not run.get("figures") or not alone(run, side):
        return None
    return run["cpu"][side]


def _summaries(values_by_run):
    """stats.summary of each key over the runs that have one (dicts of figures, or None)."""
    good = [v for v in values_by_run if v]
    return {k: stats.summary([v[k] for v in good]) for k in good[0]} if good else None


def side_shares(entry, side):
    """{"user"|"system"|"softirq": stats.summary of that share of the side's busy time,
    "runs": how many runs it is drawn from}, or None when no run has the split."""
    splits = [_split(r, side) for r in entry.get("runs", [])]
    out = _summaries([{k: s["shares"][k] / s["busy"] for k in SHARES} if s else None
                      for s in splits])
    if out:
        out["runs"] = sum(1 for s in splits if s)
    return out


def busy_us_per_conn(entry):
    """stats.summary of the server CPUs' busy µs per connection, or None."""
    values = []
    for r in entry.get("runs", []):
        s = _split(r, "server")
        conns = (r.get("server") or {}).get("connections", 0)
        if s and conns > 0:
            values.append(s["busy"] * s["window_s"] * len(s["cpus"]) * 1e6 / conns)
    return stats.summary(values) if values else None


def saturated_text(entry):
    """'load 3/5' when the generator's CPUs were saturated in 3 of 5 runs; '–' for none."""
    runs = entry.get("runs", [])
    counts = {}
    for r in runs:
        for side in (r.get("cpu") or {}).get("saturated", []):
            counts[side] = counts.get(side, 0) + 1
    return ", ".join(f"{side} {n}/{len(runs)}" for side, n in counts.items()) or "–"


def shares_text(shares, runs=None):
    """'5/60/35' (user/system/softirq %, medians), '(3 of 5 runs)' when not all had one."""
    if not shares:
        return "–"
    text = "/".join(f"{100 * shares[k]['median']:.0f}" for k in SHARES)
    return text + (f" ({shares['runs']} of {runs} runs)" if runs and shares["runs"] < runs
                   else "")


# --------------------------------------------------------------------------- run facts

def _addresses(addresses):
    return addresses[0] if len(addresses) == 1 else \
        f"{addresses[0]} … {addresses[-1]} ({len(addresses)})"


def _cpus(cpus):
    return ("CPU " if len(cpus) == 1 else "CPUs ") + ",".join(map(str, cpus))


def _onoff(value):
    return {True: "on", False: "off"}.get(value, "?")


def facts_lines(results):
    """The network a veth run used, as results["net"] (netns.TwoHosts.describe()) records it:
    topology, addresses, RPS masks, the generators' sysctl, the veth ends' offloads."""
    net = results["net"]
    srv = net["server"]
    lines = [f"- topology: {net['topology']}, addresses from {net['network']} (RFC 2544's "
             "benchmark range) assigned only inside the run's own namespaces; IPv6 "
             + ("on" if net.get("ipv6") else "off"),
             f"- server: namespace `{srv['namespace']}`, {srv['address']} on `{srv['device']}`; "
             f"RPS `rps_cpus` = {srv['rps_cpus']} ({_cpus(srv['cpus'])}) on "
             + ", ".join(f"`{d}`" for d in srv["rx_devices"])]
    for h in net["load_hosts"]:
        sysctl = ", ".join(f"`{k}={v}`" for k, v in (h.get("sysctl") or {}).items())
        lines.append(f"- load host: namespace `{h['namespace']}`, source addresses "
                     f"{_addresses(h['addresses'])} on `{h['device']}`; RPS `rps_cpus` = "
                     f"{h['rps_cpus']} ({_cpus(h['cpus'])}) on "
                     + ", ".join(f"`{d}`" for d in h["rx_devices"])
                     + (f"; {sysctl}" if sysctl else ""))
    offloads = net.get("offloads")
    if offloads:
        lines.append("- offloads (`ethtool -k`): " + "; ".join(
            f"`{dev}` " + ", ".join(f"{k.upper()} {_onoff(v)}" for k, v in sorted(o.items()))
            for dev, o in offloads.items()))
    else:
        lines.append(f"- offloads: not recorded ({net.get('offloads_note') or 'none read'})")
    skipped = net.get("skipped_workloads") or {}
    if skipped:
        lines.append("- skipped over veth: " + "; ".join(f"`{w}` ({why})"
                                                         for w, why in skipped.items()))
    if net.get("stale_removed"):
        lines.append("- removed first, left by a killed earlier run: "
                     + ", ".join(f"`{n}`" for n in net["stale_removed"]))
    return lines


def sides_lines(results, name):
    """One table workload of a run: both sides' CPU shares and the server CPUs' busy µs/conn
    per design (summary.md; the unp table shows the server's split alone, by its own rule)."""
    w = results["workloads"].get(name)
    if not w or w.get("kind") != "table":
        return []
    lines = ["", f"## Both sides' CPUs (`{name}`)", "",
             "User / system / softirq share of each side's busy time (/proc/stat, medians); "
             "each side's only in the runs where the user and system time of its CPUs was its "
             "own to within 15 % of their busy time. Busy µs/conn: the "
             "server CPUs' busy time over the connections served, receive softirq in the idle "
             "task included.", "",
             "| design | server CPU user/sys/softirq % | load CPU user/sys/softirq % "
             "| server CPUs' busy µs/conn | saturated |", "|---|---:|---:|---:|---|"]
    for e in w["entries"]:
        n = len(e["runs"])
        lines.append(f"| {e['variant']} | {shares_text(side_shares(e, 'server'), n)} "
                     f"| {shares_text(side_shares(e, 'load'), n)} "
                     f"| {fmt_ci(busy_us_per_conn(e))} | {saturated_text(e)} |")
    return lines


def run_lines(results):
    """summary.md's section on the network of a veth run (nothing for loopback, whose one
    line net_line writes)."""
    if not is_veth(results):
        return []
    out = ["", "## Network: veth", ""] + facts_lines(results)
    for name, w in results["workloads"].items():
        if w.get("kind") == "table":
            out += sides_lines(results, name)
    return out


# --------------------------------------------------------------------------- loopback vs veth

def _entries(results):
    w = results["workloads"].get(WORKLOAD) or {}
    return {e["variant"]: e for e in w.get("entries", []) if e.get("summary")}


def _med(s, scale=1.0, digits=1):
    return "–" if not s else f"{scale * s['median']:,.{digits}f}"


def _tally(verdicts):
    """'holds for 9 of 13 (`a` x → y, …); does not hold for 1 (…); cannot tell … for 3 (…)'
    from {variant: (verdict, note)}, and the one verdict for all (the same, or cannot tell)."""
    groups = {}
    for variant, (v, note) in verdicts.items():
        groups.setdefault(v, []).append(f"`{variant}` {note}")
    order = (stats.HOLDS, stats.DOES_NOT_HOLD, stats.CANNOT_TELL)
    text = "; ".join(f"{v} for {len(groups[v])} of {len(verdicts)} ({', '.join(groups[v])})"
                     for v in order if v in groups)
    overall = next(iter(groups)) if len(groups) == 1 else stats.CANNOT_TELL
    return overall, text


def _claim_each(loop, veth, common, get, claim, scale, unit):
    """The claim "veth <claim> loopback" for each design, as a tally sentence's parts."""
    out = {}
    for v in common:
        a, b = get(veth[v]), get(loop[v])
        if a and b:
            out[v] = (stats.verdict(a, b, claim)["verdict"],
                      f"{_med(b, scale)} → {_med(a, scale)}{unit}")
    return out


def claim_lines(loop, veth, common):
    """The generated sentences: each a claim about veth against loopback, with its verdict."""
    out = []
    claims = (
        ("The server's softirq share rises over veth (it now pays for its own receive path, "
         "and no longer for the client's)", lambda e: (side_shares(e, "server") or {}).get(
             "softirq"), "a>b", 100, " %"),
        ("The load generator's softirq share rises over veth too (RPS steers to its CPU the "
         "responses and FINs that loopback received on the server's CPU)", lambda e: (
             side_shares(e, "load") or {}).get("softirq"), "a>b", 100, " %"),
        ("CPU per connection (the server's own accounting) is higher over veth",
         lambda e: e["summary"]["cpu_us_per_conn"], "a>b", 1, " µs"),
        ("The server CPUs' busy time per connection is higher over veth",
         busy_us_per_conn, "a>b", 1, " µs"),
    )
    for head, get, claim, scale, unit in claims:
        each = _claim_each(loop, veth, common, get, claim, scale, unit)
        if each:
            overall, text = _tally(each)
            out.append(f"- **{head}: {overall}.** Loopback → veth, medians: {text}.")
        else:
            out.append(f"- **{head}: {stats.CANNOT_TELL}.** No design has the figure in both "
                       "runs: in every run of one of them something else ran on that side's "
                       "CPUs.")
    ranking = ranking_line(loop, veth, common)
    if ranking:
        out.append(ranking)
    return out


def below(a, b, figure):
    """Whether design a's `figure` is below b's in the same run, paired (repetition k against
    repetition k, findings.paired_entries): a stats verdict."""
    p = findings.paired_entries(a, b, figure, "a<b")
    return p["verdict"] if p else stats.CANNOT_TELL


def order_text(entries, figure="cpu_us_per_conn"):
    """The designs in order of `figure`: '`a` 12.3 < `b` 15.0 ≈ `c` 15.2', `<` where the
    neighbours' paired interval lies below zero, `≈` where it does not."""
    es = sorted(entries.items(), key=lambda kv: kv[1]["summary"][figure]["median"])
    text = f"`{es[0][0]}` {_med(es[0][1]['summary'][figure])}"
    for (_, a), (vb, b) in zip(es, es[1:]):
        held = below(a, b, figure)
        text += f" {'<' if held == stats.HOLDS else '≈'} `{vb}` {_med(b['summary'][figure])}"
    return text


def ranking_line(loop, veth, common, figure="cpu_us_per_conn"):
    """Whether the ranking by CPU per connection holds both ways: of the pairs of designs the
    loopback run orders (intervals apart), how many veth keeps, reverses or cannot tell."""
    if len(common) < 2:
        return None
    kept, reversed_, unsure = [], [], []
    for x, y in itertools.combinations(common, 2):
        lv = below(loop[x], loop[y], figure)
        if lv == stats.CANNOT_TELL:
            continue
        lo, hi = (x, y) if lv == stats.HOLDS else (y, x)
        vv = below(veth[lo], veth[hi], figure)
        {stats.HOLDS: kept, stats.DOES_NOT_HOLD: reversed_, stats.CANNOT_TELL: unsure}[
            vv].append(f"`{lo}` < `{hi}`")
    ordered = len(kept) + len(reversed_) + len(unsure)
    if not ordered:
        overall = stats.CANNOT_TELL
    elif reversed_:
        overall = stats.DOES_NOT_HOLD
    else:
        overall = stats.HOLDS if not unsure else stats.CANNOT_TELL
    text = (f"- **The ranking by CPU per connection holds both ways: {overall}.** Of the "
            f"{len(common) * (len(common) - 1) // 2} pairs of designs, loopback orders "
            f"{ordered} (paired intervals apart); veth keeps {len(kept)} of them, reverses "
            f"{len(reversed_)}" + (f" ({', '.join(reversed_)} over loopback)" if reversed_
                                   else "")
            + f" and cannot tell {len(unsure)}" + (f" ({', '.join(unsure)} over loopback)"
                                                   if unsure else "")
            + ". Order over loopback (µs/conn, medians; `<`: the neighbours' paired interval "
            f"lies apart from zero, `≈`: it does not): {order_text({v: loop[v] for v in common}, figure)}; over veth: "
            f"{order_text({v: veth[v] for v in common}, figure)}.")
    return text


def repetitions_text(results):
    """'9 repetition(s), 18 of prefork, prefork-fdpass': those of the run's `unp` (its plan's,
    with its central designs' further ones), else the run's --repeat."""
    p = ((results.get("workloads") or {}).get("unp") or {}).get("params") or {}
    more = central_phrase(p)
    return (f"{p.get('repeat') or results['config']['repeat']} repetition(s)"
            + (f", {more}" if more else ""))


def run_text(results, folder):
    return (f"`{folder}` (`{results['command_line']}`, started {results['started']}, "
            f"{repetitions_text(results)}"
            + (", --quick: indicative only" if results["config"].get("quick") else "")
            + f", load average {results['machine']['loadavg_start'][0]:.2f} at the start)")


def compare_lines(loopback, veth, loopback_folder, veth_folder):
    """REPORT.md's `veth` block: the `unp` workload of a loopback run beside that of a veth
    run, per design; the verdicts; the veth run's facts. Raises ValueError when the two runs
    are not a loopback and a veth run with `unp`."""
    if is_veth(loopback):
        raise ValueError(f"{loopback_folder} ran over veth: the main run must be the loopback one")
    if not is_veth(veth):
        why = (veth.get("net") or {}).get("unavailable")
        raise ValueError(f"{veth_folder} did not run over veth"
                         + (f" (it carried on over loopback: {why})" if why else ""))
    loop, vet = _entries(loopback), _entries(veth)
    for results, entries, folder in ((loopback, loop, loopback_folder),
                                     (veth, vet, veth_folder)):
        if not entries:
            raise ValueError(f"{folder} has no `{WORKLOAD}` workload with figures "
                             f"(run bench/suite.py with --workloads {WORKLOAD})")
    common = [v for v in loop if v in vet]
    lines = ["## Loopback against veth: workload `unp`", "",
             f"The same workload in two runs on this machine: over loopback, "
             f"{run_text(loopback, loopback_folder)}, and over veth, "
             f"{run_text(veth, veth_folder)}. The Fig. 30.1 table and every other block come "
             "from the loopback run. Medians [95 % interval] over the repetitions. Shares: "
             "user / system / softirq of each side's busy time, from its CPUs' /proc/stat "
             "in the runs where the user and system time of that side's CPUs was its own to "
             "within 15 % of their busy time; busy µs/conn: the "
             "server CPUs' busy time per connection, receive softirq in the idle task "
             "included.", "",
             "| design | CPU µs/conn, loopback | veth | process control µs/conn, loopback "
             "| veth | server CPUs' busy µs/conn, loopback | veth | conn/s, loopback | veth |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for v in common:
        a, b = loop[v], vet[v]
        lines.append(
            f"| `{v}` | {fmt_ci(a['summary']['cpu_us_per_conn'])} "
            f"| {fmt_ci(b['summary']['cpu_us_per_conn'])} "
            f"| {fmt_diff(a.get('process_control_us_per_conn'))} "
            f"| {fmt_diff(b.get('process_control_us_per_conn'))} "
            f"| {fmt_ci(busy_us_per_conn(a))} | {fmt_ci(busy_us_per_conn(b))} "
            f"| {fmt_ci(a['summary']['conn_per_s'], '{:,.0f}')} "
            f"| {fmt_ci(b['summary']['conn_per_s'], '{:,.0f}')} |")
    lines += ["", "| design | server CPU user/sys/softirq %, loopback | veth "
              "| load CPU user/sys/softirq %, loopback | veth | saturated, loopback | veth |",
              "|---|---:|---:|---:|---:|---|---|"]
    for v in common:
        a, b = loop[v], vet[v]
        cells = [shares_text(side_shares(e, side), len(e["runs"]))
                 for side in SIDES for e in (a, b)]
        lines.append(f"| `{v}` | " + " | ".join(cells)
                     + f" | {saturated_text(a)} | {saturated_text(b)} |")
    missing = [f"`{v}` only over loopback" for v in loop if v not in vet] + \
        [f"`{v}` only over veth" for v in vet if v not in loop]
    if missing:
        lines += ["", "Not in both runs: " + ", ".join(missing) + "."]
    lines += [""] + claim_lines(loop, vet, common)
    lines += ["", "## The veth run's network", ""] + facts_lines(veth)
    return lines
