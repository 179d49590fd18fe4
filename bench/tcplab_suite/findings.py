"""The findings of a run (issue 20): the book's questions, each answered by a paired estimate
with its interval and a verdict, computed from results.json alone.

`compute(results)` returns the list that suite.py stores as results["findings"]; every item is
data: {"id", "question", "claim", "a", "b", "workload", "estimate", "interval", "unit", "n",
"coverage", "verdict", "book", "central", "width", "reps_to_decide", ...} (see `comparison`,
`process_control_ratio` and `herd`). `render(finding)` is the one place a finding becomes a
sentence; summary.md (`lines`) and REPORT.md's blocks (plots/report.py) both call it, and the
tests check the data, never the wording.

Ids (every one computed from the design table's flags, so a design that did not run has no
finding, and a new design gets its own):
  fork-vs-pool/VARIANT           fork's CPU per connection over each chapter-30 pool's (unp)
  process-control-ratio/VARIANT  fork's process control over the pool's, paired ratio, against
                                 ">= 10" (verdict) and the book's own ratio (verdict_book)
  accept-vs-fdpass/POOL/POLICY   the fd-passing pool over each pool whose children accept
  thread-vs-pool                 a thread per connection over the thread pool that accepts
  DESIGN-vs-prefork[/keepalive]  each event loop against prefork (CPU per connection on unp,
                                 per request on keepalive)
  uring-vs-epoll, uring-msgring-vs-prefork-fdpass/POLICY, uring-msgring-vs-loop-per-thread
  [/POLICY] (and /keepalive)     the io_uring designs, when they ran
  herd/DESIGN                    the slope of CPU per connection against the pool size

A run that is not quiet (results["quiet"] is False; absent: quiet) keeps every estimate and
has every verdict "not quiet".
"""

import math

from . import designs as D
from . import stats

# Stevens, UNP vol. 1, 3rd ed., Fig. 30.1: process-control CPU seconds over 5000 connections
# (the design's CPU minus the iterative server's).
BOOK_FIG30_1 = {
    "fork": 20.90, "prefork": 1.80, "prefork-fcntl": 2.07, "prefork-mutex": 1.75,
    "prefork-fdpass": 2.58, "thread": 0.99, "prethread-mutex": 1.93, "prethread-dispatch": 2.05,
}
BOOK_CONNECTIONS = 5000
TENFOLD = 10.0
CPU_CONN, CPU_REQ = "cpu_us_per_conn", "cpu_us_per_req"
UNITS = {CPU_CONN: "µs/conn", CPU_REQ: "µs/req"}
FLAGS = {"name", "unp", "workers", "pooled", "event_loop", "accepts", "dispatch_policies"}


def quiet(results):
    """results["quiet"], True when absent (results from before the quiet-machine guard)."""
    return results.get("quiet", True) is not False


def per_rep(entry, figure):
    """{repetition: figure} over the runs of an entry that succeeded."""
    return {r["rep"]: r["figures"][figure] for r in (entry or {}).get("runs", [])
            if r.get("figures") and figure in r["figures"]}


def entry(workload, variant):
    return next((e for e in (workload or {}).get("entries", []) if e["variant"] == variant), None)


def variants_of(d):
    return [D.variant_name(d["name"], p) for p in d["dispatch_policies"] or [None]]


def paired_entries(ea, eb, figure, claim, is_quiet=True):
    """stats.verdict_paired of two entries of the same run on `figure` (their runs' figures,
    repetition k against repetition k), or None when they share no repetition."""
    xs, ys, reps = stats.pairs(per_rep(ea, figure), per_rep(eb, figure))
    return stats.verdict_paired(xs, ys, claim, quiet=is_quiet) if reps else None


def book_process_control(variant):
    """The book's Fig. 30.1 seconds for the design a variant belongs to, or None."""
    return BOOK_FIG30_1.get(variant.split("/", 1)[0])


def process_control(workload, e):
    """{rep: the entry's figure minus the baseline's}, paired (Stevens' subtraction)."""
    base = per_rep(entry(workload, workload.get("baseline")), CPU_CONN)
    return {k: v - base[k] for k, v in per_rep(e, CPU_CONN).items() if k in base}


