"""Unit tests of bench/tcplab_suite/stats.py: medians, order-statistic intervals, the paired
Hodges-Lehmann estimate with its signed-rank interval, verdicts."""

import json
import math
import os
import random
import statistics
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import stats  # noqa: E402


def fixed(median, lo, hi, n=5, coverage=0.9375):
    """A summary with a given median and interval, for the verdict tests."""
    return {"median": median, "ci95": [lo, hi], "n": n, "min": lo, "max": hi,
            "method": stats.METHOD, "coverage": coverage, "level": 0.95, "ranks": [1, n]}


class Summary(unittest.TestCase):
    def test_five_values_give_min_max_at_93_75_percent(self):
        s = stats.summary([3.0, 1.0, 5.0, 2.0, 4.0])
        self.assertEqual(s["median"], 3.0)
        self.assertEqual(s["ci95"], [1.0, 5.0])
        self.assertEqual(s["coverage"], 0.9375)
        self.assertEqual(s["ranks"], [1, 5])
        self.assertEqual((s["n"], s["min"], s["max"], s["level"]), (5, 1.0, 5.0, 0.95))
        self.assertEqual(s["method"], stats.METHOD)

    def test_nine_values_drop_one_from_each_end(self):
        # k = 2: 1 - 2 * (1 + 9) / 512 = 0.9609375; k = 3 would be 0.8203125 < 0.95.
        s = stats.summary(range(1, 10))
        self.assertEqual(s["ci95"], [2.0, 8.0])
        self.assertEqual(s["coverage"], 1 - 20 / 512)
        self.assertEqual(s["ranks"], [2, 8])

    def test_even_count_median_is_the_mean_of_the_middle_two(self):
        s = stats.summary([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])
        self.assertEqual(s["median"], 5.5)
        self.assertEqual(s["ci95"], [2.0, 9.0])       # k = 2: 1 - 2 * 11 / 1024
        self.assertEqual(s["coverage"], 1 - 22 / 1024)

    def test_six_values_reach_95_percent_with_min_max(self):
        s = stats.summary([6, 5, 4, 3, 2, 1])
        self.assertEqual(s["ci95"], [1.0, 6.0])
        self.assertEqual(s["coverage"], 1 - 2 / 64)

    def test_a_lower_level_narrows_the_interval(self):
        s = stats.summary([1, 2, 3, 4, 5], level=0.5)
        self.assertEqual(s["ci95"], [2.0, 4.0])       # k = 2: 1 - 2 * 6 / 32 = 0.625
        self.assertEqual((s["coverage"], s["level"]), (0.625, 0.5))

    def test_one_value_has_no_interval(self):
        s = stats.summary([7])
        self.assertEqual((s["median"], s["n"], s["min"], s["max"]), (7.0, 1, 7.0, 7.0))
        self.assertIsNone(s["ci95"])
        self.assertIsNone(s["coverage"])
        self.assertIsNone(s["ranks"])

    def test_two_values_have_a_50_percent_interval(self):
        s = stats.summary([2, 1])
        self.assertEqual((s["ci95"], s["coverage"]), ([1.0, 2.0], 0.5))

    def test_coverage_is_the_binomial_figure(self):
        self.assertEqual(stats.coverage(1, 5), 0.9375)
        self.assertEqual(stats.coverage(3, 5), 1 - 2 * 16 / 32)
        with self.assertRaisesRegex(ValueError, "rank 4 is outside 1..3 for n = 5"):
            stats.coverage(4, 5)

    def test_bad_input_is_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, "summary of no values"):
            stats.summary([])
        with self.assertRaisesRegex(ValueError, r"values\[1\] is nan, not a finite number"):
            stats.summary([1.0, float("nan")])
        with self.assertRaisesRegex(ValueError, r"values\[0\] is '3', not a number"):
            stats.summary(["3"])
        with self.assertRaisesRegex(ValueError, r"values\[0\] is True, not a number"):
            stats.summary([True, 2])
        with self.assertRaisesRegex(ValueError, "level must lie strictly between 0 and 1"):
            stats.summary([1, 2, 3], level=1.0)

    def test_same_values_same_result_in_any_order(self):
        values = [12.5, 11.0, 13.25, 12.0, 14.5, 11.75, 12.25]
        first = stats.summary(values)
        shuffled = list(values)
        random.Random(7).shuffle(shuffled)
        self.assertEqual(stats.summary(shuffled), first)
        self.assertEqual(stats.summary(values), first)
        self.assertEqual(json.loads(json.dumps(first)), first)


