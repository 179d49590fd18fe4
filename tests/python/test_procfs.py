"""procfs: the suite's one reader of /proc/PID, on real processes."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
from tcplab_suite import procfs  # noqa: E402


class Procfs(unittest.TestCase):
    def test_a_zombie_is_not_alive_and_a_sleeper_is(self):
        sleeper = subprocess.Popen(["sleep", "30"])
        done = subprocess.Popen(["true"])
        try:
            deadline = time.monotonic() + 5
            while procfs.stat(done.pid)[0] != "Z" and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertFalse(procfs.alive(done.pid))
            self.assertTrue(procfs.alive(sleeper.pid))
            self.assertEqual(procfs.parent_of(sleeper.pid), os.getpid())
            self.assertIn(sleeper.pid, procfs.children(os.getpid()))
            tids = [t for t, _, _ in procfs.tree_tasks(os.getpid())]
            self.assertIn(sleeper.pid, tids)
            self.assertIn(os.getpid(), tids)
        finally:
            sleeper.kill()
            sleeper.wait()
            done.wait()
        self.assertIsNone(procfs.stat(sleeper.pid))
        self.assertFalse(procfs.alive(sleeper.pid))

    def test_a_name_with_a_parenthesis_does_not_shift_the_fields(self):
        # comm may hold ")" and spaces; the fields are counted from the last ")" (split at the
        # first, this name would read as state S with parent 1).
        with tempfile.TemporaryDirectory() as d:
            odd = os.path.join(d, "x) S 1 y")
            shutil.copy("/bin/sleep", odd)
            proc = subprocess.Popen([odd, "30"])
            try:
                deadline = time.monotonic() + 5
                while procfs.stat(proc.pid) and time.monotonic() < deadline:
                    with open(f"/proc/{proc.pid}/comm") as f:
                        if f.read().startswith("x)"):
                            break
                    time.sleep(0.01)
                self.assertEqual(procfs.parent_of(proc.pid), os.getpid())
            finally:
                proc.kill()
                proc.wait()

    def test_the_cpu_model_is_the_first_model_name(self):
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f
                     if line.startswith("model name")]
        self.assertEqual(procfs.cpu_model(), names[0] if names else None)

    def test_cpu_lists(self):
        self.assertEqual(procfs.cpu_list("3,0-1"), [0, 1, 3])
        for bad in ("", "a", "1-", "-1"):
            with self.assertRaises(ValueError):
                procfs.cpu_list(bad)


if __name__ == "__main__":
    unittest.main()