def _interval_fields(s):
    if s is None:
        return None, None, None
    return s["estimate"], s["ci95"], s["coverage"]


def ratio_of(p):
    """The ratio part of a stats.paired result as a finding carries it, or None."""
    r = p["ratio"]
    return {"estimate": r["estimate"], "interval": r["ci95"]} if r else None


def comparison(fid, question, workload, a, b, claim, figure, is_quiet, central=False,
               book=None):
    """A paired comparison of variant a against variant b in `workload` on `figure`: the
    finding, or None when the two have fewer than one common repetition."""
    xs, ys, reps = stats.pairs(per_rep(entry(workload, a), figure),
                               per_rep(entry(workload, b), figure))
    if not reps:
        return None
    p = stats.verdict_paired(xs, ys, claim, quiet=is_quiet)
    estimate, interval, cov = _interval_fields(p["diff"])
    return {"id": fid, "question": question, "claim": claim, "a": a, "b": b,
            "workload": workload["name"], "figure": figure, "kind": "difference",
            "estimate": estimate, "interval": interval, "unit": UNITS[figure], "n": p["n"],
            "coverage": cov, "verdict": p["verdict"],
            "ratio": ratio_of(p),
            "width": interval[1] - interval[0] if interval else None,
            "reps_to_decide": p["reps_to_decide"], "central": central, "book": book,
            "method": p["method"]}


def unbounded_ratio(xs, ys):
    """The Hodges-Lehmann estimate of the paired ratios x_k / y_k and their signed-rank
    interval (stats.ratio_hodges_lehmann: on the log ratios), where a y_k at or below zero (a
    pool whose process control is at or below the baseline's) makes an unbounded ratio: it
    ranks above every finite one. Returns (estimate, [lo, hi], coverage, how many were
    unbounded); None stands for an unbounded estimate or upper end (JSON has no infinity);
    the interval is None under two pairs."""
    r = stats.ratio_hodges_lehmann(xs, ys)
    finite = lambda v: None if v == math.inf else v
    interval = [finite(v) for v in r["ci95"]] if r["ci95"] else None
    return finite(r["estimate"]), interval, r["coverage"], r["unbounded"]


def process_control_ratio(unp, fork, pool, is_quiet):
    """fork's process control over the pool's, paired: verdict against TENFOLD, verdict_book
    against the book's own ratio for that pool (both from the
    log ratios' signed-rank interval, defined even where a pool's process control is not
    positive: the ratio is unbounded there)."""
    xs, ys, reps = stats.pairs(process_control(unp, entry(unp, fork)),
                               process_control(unp, entry(unp, pool)))
    if not reps:
        return None
    book_fork, book_pool = book_process_control(fork), book_process_control(pool)
    book_ratio = book_fork / book_pool if book_fork and book_pool else None
    estimate, interval, cov, unbounded = unbounded_ratio(xs, ys)
    return {"id": f"process-control-ratio/{pool}",
            "question": f"Does a pool (`{pool}`) cut `{fork}`'s process control "
                        f"{TENFOLD:g}-fold or more?",
            "claim": f">= {TENFOLD:g}", "a": fork, "b": pool, "workload": unp["name"],
            "figure": "process_control_us_per_conn", "kind": "ratio",
            "estimate": estimate, "interval": interval, "unit": "×", "n": len(reps),
            "coverage": cov, "unbounded_reps": unbounded,
            "verdict": stats.verdict_threshold(xs, ys, ">=", TENFOLD, quiet=is_quiet),
            "verdict_book": (stats.verdict_threshold(xs, ys, ">=", book_ratio, quiet=is_quiet)
                             if book_ratio else None),
            "width": (interval[1] - interval[0] if interval and interval[1] is not None
                      else None),
            "reps_to_decide": None, "central": False,
            "book": ({"ratio": book_ratio, "fork_s": book_fork, "pool_s": book_pool,
                      "source": "UNP 3rd ed. Fig. 30.1"} if book_ratio else None),
            "method": "paired ratios of process control pc_a / pc_b, on their logs; "
                      + stats.WALSH_METHOD}