class RatioSummary(unittest.TestCase):
    def test_ratios_pair_repetition_k_with_repetition_k(self):
        r = stats.ratio_summary([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])
        self.assertEqual(r["ratios"], [0.2, 0.5, 1.0, 2.0, 5.0])
        self.assertEqual((r["median"], r["ci95"]), (1.0, [0.2, 5.0]))
        # Paired, drift common to both sides cancels: every ratio is exactly 2.
        r = stats.ratio_summary([10, 40, 20, 50, 30], [5, 20, 10, 25, 15])
        self.assertEqual((r["median"], r["ci95"], r["coverage"]), (2.0, [2.0, 2.0], 0.9375))
        self.assertTrue(r["method"].startswith("paired ratios x_k/y_k; "))

    def test_bad_pairs_are_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, "as many xs as ys, not 3 and 2"):
            stats.ratio_summary([1, 2, 3], [1, 2])
        with self.assertRaisesRegex(ValueError, r"ys\[1\] is 0: the ratio of repetition 1"):
            stats.ratio_summary([1, 2], [1, 0])


class SlopeSummary(unittest.TestCase):
    def test_one_least_squares_slope_per_repetition(self):
        xs = [15, 30, 60, 120]
        reps = [[5 + k * x for x in xs] for k in (1.0, 3.0, 2.0)]
        s = stats.slope_summary(xs, reps)
        self.assertEqual([round(v, 12) for v in s["slopes"]], [1.0, 3.0, 2.0])
        self.assertAlmostEqual(s["median"], 2.0, places=12)
        self.assertEqual([round(v, 12) for v in s["ci95"]], [1.0, 3.0])
        self.assertEqual(s["coverage"], 0.75)
        self.assertTrue(s["method"].startswith("least-squares slope per repetition; "))

    def test_least_squares_through_scattered_points(self):
        # x = 0, 1, 2, 3; y = 1, 3, 2, 6: sxx = 5, sxy = 3 + 0 - 0.5 + 4.5 = 7.
        s = stats.slope_summary([0, 1, 2, 3], [[1, 3, 2, 6]])
        self.assertAlmostEqual(s["slopes"][0], 1.4, places=12)
        self.assertIsNone(s["ci95"])

    def test_a_failed_step_leaves_its_point_out(self):
        s = stats.slope_summary([1, 2, 3], [[2, None, 6], [1, 2, 3]])
        self.assertEqual(s["slopes"], [2.0, 1.0])

    def test_bad_input_is_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, "repetition 0 has 2 values for 3 xs"):
            stats.slope_summary([1, 2, 3], [[1, 2]])
        with self.assertRaisesRegex(ValueError, "at least two distinct x values"):
            stats.slope_summary([1, 2, 3], [[1, None, None]])
        with self.assertRaisesRegex(ValueError, "at least two distinct x values"):
            stats.slope_summary([4, 4], [[1, 2]])
        with self.assertRaisesRegex(ValueError, r"repetition 0\[1\] is inf"):
            stats.slope_summary([1, 2, 3], [[1, float("inf"), 3]])


