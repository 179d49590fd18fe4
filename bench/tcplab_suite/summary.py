"""summary.md: the run, the designs, then each workload's own summary() in registry order."""

from . import findings, netsummary, table
from .workloads import REGISTRY


def net_line(net):
    """Which network the run used (results["net"]; older results have none: loopback)."""
    net = net or {"net": "loopback"}
    if net["net"] != "veth":
        return "- network: loopback (127.0.0.1)" + (
            f"; --net veth was not available: {net['unavailable']}" if "unavailable" in net
            else "")
    skipped = net.get("skipped_workloads") or {}
    return (f"- network: veth ({net['topology']}), server in namespace "
            f"{net['server']['namespace']} on {net['server']['address']}, "
            f"{len(net['load_hosts'])} load host(s) "
            + ", ".join(f"{h['namespace']} (CPU {','.join(map(str, h['cpus']))})"
                        for h in net["load_hosts"])
            + (f"; skipped over veth: {', '.join(skipped)}" if skipped else ""))


def quiet_line(results):
    """The quiet-machine guard's one line (results["quiet"], results["quiet_guard"]); none for
    results from before the guard."""
    g = results.get("quiet_guard")
    if not g:
        return []
    counts = (f"{g['windows_noisy']} of {g['windows_total']} windows above "
              f"{100 * g['threshold']:g} % foreign CPU on the pinned CPUs")
    if g["threshold"] >= 1:
        return ["- **quiet machine: not checked (--quiet-threshold 100); no verdict is drawn "
                "from this run**"]
    probes = g.get("stall_probes") or []
    worst = max((c["late_share"] for p in probes for c in p["cpus"]), default=None)
    stalled = any(p["stalling"] for p in probes)
    stalls = [] if worst is None else [
        ("- **the machine stalls: " if stalled else "- no stalls: ")
        + f"at most {100 * worst:.2g} % of {len(probes)} probes' time on the pinned CPUs lost "
        "to wake-ups more than 1 ms late (limit 1 %: the share of an open-loop generator's "
        "sends that would be late)" + ("; no verdict is drawn from this run**" if stalled else "")]
    if not g["windows_kept_noisy"] and results.get("quiet", True):
        return [f"- quiet machine: yes ({counts}"
                + (", each measured again until quiet)" if g["windows_noisy"] else ")")] + stalls
    if not g["windows_kept_noisy"]:
        return [f"- **not quiet** ({counts})"] + stalls
    return [f"- **not quiet: {g['windows_kept_noisy']} window(s) stayed noisy after being "
            f"measured again ({counts}); no verdict is drawn from this run**"] + stalls


def repeat_text(results):
    """'5', or '9 (unp; 18 of prefork, prefork-fdpass), 9 (keepalive), otherwise 5': --repeat,
    and each workload that chose its own (with its central designs' further ones)."""
    default = results["config"]["repeat"]
    own = {name: w["params"] for name, w in (results.get("workloads") or {}).items()
           if isinstance(w, dict) and isinstance(w.get("params"), dict)
           and w["params"].get("repeat") not in (None, default)}
    if not own:
        return str(default)

    def one(name, p):
        more = table.central_phrase(p)
        return f"{p['repeat']} ({name}{'; ' + more if more else ''})"
    return ", ".join(one(k, p) for k, p in own.items()) + f", otherwise {default}"


def skipped_line(skipped):
    """The designs the run could not start here, and why (results["skipped_designs"])."""
    if not skipped:
        return "- designs skipped: none"
    return "- designs skipped: " + "; ".join(f"`{n}` ({why})" for n, why in skipped.items())


def header_lines(results):
    m = results["machine"]
    pin = results["pinning"]
    quick = results["config"].get("quick")
    return ["# tcplab suite results", ""] + quiet_line(results) + [
            f"- started {results['started']}, took {results['duration_s']:.0f} s"
            + (" — **interrupted, partial results**" if results["interrupted"] else ""),
            f"- machine: {m['cpu_model']}, {m['cpus']} CPUs ({m['usable_cpus']} usable), "
            f"{m['system']} {m['kernel']}; load average (1 min) {m['loadavg_start'][0]:.2f} "
            f"at the start, {m.get('loadavg_end', [float('nan')])[0]:.2f} at the end "
            "(other work on the machine skews every figure)",
            f"- pinning: server on CPU {pin['server']}, load generator on CPU {pin['load']}"
            if pin["server"] is not None else
            "- pinning: none (fewer than two CPUs or no taskset)",
            net_line(results.get("net")),
            skipped_line(results.get("skipped_designs")),
            f"- command: `{results['command_line']}`",
            f"- figures are medians of {repeat_text(results)} interleaved repetition(s) "
            "with their 95 % confidence interval [lo–hi] where there are enough; server CPU "
            "and context switches are the server's whole process tree over the measurement "
            "window (warm-up excluded)."]\
        + (["- **--quick: the figures are indicative only** (short windows, one repetition)."]
           if quick else []) \
        + (["- **not quiet: other work ran on the server's CPUs during this run, so no "
            "verdict is drawn (every finding reads \"not quiet\")**"]
           if not findings.quiet(results) else []) \
        + findings.lines(results) \
        + ["", "## Designs", "", "| design | what it does |", "|---|---|"] \
        + [f"| {d['name']} | {d['description']} |" for d in results["designs"]]


def lines(results):
    out = header_lines(results) + netsummary.run_lines(results)
    for w in REGISTRY.values():
        out += w.summary(results)
    out += ["", "## Errors", ""]
    if results["errors"]:
        out += [f"- `{e['step']}`: {e['message']}" for e in results["errors"]]
    else:
        out.append("None.")
    if results.get("charts"):
        out += ["", "## Charts", ""]
        out += [f"![{c}]({c}.png)" for c in results["charts"]]
    return out


def write(results, path):
    with open(path, "w") as f:
        f.write("\n".join(lines(results)) + "\n")