def herd_name(e):
    """What a herd sweep's entry stands for: its variant (a design, or a design with a switch
    such as a positive control's), else its design."""
    return e.get("variant") or e["design"]


def herd(workload, design, is_quiet):
    """The least-squares slope of CPU per connection against the pool size, one per
    repetition, summarised: verdict on "grows with the pool" (slope > 0); where the interval
    reaches zero, "at_most" is the largest slope it allows and "at_most_share" that slope over
    the sweep's range of pool sizes as a share of a connection's CPU at the smallest pool; a
    slope wholly below zero has no mechanism (more waiters cannot make a connection cheaper)
    and is flagged "noise"."""
    es = sorted((e for e in workload["entries"] if herd_name(e) == design),
                key=lambda e: e["workers"])
    reps = sorted({r["rep"] for e in es for r in e["runs"]})
    ys = [[per_rep(e, CPU_CONN).get(k) for e in es] for k in reps]
    ys = [y for y in ys if sum(v is not None for v in y) >= 2]
    try:
        s = stats.slope_summary([e["workers"] for e in es], ys)
    except ValueError:
        return None
    lo_hi = s["ci95"]
    v = stats.interval_verdict(stats.decisive(s), "a>b")
    noise = v == stats.DOES_NOT_HOLD
    at_most = lo_hi[1] if lo_hi and lo_hi[0] <= 0 <= lo_hi[1] else None
    smallest = (es[0].get("summary") or {}).get(CPU_CONN)
    share = (at_most * (es[-1]["workers"] - es[0]["workers"]) / smallest["median"]
             if at_most is not None and smallest and smallest["median"] > 0 else None)
    return {"id": f"herd/{design}",
            "question": f"Does `{design}`'s CPU per connection grow with the pool (a herd)?",
            "claim": "a>b", "a": design, "b": None, "workload": workload["name"],
            "figure": CPU_CONN, "kind": "slope", "estimate": s["median"], "interval": lo_hi,
            "unit": "µs/conn per worker", "n": s["n"], "coverage": s["coverage"],
            "verdict": v if is_quiet else stats.NOT_QUIET, "noise": noise,
            "at_most": at_most, "at_most_share": share,
            "workers": [es[0]["workers"], es[-1]["workers"]],
            "width": lo_hi[1] - lo_hi[0] if lo_hi else None,
            "reps_to_decide": (stats.reps_to_decide(s["slopes"], test="sign")
                               if v == stats.CANNOT_TELL else None),
            "central": False, "book": None, "method": s["method"]}


def _book_diff(a, b):
    """The book's figures for a against b (seconds of process control per 5000 connections,
    and their difference per connection in µs), or None where the book has no figure."""
    fa, fb = book_process_control(a), book_process_control(b)
    if fa is None or fb is None:
        return None
    return {"a_s": fa, "b_s": fb, "diff_us_per_conn": (fa - fb) * 1e6 / BOOK_CONNECTIONS,
            "ratio": fa / fb, "source": "UNP 3rd ed. Fig. 30.1"}


def _named(designs, name):
    return next((d for d in designs if d["name"] == name), None)