class Verdict(unittest.TestCase):
    def test_holds_when_the_intervals_lie_in_the_claimed_order(self):
        v = stats.verdict(fixed(10, 9, 11), fixed(20, 19, 21), "a<b")
        self.assertEqual(v["verdict"], "holds")
        v = stats.verdict(fixed(20, 19, 21), fixed(10, 9, 11), "a>b")
        self.assertEqual(v["verdict"], "holds")

    def test_does_not_hold_when_they_lie_the_other_way(self):
        v = stats.verdict(fixed(20, 19, 21), fixed(10, 9, 11), "a<b")
        self.assertEqual(v["verdict"], "does not hold")
        v = stats.verdict(fixed(10, 9, 11), fixed(20, 19, 21), "a>b")
        self.assertEqual(v["verdict"], "does not hold")

    def test_cannot_tell_when_they_overlap_or_touch(self):
        for b in (fixed(12, 10.5, 13), fixed(12, 11, 13), fixed(10, 5, 15)):
            for claim in ("a<b", "a>b"):
                v = stats.verdict(fixed(10, 9, 11), b, claim)
                self.assertEqual(v["verdict"], "cannot tell on this machine", (b, claim))

    def test_cannot_tell_without_an_interval(self):
        one = stats.summary([5.0])
        v = stats.verdict(one, fixed(20, 19, 21), "a<b")
        self.assertEqual(v["verdict"], "cannot tell on this machine")
        self.assertIn("too few repetitions for an interval", v["text"])
        self.assertIn("n = 1, no interval", v["text"])

    def test_the_result_names_the_figures(self):
        a = stats.summary([410, 405, 420, 415, 412])
        b = stats.summary([451, 440, 466, 449, 455])
        v = stats.verdict(a, b, "a<b", names=("children accepting", "fd passing"), unit="µs")
        self.assertEqual(v["a"], {"median": 412.0, "ci95": [405.0, 420.0], "n": 5,
                                  "coverage": 0.9375})
        self.assertEqual(v["b"]["ci95"], [440.0, 466.0])
        self.assertEqual(v["claim"], "a<b")
        self.assertEqual(v["text"],
                         "children accepting < fd passing: holds (the intervals do not "
                         "overlap): children accepting 412 µs [405, 420] (n = 5, 93.8 %) vs "
                         "fd passing 451 µs [440, 466] (n = 5, 93.8 %)")
        self.assertNotIn("\n", v["text"])

    def test_a_bad_claim_is_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, "claim must be one of a<b, a>b, not 'a<=b'"):
            stats.verdict(fixed(1, 0, 2), fixed(1, 0, 2), "a<=b")


class VerdictRatio(unittest.TestCase):
    def test_each_outcome_against_a_threshold(self):
        cases = [((2.5, 3.5), ">=", "holds"), ((1.1, 1.9), ">=", "does not hold"),
                 ((1.5, 2.5), ">=", "cannot tell on this machine"),
                 ((2.0, 2.5), ">=", "holds"), ((2.0, 2.5), ">", "cannot tell on this machine"),
                 ((1.0, 2.0), ">", "does not hold"), ((1.0, 2.0), "<=", "holds"),
                 ((1.0, 2.0), "<", "cannot tell on this machine"), ((2.0, 3.0), "<", "does not hold"),
                 ((2.5, 3.0), "<=", "does not hold")]
        for (lo, hi), claim, expected in cases:
            v = stats.verdict_ratio(fixed((lo + hi) / 2, lo, hi), claim, 2)
            self.assertEqual(v["verdict"], expected, ((lo, hi), claim))
            self.assertEqual((v["claim"], v["threshold"]), (claim, 2.0))

    def test_from_paired_repetitions(self):
        fork = [900, 950, 870, 910, 990]
        pool = [300, 310, 290, 320, 300]
        v = stats.verdict_ratio(stats.ratio_summary(fork, pool), ">=", 2.5,
                                names=("fork", "dearest pool"))
        self.assertEqual(v["verdict"], "holds")
        self.assertEqual(v["ratio"]["ci95"], [2.84375, 3.3])
        # Ratios 3, 3.06, 3, 2.84, 3.3: the median is 3.
        self.assertEqual(v["text"], "fork / dearest pool >= 2.50x: holds: ratio 3.00x "
                                    "[2.84, 3.30] (n = 5, 93.8 %)")

    def test_bad_claims_are_clear_errors(self):
        with self.assertRaisesRegex(ValueError, "claim must be one of >=, >, <=, <, not '=='"):
            stats.verdict_ratio(fixed(1, 0, 2), "==", 1)
        with self.assertRaisesRegex(ValueError, "threshold"):
            stats.verdict_ratio(fixed(1, 0, 2), ">=", float("nan"))

    def test_cannot_tell_without_an_interval(self):
        v = stats.verdict_ratio(stats.ratio_summary([3], [1]), ">=", 2)
        self.assertEqual(v["verdict"], "cannot tell on this machine")


