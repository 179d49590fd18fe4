"""The suite's two nginx configurations (bench/tcplab_suite/nginx.py), each started as the suite
starts it but under `strace -f`, 20 connections of one request each: the default opens and
pread()s the file for every request and never calls sendfile(); the tuned one opens it at most
once per worker, never reads it, and sends every body with sendfile(); its workers are each
bound to one CPU, the default's may run on any. Every body is checked byte for byte, and no
nginx process is left. Needs /usr/sbin/nginx and a strace that may trace here, else exits 77
(ctest: skipped)."""

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import types
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
from tcplab_suite import nginx  # noqa: E402

SKIP = 77
REQUESTS = 20
NBYTES = 4000
WORKERS = 2
BODY = "".join(str(k % 10) for k in range(NBYTES)).encode()
TRACED = "openat,open,pread64,read,sendfile,writev"


def get(port):
    """One HTTP/1.0 request on its own connection: (status line, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET /{NBYTES} HTTP/1.0\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


def counts(trace, path):
    """Calls on the served file in `strace -f -y` output (-y names each descriptor's file):
    opens of `path`, and pread64s and sendfiles from it. Each call counts once: an interrupted
    call's "resumed" line does not start with its name."""
    with open(trace) as f:
        text = f.read()
    p = re.escape(path)
    return {"open": len(re.findall(r"\bopen(?:at)?\([^\n]*\"" + p + "\"", text)),
            "pread64": len(re.findall(r"\bpread64\(\d+<" + p + ">", text)),
            "sendfile": len(re.findall(r"\bsendfile(?:64)?\(\d+<[^\n]*?, \d+<" + p + ">", text))}


def alive(pid):
    return os.path.exists(f"/proc/{pid}")


class TwoConfigurations(unittest.TestCase):
    def serve(self, name):
        """nginx in configuration `name` under strace: REQUESTS requests; returns the counts of
        its calls, each worker's CPU set, and the pids it ran as."""
        cpus = sorted(os.sched_getaffinity(0))[:WORKERS]
        ctx = types.SimpleNamespace(server_pin=None, server_cpus=cpus)
        with tempfile.TemporaryDirectory() as tmp:
            trace = os.path.join(tmp, "strace.out")
            strace = ["strace", "-f", "-qq", "-y", "-o", trace, "-e", f"trace={TRACED}"]
            srv = nginx.Nginx(ctx, WORKERS, NBYTES, name, wrap=strace)
            with srv:
                for _ in range(REQUESTS):
                    status, body = get(srv.port)
                    self.assertIn(b" 200 ", status)
                    self.assertEqual(body, BODY)
                master, workers = srv.master_pid(), srv.worker_pids()
                self.assertEqual(len(workers), WORKERS)
                # A worker binds itself as it starts; wait (bounded) for the last to have done so.
                want = sorted(({cpus[i % len(cpus)]} for i in range(WORKERS)), key=min)
                deadline = time.monotonic() + 10
                while True:
                    sets = sorted((os.sched_getaffinity(w) for w in workers), key=min)
                    if name != nginx.TUNED or sets == want or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                path = f"{srv.dir}/html/{NBYTES}"
            self.assertEqual(srv.exit, 0, "strace (and nginx under it) did not exit 0")
            for pid in [master] + workers:
                self.assertFalse(alive(pid), f"nginx process {pid} left behind")
            return counts(trace, path), sets, want

    def test_default_opens_and_reads_the_file_per_request(self):
        c, sets, _ = self.serve(nginx.NAME)
        self.assertGreaterEqual(c["open"], REQUESTS, c)
        self.assertGreaterEqual(c["pread64"], REQUESTS, c)
        self.assertEqual(c["sendfile"], 0, c)
        for s in sets:  # no affinity of its own: what this process may run on
            self.assertEqual(s, os.sched_getaffinity(0))

    def test_tuned_opens_once_per_worker_and_sends_with_sendfile(self):
        c, sets, want = self.serve(nginx.TUNED)
        self.assertGreaterEqual(c["open"], 1, c)
        self.assertLessEqual(c["open"], WORKERS, c)
        self.assertEqual(c["pread64"], 0, c)
        self.assertGreaterEqual(c["sendfile"], REQUESTS, c)
        self.assertEqual(sets, want)


def main():
    if not os.access(nginx.BINARY, os.X_OK):
        print(f"skipped: {nginx.BINARY} not found (apt-get install nginx-light)")
        return SKIP
    try:
        ok = subprocess.run(["strace", "-qq", "-o", "/dev/null", "true"], timeout=20,
                            capture_output=True).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        print("skipped: strace is missing or may not trace here")
        return SKIP

    def over_budget(signum, frame):
        raise TimeoutError("e2e_nginx: over its 60 s budget")
    signal.signal(signal.SIGALRM, over_budget)
    signal.alarm(60)
    prog = unittest.main(exit=False, verbosity=2)
    signal.alarm(0)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
