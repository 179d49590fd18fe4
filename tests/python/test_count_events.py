"""Unit tests of bench/count_events.py: perf stat's -x, output and the per-connection
difference of two runs."""

import importlib.util
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "count_events", os.path.join(HERE, "..", "..", "bench", "count_events.py"))
C = importlib.util.module_from_spec(spec)
spec.loader.exec_module(C)

# perf stat -x, as perf 6.1 writes it: a comment, a blank line, one row per event, an event
# perf could not count.
CANNED = """\
# started on Sun Dec  6 03:04:11 2026

2507,,page-faults,843350,100.00,,
1499,,context-switches,843350,100.00,,
<not supported>,,dTLB-load-misses,0,100.00,,
2000,,syscalls:sys_enter_clone3,843350,100.00,,
"""


class Parse(unittest.TestCase):
    def test_rows_counted_and_uncountable_left_out(self):
        self.assertEqual(C.parse(CANNED), {"page-faults": 2507, "context-switches": 1499,
                                           "syscalls:sys_enter_clone3": 2000})

    def test_nothing_counted(self):
        self.assertEqual(C.parse("# started on Sun Dec  6\n\n"), {})


class PerUnit(unittest.TestCase):
    def test_difference_over_the_extra_connections(self):
        per = C.per_unit({"clone3": 700, "page-faults": 900},
                         {"clone3": 2700, "page-faults": 2400, "mmap": 10}, 500, 2500)
        self.assertEqual(per, {"clone3": 1.0, "page-faults": 0.75, "mmap": 0.005})

    def test_second_run_must_be_longer(self):
        with self.assertRaises(ValueError):
            C.per_unit({}, {}, 2500, 500)


if __name__ == "__main__":
    unittest.main()