def compute(results):
    """Every finding this run's data allows, in the order summary.md shows them."""
    # Design rows without the table's flags (hand-made results) cannot be classified.
    ds = [d for d in results.get("designs") or [] if FLAGS <= set(d)]
    is_quiet = quiet(results)
    ws = results.get("workloads") or {}
    unp = dict(ws["unp"], name="unp") if ws.get("unp") else None
    ka = dict(ws["keepalive"], name="keepalive") if ws.get("keepalive") else None
    out = []

    def add(f):
        if f is not None:
            out.append(f)

    ch30 = D.chapter30(ds)
    fork = next((d for d in ch30 if d["workers"] == "processes" and not d["pooled"]), None)
    pools = [v for d in ch30 if d["pooled"] for v in variants_of(d)]
    if unp and fork:
        for pool in pools:
            add(comparison(f"fork-vs-pool/{pool}",
                           f"Does `{fork['name']}` cost more CPU per connection than the pool "
                           f"`{pool}`?", unp, fork["name"], pool, "a>b", CPU_CONN, is_quiet,
                           central=True, book=_book_diff(fork["name"], pool)))
        for pool in pools:
            add(process_control_ratio(unp, fork["name"], pool, is_quiet))
    accepting = [d["name"] for d in D.herd(ds) if d["workers"] == "processes"]
    passing = [v for d in D.dispatchers(ds) if d["workers"] == "processes"
               for v in variants_of(d)]
    if unp:
        for acc in accepting:
            for fd in passing:
                policy = fd.split("/", 1)[1] if "/" in fd else fd
                add(comparison(f"accept-vs-fdpass/{acc}/{policy}",
                               f"Does passing descriptors (`{fd}`) cost more CPU per "
                               f"connection than children calling accept() (`{acc}`)?",
                               unp, fd, acc, "a>b", CPU_CONN, is_quiet, central=True,
                               book=_book_diff(fd, acc)))
        thread = next(iter(D.thread_per_connection(ch30)), None)
        tpool = next((d for d in ch30 if d["workers"] == "threads" and d["pooled"]
                      and d["accepts"] == "workers"), None)
        if thread and tpool:
            add(comparison("thread-vs-pool",
                           f"Does a thread per connection (`{thread['name']}`) cost more CPU "
                           f"per connection than a pool of threads (`{tpool['name']}`)?",
                           unp, thread["name"], tpool["name"], "a>b", CPU_CONN, is_quiet,
                           book=_book_diff(thread["name"], tpool["name"])))
    prefork = _named(ds, "prefork")
    for w, figure, suffix in ((unp, CPU_CONN, ""), (ka, CPU_REQ, "/keepalive")):
        if not w:
            continue
        per = "connection" if figure == CPU_CONN else "request"
        if prefork:
            for d in D.event_loops(ds):
                for v in variants_of(d):
                    add(comparison(f"{v}-vs-prefork{suffix}",
                                   f"Is the event loop `{v}` cheaper per {per} than `prefork` "
                                   f"(workload `{w['name']}`)?", w, v, "prefork", "a<b",
                                   figure, is_quiet))
        for fid, a_name, b_name in (("uring-vs-epoll", "uring", "epoll"),
                                    ("uring-msgring-vs-prefork-fdpass", "uring-msgring",
                                     "prefork-fdpass"),
                                    ("uring-msgring-vs-loop-per-thread", "uring-msgring",
                                     "loop-per-thread")):
            a_d, b_d = _named(ds, a_name), _named(ds, b_name)
            if not a_d or not b_d:
                continue
            for a in variants_of(a_d):
                policy = a.split("/", 1)[1] if "/" in a else None
                b = (D.variant_name(b_name, policy) if policy in b_d["dispatch_policies"]
                     else D.first_variant(b_d))
                add(comparison(fid + (f"/{policy}" if policy else "") + suffix,
                               f"Is `{a}` cheaper per {per} than `{b}` (workload "
                               f"`{w['name']}`)?", w, a, b, "a<b", figure, is_quiet))
    if ws.get("herd") and ws["herd"].get("entries"):
        hw = dict(ws["herd"], name="herd")
        for design in dict.fromkeys(herd_name(e) for e in hw["entries"]):
            add(herd(hw, design, is_quiet))
    return out


# --------------------------------------------------------------------------- rendering

def num(x, signed=False):
    """Three significant figures (whole numbers from 100 on), thousands separated."""
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0 or abs(x) >= 100:
        text = f"{x:,.0f}"
    else:
        digits = max(0, 2 - math.floor(math.log10(abs(x))))
        text = f"{x:,.{digits}f}"
    text = text.replace("-", "−")
    return ("+" + text) if signed and x > 0 else text


def within(interval):
    """The half-width a difference whose interval holds zero is known to within."""
    return max(abs(interval[0]), abs(interval[1]))


