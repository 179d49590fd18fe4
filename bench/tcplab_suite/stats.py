"""Summaries and verdicts over interleaved repetitions (issue 16, item 3).

Every figure the suite reports is a median over repetitions with a confidence interval, and
every comparison REPORT.md makes is a verdict drawn from those intervals, never typed by hand.

The interval: a distribution-free order-statistic interval for the median
---------------------------------------------------------------------------
For n independent repetitions of a continuous quantity, the number B of them below the true
median is Binomial(n, 1/2), whatever the distribution. So the interval between the k-th
smallest and the k-th largest value, [x(k), x(n+1-k)], covers the median with probability

    P(k <= B <= n-k) = 1 - 2 * P(B <= k-1),

an exact figure, not an approximation. `summary` takes the largest k whose coverage reaches
the requested level, and reports that coverage in "coverage". With the suite's default five
repetitions the best there is, k = 1, is [min, max] at 1 - 2/32 = 93.75 %: `summary` says so
rather than pretend to 95 %. (Six repetitions reach 96.9 %, nine give [x(2), x(8)] at 96.1 %.)

Why this and not a percentile bootstrap of the median: with five values the bootstrap's
2.5 % and 97.5 % points are the minimum and the maximum too (the resampled median is x(1)
with probability 5.8 %), but it calls [min, max] a 95 % interval when it is 93.75 %; with
seven it returns narrower intervals that covered a normal median only 87 % of the time in a
simulation (400 samples, 1000 resamples each), because the resampled median of a few values
takes so few distinct values. It also needs a seed to be reproducible. The order-statistic
interval is exact for any continuous distribution, needs no seed (the same values give the
same answer in any order), and its coverage is a number a student can check by hand.

Interleaving (repetition k of every design before repetition k+1 of any) is what makes the
repetitions of two designs comparable and lets `ratio_summary` pair them: drift of the
machine over the run then falls on both sides of each pair.

Paired comparisons (issue 20): what two variants' repetitions say together
----------------------------------------------------------------------------
Two designs measured in the same interleaved run are compared repetition by repetition:
d_k = a_k - b_k, and r_k = a_k / b_k. Repetition k of every variant ran in the same stretch
of time, so whatever made the machine dearer then (repetition 4 of the issue's run was dearer
for nearly every design) falls on both sides and cancels in d_k: each repetition is a block.
`paired` gives the Hodges-Lehmann estimate of the d_k with the exact Wilcoxon signed-rank
interval, the same for the r_k on the log scale, and `verdict_paired` draws the verdict from
the interval of the differences alone.

The interval: Hodges-Lehmann with the exact Wilcoxon signed-rank interval
----------------------------------------------------------------------------
The n differences give M = n(n+1)/2 Walsh averages (d_i + d_j) / 2, i <= j (each d_i with
itself among them). The estimate is their median (Hodges-Lehmann); the interval is
[A(k), A(M+1-k)], the k-th smallest and k-th largest of them. For differences drawn
independently from a continuous distribution symmetric about c, the number of Walsh averages
above c is the signed-rank statistic W+, whose null distribution is exact and free of the
distribution: each of the 2^n sign patterns of the ranks 1..n is equally likely, so
P(W+ = w) = c_n(w) / 2^n, c_n(w) the number of subsets of {1..n} that sum to w, counted by
c_n(w) = c_{n-1}(w) + c_{n-1}(w - n) (`signed_rank_counts`). The interval covers c with
probability 1 - 2 * P(W+ <= k-1) (`walsh_coverage`); `hodges_lehmann` takes the largest k
that reaches the level, as `summary` does for the sign test. n = 5: k = 1, [min, max] at
93.75 % (the same as the sign test); n = 7: k = 3 at 95.3 %; n = 9: k = 6 of 45 at 96.1 %.

Why this and not the sign test's interval (which the paired findings used first): power. The
sign test looks only at how many differences are positive; at n = 9 it decides "a costs more
than b" only when 8 of 9 are, so one repetition that went the other way (a burst of other work
in b's window) leaves a comparison undecided however large the other eight. The signed-rank
interval also weighs how far each difference lies from zero: a small negative one costs
little. Its asymptotic relative efficiency against the t test is 3/pi = 0.955 for normal
differences (and never below 0.864 for any symmetric distribution), the sign test's 2/pi =
0.637: for the same interval width the sign test needs about 1.5 times the repetitions. In the
quiet default run main-20261206 the sign test left accept-vs-fdpass/prefork/first-free
(differences -1.09, -1.04, 0.70 ... 9.05) and accept-vs-fdpass/prefork-mutex/least-loaded
(-2.03, -0.69, 4.56 ... 8.07) undecided; the signed-rank interval decides both.

What it assumes, and how far that holds here: independent repetitions and differences
symmetric about their centre (then the centre is their median and their mean). Each
variant's own repetitions are not symmetric (a cheap or dear repetition now and then: a burst
of other work, a cache that stayed warm), but in a paired difference such a repetition falls
on a's side or on b's, so it makes a tail on either side of d_k. Checked on the quiet run
main-20261206 (9 repetitions), every pair of variants, each difference taken dearer minus
cheaper: the skewness is mild and has no steady sign (unp, 136 pairs: median -0.26, positive
in 38 %; keepalive: median 0.00, positive in 50 %); and drawing 9 differences again and again
from each pair's own 9 (its shape, skew and all, taken as the truth), the interval covered
that shape's pseudo-median 96.4 % of the time on average over the unp pairs (10 % of pairs
under 95.0 %, the worst 94.0 %) and 96.1 % over keepalive's (the worst 92.7 %), against 96.1 %
nominal. Where differences are skewed the interval covers their pseudo-median (the median of
(d_1 + d_2) / 2), which lies between their median and their mean, and its coverage is no
longer exact; tests/python/test_stats.py checks by simulation (a fixed seed) that it stays at
the nominal figure for symmetric differences and within a point and a half of it, for the
pseudo-median and the median alike, for mildly skewed ones (n = 5, 7, 9). Ties and zeros are kept as they are (no Pratt or Wilcoxon zero rule: those are
for the test, not the interval): the closed interval [A(k), A(M+1-k)] then covers at least the
stated figure: whenever it misses the centre, so does the interval of the same differences
jittered by an infinitesimal symmetric noise, whose coverage is exact.

The ratio's interval is the same on log r_k, mapped back with exp (so ×1.26 [1.07, 1.38]),
and a ratio's verdict against a threshold T (`verdict_threshold`: "fork's process control is
T times the pool's or more") is drawn from that interval. A b_k at or below zero (a pool's
process control at or below the baseline's) makes an unbounded ratio, log r_k = +inf, which
ranks above every finite one; an a_k at or below zero over a positive b_k makes log r_k =
-inf. The per-design summaries (`summary`) and the herd's slopes keep the sign-test interval:
they are not paired differences, and a single variant's repetitions are not symmetric.
`reps_to_decide` turns an undecided comparison's observed spread into the number of
repetitions that would likely decide it.

Standard library only (Debian's /usr/bin/python3).
"""