class Paired(unittest.TestCase):
    # The issue's data: CPU µs per connection, unp, repetitions 1-5 as interleaved.
    PREFORK = [36.1, 35.3, 42.4, 43.9, 37.2]
    FDPASS = [47.4, 44.5, 45.3, 49.3, 51.3]

    def test_the_issues_data_is_decided_when_paired(self):
        # Paired, every repetition of fd passing is dearer: +2.9 ... +14.1, the median +9.2;
        # the Hodges-Lehmann estimate is the median of the 15 Walsh averages, 8.5 (the 8th of
        # 2.9, 4.15, 5.4, 6.05, 7.3, 7.1, 8.35, 8.5, 9.2, 9.75, 10.25, 11.3, 11.7, 12.7, 14.1).
        p = stats.verdict_paired(self.FDPASS, self.PREFORK, "a>b")
        self.assertEqual(p["verdict"], stats.HOLDS)
        self.assertEqual([round(d, 6) for d in sorted(p["diffs"])], [2.9, 5.4, 9.2, 11.3, 14.1])
        self.assertAlmostEqual(p["diff"]["estimate"], 8.5)
        self.assertAlmostEqual(p["diff"]["median"], 9.2)
        self.assertEqual([round(x, 6) for x in p["diff"]["ci95"]], [2.9, 14.1])   # k = 1 of 15
        self.assertEqual(p["n"], 5)
        self.assertEqual((p["diff"]["coverage"], p["diff"]["ranks"]), (0.9375, [1, 15]))
        self.assertEqual(p["method"], stats.PAIRED_METHOD)
        self.assertIsNone(p["reps_to_decide"])
        # The ratio on the log scale: [min, max] of the ratios at n = 5, the estimate
        # exp(the Hodges-Lehmann estimate of the log ratios).
        ratios = [a / b for a, b in zip(self.FDPASS, self.PREFORK)]
        self.assertEqual(p["ratio"]["ci95"], [min(ratios), max(ratios)])
        hl = stats.hodges_lehmann([math.log(r) for r in ratios])["estimate"]
        self.assertAlmostEqual(p["ratio"]["estimate"], math.exp(hl))
        self.assertGreater(p["ratio"]["ci95"][0], 1.0)
        self.assertEqual(stats.verdict_paired(self.FDPASS, self.PREFORK, "a<b")["verdict"],
                         stats.DOES_NOT_HOLD)

    def test_a_block_effect_cancels(self):
        # Repetition 4 is dearer for both by 20: paired, the difference stays exactly 1.
        a = [11, 12, 11, 32, 12]
        b = [10, 11, 10, 31, 11]
        p = stats.verdict_paired(a, b, "a>b")
        self.assertEqual(p["diff"]["ci95"], [1.0, 1.0])
        self.assertEqual(p["verdict"], stats.HOLDS)
        # Unpaired, the same values cannot be told apart.
        self.assertEqual(stats.verdict(stats.summary(a), stats.summary(b), "a>b")["verdict"],
                         stats.CANNOT_TELL)

    def test_an_interval_that_holds_zero_cannot_tell(self):
        p = stats.verdict_paired([10, 12, 9, 11, 10], [11, 10, 10, 10, 11], "a>b")
        self.assertEqual(p["verdict"], stats.CANNOT_TELL)
        self.assertLessEqual(p["diff"]["ci95"][0], 0)
        self.assertGreaterEqual(p["diff"]["ci95"][1], 0)
        self.assertIsNotNone(p["reps_to_decide"])

    def test_too_few_repetitions_for_a_verdict(self):
        # Three repetitions give [min, max] at 75 %: never a verdict, however apart.
        p = stats.verdict_paired([20, 21, 22], [10, 10, 10], "a>b")
        self.assertEqual(p["diff"]["coverage"], 0.75)
        self.assertEqual(p["verdict"], stats.CANNOT_TELL)
        self.assertGreaterEqual(p["reps_to_decide"], 5)

    def test_not_quiet_draws_no_verdict_but_keeps_the_estimate(self):
        p = stats.verdict_paired(self.FDPASS, self.PREFORK, "a>b", quiet=False)
        self.assertEqual(p["verdict"], stats.NOT_QUIET)
        self.assertAlmostEqual(p["diff"]["estimate"], 8.5)

    def test_no_ratio_over_a_cost_at_or_below_zero(self):
        p = stats.paired([5, 6, 7], [1, 0, 2])
        self.assertIsNone(p["ratio"])
        self.assertIsNone(p["ratios"])
        self.assertEqual(p["diffs"], [4.0, 6.0, 5.0])
        self.assertIsNone(stats.paired([5, -1, 7], [1, 2, 2])["ratio"])   # nor of one below 0

    def test_bad_input_is_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, "as many xs as ys, not 2 and 1"):
            stats.paired([1, 2], [1])
        with self.assertRaisesRegex(ValueError, "claim must be one of"):
            stats.verdict_paired([1, 2], [1, 2], "a=b")

    def test_pairs_keep_only_common_repetitions(self):
        xs, ys, reps = stats.pairs({1: 10, 2: 20, 4: 40}, {2: 2, 3: 3, 4: 4})
        self.assertEqual((xs, ys, reps), ([20, 40], [2, 4], [2, 4]))