def amount(estimate, interval, unit, signed=True):
    """'+9.3 µs/conn [+2.9, +14.1]'; '5.0 µs/conn less [0.80, 13.0]' when the interval lies
    below zero (a saving, never a negative cost); '≈ 0 µs/conn (within ±5.1)' when it holds
    zero: a difference that may be nothing is never shown as a cost."""
    if interval is None:
        if estimate is not None and estimate < 0:
            return f"{num(-estimate)} {unit} less (no interval)"
        return f"{num(estimate, signed)} {unit} (no interval)"
    lo, hi = interval
    if lo <= 0 <= hi:
        return f"≈ 0 {unit} (within ±{num(within(interval))})"
    if hi < 0:
        return f"{num(-estimate)} {unit} less [{num(-hi)}, {num(-lo)}]"
    return f"{num(estimate, signed)} {unit} [{num(lo, signed)}, {num(hi, signed)}]"


def percent(ratio):
    """'(+26 % [7, 38])' from a paired-ratio summary ('(19 % less [2.4, 35])' below 1), or ''
    where there is none."""
    if not ratio or ratio.get("estimate") is None:
        return ""
    est = 100 * (ratio["estimate"] - 1)
    if not ratio.get("interval"):
        return f" ({num(-est)} % less)" if est < 0 else f" ({num(est, True)} %)"
    lo, hi = (100 * (r - 1) for r in ratio["interval"])
    if lo <= 0 <= hi:
        return f" (≈ 0 %, within ±{num(max(abs(lo), abs(hi)))} %)"
    if hi < 0:
        return f" ({num(-est)} % less [{num(-hi)}, {num(-lo)}])"
    return f" ({num(est, True)} % [{num(lo)}, {num(hi)}])"


def decided_note(f):
    """'; about 23 repetitions would likely decide it' for an undecided finding."""
    n = f.get("reps_to_decide")
    if f["verdict"] != stats.CANNOT_TELL:
        return ""
    if n is None:
        return (f"; {f['n']} repetition(s) cannot carry a verdict (that needs 5 pairs "
                "or more)")
    if n > stats.MAX_REPS:
        return (f"; the effect is too small against the spread for even {stats.MAX_REPS} "
                "repetitions to decide it")
    return f"; about {n} repetitions would likely decide it (this run had {f['n']})"


def book_note(f):
    b = f.get("book")
    if not b:
        return ""
    if f["kind"] == "ratio":
        return (f" Book: ×{num(b['ratio'])} ({num(b['fork_s'])} s against "
                f"{num(b['pool_s'])} s per {BOOK_CONNECTIONS:,} connections); "
                f"at least the book's ratio: {f['verdict_book']}.")
    return (f" Book: {num(b['a_s'])} s against {num(b['b_s'])} s of process control per "
            f"{BOOK_CONNECTIONS:,} connections ({book_diff_text(b)}, ×{num(b['ratio'])}).")


def book_diff_text(b):
    """The book's difference per connection: '+3,820 µs/conn', or '188 µs/conn less'."""
    d = b["diff_us_per_conn"]
    return f"{num(d, True)} µs/conn" if d >= 0 else f"{num(-d)} µs/conn less"


def stat_note(f):
    if f.get("coverage") is None:
        return f"n = {f['n']}"
    return f"n = {f['n']}, {100 * f['coverage']:.1f} %"