import functools
import math
import statistics

METHOD = "order-statistic interval for the median (distribution-free, binomial)"
CLAIMS = ("a<b", "a>b")
RATIO_CLAIMS = (">=", ">", "<=", "<")
HOLDS, DOES_NOT_HOLD, CANNOT_TELL = "holds", "does not hold", "cannot tell on this machine"
NOT_QUIET = "not quiet"
VERDICTS = (HOLDS, DOES_NOT_HOLD, CANNOT_TELL, NOT_QUIET)
WALSH_METHOD = ("Hodges-Lehmann estimate with the exact Wilcoxon signed-rank interval "
                "(Walsh averages; assumes symmetric differences)")
PAIRED_METHOD = "paired differences a_k - b_k (same repetition); " + WALSH_METHOD
LOG_RATIO_METHOD = "paired ratios a_k / b_k, on log a_k / b_k; " + WALSH_METHOD


def _values(xs, what="values"):
    """The values as floats; a clear error for anything that is not a finite number."""
    out = []
    for i, x in enumerate(xs):
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise ValueError(f"{what}[{i}] is {x!r}, not a number")
        if not math.isfinite(x):
            raise ValueError(f"{what}[{i}] is {x!r}, not a finite number")
        out.append(float(x))
    return out


def _below(k, n):
    """P(B <= k) for B ~ Binomial(n, 1/2), exactly (integers until the one division)."""
    return sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n


def coverage(k, n):
    """The probability that [x(k), x(n+1-k)] of n values covers their population median."""
    if not 1 <= k <= (n + 1) // 2:
        raise ValueError(f"rank {k} is outside 1..{(n + 1) // 2} for n = {n}")
    return 1.0 - 2.0 * _below(k - 1, n)