class Threshold(unittest.TestCase):
    def test_ratio_against_a_threshold_from_the_differences(self):
        fork = [100, 110, 95, 105, 120]
        pool = [8, 9, 7, 9, 10]
        self.assertEqual(stats.verdict_threshold(fork, pool, ">=", 10), stats.HOLDS)
        self.assertEqual(stats.verdict_threshold(fork, pool, ">=", 20), stats.DOES_NOT_HOLD)
        self.assertEqual(stats.verdict_threshold(fork, pool, ">=", 12),
                         stats.CANNOT_TELL)   # ratios 12.5, 12.2, 13.6, 11.7, 12
        self.assertEqual(stats.verdict_threshold(fork, pool, ">=", 10, quiet=False),
                         stats.NOT_QUIET)

    def test_a_pool_at_or_below_the_baseline_is_an_unbounded_ratio(self):
        # pc_pool <= 0 in every repetition: the ratio is "infinite", above any threshold.
        self.assertEqual(stats.verdict_threshold([100] * 5, [0, -1, -2, 0, -1], ">=", 10),
                         stats.HOLDS)
        # Ratios 10, inf, 20, inf, 25: 9 of the 15 Walsh averages of the logs are unbounded,
        # so the estimate is; n = 5: [min, max].
        r = stats.ratio_hodges_lehmann([100] * 5, [10, -1, 5, 0, 4])
        self.assertEqual((r["unbounded"], r["ci95"][1], r["estimate"]), (2, math.inf, math.inf))
        self.assertAlmostEqual(r["ci95"][0], 10.0)

    def test_one_ratio_the_other_way_does_not_undo_the_verdict(self):
        # 9 ratios, one of them under the threshold: the sign test's [r(2), r(8)] would still
        # decide here, but its [r(1), ...] at n = 7 could not; the log ratios' signed-rank
        # interval at n = 7 (k = 3 of 28) does: ratios 9.5, 12 ... 17.
        fork = [95, 120, 130, 140, 150, 160, 170]
        pool = [10] * 7
        self.assertEqual(stats.summary([f / 10 for f in fork])["ci95"][0], 9.5)
        r = stats.ratio_hodges_lehmann(fork, pool)
        self.assertAlmostEqual(r["ci95"][0], math.exp((math.log(9.5) + math.log(13)) / 2))
        self.assertEqual(stats.verdict_threshold(fork, pool, ">=", 10), stats.HOLDS)