def render(f):
    """The one sentence a finding is read as (summary.md and REPORT.md both use it)."""
    if f["kind"] == "difference":
        est, interval = f["estimate"], f["interval"]
        if interval and (interval[0] > 0 or interval[1] < 0):
            more = "more" if est > 0 else "less"
            shown = amount(abs(est), [abs(interval[0]), abs(interval[1])] if est > 0
                           else [abs(interval[1]), abs(interval[0])], f["unit"], signed=False)
            text = f"`{f['a']}` costs {shown} {more} than `{f['b']}`{percent(f['ratio'])}"
        else:
            text = (f"`{f['a']}` against `{f['b']}`: {amount(est, interval, f['unit'])}"
                    f"{percent(f['ratio'])}")
        text += f" ({f['workload']}, paired, {stat_note(f)})"
    elif f["kind"] == "ratio":
        text = (f"`{f['a']}`'s process control is {times(f)} `{f['b']}`'s ({stat_note(f)}"
                + (f"; the pool's is at or below the baseline's in {f['unbounded_reps']} of "
                   f"{f['n']} repetitions, an unbounded ratio there" if f["unbounded_reps"]
                   else "") + ")")
    else:
        lo_hi = f["interval"]
        if f.get("noise"):
            text = (f"`{f['a']}`: slope {num(f['estimate'], True)} {f['unit']} "
                    f"[{num(lo_hi[0], True)}, {num(lo_hi[1], True)}], below zero: noise, "
                    "not an effect (more waiters cannot make a connection cheaper)")
        elif f.get("at_most") is not None:
            text = (f"`{f['a']}`: at most {num(f['at_most'])} {f['unit']} "
                    f"(slope ≈ 0, within ±{num(within(lo_hi))})")
            if f.get("at_most_share") is not None:
                text += (f", under {num(100 * f['at_most_share'])} % of a connection's CPU "
                         f"from {f['workers'][0]} to {f['workers'][1]} workers")
        else:
            text = (f"`{f['a']}`: {amount(f['estimate'], lo_hi, f['unit'])} over "
                    f"{f['workers'][0]}–{f['workers'][1]} workers")
        text += f" ({stat_note(f)} slopes)"
    return f"{f['question']} **{f['verdict']}**: {text}{decided_note(f)}.{book_note(f)}"


def times(f):
    """'×20.0 [14.7, 77.1]', with 'unbounded' for an end (or an estimate) over a process
    control at or below the baseline's."""
    def x(r):
        return "unbounded" if r is None else f"×{num(r)}"
    text = x(f["estimate"])
    if f["interval"]:
        lo, hi = f["interval"]
        text += f" [{x(lo)}, {x(hi)}]".replace("×", "")
    return text


def reps_text(f):
    n = f.get("reps_to_decide")
    if f["verdict"] != stats.CANNOT_TELL or n is None:
        return "–"
    return f"more than {stats.MAX_REPS}" if n > stats.MAX_REPS else f"~{n}"


def width_text(f):
    return "–" if f.get("width") is None else f"{num(f['width'])} {f['unit']}"


def lines(results, heading="## Findings"):
    """summary.md's opening section: every finding as a sentence, then the central
    comparisons' interval widths."""
    fs = results.get("findings")
    if fs is None:
        fs = compute(results)
    if not fs:
        return []
    out = ["", heading, ""]
    if not quiet(results):
        out += ["**This run was not quiet (other work on the server's CPUs): no verdict is "
                "drawn; the estimates are shown as measured.**", ""]
    if (results.get("config") or {}).get("quick"):
        out += ["_--quick: short windows and few repetitions, so these are indicative only._",
                ""]
    out += [f"- `{f['id']}`: {render(f)}" for f in fs]
    central = [f for f in fs if f.get("central")]
    if central:
        out += ["", "Central comparisons: the width of each paired interval (what this run's "
                "repetitions can resolve) and, where undecided, the repetitions that would "
                "likely decide it.", "",
                "| finding | width | n | verdict | repetitions to decide |",
                "|---|---:|---:|---|---:|"]
        out += [f"| `{f['id']}` | {width_text(f)} | {f['n']} | {f['verdict']} "
                f"| {reps_text(f)} |" for f in central]
    return out


# --------------------------------------------------------------------------- grouped

GROUPS = (
    ("fork-vs-pool/", "Does `fork` cost more CPU per connection than each pool? (`fork` − pool)"),
    ("process-control-ratio/", "Does each pool cut `fork`'s process control tenfold? "
     "(`fork`'s over the pool's; the book's own ratio beside)"),
    ("accept-vs-fdpass/", "Does passing descriptors cost more than children calling "
     "accept()? (fd passing − accepting)"),
    ("thread-vs-pool", "Does a thread per connection cost more than a pool of threads?"),
    ("herd/", "Does CPU per connection grow with the pool (the thundering herd)?"),
    ("event-loops", "Is each event loop cheaper than `prefork`? (loop − `prefork`, per "
     "connection on `unp`, per request on `keepalive`)"),
    ("uring", "The io_uring designs against their neighbours"),
)