def summary(xs, level=0.95):
    """Median of the repetitions with an order-statistic confidence interval for it.

    Returns {"median", "ci95": [lo, hi] or None, "n", "min", "max", "method",
    "coverage": the interval's exact coverage (None without an interval), "level": the
    coverage asked for, "ranks": [k, n+1-k] (1-based order statistics) or None}.
    "ci95" keeps its name whatever `level` is; with n = 5 it is [min, max] at 0.9375.
    For n < 2 there is no interval: "ci95", "coverage" and "ranks" are None.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level!r}")
    values = sorted(_values(xs))
    n = len(values)
    if n == 0:
        raise ValueError("summary of no values: every repetition failed or none ran")
    result = {"median": statistics.median(values), "ci95": None, "n": n, "min": values[0],
              "max": values[-1], "method": METHOD, "coverage": None, "level": level,
              "ranks": None}
    if n >= 2:
        k = 1
        while k + 1 <= (n + 1) // 2 and coverage(k + 1, n) >= level:
            k += 1
        result.update(ci95=[values[k - 1], values[n - k]], coverage=coverage(k, n),
                      ranks=[k, n + 1 - k])
    return result


def ratio_summary(xs, ys, level=0.95):
    """Summary of the paired ratios x_k / y_k: repetition k of one design over repetition k
    of the other (interleaved repetitions pair naturally). Adds "ratios": the list of them."""
    xs, ys = _values(xs, "xs"), _values(ys, "ys")
    if len(xs) != len(ys):
        raise ValueError(f"paired ratios need as many xs as ys, not {len(xs)} and {len(ys)}")
    for k, y in enumerate(ys):
        if y == 0.0:
            raise ValueError(f"ys[{k}] is 0: the ratio of repetition {k} is undefined")
    ratios = [x / y for x, y in zip(xs, ys)]
    result = summary(ratios, level)
    result["method"] = "paired ratios x_k/y_k; " + METHOD
    result["ratios"] = ratios
    return result


def slope(xs, ys):
    """Least-squares slope of ys against xs, over the points whose y is not None."""
    points = [(float(x), float(y)) for x, y in zip(xs, ys) if y is not None]
    if len({x for x, _ in points}) < 2:
        raise ValueError(f"a slope needs at least two distinct x values with a y, not {points}")
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx


def slope_summary(xs, ys_by_rep, level=0.95):
    """Summary of the least-squares slope of y against x, one slope per repetition (for the
    herd: CPU per connection against pool size). `ys_by_rep` holds one list per repetition,
    each as long as `xs`; a None in it (a failed step) leaves that point out of that
    repetition's fit. Adds "slopes": the slope of each repetition, in order."""
    xs = _values(xs, "xs")
    slopes = []
    for rep, ys in enumerate(ys_by_rep):
        ys = list(ys)
        if len(ys) != len(xs):
            raise ValueError(f"repetition {rep} has {len(ys)} values for {len(xs)} xs")
        _values([y for y in ys if y is not None], f"repetition {rep}")
        slopes.append(slope(xs, ys))
    result = summary(slopes, level)
    result["method"] = "least-squares slope per repetition; " + METHOD
    result["slopes"] = slopes
    return result


def _num(x):
    """A figure for a sentence: three significant digits, or whole and thousands-separated."""
    if x == 0 or abs(x) >= 100:
        return f"{x:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:,.{digits}f}"


def _figure(s):
    """The part of a summary a verdict carries."""
    return {"median": s["median"], "ci95": s["ci95"], "n": s["n"], "coverage": s["coverage"]}


def _describe(name, s, suffix):
    """'name 12.3 µs [11.9, 12.8] (n = 5, 93.8 %)', `suffix` written right after each figure."""
    if s["ci95"] is None:
        return f"{name} {_num(s['median'])}{suffix} (n = {s['n']}, no interval)"
    lo, hi = s["ci95"]
    return (f"{name} {_num(s['median'])}{suffix} [{_num(lo)}, {_num(hi)}] "
            f"(n = {s['n']}, {100 * s['coverage']:.1f} %)")


