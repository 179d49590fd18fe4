"""The open-loop latency workload's logic on canned figures: which points are a latency, who
is to blame for those that are not, the bracket and bisection of the capacity search, the
capacity over repetitions, the per-rate curve, and the charts' split of a curve and summed
percentile spectrum."""

import json
import os
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, ROOT)
from tcplab_suite.workloads import REGISTRY, latency as L  # noqa: E402


def figs(achieved=1.0, late=0.0, p99=500.0, **extra):
    return {"achieved_fraction": achieved, "late_fraction": late, "p99_us": p99, **extra}


def cpu(*saturated):
    return {"server": {"busy": 0.5}, "load": {"busy": 0.5}, "saturated": list(saturated)}


def point(rate, status="ok", p99=500.0, rep=1):
    return {"rep": rep, "rate": rate, "status": status, "figures": figs(p99=p99)}


class Classify(unittest.TestCase):
    def test_kept_up_is_ok_whatever_the_cpus(self):
        self.assertEqual(L.classify(figs(0.95, 0.01), cpu("server", "load")), ("ok", []))

    def test_short_of_the_offered_rate_with_the_server_saturated_is_over_capacity(self):
        status, reasons = L.classify(figs(achieved=0.5), cpu("server"))
        self.assertEqual(status, "over_capacity")
        self.assertEqual(reasons, ["achieved 50 % of offered", "server CPUs saturated"])

    def test_late_sends_with_only_the_generator_saturated_are_generator_bound(self):
        status, reasons = L.classify(figs(late=0.2), cpu("load"))
        self.assertEqual(status, "generator_bound")
        self.assertEqual(reasons[0], "20.0 % late sends")

    def test_both_saturated_is_the_servers(self):
        self.assertEqual(L.classify(figs(achieved=0.9), cpu("server", "load"))[0],
                         "over_capacity")

    def test_neither_saturated_the_sends_waited_for_the_server(self):
        status, reasons = L.classify(figs(late=0.05), cpu())
        self.assertEqual(status, "over_capacity")
        self.assertIn("waited for the server", reasons[-1])

    def test_unpinned_run_is_taken_as_the_servers_and_says_so(self):
        status, reasons = L.classify(figs(achieved=0.1), {"error": "not pinned"})
        self.assertEqual(status, "over_capacity")
        self.assertIn("not pinned", reasons[-1])

    def test_just_over_one_percent_late_is_not_a_latency(self):
        self.assertEqual(L.classify(figs(late=0.0101), cpu())[0], "over_capacity")


class Figures(unittest.TestCase):
    def load(self, requests, abandoned, scheduled=1000, clients=50):
        lat = {k: 1.0 for k in ("p50_us", "p90_us", "p99_us", "p99_9_us", "max_us")}
        return {"config": {"rate": 500.0, "clients": clients},
                "rates": {"requests_per_s": requests / 2.0, "connections_per_s": requests / 2.0},
                "counts": {"requests": requests, "failed": 0, "abandoned": abandoned},
                "lateness": {"late": 0, "scheduled": scheduled, "late_fraction": 0.0,
                             "max_us": 0.0},
                "cpu": {"us_per_request": 10.0},
                "latency": {"total": dict(lat, p99_us=7.0), "total_raw": dict(lat, p99_us=5.0)}}

    def test_in_flight_at_the_end_is_left_out_up_to_the_pool(self):
        f = L.point_figures(self.load(requests=900, abandoned=40))
        self.assertAlmostEqual(f["achieved_fraction"], 900 / 960)
        f = L.point_figures(self.load(requests=900, abandoned=100))
        self.assertAlmostEqual(f["achieved_fraction"], 900 / 950)   # only 50 could be in flight
        self.assertEqual((f["p99_us"], f["raw_p99_us"]), (7.0, 5.0))
        self.assertEqual(f["achieved_per_s"], 450.0)


