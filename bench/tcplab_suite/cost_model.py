"""The cost model, in one place: what a design should cost per connection, from the system calls
it makes (syscalls.py) and the price of each primitive (tcplab-micro).

    model_us = floor + sum over the design's calls beyond the floor's of (count x price)

The floor is the baseline design's measured CPU per connection (iterative: accept, two reads,
two setsockopt, one sendmsg, one close), so only the calls a design makes beyond those are
priced. They are priced in two ways:

- PRIMITIVES: a design's lock, hand-off or spawn is priced by the microbenchmark that does the
  same thing (the fork design's fork + exit + wait by BM_ForkExitWait, and so on), as many times
  per connection as the call that marks it is made (`per`: clone for fork). The calls it
  `covers` are inside that price and are not priced again. A price can have a baseline taken
  off (`less`): BM_LockHandoff's token-and-ack round trip is not part of the lock.
- Every other call beyond the floor, one by one: SYSCALL_PRICES names the benchmark of the
  calls that have one (ppoll, setsockopt); the rest are priced as one cheap system call
  (DEFAULT_PRICE, getrusage). A negative count is a call the design makes fewer times than the
  floor (the event loops set no socket timeouts) and takes its price off.

A price is a benchmark's real (wall-clock) time: with tcplab-micro pinned to one CPU, as the
suite runs it, on an otherwise idle CPU that is the CPU time of both parties of a hand-off, the
context switches between them included; on a busy machine it holds others' time too.

What the model leaves out is the residual, measured - model: the wake-ups and context switches
a design causes beyond those inside its primitives, cache misses, and the error of pricing an
unbenchmarked call as a cheap one.

Which benchmark prices which design, and why:
- thread: BM_ThreadCreateDetached, not BM_ThreadCreateJoin: it starts threads through
  ThreadGroup::spawn and never joins them, exactly as the thread design does.
- prefork-fcntl, prefork-mutex, prethread-mutex: BM_LockHandoff/LOCK less BM_LockHandoff/none,
  the lock as accept() holds it (every other worker asleep on it; each connection pays the
  contended unlock and the wake of a sleeping waiter), not BM_*Lock/uncontended or /contended,
  where nobody sleeps on the lock.
- prethread-dispatch: half of BM_ThreadHandoff/round_trip (one way: the accepting thread to a
  sleeping worker).
- prefork-fdpass: BM_SendRecvFdToChild less BM_DupClose (the benchmark's stand-in for accept),
  plus the parent's ppoll at BM_Poll/ppoll_sigmask each.
- fork: BM_ForkExitWait/heap_mib:0 (the fork design's parent is small).

The function to call: model_all(counts, prices, floor_us, measured) -> rows, and
table_lines(rows) for a markdown table. See their docstrings.
"""

from collections import namedtuple

# A design's lock, hand-off or spawn: `times` x (price of `benchmark` - price of `less`), made
# (count of `per`) / `per_times` times per connection (per: a call or a tuple of calls whose
# counts add; None: once per connection).
Primitive = namedtuple("Primitive", "benchmark per covers less times per_times",
                       defaults=(None, (), None, 1.0, 1.0))

# BM_LockHandoff's parties for a pool of the suite's size (15 workers).
LOCK_PARTIES = 15


def _lock(name, parties):
    return f"BM_LockHandoff/{name}/parties:{parties}"


LOCK_BASELINE = "BM_LockHandoff/none/parties:1"


def primitives(design, lock_parties=LOCK_PARTIES):
    """The primitives that price `design` (an empty list: its calls are priced one by one)."""
    locks = {"prefork-fcntl": ("fcntl", "fcntl", 2.0),      # F_SETLKW to lock, and to unlock
             "prefork-mutex": ("process_mutex", None, 1.0),
             "prethread-mutex": ("thread_mutex", None, 1.0)}
    if design in locks:
        lock, per, per_times = locks[design]
        return [Primitive(_lock(lock, lock_parties), per=per, covers=("fcntl", "futex"),
                          less=LOCK_BASELINE, per_times=per_times)]
    return list(PRIMITIVES.get(design, []))


