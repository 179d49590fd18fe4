"""The request corpus (tests/corpus/bad_requests.txt), read as tests/support/corpus.hpp reads
it: each case's decoded input and the exact bytes the server answers with. The parity test
(tests/python/test_corpus_parity.py) checks that both readers agree case by case.
"""

import os

from . import ROOT

CORPUS = os.path.join(ROOT, "tests", "corpus", "bad_requests.txt")

REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           413: "Content Too Large", 431: "Request Header Fields Too Large",
           505: "HTTP Version Not Supported"}


def _decode_one(s, i):
    if s[i] != "\\":
        return s[i].encode("latin-1"), i + 1
    if i + 1 >= len(s):
        raise ValueError("lone backslash at the end")
    c = s[i + 1]
    simple = {"n": b"\n", "r": b"\r", "t": b"\t", "0": b"\0", "\\": b"\\"}
    if c in simple:
        return simple[c], i + 2
    if c == "x":
        digits = s[i + 2:i + 4]
        if len(digits) != 2 or any(ch not in "0123456789abcdefABCDEF" for ch in digits):
            raise ValueError("\\x needs two hex digits")
        return bytes([int(digits, 16)]), i + 4
    raise ValueError(f"unknown escape \\{c}")


def decode_escapes(s):
    """The corpus's escapes: \\n \\r \\t \\0 \\\\ \\xHH, and \\{N}c for N copies of c."""
    out, i = bytearray(), 0
    while i < len(s):
        if s.startswith("\\{", i):
            close = s.find("}", i)
            if close < 0 or close + 1 >= len(s):
                raise ValueError("\\{N} needs a count and a character after it")
            n = int(s[i + 2:close])
            one, i = _decode_one(s, close + 1)
            out += one * n
        else:
            one, i = _decode_one(s, i)
            out += one
    return bytes(out)


def body(n):
    """The body byte k of every answer: '0' + k % 10."""
    return (b"0123456789" * (n // 10 + 1))[:n]


def render(answer):
    """(bytes the server sends, whether it then closes, whether it then waits: MORE)."""
    w = answer.split()
    if w[0] == "MORE":
        return b"", False, True
    if w[0] == "OK":
        return body(int(w[1])), False, False
    if w[0] == "ERR":
        return ("ERR " + answer[4:] + "\n").encode(), True, False
    status = int(w[1])
    if status == 200:
        n, flags = int(w[2]), w[3:]
        head = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Length: {n}\r\n")
        if "close" in flags:
            head += "Connection: close\r\n"
        if "http10-keep-alive" in flags:
            head += "Connection: keep-alive\r\n"
        data = (head + "\r\n").encode() + (b"" if "head" in flags else body(n))
        return data, "close" in flags or "http10" in flags, False
    reason = answer.split(" ", 2)[2]
    out = (f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: text/plain\r\n"
           f"Content-Length: {len(reason) + 1}\r\n")
    if status == 405:
        out += "Allow: GET, HEAD\r\n"
    return (out + "Connection: close\r\n\r\n" + reason + "\n").encode(), True, False


def load_corpus(path=CORPUS):
    """[{name, input, expect, closes, more, max_bytes, line}] from the corpus file."""
    cases, max_bytes = [], 1 << 20
    with open(path, encoding="latin-1", newline="\n") as f:
        for lineno, text in enumerate(f, 1):
            text = text.rstrip("\n")
            if not text or text.startswith("#"):
                continue
            if text.startswith("@max-bytes "):
                max_bytes = int(text.split()[1])
                continue
            name, raw, answers = text.split("\t")
            expect, closes, more = b"", False, False
            for a in answers.split(" ; "):
                data, closes, more = render(a)
                expect += data
            cases.append({"name": name, "input": decode_escapes(raw), "expect": expect,
                          "closes": closes, "more": more, "max_bytes": max_bytes,
                          "line": lineno})
    return cases
