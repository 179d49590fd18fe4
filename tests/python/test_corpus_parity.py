"""The Python corpus reader (bench/tcplab_suite/corpus.py) and tests/support/corpus.hpp read
tests/corpus/bad_requests.txt the same way: the same cases, in order, each with the same
decoded input, the same expected bytes, the same --max-bytes and the same ending.

ctest (python_unit) passes the C++ side, tests/python/corpus_dump.cpp, as TCPLAB_CORPUS_DUMP.
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import corpus  # noqa: E402

DUMP = os.environ.get("TCPLAB_CORPUS_DUMP")


def cpp_cases(path):
    out = subprocess.run([DUMP, path], capture_output=True, text=True, check=True, timeout=30)
    cases = []
    for line in out.stdout.splitlines():
        name, max_bytes, closes, more, data, expect = line.split("\t")
        cases.append({"name": name, "max_bytes": int(max_bytes), "closes": closes == "1",
                      "more": more == "1", "input": bytes.fromhex(data),
                      "expect": bytes.fromhex(expect)})
    return cases


def py_cases(path):
    keys = ("name", "max_bytes", "closes", "more", "input", "expect")
    return [{k: c[k] for k in keys} for c in corpus.load_corpus(path)]


@unittest.skipUnless(DUMP, "TCPLAB_CORPUS_DUMP (the corpus_dump program) is not set; ctest sets it")
class CorpusParity(unittest.TestCase):
    def test_both_readers_agree_case_by_case(self):
        cpp, py = cpp_cases(corpus.CORPUS), py_cases(corpus.CORPUS)
        self.assertGreater(len(py), 20)
        self.assertEqual([c["name"] for c in py], [c["name"] for c in cpp])
        for a, b in zip(py, cpp):
            self.assertEqual(a, b, a["name"])

    def test_every_escape_and_answer_kind_is_compared(self):
        # A corpus of our own, so that each escape and answer form is covered even if the
        # real corpus stops using one.
        text = ("@max-bytes 100\n"
                "esc\t\\n\\r\\t\\0\\\\\\x7f\\{3}a\\{2}\\x00\tMORE\n"
                "ok\t5\\n\tOK 5\n"
                "err\tx\\n\tERR bad number\n"
                "http\tGET /3 HTTP/1.1\\r\\n\\r\\n\tHTTP 200 3 ; MORE\n"
                "head\tHEAD /3 HTTP/1.0\\r\\n\\r\\n\tHTTP 200 3 head http10\n"
                "ka\tGET /2 HTTP/1.0\\r\\nConnection: keep-alive\\r\\n\\r\\n\tHTTP 200 2 http10-keep-alive\n"
                "close\tGET /1 HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n\tHTTP 200 1 close\n"
                "e405\tPUT / HTTP/1.1\\r\\n\\r\\n\tHTTP 405 method not allowed\n")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(text)
        try:
            py, cpp = py_cases(f.name), cpp_cases(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(len(py), 8)
        self.assertEqual(py, cpp)
        self.assertEqual(py[0]["input"], b"\n\r\t\0\\\x7faaa\0\0")
        self.assertEqual(py[0]["max_bytes"], 100)


class DecoderErrors(unittest.TestCase):
    def test_malformed_escapes_are_named(self):
        for bad, message in (("\\q", "unknown escape \\q"), ("a\\", "lone backslash"),
                             ("\\xz1", "two hex digits"), ("\\{3}", "count and a character")):
            with self.assertRaises(ValueError) as e:
                corpus.decode_escapes(bad)
            self.assertIn(message, str(e.exception))


if __name__ == "__main__":
    unittest.main()