def group_of(f):
    fid = f["id"]
    if fid.startswith("uring"):
        return "uring"
    if fid.endswith("-vs-prefork") or fid.endswith("-vs-prefork/keepalive"):
        return "event-loops"
    return next((g for g, _ in GROUPS if fid.startswith(g)), None)


def tally(fs):
    """'holds for 8 of 8' / 'holds for 5, cannot tell on this machine for 3 of 8'."""
    counts = {}
    for f in fs:
        counts[f["verdict"]] = counts.get(f["verdict"], 0) + 1
    return ", ".join(f"{v} for {n}" for v, n in counts.items()) + f" of {len(fs)}"


def short(f):
    """One finding in a few words, for a grouped line: its other side, the estimate with its
    interval (never a negative cost), and its verdict."""
    if f["kind"] == "slope":
        who = f"`{f['a']}`"
        if f.get("noise"):
            what = "a slope below zero: noise"
        elif f.get("at_most") is not None:
            what = f"at most {num(f['at_most'])} {f['unit']}"
            if f.get("at_most_share") is not None:
                what += (f" (under {num(100 * f['at_most_share'])} % of a connection from "
                         f"{f['workers'][0]} to {f['workers'][1]} workers)")
        else:
            what = amount(f["estimate"], f["interval"], f["unit"])
    elif f["kind"] == "ratio":
        who = f"`{f['b']}`"
        what = times(f) + f": ≥ {TENFOLD:g}: {f['verdict']}"
        if f.get("book"):
            what += f"; ≥ the book's ×{num(f['book']['ratio'])}: {f['verdict_book']}"
        return f"{who} {what}"
    else:
        group = group_of(f)
        if group == "event-loops":
            who = f"`{f['a']}` ({f['workload']})"
        elif group == "uring" or f["id"].startswith("accept-vs-fdpass/"):
            who = f"`{f['a']}` − `{f['b']}` ({f['workload']})"
        else:
            who = f"`{f['b']}`"
        what = amount(f["estimate"], f["interval"], f["unit"]) + percent(f["ratio"])
        if f.get("book") and group == "thread-vs-pool":
            what += f"; book: {book_diff_text(f['book'])}"
    note = ""
    if f["verdict"] == stats.CANNOT_TELL and f.get("reps_to_decide"):
        n = f["reps_to_decide"]
        note = f", ~{n} repetitions to decide" if n <= stats.MAX_REPS else ", too small to decide"
    return f"{who} {what}: {f['verdict']}{note}"


def grouped_lines(results):
    """One line per question (the findings grouped by id), each with the tally of verdicts and
    every finding in a few words: REPORT.md's student part."""
    fs = results.get("findings")
    if fs is None:
        fs = compute(results)
    out = []
    if fs and not quiet(results):
        out.append("**This run was not quiet: no verdict is drawn.**")
    out.append("Paired estimates (repetition k of one design against repetition k of the "
               "other) with their intervals; every finding as a sentence is in the appendix.")
    for g, title in GROUPS:
        members = [f for f in fs if group_of(f) == g]
        if members:
            out.append(f"- **{title}** {tally(members)}: "
                       + "; ".join(short(f) for f in members) + ".")
    return out


# --------------------------------------------------------------------------- the answers

CENTRAL = (
    ("fork-vs-pool/", "(a) A pool against `fork`", "prefork"),
    ("accept-vs-fdpass/", "(b) Children calling accept() against passing descriptors", None),
    ("herd/", "(c) The thundering herd", "prefork"),
)


def representative(members, preferred):
    """The finding that stands for a question: the one whose other side is `preferred` (the
    pool the book discusses first), else the first."""
    return next((f for f in members if preferred and preferred in (f["a"], f["b"])),
                members[0])


