#!/usr/bin/python3
"""plots/diagrams.py end to end: it runs twice into a temporary folder and writes one
design-NAME.svg per design of `tcplab-server --list --json` (and the io_uring designs' before the
table lists them) and nothing else of that name, the legend, fdpass-sequence.svg and
wait-queues.svg; each is a well-formed SVG whose every text and shape lies inside its canvas and
whose smallest text is at least 11 px at the width REPORT.md shows it; the pictures show the
differences (one woken waiter where accept() or a lock picks one, EPOLLEXCLUSIVE's falling
staircase, SO_REUSEPORT's reciprocal_scale); both runs write the same bytes, and those are the
bytes committed in plots/report/ (so REPORT.md never shows a stale picture); a missing server, a
design without a picture and a pointer to a function the sources lack are clear errors.

    tests/diagrams_test.py BIN_DIR        (ctest passes CMAKE_RUNTIME_OUTPUT_DIRECTORY)
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin")
SCRIPT = os.path.join(ROOT, "plots", "diagrams.py")
COMMITTED = os.path.join(ROOT, "plots", "report")
NS = "{http://www.w3.org/2000/svg}"
OTHERS = {"diagram-legend.svg", "fdpass-sequence.svg", "wait-queues.svg"}
URING = {"uring", "uring-msgring"}  # drawn before the design table lists them
# The widest a Markdown image (no width given) is shown in GitHub's column.
COLUMN_PX = 800

spec = importlib.util.spec_from_file_location("diagrams", SCRIPT)
diagrams = importlib.util.module_from_spec(spec)
spec.loader.exec_module(diagrams)


def run(*args):
    return subprocess.run(["/usr/bin/python3", SCRIPT, *args], capture_output=True, text=True,
                          timeout=60)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Diagrams(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="diagrams_test-")
        cls.outs = [os.path.join(cls.tmp, k) for k in ("first", "second")]
        for out in cls.outs:
            p = run("--bin", BIN_DIR, "--out", out)
            assert p.returncode == 0, p.stderr
        listed = subprocess.run([os.path.join(BIN_DIR, "tcplab-server"), "--list", "--json"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
        cls.designs = json.loads(listed)["designs"]
        cls.written = sorted(os.listdir(cls.outs[0]))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def svg(self, name):
        return ET.parse(os.path.join(self.outs[0], name)).getroot()

    def test_one_diagram_per_design_and_the_three_others(self):
        names = {d["name"] for d in self.designs} | URING
        self.assertGreaterEqual(len(self.designs), 13)
        self.assertEqual(set(self.written), {f"design-{n}.svg" for n in names} | OTHERS)

    def test_each_is_an_svg_whose_parts_lie_inside_it(self):
        for name in self.written:
            with self.subTest(name=name):
                root = ET.parse(os.path.join(self.outs[0], name)).getroot()
                self.assertEqual(root.tag, f"{NS}svg")
                w, h = float(root.get("width")), float(root.get("height"))
                self.assertEqual(root.get("viewBox"), f"0 0 {root.get('width')} {root.get('height')}")
                self.assertTrue(root.find(f"{NS}title").text)
                points = []
                for el in root.iter(f"{NS}rect"):
                    x, y = float(el.get("x")), float(el.get("y"))
                    points += [(x, y), (x + float(el.get("width")), y + float(el.get("height")))]
                for el in root.iter(f"{NS}circle"):
                    cx, cy, r = (float(el.get(k)) for k in ("cx", "cy", "r"))
                    points += [(cx - r, cy - r), (cx + r, cy + r)]
                for el in root.iter(f"{NS}line"):
                    points += [(float(el.get(f"x{i}")), float(el.get(f"y{i}"))) for i in (1, 2)]
                for el in root.iter(f"{NS}polygon"):
                    points += [tuple(map(float, p.split(","))) for p in el.get("points").split()]
                for x, y in points:
                    self.assertTrue(-0.01 <= x <= w + 0.01 and -0.01 <= y <= h + 0.01, (x, y))
                for el in root.iter(f"{NS}text"):
                    self.assertTrue(el.text, el.attrib)
                    x, y = float(el.get("x")), float(el.get("y"))
                    width = diagrams.text_width(el.text, *diagrams.font_of(el.get("class")))
                    left = {"start": x, "middle": x - width / 2, "end": x - width}[
                        el.get("text-anchor", "start")]
                    self.assertGreaterEqual(left, -0.01, (name, el.text))
                    self.assertLessEqual(left + width, w + 0.01, (name, el.text))
                    self.assertLessEqual(y, h, (name, el.text))

    def test_a_design_diagram_names_its_design(self):
        for d in self.designs:
            with self.subTest(design=d["name"]):
                root = self.svg(f"design-{d['name']}.svg")
                self.assertTrue(root.find(f"{NS}title").text.startswith(f"{d['name']} ("))
                texts = [t.text for t in root.iter(f"{NS}text")]
                self.assertEqual(texts[0], d["name"])
                self.assertEqual(texts[1], f"UNP {d['unp']}" if d["unp"] else "beyond ch. 30")

    def test_text_is_legible_at_the_width_report_shows_it(self):
        """REPORT.md shows a design diagram 360 px wide (<img width="360">) and the wide ones as
        Markdown images, at most a column wide: no text may come out under 11 px."""
        with open(os.path.join(ROOT, "REPORT.md"), encoding="utf-8") as f:
            report = f.read()
        shown = {}
        for m in re.finditer(r'<img src="plots/report/([^"]+\.svg)"[^>]*?width="(\d+)"', report):
            shown[m.group(1)] = float(m.group(2))
        for m in re.finditer(r"!\[[^\]]*\]\(plots/report/([^)]+\.svg)\)", report):
            shown.setdefault(m.group(1), None)
        self.assertEqual(set(self.written) - set(shown), set(), "diagrams REPORT.md does not show")
        for name in self.written:
            with self.subTest(name=name):
                root = self.svg(name)
                width = float(root.get("width"))
                scale = min(1.0, (shown[name] or COLUMN_PX) / width)
                smallest = min(diagrams.font_of(t.get("class"))[0] for t in root.iter(f"{NS}text"))
                self.assertGreaterEqual(smallest * scale, 11, f"{name}: text {smallest} units "
                                        f"in {width:g} shown {shown[name] or 'a column'} wide")

    def test_one_waiter_is_woken_where_the_kernel_or_a_lock_picks_one(self):
        for d in self.designs:
            if d["accepts"] == "workers" and d["workers"] != "none":
                with self.subTest(design=d["name"]):
                    rects = self.svg(f"design-{d['name']}.svg").iter(f"{NS}rect")
                    woken = [r for r in rects if r.get("class") == "woken"]
                    expected = 4 if d["name"] == "prefork-epoll-exclusive" else 1
                    self.assertEqual(len(woken), expected)

    def green_widths(self, root):
        return [float(el.get("stroke-width")) for el in root.iter(f"{NS}line")
                if el.get("stroke") == diagrams.COLOURS["g"]]

    def test_epollexclusive_is_a_staircase_and_accept_one_arrow(self):
        widths = self.green_widths(self.svg("design-prefork-epoll-exclusive.svg"))
        self.assertEqual(len(widths), 4)
        self.assertEqual(widths, sorted(widths, reverse=True))
        self.assertGreater(widths[0], 3 * widths[-1])
        bars = [float(r.get("width")) for r in
                self.svg("design-prefork-epoll-exclusive.svg").iter(f"{NS}rect")
                if r.get("class") == "bar"]
        self.assertEqual(len(bars), 4)
        self.assertEqual(bars, sorted(bars, reverse=True))
        self.assertGreater(bars[0], 3 * bars[-1])
        self.assertEqual(len(self.green_widths(self.svg("design-prefork.svg"))), 1)

    def test_reuseport_says_reciprocal_scale_not_mod(self):
        for name in ("wait-queues.svg", "design-prefork-reuseport.svg"):
            with self.subTest(name=name):
                text = read(os.path.join(self.outs[0], name)).decode()
                self.assertIn("reciprocal_scale(hash, 4)", text)
                self.assertNotIn("mod 4", text)

    def test_fd_passing_shows_the_hand_off_and_done(self):
        root = self.svg("design-prefork-fdpass.svg")
        texts = " ".join(t.text for t in root.iter(f"{NS}text"))
        for word in ("parent", "sendmsg(SCM_RIGHTS)", "fd", '"done"', "socketpair"):
            self.assertIn(word, texts)
        passed = [el for el in root.iter(f"{NS}line") if el.get("stroke") == diagrams.COLOURS["t"]]
        self.assertEqual(len(passed), 2)  # the descriptor one way, "done" the other

    def test_the_kernel_sources_are_cited(self):
        text = read(os.path.join(self.outs[0], "wait-queues.svg")).decode()
        for where in ("inet_csk_wait_for_connect", "prepare_to_wait_exclusive", "ep_poll_callback",
                      "EPOLLEXCLUSIVE", "net/core/sock_reuseport.c", "inet_lookup_reuseport",
                      "reciprocal_scale()"):
            self.assertIn(where, text)
        text = read(os.path.join(self.outs[0], "fdpass-sequence.svg")).decode()
        for call in ("accept4(listener)", "SCM_RIGHTS", "close(conn)", "MSG_CMSG_CLOEXEC",
                     "serve_connection(conn)", "send(channel, Done{id})", "common/fdpass.cpp"):
            self.assertIn(call, text)

    def test_a_second_run_writes_the_same_bytes(self):
        for name in self.written:
            with self.subTest(name=name):
                self.assertEqual(read(os.path.join(self.outs[0], name)),
                                 read(os.path.join(self.outs[1], name)))

    def test_the_committed_files_are_current(self):
        stale = {n for n in os.listdir(COMMITTED) if n.endswith(".svg") and
                 (n.startswith("design-") or n in OTHERS)} - set(self.written)
        self.assertEqual(stale, set(), "committed diagrams no design has any more")
        for name in self.written:
            with self.subTest(name=name):
                committed = os.path.join(COMMITTED, name)
                self.assertTrue(os.path.exists(committed), f"{name} is not committed: run "
                                "plots/diagrams.py and commit plots/report/")
                self.assertEqual(read(committed), read(os.path.join(self.outs[0], name)),
                                 f"plots/report/{name} is stale: run plots/diagrams.py")

    def test_a_missing_server_is_a_clear_error(self):
        out = os.path.join(self.tmp, "none")
        p = run("--bin", os.path.join(self.tmp, "no-such-dir"), "--out", out)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("tcplab-server not found or not executable", p.stderr)
        self.assertIn("--bin DIR", p.stderr)
        self.assertFalse(os.path.exists(out))

    def test_a_pointer_to_a_missing_function_or_file_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "paradigms/prefork.cpp has no function no_such"):
            diagrams.checked([("paradigms/prefork.cpp", ["run_prefork", "no_such"])])
        with self.assertRaisesRegex(ValueError, "paradigms/nothing.cpp: no such file"):
            diagrams.checked([("paradigms/nothing.cpp", ["run_nothing"])])
        pointers = [("paradigms/prefork.cpp", ["run_prefork", "run_prefork_with"])]
        self.assertEqual(diagrams.checked(pointers), pointers)

    def test_a_design_without_a_picture_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "design odd: no picture"):
            diagrams.files(self.designs + [dict(self.designs[0], name="odd")])


if __name__ == "__main__":
    unittest.main()