PRIMITIVES = {
    # fork(): the child's set_robust_list, its exit_group (not in strace's table), the
    # parent's wait4 for it.
    "fork": [Primitive("BM_ForkExitWait/heap_mib:0", per=("clone", "clone3"),
                       covers=("clone", "wait4", "exit_group", "set_robust_list"))],
    # pthread_create (signals blocked around clone3, the new thread's rseq and robust list),
    # the stack's madvise at exit, a stack mapped when the cache of stacks has none.
    "thread": [Primitive("BM_ThreadCreateDetached", per=("clone3", "clone"),
                         covers=("clone3", "clone", "rt_sigprocmask", "set_robust_list", "rseq",
                                 "madvise", "mmap", "mprotect", "munmap", "futex", "exit"))],
    # The parent's sendmsg with the descriptor and close of its copy, the child's recvmsg, the
    # "done" record (sendto, recvfrom).
    "prefork-fdpass": [Primitive("BM_SendRecvFdToChild", per="recvmsg",
                                 covers=("sendmsg", "recvmsg", "sendto", "recvfrom", "close"),
                                 less="BM_DupClose")],
    "prethread-dispatch": [Primitive("BM_ThreadHandoff/round_trip", covers=("futex",),
                                     times=0.5)],
}

# A call beyond the floor with a benchmark of its own: (benchmark, calls the benchmark makes).
SYSCALL_PRICES = {
    "ppoll": ("BM_Poll/ppoll_sigmask", 1),
    "poll": ("BM_Poll/poll", 1),
    "setsockopt": ("BM_SetSockoptTimeouts", 2),
}
# Any other call: one cheap system call.
DEFAULT_PRICE = ("BM_Getrusage", 1)

SCALE_TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


# --------------------------------------------------------------------------- the inputs

def prices_from_micro(data):
    """{benchmark: real µs} from tcplab-micro's --benchmark_out JSON (Google Benchmark's
    format: the median aggregate where there are repetitions, else the single run) or from the
    suite's results["micro"] ({"benchmarks": [{"name", "real_us"}]}). Names lose the
    "/real_time" that every tcplab-micro benchmark carries. Failed benchmarks are left out."""
    prices, medians = {}, {}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred") or "error" in b:
            continue
        name = (b.get("run_name") or b["name"]).removesuffix("/real_time")
        if "real_us" in b:
            prices[name] = b["real_us"]
            continue
        us = b["real_time"] * SCALE_TO_US.get(b.get("time_unit", "ns"), 1e-3)
        agg = b.get("aggregate_name")
        if agg == "median":
            medians[name] = us
        elif agg is None:
            prices.setdefault(name, us)  # the first repetition, if there is no median
    prices.update(medians)
    return prices


def counts_by_design(results, figure="per_connection"):
    """{design: {syscall: count}} from a list of syscalls.count_syscalls() results (or such a
    dict already)."""
    if isinstance(results, dict):
        return results
    return {r["design"]: r[figure] for r in results}


# A call made less often than once in 200 connections beyond the floor's is the clock's (a
# manager's periodic wake-up falls into a counted run in proportion to its length), not the
# connections': left out.
NEGLIGIBLE = 0.005


def extra_calls(counts, floor_counts):
    """The calls beyond the floor's: {syscall: count - floor's count}, those within NEGLIGIBLE
    of 0 left out."""
    extra = {}
    for name in set(counts) | set(floor_counts):
        d = round(counts.get(name, 0) - floor_counts.get(name, 0), 3)
        if abs(d) >= NEGLIGIBLE:
            extra[name] = d
    return extra


# --------------------------------------------------------------------------- the model