def verdict(a, b, claim, names=("a", "b"), unit=""):
    """Whether the claim "a<b" or "a>b" holds between two summaries, from their intervals.

    holds: the intervals do not overlap and lie in the claimed order; does not hold: they do
    not overlap and lie the other way; cannot tell on this machine: they overlap (touching
    counts), or either side has no interval. Returns {"verdict", "claim", "a", "b", "text"}:
    "a" and "b" hold {"median", "ci95", "n", "coverage"}; "text" is one sentence naming the
    figures, with `names` for the two sides and `unit` after each figure.
    """
    if claim not in CLAIMS:
        raise ValueError(f"claim must be one of {', '.join(CLAIMS)}, not {claim!r}")
    if a["ci95"] is None or b["ci95"] is None:
        outcome = CANNOT_TELL
    else:
        (alo, ahi), (blo, bhi) = a["ci95"], b["ci95"]
        if ahi < blo:
            outcome = HOLDS if claim == "a<b" else DOES_NOT_HOLD
        elif bhi < alo:
            outcome = HOLDS if claim == "a>b" else DOES_NOT_HOLD
        else:
            outcome = CANNOT_TELL
    suffix = f" {unit}" if unit else ""
    relation = claim[1]
    why = "the intervals overlap" if outcome == CANNOT_TELL else "the intervals do not overlap"
    if outcome == CANNOT_TELL and (a["ci95"] is None or b["ci95"] is None):
        why = "too few repetitions for an interval"
    text = (f"{names[0]} {relation} {names[1]}: {outcome} ({why}): "
            f"{_describe(names[0], a, suffix)} vs {_describe(names[1], b, suffix)}")
    return {"verdict": outcome, "claim": claim, "a": _figure(a), "b": _figure(b), "text": text}


def verdict_ratio(ratio, claim, threshold, names=("a", "b")):
    """Whether a paired-ratio summary (from `ratio_summary`) stands in relation `claim`
    (one of ">=", ">", "<=", "<") to `threshold`, e.g. ">=", 3 for "fork's process control
    is at least 3x the dearest pool's".

    holds: the whole interval satisfies the claim; does not hold: the whole interval fails
    it; cannot tell on this machine: the interval straddles the threshold, or there is no
    interval. Returns {"verdict", "claim", "threshold", "ratio", "text"}, "ratio" holding
    {"median", "ci95", "n", "coverage"}.
    """
    if claim not in RATIO_CLAIMS:
        raise ValueError(f"claim must be one of {', '.join(RATIO_CLAIMS)}, not {claim!r}")
    threshold = _values([threshold], "threshold")[0]
    test = {">=": lambda r: r >= threshold, ">": lambda r: r > threshold,
            "<=": lambda r: r <= threshold, "<": lambda r: r < threshold}[claim]
    if ratio["ci95"] is None:
        outcome = CANNOT_TELL
    elif all(test(end) for end in ratio["ci95"]):
        outcome = HOLDS
    elif not any(test(end) for end in ratio["ci95"]):
        outcome = DOES_NOT_HOLD
    else:
        outcome = CANNOT_TELL
    text = (f"{names[0]} / {names[1]} {claim} {_num(threshold)}x: {outcome}: "
            f"{_describe('ratio', ratio, 'x')}")
    return {"verdict": outcome, "claim": claim, "threshold": threshold,
            "ratio": _figure(ratio), "text": text}


# --------------------------------------------------------------------------- paired

def pairs(a_by_rep, b_by_rep):
    """The repetitions both sides have, as two aligned lists: ({rep: x}, {rep: y}) ->
    ([x...], [y...], [rep...]), in repetition order."""
    reps = sorted(set(a_by_rep) & set(b_by_rep))
    return [a_by_rep[k] for k in reps], [b_by_rep[k] for k in reps], reps


@functools.lru_cache(maxsize=None)
def signed_rank_counts(n):
    """c[w] for w = 0 .. n(n+1)/2: how many of the 2^n sign patterns of the ranks 1..n give the
    signed-rank statistic W+ = w (the subsets of {1..n} that sum to w), exactly, by the
    recursion c_r(w) = c_{r-1}(w) + c_{r-1}(w - r) (rank r negative or positive)."""
    if n < 0:
        raise ValueError(f"n must be at least 0, not {n}")
    counts = [1]
    for r in range(1, n + 1):
        grown = counts + [0] * r
        for w, c in enumerate(counts):
            grown[w + r] += c
        counts = grown
    return tuple(counts)


