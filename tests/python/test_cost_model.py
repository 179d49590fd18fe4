"""Unit tests of bench/tcplab_suite/cost_model.py on canned counts and prices."""

import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import cost_model as cm  # noqa: E402

FLOOR = {"accept4": 1.0, "read": 2.0, "setsockopt": 2.0, "sendmsg": 1.0, "close": 1.0}

# Round numbers, so that every expected figure below can be worked out by hand.
PRICES = {
    "BM_ForkExitWait/heap_mib:0": 100.0, "BM_ThreadCreateDetached": 20.0,
    "BM_LockHandoff/none/parties:1": 10.0, "BM_LockHandoff/fcntl/parties:15": 16.0,
    "BM_LockHandoff/fcntl/parties:4": 14.0, "BM_LockHandoff/process_mutex/parties:15": 13.0,
    "BM_LockHandoff/thread_mutex/parties:15": 12.0, "BM_SendRecvFdToChild": 9.0,
    "BM_DupClose": 1.0, "BM_ThreadHandoff/round_trip": 8.0, "BM_Poll/ppoll_sigmask": 0.5,
    "BM_Poll/poll": 0.4, "BM_SetSockoptTimeouts": 0.6, "BM_Getrusage": 0.25,
}


def with_calls(**calls):
    c = dict(FLOOR)
    c.update(calls)
    return c


class Prices(unittest.TestCase):
    def test_google_benchmark_json_takes_the_median_and_drops_failures(self):
        data = {"benchmarks": [
            {"name": "BM_A/real_time", "run_name": "BM_A/real_time", "real_time": 3000,
             "time_unit": "ns"},
            {"name": "BM_A/real_time", "run_name": "BM_A/real_time", "real_time": 1000,
             "time_unit": "ns"},
            {"name": "BM_A/real_time_mean", "run_name": "BM_A/real_time", "real_time": 1800,
             "time_unit": "ns", "aggregate_name": "mean"},
            {"name": "BM_A/real_time_median", "run_name": "BM_A/real_time", "real_time": 1500,
             "time_unit": "ns", "aggregate_name": "median"},
            {"name": "BM_B/x/real_time", "run_name": "BM_B/x/real_time", "real_time": 2,
             "time_unit": "ms"},
            {"name": "BM_C/real_time", "run_name": "BM_C/real_time", "error_occurred": True,
             "error_message": "fork: EAGAIN"},
        ]}
        self.assertEqual(cm.prices_from_micro(data), {"BM_A": 1.5, "BM_B/x": 2000.0})

    def test_the_suites_micro_record(self):
        data = {"benchmarks": [{"name": "BM_A/real_time", "real_us": 2.5, "cpu_us": 1.0},
                               {"name": "BM_B/real_time", "error": "skipped"}]}
        self.assertEqual(cm.prices_from_micro(data), {"BM_A": 2.5})


