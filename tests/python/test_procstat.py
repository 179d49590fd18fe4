"""Unit tests of bench/tcplab_suite/procstat.py: /proc/stat parsing, the CPU split, CONFIG_HZ."""

import gzip
import math
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import procstat  # noqa: E402

# Two reads of a two-CPU machine. CPU 0's deltas: user 30, nice 10, system 40, idle 10,
# iowait 5, irq 1, softirq 4, steal 0 (100 ticks) and guest 20, which is inside user already.
# CPU 1's deltas: user 50, system 25, idle 25 (100 ticks).
BEFORE = """cpu  3000 100 5000 90000 300 10 200 0 500 0
cpu0 1000 50 2000 40000 100 5 100 0 200 0
cpu1 2000 50 3000 50000 200 5 100 0 300 0
intr 123456 0 0
ctxt 99999
btime 1764600000
softirq 5000 1 2 3
"""
AFTER = """cpu  3080 110 5065 90035 305 11 204 0 520 0
cpu0 1030 60 2040 40010 105 6 104 0 220 0
cpu1 2050 50 3025 50025 200 5 100 0 300 0
intr 123999 0 0
ctxt 100500
btime 1764600000
softirq 5100 1 2 3
"""


class Files(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def file(self, name, text, compress=False):
        path = os.path.join(self.dir.name, name)
        with (gzip.open(path, "wt") if compress else open(path, "w")) as f:
            f.write(text)
        return path

    def reads(self, before=BEFORE, after=AFTER):
        a = procstat.read_stat(self.file("before", before))
        b = procstat.read_stat(self.file("after", after))
        a["user_hz"] = b["user_hz"] = 100   # the synthetic texts are in units of 1/100 s
        return a, b


class ReadStat(Files):
    def test_per_cpu_lines_become_fields_and_the_rest_is_ignored(self):
        s = procstat.read_stat(self.file("stat", BEFORE))
        self.assertEqual(sorted(s["cpus"]), [0, 1])
        self.assertEqual(s["cpus"][0], {"user": 1000, "nice": 50, "system": 2000,
                                        "idle": 40000, "iowait": 100, "irq": 5,
                                        "softirq": 100, "steal": 0, "guest": 200,
                                        "guest_nice": 0})
        self.assertIsInstance(s["time"], float)
        self.assertEqual(s["user_hz"], os.sysconf("SC_CLK_TCK"))

    def test_an_older_kernels_missing_columns_read_zero(self):
        s = procstat.read_stat(self.file("stat", "cpu  1 2 3 4 5 6 7\ncpu3 1 2 3 4 5 6 7\n"))
        self.assertEqual(s["cpus"], {3: {"user": 1, "nice": 2, "system": 3, "idle": 4,
                                         "iowait": 5, "irq": 6, "softirq": 7, "steal": 0,
                                         "guest": 0, "guest_nice": 0}})

    def test_a_malformed_file_is_a_clear_error(self):
        path = self.file("bad", "cpu  1 2 3 4\ncpu0 1 2 x 4\n")
        with self.assertRaisesRegex(ValueError, f"{path}:2: not a line of tick counts"):
            procstat.read_stat(path)
        path = self.file("short", "cpu0 1 2 3\n")
        with self.assertRaisesRegex(ValueError, f"{path}:1: 3 columns, expected 4 to 10"):
            procstat.read_stat(path)
        path = self.file("none", "intr 5\nctxt 7\n")
        with self.assertRaisesRegex(ValueError, f"{path}: no per-CPU lines"):
            procstat.read_stat(path)
        with self.assertRaises(FileNotFoundError):
            procstat.read_stat(os.path.join(self.dir.name, "absent"))


class CpuSplit(Files):
    def test_one_cpu_shares_from_known_deltas(self):
        a, b = self.reads()
        s = procstat.cpu_split(a, b, [0], hz=250)
        self.assertEqual(s["cpus"], [0])
        self.assertEqual((s["ticks"], s["user_hz"], s["samples"]), (100, 100, 250))
        self.assertEqual((s["hz"], s["hz_source"]), (250, "given"))
        expected = {"user": 0.40, "system": 0.40, "softirq": 0.04, "irq": 0.01,
                    "idle": 0.15, "steal": 0.0}
        self.assertEqual(s["shares"].keys(), expected.keys())
        for key, share in expected.items():
            self.assertAlmostEqual(s["shares"][key], share, places=12, msg=key)
        self.assertAlmostEqual(s["busy"], 0.85, places=12)
        # 1.96 * 0.5 / sqrt(250) + max(1/250, 1/100 USER_HZ truncation), in points.
        self.assertAlmostEqual(s["error_pp"], 100 * (0.98 / math.sqrt(250) + 0.01), places=9)
        self.assertEqual(s["window_s"], b["time"] - a["time"])
        self.assertEqual(s["per_cpu"][0]["samples"], 250)
        self.assertAlmostEqual(s["per_cpu"][0]["user"], 0.40, places=12)

    def test_several_cpus_pool_their_ticks(self):
        a, b = self.reads()
        s = procstat.cpu_split(a, b, [1, 0], hz=250)
        self.assertEqual(s["cpus"], [0, 1])
        self.assertEqual((s["ticks"], s["samples"]), (200, 500))
        self.assertAlmostEqual(s["shares"]["user"], (40 + 50) / 200, places=12)
        self.assertAlmostEqual(s["shares"]["system"], (40 + 25) / 200, places=12)
        self.assertAlmostEqual(s["shares"]["idle"], (15 + 25) / 200, places=12)
        self.assertAlmostEqual(sum(s["shares"].values()), 1.0, places=12)
        self.assertAlmostEqual(s["busy"], 0.8, places=12)
        self.assertAlmostEqual(s["error_pp"], 100 * (0.98 / math.sqrt(500) + 2 / 200), places=9)
        one = s["per_cpu"][1]
        self.assertAlmostEqual(one["user"], 0.5, places=12)
        self.assertAlmostEqual(one["busy"], 0.75, places=12)
        self.assertEqual(one["samples"], 250)

    def test_a_100_hz_tick_makes_ticks_and_samples_equal(self):
        a, b = self.reads()
        s = procstat.cpu_split(a, b, [0], hz=100)
        self.assertEqual(s["samples"], 100)
        self.assertAlmostEqual(s["error_pp"], 100 * (0.98 / 10 + 0.01), places=9)

    def test_hz_is_read_when_not_given(self):
        a, b = self.reads()
        s = procstat.cpu_split(a, b, [0])
        self.assertEqual((s["hz"], s["hz_source"]), procstat.hz())

    def test_bad_input_is_a_clear_error(self):
        a, b = self.reads()
        with self.assertRaisesRegex(ValueError, r"cpu 2 is not in both reads .*\[0, 1\]"):
            procstat.cpu_split(a, b, [0, 2], hz=250)
        with self.assertRaisesRegex(ValueError, "at least one CPU"):
            procstat.cpu_split(a, b, [], hz=250)
        with self.assertRaisesRegex(ValueError, "cpu 0: user, nice, system, idle, iowait, "
                                                "irq, softirq, guest went backwards"):
            procstat.cpu_split(b, a, [0], hz=250)
        with self.assertRaisesRegex(ValueError, "cpu 0: no ticks between the two reads"):
            procstat.cpu_split(a, a, [0], hz=250)
        for bad in (0, -250, 2.5, True, "250"):
            with self.assertRaisesRegex(ValueError, "hz must be a positive whole number"):
                procstat.cpu_split(a, b, [0], hz=bad)


class Saturated(unittest.TestCase):
    def test_busy_at_or_above_the_threshold(self):
        self.assertTrue(procstat.saturated({"busy": 0.95}))
        self.assertTrue(procstat.saturated({"busy": 1.0}))
        self.assertFalse(procstat.saturated({"busy": 0.949}))
        self.assertTrue(procstat.saturated({"busy": 0.5}, threshold=0.5))
        with self.assertRaisesRegex(ValueError, r"threshold must lie in \(0, 1\]"):
            procstat.saturated({"busy": 0.5}, threshold=95)


class Hz(Files):
    def test_config_hz_from_a_plain_or_gzipped_config(self):
        plain = self.file("config", "CONFIG_HZ_300=y\nCONFIG_HZ=300\nCONFIG_HZ_PERIODIC=y\n")
        self.assertEqual(procstat.hz([plain]), (300, plain))
        packed = self.file("config.gz", "# CONFIG_HZ_100 is not set\nCONFIG_HZ=1000\n", True)
        self.assertEqual(procstat.hz([packed, plain]), (1000, packed))

    def test_the_first_file_that_says_wins(self):
        absent = os.path.join(self.dir.name, "absent.gz")
        silent = self.file("silent", "CONFIG_HZ_250=y\n")
        broken = self.file("broken.gz", "not gzip at all")
        plain = self.file("config", "CONFIG_HZ=250\n")
        self.assertEqual(procstat.hz([absent, silent, broken, plain]), (250, plain))

    def test_unknown_is_100_and_says_so(self):
        absent = os.path.join(self.dir.name, "absent.gz")
        value, source = procstat.hz([absent])
        self.assertEqual(value, 100)
        self.assertEqual(source, f"assumed 100: no CONFIG_HZ in {absent}")


class ThisMachine(unittest.TestCase):
    def test_real_proc_stat_reads_and_splits(self):
        a = procstat.read_stat()
        cpus = sorted(os.sched_getaffinity(0))
        self.assertTrue(set(cpus) <= set(a["cpus"]), (cpus, sorted(a["cpus"])))
        for fields in a["cpus"].values():
            self.assertEqual(tuple(fields), procstat.FIELDS)
            self.assertTrue(all(isinstance(v, int) and v >= 0 for v in fields.values()))
        # Read until at least one tick has been booked on every CPU (bounded: a tick is 10 ms).
        for _ in range(10000):
            b = procstat.read_stat()
            if all(sum(b["cpus"][c][f] - a["cpus"][c][f] for f in procstat.PARTITION) > 0
                   for c in cpus):
                break
        s = procstat.cpu_split(a, b, cpus)
        self.assertEqual(s["cpus"], cpus)
        self.assertAlmostEqual(sum(s["shares"].values()), 1.0, places=9)
        self.assertTrue(0.0 <= s["busy"] <= 1.0)
        self.assertGreater(s["window_s"], 0.0)
        self.assertGreaterEqual(s["samples"], len(cpus))

    def test_real_config_hz(self):
        value, source = procstat.hz()
        self.assertIn(value, (100, 250, 300, 1000))
        if os.path.exists("/proc/config.gz") and not source.startswith("assumed"):
            with gzip.open("/proc/config.gz", "rt") as f:
                self.assertIn(f"CONFIG_HZ={value}\n", f.read())


if __name__ == "__main__":
    unittest.main()