class Search(unittest.TestCase):
    def test_bracket_is_the_first_failure_and_the_pass_below_it(self):
        pts = [point(8000, p99=2000.0), point(1000), point(2000), point(4000, "over_capacity")]
        self.assertEqual(L.bracket(pts, 1000.0), (2000, 4000))

    def test_over_capacity_fails_the_target_even_with_a_low_p99(self):
        self.assertFalse(L.passes(point(4000, "over_capacity", p99=10.0), 1000.0))
        self.assertTrue(L.passes(point(4000, p99=1000.0), 1000.0))

    def test_a_pass_above_the_first_failure_does_not_count(self):
        pts = [point(1000), point(2000, p99=1500.0), point(4000)]
        self.assertEqual(L.bracket(pts, 1000.0), (1000, 2000))

    def test_censored_ends_and_failed_measurements(self):
        self.assertEqual(L.bracket([point(1000, p99=5000.0)], 1000.0), (None, 1000))
        self.assertEqual(L.bracket([point(1000), point(2000)], 1000.0), (2000, None))
        self.assertEqual(L.bracket([point(1000), {"rate": 2000, "error": "x"}], 1000.0),
                         (1000, None))

    def test_bisection_is_geometric_and_stops_when_closed(self):
        self.assertEqual(L.bisect_rate(1000, 4000), 2000)
        self.assertIsNone(L.bisect_rate(None, 4000))
        self.assertIsNone(L.bisect_rate(1000, None))
        self.assertIsNone(L.bisect_rate(1000, 1001))

    def test_geometric_grid(self):
        self.assertEqual(L.geometric_grid(1000, 64000, 4), [1000, 4000, 16000, 64000])
        self.assertEqual(L.geometric_grid(1000, 40000, 4), L.PLANS["default"]["rates"]["conn"])
        self.assertEqual(L.geometric_grid(1000, 100000, 5), [1000, 3200, 10000, 32000, 100000])

    def test_capacity_over_repetitions(self):
        cap = L.capacity([{"rep": 1, "lo": 2000, "hi": 2800}, {"rep": 2, "lo": 2400, "hi": 2800},
                          {"rep": 3, "lo": 2000, "hi": 2400}], 1000.0)
        self.assertEqual(cap["summary"]["median"], 2000)
        self.assertEqual(cap["summary"]["n"], 3)
        self.assertEqual(cap["bracket"], [2000, 2800])
        self.assertIsNone(cap["censored"])

    def test_capacity_outside_the_grid_is_censored(self):
        below = L.capacity([{"rep": 1, "lo": None, "hi": 1000}], 1000.0)
        self.assertEqual((below["censored"], below["summary"]), ("below", None))
        above = L.capacity([{"rep": 1, "lo": 64000, "hi": None}], 1000.0)
        self.assertEqual(above["censored"], "above")
        self.assertEqual(above["bracket"], [64000, None])


class Curve(unittest.TestCase):
    def test_any_bad_repetition_makes_the_rate_not_a_latency(self):
        pts = [point(1000, rep=1), point(1000, rep=2), point(2000, rep=1),
               point(2000, "over_capacity", p99=9000.0, rep=2), {"rate": 4000, "error": "x"}]
        c = L.curve(pts, [1000, 2000, 4000])
        self.assertEqual([x["status"] for x in c], ["ok", "over_capacity", "error"])
        self.assertEqual(c[1]["summary"]["p99_us"]["median"], 4750.0)
        self.assertEqual(c[0]["n"], 2)

    def test_charts_never_join_a_point_that_is_not_a_latency(self):
        from plots import latency_charts as C
        e = {"curve": L.curve([point(1000), point(2000, "over_capacity", p99=9000.0),
                               point(4000, "generator_bound")], [1000, 2000, 4000])}
        plain, other = C.curve_points(e, "p99_us")
        self.assertEqual(plain, [(1000, 500.0)])
        self.assertEqual(other, [(2000, 9000.0, "over_capacity"), (4000, 500.0, "generator_bound")])


class Spectrum(unittest.TestCase):
    def test_histograms_are_summed_never_averaged(self):
        from plots import latency_charts as C
        with tempfile.TemporaryDirectory() as d:
            for name, buckets in (("a", [[0, 1000, 90], [1000, 2000, 10]]),
                                  ("b", [[0, 1000, 0], [1000, 2000, 0], [2000, 4000, 100]])):
                with open(os.path.join(d, name), "w") as f:
                    json.dump({"latency": {"total": {"buckets_ns": buckets}}}, f)
            counts = C.summed_buckets(d, ["a", "b"])
        self.assertEqual(counts, {1000: 90, 2000: 10, 4000: 100})
        # 90 of 200 at or below 1 µs, 100 of 200 at or below 2 µs; the top bucket (p = 1) is left
        self.assertEqual(C.spectrum_points(counts), [(1 / (1 - 0.45), 1.0), (2.0, 2.0)])


class Registry(unittest.TestCase):
    def test_both_workloads_are_registered_with_their_charts(self):
        self.assertTrue(REGISTRY["latency"].DEFAULT)
        self.assertFalse(REGISTRY["latency-full"].DEFAULT)
        for name in ("latency", "latency-full"):
            self.assertEqual([c.__name__ for c in REGISTRY[name].CHARTS],
                             [f"{name}_{c}" for c in ("load_curves", "spectrum", "capacity")])

    def test_the_plans_keep_every_window_at_two_seconds(self):
        for name in ("latency", "latency-full"):
            plan = REGISTRY[name].PLANS["default"]
            self.assertGreaterEqual(plan["duration_s"], 2.0)
            for rates in plan["rates"].values():
                self.assertEqual(rates, sorted(rates))


if __name__ == "__main__":
    unittest.main()