class Model(unittest.TestCase):
    def test_calls_beyond_the_floor(self):
        self.assertEqual(cm.extra_calls(with_calls(setsockopt=0.0, futex=2.4, wait4=0.004),
                                        FLOOR), {"setsockopt": -2.0, "futex": 2.4})

    def test_fork_is_priced_by_fork_exit_wait_per_clone_and_the_rest_one_by_one(self):
        counts = with_calls(clone=1.0, wait4=1.16, set_robust_list=1.0, close=3.0, ppoll=1.16,
                            rt_sigprocmask=1.0)
        r = cm.model("fork", counts, FLOOR, PRICES, floor_us=14.0)
        # 100 + 2 closes x 0.25 + 1.16 ppoll x 0.5 + 1 rt_sigprocmask x 0.25; wait4 and
        # set_robust_list are inside BM_ForkExitWait.
        self.assertAlmostEqual(r["above_floor_us"], 100 + 0.5 + 0.58 + 0.25)
        self.assertAlmostEqual(r["model_us"], 14 + 101.33)
        self.assertEqual([t["what"] for t in r["terms"]],
                         ["BM_ForkExitWait/heap_mib:0", "close (at BM_Getrusage)",
                          "ppoll (at BM_Poll/ppoll_sigmask)", "rt_sigprocmask (at BM_Getrusage)"])
        self.assertEqual(r["missing"], [])

    def test_fcntl_lock_is_one_hand_over_per_two_fcntl_calls_less_the_round_trip(self):
        r = cm.model("prefork-fcntl", with_calls(fcntl=2.0), FLOOR, PRICES, floor_us=14.0)
        self.assertEqual(r["terms"], [{
            "what": "BM_LockHandoff/fcntl/parties:15 - BM_LockHandoff/none/parties:1",
            "count": 1.0, "price_us": 6.0, "us": 6.0}])
        self.assertAlmostEqual(r["model_us"], 20.0)
        r4 = cm.model("prefork-fcntl", with_calls(fcntl=2.0), FLOOR, PRICES, 14.0, lock_parties=4)
        self.assertAlmostEqual(r4["model_us"], 18.0)

    def test_mutexes_price_their_futex_calls_inside_the_hand_over(self):
        r = cm.model("prethread-mutex", with_calls(futex=2.43), FLOOR, PRICES, floor_us=14.0)
        self.assertEqual(len(r["terms"]), 1)
        self.assertAlmostEqual(r["model_us"], 16.0)

    def test_event_loop_takes_off_the_setsockopt_it_does_not_make(self):
        counts = with_calls(setsockopt=0.0, epoll_ctl=1.0, read=3.0)
        r = cm.model("epoll", counts, FLOOR, PRICES, floor_us=14.0)
        self.assertAlmostEqual(r["above_floor_us"], -2 * 0.3 + 0.25 + 0.25)

    def test_fdpass_and_dispatch(self):
        fd = cm.model("prefork-fdpass", with_calls(recvmsg=1.0, sendmsg=2.0, sendto=1.0,
                                                   recvfrom=2.0, close=2.0, ppoll=0.3),
                      FLOOR, PRICES, floor_us=14.0)
        self.assertAlmostEqual(fd["above_floor_us"], (9 - 1) + 0.3 * 0.5)
        dispatch = cm.model("prethread-dispatch", with_calls(futex=4.4), FLOOR, PRICES, 14.0)
        self.assertAlmostEqual(dispatch["above_floor_us"], 4.0)
        self.assertEqual(dispatch["terms"], [{"what": "BM_ThreadHandoff/round_trip",
                                              "count": 0.5, "price_us": 8.0, "us": 4.0}])

    def test_a_missing_benchmark_leaves_no_model(self):
        prices = {k: v for k, v in PRICES.items() if k != "BM_ThreadCreateDetached"}
        r = cm.model("thread", with_calls(clone3=1.0), FLOOR, prices, floor_us=14.0)
        self.assertIsNone(r["model_us"])
        self.assertEqual(r["missing"], ["BM_ThreadCreateDetached"])

    def test_model_all_with_measured_gives_residual_and_ratio(self):
        results = [{"design": "iterative", "per_connection": FLOOR},
                   {"design": "thread", "per_connection": with_calls(clone3=1.0,
                                                                     rt_sigprocmask=4.0)}]
        rows = cm.model_all(results, PRICES, floor_us=14.0,
                            measured={"iterative": 14.0, "thread": 41.0})
        self.assertEqual([r["design"] for r in rows], ["iterative", "thread"])
        self.assertEqual((rows[0]["model_us"], rows[0]["residual_us"]), (14.0, 0.0))
        self.assertEqual((rows[1]["model_us"], rows[1]["residual_us"]), (34.0, 7.0))
        self.assertAlmostEqual(rows[1]["ratio"], 41 / 34)
        lines = cm.table_lines(rows)
        self.assertEqual(lines[3], "| `thread` | 14.0 floor + 1 × `BM_ThreadCreateDetached` "
                                   "20.00 | 34.0 | 41.0 | 7.0 | 1.21 |")

    def test_without_the_baseline_counts_it_says_which(self):
        with self.assertRaisesRegex(KeyError, "iterative"):
            cm.model_all({"thread": FLOOR}, PRICES)

    def test_every_benchmark_named_is_one_tcplab_micro_has(self):
        # The names tests/micro_json_test.cpp checks tcplab-micro for, less "/real_time".
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                            "micro_json_test.cpp")
        with open(path) as f:
            known = {line.strip().strip('",').removesuffix("/real_time")
                     for line in f if line.strip().startswith('"BM_')}
        named = {cm.DEFAULT_PRICE[0], cm.LOCK_BASELINE}
        named |= {b for b, _ in cm.SYSCALL_PRICES.values()}
        for design in ("fork", "thread", "prefork-fdpass", "prethread-dispatch",
                       "prefork-fcntl", "prefork-mutex", "prethread-mutex"):
            for p in cm.primitives(design) + cm.primitives(design, lock_parties=4):
                named |= {p.benchmark} | ({p.less} if p.less else set())
        self.assertEqual(named - known, set())


if __name__ == "__main__":
    unittest.main()
