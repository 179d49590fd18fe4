"""Unit tests of bench/tcplab_suite/stats.py: medians, order-statistic intervals, verdicts."""

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
        # Paired, every repetition of fd passing is dearer: +2.9 ... +14.1, the median +9.2.
        p = stats.verdict_paired(self.FDPASS, self.PREFORK, "a>b")
        self.assertEqual(p["verdict"], stats.HOLDS)
        self.assertEqual([round(d, 6) for d in sorted(p["diffs"])], [2.9, 5.4, 9.2, 11.3, 14.1])
        self.assertAlmostEqual(p["diff"]["median"], 9.2)
        self.assertEqual([round(x, 6) for x in p["diff"]["ci95"]], [2.9, 14.1])
        self.assertEqual(p["n"], 5)
        self.assertEqual(p["diff"]["coverage"], 0.9375)
        self.assertIsNone(p["reps_to_decide"])
        lo, hi = p["ratio"]["ci95"]
        self.assertGreater(lo, 1.0)
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
        self.assertAlmostEqual(p["diff"]["median"], 9.2)

    def test_no_ratio_over_a_cost_at_or_below_zero(self):
        p = stats.paired([5, 6, 7], [1, 0, 2])
        self.assertIsNone(p["ratio"])
        self.assertIsNone(p["ratios"])
        self.assertEqual(p["diffs"], [4.0, 6.0, 5.0])

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
        # pc_pool <= 0 in every repetition: fork - 10 * pool > 0, the ratio is "infinite".
        self.assertEqual(stats.verdict_threshold([100] * 5, [0, -1, -2, 0, -1], ">=", 10),
                         stats.HOLDS)


class Coverage(unittest.TestCase):
    """The paired interval's coverage by simulation, against the exact binomial figure."""

    def simulate(self, n, draw, true_median, trials=4000):
        rng = random.Random(20)
        covered = 0
        for _ in range(trials):
            a = [rng.uniform(50, 80) for _ in range(n)]          # a block effect per rep
            diffs = [draw(rng) for _ in range(n)]
            b = [x - d for x, d in zip(a, diffs)]
            lo, hi = stats.paired(a, b)["diff"]["ci95"]
            covered += lo <= true_median <= hi
        return covered / trials

    def test_skewed_differences(self):
        # Differences 2 + Exp(1/5): a right-skewed tail, the median 2 + 5 ln 2.
        draw = lambda rng: 2 + rng.expovariate(1 / 5)
        for n, exact in ((5, 0.9375), (9, 1 - 20 / 512)):
            got = self.simulate(n, draw, 2 + 5 * math.log(2))
            self.assertAlmostEqual(got, exact, delta=0.015, msg=f"n = {n}")

    def test_symmetric_differences(self):
        draw = lambda rng: rng.gauss(9.3, 4)
        got = self.simulate(9, draw, 9.3)
        self.assertAlmostEqual(got, 1 - 20 / 512, delta=0.015)


class RepsToDecide(unittest.TestCase):
    def test_a_clear_effect_needs_few_and_a_small_one_many(self):
        clear = stats.reps_to_decide([10, 11, 9, 10.5, 12])
        small = stats.reps_to_decide([1, -2, 3, 0.5, -1, 2])
        self.assertEqual(clear, 5)   # five is the least that can carry a verdict
        self.assertGreater(small, 20)

    def test_nothing_to_decide(self):
        self.assertEqual(stats.reps_to_decide([1, -1, 0, 2, -2]), stats.MAX_REPS + 1)
        self.assertIsNone(stats.reps_to_decide([3]))

    def test_the_estimate_decides_in_simulation(self):
        # The figure it gives is one that decides about as often as promised (0.8).
        rng = random.Random(5)
        normal = statistics.NormalDist(2, 4)
        diffs = [normal.inv_cdf((i + 0.5) / 9) for i in range(9)]   # median 2, spread 4
        n = stats.reps_to_decide(diffs)
        self.assertLess(n, stats.MAX_REPS)
        decided = sum(stats.interval_verdict(stats.decisive(stats.summary(
            [rng.gauss(2, 4) for _ in range(n)])), "a>b") == stats.HOLDS for _ in range(500))
        self.assertGreater(decided / 500, 0.7)   # promised 0.8; the spread of 9 is rough
        self.assertEqual(n, 51)


if __name__ == "__main__":
    unittest.main()