def walsh_coverage(k, n):
    """The probability that [A(k), A(M+1-k)], of the M = n(n+1)/2 Walsh averages of n
    differences symmetric about c, covers c: 1 - 2 * P(W+ <= k-1)."""
    m = n * (n + 1) // 2
    if not 1 <= k <= (m + 1) // 2:
        raise ValueError(f"rank {k} is outside 1..{(m + 1) // 2} for n = {n}")
    return 1.0 - 2.0 * sum(signed_rank_counts(n)[:k]) / 2 ** n


def walsh_rank_for(n, level=0.95):
    """k of the signed-rank interval [A(k), A(M+1-k)] for n differences: the largest whose
    coverage reaches `level` (1 when none does: [min, max]); 0 under two differences."""
    if n < 2:
        return 0
    counts, half = signed_rank_counts(n), (n * (n + 1) // 2 + 1) // 2
    k, below = 1, counts[0]  # below: the count of sign patterns with W+ <= k - 1
    while k + 1 <= half and 1.0 - 2.0 * (below + counts[k]) / 2 ** n >= level:
        below += counts[k]
        k += 1
    return k


def _midpoint(a, b):
    """(a + b) / 2, and 0 for +inf with -inf (an unbounded log ratio each way)."""
    return 0.0 if math.isinf(a) and math.isinf(b) and a != b else (a + b) / 2


def walsh_averages(values):
    """The n(n+1)/2 averages (v_i + v_j) / 2, i <= j, sorted. An infinite value makes
    infinite averages; +inf with -inf averages to 0."""
    vs = sorted(values)
    return sorted(_midpoint(a, b) for i, a in enumerate(vs) for b in vs[i:])


def hodges_lehmann(values, level=0.95, allow_infinite=False):
    """The Hodges-Lehmann estimate of n paired differences (the median of their Walsh
    averages) with the exact Wilcoxon signed-rank interval (see the module docstring).

    Returns {"estimate", "median": the plain median of the values, "ci95": [lo, hi] or None,
    "n", "min", "max", "method", "coverage", "level", "ranks": [k, M+1-k] (1-based, among the
    M Walsh averages) or None}: the keys of `summary`, plus "estimate". For n < 2 there is no
    interval. `allow_infinite` lets +-inf through (unbounded log ratios)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level!r}")
    if allow_infinite:
        vs = [float(v) for v in values]
        if any(math.isnan(v) for v in vs):
            raise ValueError(f"values {vs} hold a nan")
    else:
        vs = _values(values)
    n = len(vs)
    if n == 0:
        raise ValueError("Hodges-Lehmann estimate of no values: no pair of repetitions")
    walsh = walsh_averages(vs)
    m = len(walsh)
    mid = walsh[(m - 1) // 2] if m % 2 else _midpoint(walsh[m // 2 - 1], walsh[m // 2])
    svs = sorted(vs)
    median = svs[(n - 1) // 2] if n % 2 else _midpoint(svs[n // 2 - 1], svs[n // 2])
    result = {"estimate": mid, "median": median, "ci95": None, "n": n, "min": svs[0],
              "max": svs[-1], "method": WALSH_METHOD, "coverage": None, "level": level,
              "ranks": None}
    k = walsh_rank_for(n, level)
    if k:
        result.update(ci95=[walsh[k - 1], walsh[m - k]], coverage=walsh_coverage(k, n),
                      ranks=[k, m + 1 - k])
    return result


def log_ratio(x, y):
    """log(x / y), +inf where y <= 0 (a cost over nothing: unbounded), -inf where x <= 0 < y."""
    if y <= 0:
        return math.inf
    return -math.inf if x <= 0 else math.log(x / y)


def _exp(v):
    return math.inf if v == math.inf else math.exp(v)


def ratio_hodges_lehmann(xs, ys, level=0.95):
    """`hodges_lehmann` of the log ratios log(x_k / y_k) mapped back with exp: the estimate and
    interval are ratios (1.26 for +26 %); an unbounded ratio (y_k <= 0) is inf (see
    `log_ratio`). Adds "ratios" (x_k / y_k, inf where unbounded) and "unbounded" (how many)."""
    xs, ys = _values(xs, "xs"), _values(ys, "ys")
    if len(xs) != len(ys):
        raise ValueError(f"paired ratios need as many xs as ys, not {len(xs)} and {len(ys)}")
    logs = [log_ratio(x, y) for x, y in zip(xs, ys)]
    h = hodges_lehmann(logs, level, allow_infinite=True)
    result = dict(h, estimate=_exp(h["estimate"]), median=_exp(h["median"]),
                  min=_exp(h["min"]), max=_exp(h["max"]), method=LOG_RATIO_METHOD,
                  ci95=[_exp(v) for v in h["ci95"]] if h["ci95"] else None)
    result["ratios"] = [x / y if y > 0 else math.inf for x, y in zip(xs, ys)]
    result["unbounded"] = sum(y <= 0 for y in ys)
    return result


def paired(xs, ys, level=0.95):
    """Paired comparison of a (xs) against b (ys), repetition k against repetition k.

    Returns {"diff": `hodges_lehmann` of x_k - y_k, "ratio": `ratio_hodges_lehmann` of
    x_k / y_k or None (when an x_k or a y_k is not positive: the ratio of a cost to nothing
    has no meaning), "n", "diffs", "ratios", "method"}; "ratio" figures are ratios (1.26 for
    +26 %). Each carries "estimate" (Hodges-Lehmann) and "ci95"."""
    xs, ys = _values(xs, "xs"), _values(ys, "ys")
    if len(xs) != len(ys):
        raise ValueError(f"a paired comparison needs as many xs as ys, not {len(xs)} and "
                         f"{len(ys)}")
    diffs = [x - y for x, y in zip(xs, ys)]
    positive = all(x > 0 and y > 0 for x, y in zip(xs, ys))
    ratios = [x / y for x, y in zip(xs, ys)] if positive else None
    return {"diff": hodges_lehmann(diffs, level),
            "ratio": ratio_hodges_lehmann(xs, ys, level) if positive and xs else None,
            "n": len(diffs), "diffs": diffs, "ratios": ratios, "method": PAIRED_METHOD}


def interval_verdict(interval, claim):
    """The verdict on `claim` ("a>b": the paired difference is positive, "a<b": negative) from
    the interval of the paired differences: holds when it lies wholly on the claimed side of
    zero, does not hold when wholly on the other, cannot tell when it reaches zero or there is
    no interval."""
    if claim not in CLAIMS:
        raise ValueError(f"claim must be one of {', '.join(CLAIMS)}, not {claim!r}")
    if interval is None:
        return CANNOT_TELL
    lo, hi = interval
    if lo > 0:
        return HOLDS if claim == "a>b" else DOES_NOT_HOLD
    if hi < 0:
        return HOLDS if claim == "a<b" else DOES_NOT_HOLD
    return CANNOT_TELL


MIN_VERDICT_COVERAGE = 0.9


def decisive(s):
    """The interval of summary `s` if it may carry a verdict: one whose exact coverage is at
    least MIN_VERDICT_COVERAGE (five repetitions or more; three give [min, max] at 75 %, which
    would decide a coin's toss one time in four). None otherwise."""
    if s is None or s["ci95"] is None or s["coverage"] < MIN_VERDICT_COVERAGE:
        return None
    return s["ci95"]


def verdict_paired(xs, ys, claim, level=0.95, quiet=True):
    """`paired` plus the verdict on `claim` ("a>b" or "a<b") from the differences' interval
    (cannot tell when it is not `decisive`), "not quiet" whatever the interval when quiet is
    False, and "reps_to_decide" (None when decided)."""
    p = paired(xs, ys, level)
    v = interval_verdict(decisive(p["diff"]), claim)
    p["verdict"] = v if quiet else NOT_QUIET
    p["claim"] = claim
    p["reps_to_decide"] = None if v in (HOLDS, DOES_NOT_HOLD) else reps_to_decide(p["diffs"])
    return p


def verdict_threshold(xs, ys, claim, threshold, level=0.95, quiet=True):
    """Whether x_k / y_k stands in relation `claim` (">=" or "<=") to `threshold`, paired: from
    `ratio_hodges_lehmann`'s interval (the signed-rank interval of the log ratios), so a y_k
    at or below zero counts as an unbounded ratio, not as an error. Holds when the whole
    interval satisfies the claim (an end at the threshold does), does not hold when none of
    it does. Returns the verdict."""
    if claim not in (">=", "<="):
        raise ValueError(f"claim must be >= or <=, not {claim!r}")
    threshold = _values([threshold], "threshold")[0]
    r = ratio_hodges_lehmann(xs, ys, level) if len(xs) else None
    if decisive(r) is None:
        v = CANNOT_TELL
    else:
        lo, hi = r["ci95"]
        if lo >= threshold:
            v = HOLDS if claim == ">=" else DOES_NOT_HOLD
        elif hi <= threshold:
            v = HOLDS if claim == "<=" else DOES_NOT_HOLD
        else:
            v = CANNOT_TELL
    return v if quiet else NOT_QUIET


def rank_for(n, level=0.95):
    """k of the order-statistic interval [x(k), x(n+1-k)] `summary` uses for n values (0: none)."""
    if n < 2:
        return 0
    k, below = 1, 1  # below: the count of outcomes with at most k - 1 values under the median
    while k + 1 <= (n + 1) // 2:
        below_next = below + math.comb(n, k)
        if 1.0 - 2.0 * below_next / 2 ** n < level:
            break
        k, below = k + 1, below_next
    return k


def decide_probability(n, p, level=0.95):
    """The probability that n paired differences, each positive with probability p, give a
    sign-test interval that lies wholly above zero (at most k - 1 of them negative) and may
    carry a verdict (`decisive`)."""
    k = rank_for(n, level)
    if k == 0 or coverage(k, n) < MIN_VERDICT_COVERAGE:
        return 0.0
    q = 1.0 - p
    return sum(math.comb(n, i) * q ** i * p ** (n - i) for i in range(k))


MAX_REPS = 200


def sign_reps(p, power, level, max_reps):
    """The least n at which the sign-test interval would lie wholly on one side of zero with
    probability `power`, each value on that side with probability p; max_reps + 1 if none."""
    for n in range(2, max_reps + 1):
        if decide_probability(n, p, level) >= power:
            return n
    return max_reps + 1


def signed_rank_reps(delta, power, level, max_reps):
    """The repetitions at which the signed-rank interval of differences N(delta, 1) (delta > 0)
    would lie wholly above zero with probability `power`: Noether's (1987) size for the
    signed-rank test, n = (z_(1-a/2) + z_power)^2 / (3 (p' - 1/2)^2) with p' =
    P(d_1 + d_2 > 0) = Phi(sqrt(2) delta), an asymptotic figure (simulated, its n decides
    81-85 % of the time for delta = 0.3-0.5, and more often than asked for larger effects,
    whose n it overstates by a few); never below the least n
    whose interval may carry a verdict (5), which is the answer whenever all of that many
    differences are positive with probability `power` (then every Walsh average is)."""
    normal = statistics.NormalDist()
    least = next(n for n in range(2, 100) if walsh_coverage(1, n) >= MIN_VERDICT_COVERAGE)
    if normal.cdf(delta) ** least >= power:
        return least
    shift = normal.cdf(math.sqrt(2.0) * delta) - 0.5
    z = normal.inv_cdf(1.0 - (1.0 - level) / 2.0) + normal.inv_cdf(power)
    n = max(least, math.ceil(z * z / (3.0 * shift * shift))) if shift > 0 else max_reps + 1
    return n if n <= max_reps else max_reps + 1


def reps_to_decide(diffs, power=0.8, level=0.95, max_reps=MAX_REPS, test="signed-rank"):
    """How many repetitions would likely decide a comparison whose paired differences are
    `diffs`: the least n at which the interval would exclude zero with probability `power`,
    taking the differences to be normal with the observed centre and standard deviation s
    (not a robust spread: a repetition that went the other way must count against deciding).
    `test`: "signed-rank" (the paired findings' interval; the centre is the Hodges-Lehmann
    estimate, see `signed_rank_reps`) or "sign" (`summary`'s interval, for the herd's slopes;
    the centre is the median, each value on its side with probability Phi(|median| / s)).
    A rough guide from few values, not a promise. None when fewer than two differences;
    max_reps + 1 when the centre is zero or even max_reps would not decide it (the effect is
    too small against the spread to be decided here)."""
    if test not in ("signed-rank", "sign"):
        raise ValueError(f"test must be signed-rank or sign, not {test!r}")
    diffs = _values(diffs, "diffs")
    if len(diffs) < 2:
        return None
    centre = (statistics.median(diffs) if test == "sign"
              else hodges_lehmann(diffs)["estimate"])
    if centre == 0:
        return max_reps + 1
    s = statistics.stdev(diffs)
    if test == "sign":
        p = 1.0 if s == 0 else statistics.NormalDist().cdf(abs(centre) / s)
        return sign_reps(p, power, level, max_reps)
    return signed_rank_reps(math.inf if s == 0 else abs(centre) / s, power, level, max_reps)
