#!/usr/bin/python3
"""plots/diagrams.py end to end: it runs twice into a temporary folder and writes one
design-NAME.svg per design of `tcplab-server --list --json` and nothing else of that name, the
legend, fdpass-sequence.svg and wait-queues.svg; each is a well-formed SVG whose every text and
shape lies inside its canvas; both runs write the same bytes, and those are the bytes committed
in plots/report/ (so REPORT.md never shows a stale picture); a missing server and a pointer to a
function the sources lack are clear errors.

    tests/diagrams_test.py BIN_DIR        (ctest passes CMAKE_RUNTIME_OUTPUT_DIRECTORY)
"""

import importlib.util
import json
import os
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

    def test_one_diagram_per_design_and_the_three_others(self):
        expected = {f"design-{d['name']}.svg" for d in self.designs} | OTHERS
        self.assertEqual(len(self.designs), 13)
        self.assertEqual(set(self.written), expected)

    def test_each_is_an_svg_whose_parts_lie_inside_it(self):
        for name in self.written:
            with self.subTest(name=name):
                root = ET.parse(os.path.join(self.outs[0], name)).getroot()
                self.assertEqual(root.tag, f"{NS}svg")
                w, h = float(root.get("width")), float(root.get("height"))
                self.assertEqual(root.get("viewBox"), f"0 0 {root.get('width')} {root.get('height')}")
                self.assertTrue(root.find(f"{NS}title").text)
                for el in root.iter(f"{NS}rect"):
                    x, y = float(el.get("x")), float(el.get("y"))
                    self.assertLessEqual(x + float(el.get("width")), w + 0.01, el.attrib)
                    self.assertLessEqual(y + float(el.get("height")), h + 0.01, el.attrib)
                for el in root.iter(f"{NS}text"):
                    self.assertTrue(el.text, el.attrib)
                    x, y = float(el.get("x")), float(el.get("y"))
                    width = diagrams.text_width(el.text, *diagrams.font_of(el.get("class")))
                    left = {"start": x, "middle": x - width / 2, "end": x - width}[
                        el.get("text-anchor", "start")]
                    self.assertGreaterEqual(left, -0.01, (name, el.text))
                    self.assertLessEqual(left + width, w + 0.01, (name, el.text))
                    self.assertLessEqual(y, h, (name, el.text))

    def test_a_design_diagram_names_its_design_and_its_sources(self):
        for d in self.designs:
            with self.subTest(design=d["name"]):
                root = ET.parse(os.path.join(self.outs[0], f"design-{d['name']}.svg")).getroot()
                self.assertTrue(root.find(f"{NS}title").text.startswith(f"{d['name']} ("))
                texts = [t.text for t in root.iter(f"{NS}text")]
                self.assertEqual(texts[0], d["name"])
                stem = d["name"].replace("-", "_")
                self.assertIn(f"paradigms/{stem}.cpp: run_{stem}", " ".join(texts))

    def test_the_kernel_sources_are_cited(self):
        text = read(os.path.join(self.outs[0], "wait-queues.svg")).decode()
        for where in ("inet_csk_wait_for_connect", "prepare_to_wait_exclusive", "ep_poll_callback",
                      "EPOLLEXCLUSIVE", "net/core/sock_reuseport.c", "inet_lookup_reuseport"):
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

    def test_a_design_whose_flags_fit_no_picture_is_an_error(self):
        odd = dict(self.designs[0], name="odd", workers="fibres")
        with self.assertRaisesRegex(ValueError, "odd"):
            diagrams.design_svg(odd)


if __name__ == "__main__":
    unittest.main()