def model(design, counts, floor_counts, prices, floor_us=None, lock_parties=LOCK_PARTIES):
    """One design's model: {"design", "terms": [{"what", "count", "price_us", "us"}],
    "above_floor_us", "floor_us", "model_us", "missing": [benchmarks not in `prices`]}.
    model_us is None when floor_us is None or a benchmark is missing."""
    extra = extra_calls(counts, floor_counts)
    terms, missing, covered = [], [], set()

    def price(name):
        if name not in prices:
            missing.append(name)
            return None
        return prices[name]

    for p in primitives(design, lock_parties):
        per = (p.per,) if isinstance(p.per, str) else p.per
        times = p.times * (sum(extra.get(n, 0) for n in per) / p.per_times if per else 1.0)
        full, base = price(p.benchmark), price(p.less) if p.less else 0.0
        us = None if full is None or base is None else full - base
        what = p.benchmark + (f" - {p.less}" if p.less else "")
        terms.append({"what": what, "count": round(times, 3), "price_us": us,
                      "us": None if us is None else times * us})
        covered.update(p.covers)
    for name in sorted(set(extra) - covered, key=lambda n: (-abs(extra[n]), n)):
        bench, calls = SYSCALL_PRICES.get(name, DEFAULT_PRICE)
        p = price(bench)
        us = None if p is None else p / calls
        terms.append({"what": f"{name} (at {bench}" + (f" / {calls})" if calls != 1 else ")"),
                      "count": extra[name], "price_us": us,
                      "us": None if us is None else extra[name] * us})
    above = None if missing else sum(t["us"] for t in terms)
    return {"design": design, "terms": terms, "above_floor_us": above, "floor_us": floor_us,
            "model_us": None if above is None or floor_us is None else floor_us + above,
            "missing": sorted(set(missing))}


def model_all(counts, prices, floor_us=None, measured=None, baseline="iterative",
              lock_parties=LOCK_PARTIES):
    """The model of every design in `counts`, in its order.

    counts: syscalls.count_syscalls() results (a list) or {design: {syscall: per connection}};
        it must hold `baseline`, whose calls the floor pays.
    prices: {benchmark: µs} (prices_from_micro()).
    floor_us: the baseline's measured CPU µs per connection (None: only above_floor_us).
    measured: {design: measured CPU µs per connection}, for the residual (optional).
    Each row is model()'s, plus "measured_us", "residual_us" (measured - model) and "ratio"
    (measured / model), None where a figure is missing. KeyError if the baseline has no
    counts."""
    by_design = counts_by_design(counts)
    floor_counts = by_design[baseline]
    rows = []
    for design, c in by_design.items():
        row = model(design, c, floor_counts, prices, floor_us, lock_parties)
        got = (measured or {}).get(design)
        m = row["model_us"]
        row["measured_us"] = got
        row["residual_us"] = None if got is None or m is None else got - m
        row["ratio"] = None if got is None or not m else got / m
        rows.append(row)
    return rows


def _fmt(x, digits=2):
    return "—" if x is None else f"{x:,.{digits}f}"


def table_lines(rows):
    """A markdown table of model_all()'s rows: the terms, the model, measured, residual."""
    lines = ["| design | floor + terms (count × µs) | model µs/conn | measured µs/conn "
             "| residual µs | measured / model |", "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        terms = [f"{_fmt(r['floor_us'], 1)} floor"] + [
            f"{t['count']:g} × `{t['what']}` {_fmt(t['price_us'])}" for t in r["terms"]]
        if r["missing"]:
            terms.append("(missing: " + ", ".join(f"`{m}`" for m in r["missing"]) + ")")
        lines.append(f"| `{r['design']}` | {' + '.join(terms)} | {_fmt(r['model_us'], 1)} | "
                     f"{_fmt(r['measured_us'], 1)} | {_fmt(r['residual_us'], 1)} | "
                     f"{_fmt(r['ratio'])} |")
    return lines