def cheapest(workload, figure):
    """(variant, median) of the lowest median `figure` in a workload, its baseline (the
    iterative server, no choice for a server with more than one client) left out, or None."""
    es = [(e["variant"], e["summary"][figure]["median"])
          for e in (workload or {}).get("entries", [])
          if (e.get("summary") or {}).get(figure) and e["variant"] != workload.get("baseline")]
    return min(es, key=lambda x: x[1]) if es else None


def rank_of(workload, variant, figure):
    """(rank from 1, how many) of a variant by median `figure` in a workload, or None."""
    es = sorted((e["summary"][figure]["median"], e["variant"])
                for e in (workload or {}).get("entries", [])
                if (e.get("summary") or {}).get(figure))
    names = [v for _, v in es]
    return (names.index(variant) + 1, len(names)) if variant in names else None


def ordinal(n):
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def choose_sentence(results, fs):
    """(d): the lowest medians per connection and per keep-alive request, where a thread per
    connection ranks here and in the book's Fig. 30.1, and the paired thread-vs-pool finding."""
    ws = results.get("workloads") or {}
    parts = []
    for name, figure, per in (("unp", CPU_CONN, "connection"), ("keepalive", CPU_REQ,
                                                               "keep-alive request")):
        low = cheapest(ws.get(name), figure)
        if low:
            parts.append(f"the lowest median CPU per {per} is `{low[0]}`'s, "
                         f"{num(low[1])} {UNITS[figure]}")
    f = next((f for f in fs if f["id"] == "thread-vs-pool"), None)
    if f:
        rank = rank_of(ws.get("unp"), f["a"], CPU_CONN)
        book = sorted(BOOK_FIG30_1, key=BOOK_FIG30_1.get)
        if rank:
            parts.append(f"`{f['a']}` ranks {ordinal(rank[0])} of {rank[1]} per connection"
                         + (f" (the book's Fig. 30.1: {ordinal(book.index(f['a']) + 1)} of "
                            f"{len(book)})" if f["a"] in book else ""))
    text = "; ".join(parts)
    text = (text[:1].upper() + text[1:] + ". ") if text else ""
    return text + (render(f) if f else "") + " The `choose` table sets the figures side by side."


def loop_sentence(v, members):
    """One event-loop design against `prefork`: per connection (unp) and per request
    (keepalive), each with its interval and verdict."""
    parts = [f"{amount(f['estimate'], f['interval'], f['unit'])}{percent(f['ratio'])} on "
             f"`{f['workload']}`: {f['verdict']}" for f in members]
    return f"`{v}` − `prefork`: " + "; ".join(parts)


def central_lines(results):
    """REPORT.md's answers: one sentence per central question (a)–(d), each a paired estimate
    with its interval, verdict and the book's figure, the tally over every variant beside it;
    then one per event-loop design."""
    fs = results.get("findings")
    if fs is None:
        fs = compute(results)
    if not fs:
        return []
    out = ["**This run was not quiet: no verdict is drawn.**"] if not quiet(results) else []
    for prefix, head, preferred in CENTRAL:
        members = [f for f in fs if f["id"].startswith(prefix)]
        if not members:
            out.append(f"- **{head}:** not measured by this run"
                       + (" (`--workloads herd`)." if prefix == "herd/" else "."))
            continue
        rep = representative(members, preferred)
        others = ""
        if prefix == "herd/" and len(members) > 1:
            others = " Other pools: " + "; ".join(short(f) for f in members if f is not rep) + "."
        out.append(f"- **{head}** ({tally(members)}): {render(rep)}{others}")
    out.append(f"- **(d) Which design to choose:** {choose_sentence(results, fs)}")
    loops = {}
    for f in fs:  # by id, not group_of: the io_uring loops against prefork belong here too
        if f["b"] == "prefork" and f["id"].split("/")[0] == f"{f['a'].split('/')[0]}-vs-prefork":
            loops.setdefault(f["a"], []).append(f)
    if loops:
        out.append("- **Event loops against `prefork`** (CPU per connection on `unp`, per "
                   "request on `keepalive`): "
                   + ". ".join(loop_sentence(v, m) for v, m in loops.items()) + ".")
    return out