class SignedRank(unittest.TestCase):
    """The exact null distribution of W+ and the intervals it gives, against hand counts."""

    def test_counts_are_the_subsets_of_the_ranks_by_their_sum(self):
        # {1, 2, 3}: sums 0, 1, 2, 3 (3 and 1+2), 4, 5, 6.
        self.assertEqual(stats.signed_rank_counts(3), (1, 1, 1, 2, 1, 1, 1))
        self.assertEqual(stats.signed_rank_counts(4), (1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1))
        self.assertEqual(stats.signed_rank_counts(0), (1,))
        for n in (5, 9, 20):
            c = stats.signed_rank_counts(n)
            self.assertEqual((len(c), sum(c)), (n * (n + 1) // 2 + 1, 2 ** n))
            self.assertEqual(c, c[::-1])     # W+ and M - W+ alike
        # n = 9: sums 0..5 counted 1, 1, 1, 2, 2, 3 (5 = 5, 1+4, 2+3); 6 has 4.
        self.assertEqual(stats.signed_rank_counts(9)[:7], (1, 1, 1, 2, 2, 3, 4))

    def test_ranks_and_coverages_at_the_suites_sizes(self):
        cases = {5: (1, 1 - 2 / 32), 6: (1, 1 - 2 / 64), 7: (3, 1 - 6 / 128),
                 9: (6, 1 - 20 / 512)}
        for n, (k, cov) in cases.items():
            self.assertEqual(stats.walsh_rank_for(n), k, n)
            self.assertEqual(stats.walsh_coverage(k, n), cov, n)
        # One step further falls under 95 %: n = 7, k = 4: 1 - 10/128; n = 9, k = 7: 1 - 28/512.
        self.assertLess(stats.walsh_coverage(4, 7), 0.95)
        self.assertLess(stats.walsh_coverage(7, 9), 0.95)
        self.assertEqual((stats.walsh_rank_for(1), stats.walsh_rank_for(0)), (0, 0))
        with self.assertRaisesRegex(ValueError, "rank 9 is outside 1..8 for n = 5"):
            stats.walsh_coverage(9, 5)

    def test_a_hand_computed_case_at_n_7(self):
        # d = -1, 2, 3, 4, 5, 6, 7: 28 Walsh averages; the three smallest -1, 0.5, 1 and the
        # three largest 7, 6.5, 6: the interval [A(3), A(26)] = [1, 6] at 95.3 %.
        d = [4, -1, 7, 2, 6, 3, 5]
        h = stats.hodges_lehmann(d)
        self.assertEqual(len(stats.walsh_averages(d)), 28)
        self.assertEqual(stats.walsh_averages(d)[:3], [-1.0, 0.5, 1.0])
        self.assertEqual((h["ci95"], h["ranks"], h["coverage"]), ([1.0, 6.0], [3, 26], 1 - 6 / 128))
        self.assertEqual((h["estimate"], h["median"], h["min"], h["max"]), (4.0, 4.0, -1.0, 7.0))
        # Sorted: -1, .5, 1, 1.5, 2, 2, 2.5, 2.5, 3, 3, 3, 3.5, 3.5, 4, 4, ...: the 14th and
        # 15th of 28 are both 4, the estimate.
        self.assertEqual(stats.walsh_averages(d)[13:15], [4.0, 4.0])
        # One difference the other way leaves the sign test's [min, max] (98.4 %) at zero;
        # the signed-rank interval decides.
        self.assertEqual(stats.summary(d)["ci95"], [-1.0, 7.0])
        self.assertEqual(stats.verdict_paired([x + 10 for x in d], [10] * 7, "a>b")["verdict"],
                         stats.HOLDS)

    def test_the_two_comparisons_main_20261206_left_undecided(self):
        # accept-vs-fdpass/prefork/first-free and /prefork-mutex/least-loaded, differences in
        # µs/conn rounded: the sign test's [d(2), d(8)] reaches below zero; A(6) of 45 does not.
        first_free = [-1.09, -1.04, 0.7, 2.22, 2.51, 5.1, 7.35, 8.92, 9.05]
        least_loaded = [-2.03, -0.69, 4.56, 5.39, 6.4, 6.41, 7.56, 7.91, 8.07]
        self.assertLess(stats.summary(first_free)["ci95"][0], 0)
        self.assertLess(stats.summary(least_loaded)["ci95"][0], 0)
        h = stats.hodges_lehmann(first_free)
        # -1.09, -1.065, -1.04, -0.195, -0.17, then (-1.09 + 2.22) / 2.
        self.assertAlmostEqual(h["ci95"][0], 0.565)
        self.assertEqual(h["ranks"], [6, 40])
        # -2.03, -1.36, -0.69, then (-2.03 + 4.56) / 2 = 1.265, (-2.03 + 5.39) / 2 = 1.68 and
        # A(6) = (-0.69 + 4.56) / 2 = 1.935.
        self.assertAlmostEqual(stats.hodges_lehmann(least_loaded)["ci95"][0], 1.935)
        for d in (first_free, least_loaded):
            p = stats.verdict_paired([x + 30 for x in d], [30] * 9, "a>b")
            self.assertEqual(p["verdict"], stats.HOLDS)

    def test_ties_and_zeros_are_kept(self):
        # No zero is dropped: all-zero differences give [0, 0], no verdict either way.
        h = stats.hodges_lehmann([0, 0, 0, 0, 0])
        self.assertEqual((h["ci95"], h["estimate"]), ([0.0, 0.0], 0.0))
        self.assertEqual(stats.interval_verdict(h["ci95"], "a>b"), stats.CANNOT_TELL)
        # Tied differences: identical Walsh averages, a point interval above zero.
        self.assertEqual(stats.hodges_lehmann([1, 1, 1, 1, 1])["ci95"], [1.0, 1.0])
        # Zeros among them count as they are: with 2 of 9 at zero, A(6) is 0 (cannot tell);
        # the zeros pair with each other and with the smallest positive ones.
        d = [0, 0, 1, 1, 2, 2, 3, 3, 4]
        self.assertEqual(stats.walsh_averages(d)[:6], [0.0, 0.0, 0.0, 0.5, 0.5, 0.5])
        self.assertEqual(stats.hodges_lehmann(d)["ci95"][0], 0.5)

    def test_bad_input_is_a_clear_error(self):
        with self.assertRaisesRegex(ValueError, "no pair of repetitions"):
            stats.hodges_lehmann([])
        with self.assertRaisesRegex(ValueError, r"values\[1\] is nan"):
            stats.hodges_lehmann([1.0, float("nan")])
        with self.assertRaisesRegex(ValueError, "level must lie strictly between 0 and 1"):
            stats.hodges_lehmann([1, 2, 3], level=0)
        self.assertIsNone(stats.hodges_lehmann([4.0])["ci95"])

    def test_same_values_same_result_in_any_order(self):
        values = [3.5, -0.25, 7.0, 2.0, 2.0, 5.5, 1.25, 9.0, 4.0]
        shuffled = list(values)
        random.Random(3).shuffle(shuffled)
        self.assertEqual(stats.hodges_lehmann(shuffled), stats.hodges_lehmann(values))


def gamma_median(shape):
    """The median of a Gamma(shape, 1) with a whole shape: bisection on its CDF,
    1 - e^-x sum_{i < shape} x^i / i!."""
    cdf = lambda x: 1 - math.exp(-x) * sum(x ** i / math.factorial(i) for i in range(shape))
    lo, hi = 0.0, 10.0 * shape
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < 0.5 else (lo, mid)
    return lo


class Coverage(unittest.TestCase):
    """The paired signed-rank interval's coverage by simulation (a fixed seed, 4000 draws: a
    standard error of 0.0035 at 95 %), against its exact figure."""
    TRIALS = 4000
    SIZES = (5, 7, 9)

    def simulate(self, n, draw, *centres):
        """The share of the draws whose interval covers each centre (one figure for one)."""
        rng = random.Random(20)
        covered = [0] * len(centres)
        for _ in range(self.TRIALS):
            a = [rng.uniform(50, 80) for _ in range(n)]          # a block effect per rep
            diffs = [draw(rng) for _ in range(n)]
            b = [x - d for x, d in zip(a, diffs)]
            lo, hi = stats.paired(a, b)["diff"]["ci95"]
            for i, c in enumerate(centres):
                covered[i] += lo - 1e-9 <= c <= hi + 1e-9      # a - b rounds a - (a - d)
        shares = [c / self.TRIALS for c in covered]
        return shares[0] if len(shares) == 1 else shares

    def nominal(self, n):
        return stats.walsh_coverage(stats.walsh_rank_for(n), n)

    def test_symmetric_differences(self):
        # Normal, and heavy-tailed (Laplace: a repetition far out on either side).
        for name, draw, centre in (
                ("normal", lambda rng: rng.gauss(9.3, 4), 9.3),
                ("laplace", lambda rng: 3 + rng.expovariate(1 / 4) * rng.choice((-1, 1)), 3)):
            for n in self.SIZES:
                got = self.simulate(n, draw, centre)
                self.assertGreaterEqual(got, self.nominal(n) - 0.012, f"{name}, n = {n}")

    def test_mildly_skewed_differences(self):
        # 2 + 2 Gamma(4, 1): skewness 1. The interval estimates the pseudo-median (the median
        # of (d_1 + d_2) / 2, i.e. of 2 + Gamma(8, 1)); it covers that, and the median too,
        # within a point and a bit of the exact figure.
        draw = lambda rng: 2 + 2 * sum(rng.expovariate(1) for _ in range(4))
        for n in self.SIZES:
            pseudo, median = self.simulate(n, draw, 2 + gamma_median(8), 2 + 2 * gamma_median(4))
            self.assertGreaterEqual(pseudo, self.nominal(n) - 0.015, f"n = {n}, pseudo-median")
            self.assertGreaterEqual(median, self.nominal(n) - 0.015, f"n = {n}, median")

    def test_ties_and_zeros_only_widen_it(self):
        # Whole-number differences symmetric about 0 (a third of them 0): the closed interval
        # covers 0 at least as often as the exact figure says, never less.
        draw = lambda rng: round(rng.gauss(0, 1.5))
        for n in self.SIZES:
            self.assertGreaterEqual(self.simulate(n, draw, 0), self.nominal(n), n)


class RepsToDecide(unittest.TestCase):
    def test_a_clear_effect_needs_few_and_a_small_one_many(self):
        clear = stats.reps_to_decide([10, 11, 9, 10.5, 12])
        small = stats.reps_to_decide([1, -2, 3, 0.5, -1, 2])
        self.assertEqual(clear, 5)   # five is the least that can carry a verdict
        self.assertGreater(small, 20)
        self.assertLessEqual(small, stats.MAX_REPS)

    def test_nothing_to_decide(self):
        self.assertEqual(stats.reps_to_decide([1, -1, 0, 2, -2]), stats.MAX_REPS + 1)
        self.assertIsNone(stats.reps_to_decide([3]))
        with self.assertRaisesRegex(ValueError, "test must be signed-rank or sign"):
            stats.reps_to_decide([1, 2], test="t")

    def test_fewer_than_the_sign_test_needs(self):
        # Noether's size for the signed-rank test against the sign test's exact one: about
        # 0.637 / 0.955 of it for normal differences.
        diffs = [statistics.NormalDist(2, 4).inv_cdf((i + 0.5) / 9) for i in range(9)]
        signed_rank = stats.reps_to_decide(diffs)
        sign = stats.reps_to_decide(diffs, test="sign")
        self.assertLess(signed_rank, sign)

    def test_the_estimate_decides_in_simulation(self):
        # The figure it gives is one that decides about as often as promised (0.8), with the
        # signed-rank interval the findings use.
        rng = random.Random(5)
        normal = statistics.NormalDist(2, 4)
        diffs = [normal.inv_cdf((i + 0.5) / 9) for i in range(9)]   # centre 2, spread 4
        n = stats.reps_to_decide(diffs)
        self.assertLess(n, stats.MAX_REPS)
        decided = sum(stats.interval_verdict(stats.decisive(stats.hodges_lehmann(
            [rng.gauss(2, 4) for _ in range(n)])), "a>b") == stats.HOLDS for _ in range(500))
        self.assertGreater(decided / 500, 0.7)   # promised 0.8; the spread of 9 is rough
        self.assertEqual(n, 38)

    def test_the_sign_test_figure_for_the_herds_slopes(self):
        rng = random.Random(5)
        normal = statistics.NormalDist(2, 4)
        diffs = [normal.inv_cdf((i + 0.5) / 9) for i in range(9)]
        n = stats.reps_to_decide(diffs, test="sign")
        decided = sum(stats.interval_verdict(stats.decisive(stats.summary(
            [rng.gauss(2, 4) for _ in range(n)])), "a>b") == stats.HOLDS for _ in range(500))
        self.assertGreater(decided / 500, 0.7)
        self.assertEqual(n, 51)


if __name__ == "__main__":
    unittest.main()
