"""The tcplab suite as a package; `bench/suite.py` is its entry point.

    core       one Server, one load runner, one Step with one error policy, the results writer
    procfs     one /proc walker: a process tree's children, descriptors, RSS, CPU
    designs    the design table, from `tcplab-server --list --json`, and the sets derived from it
    corpus     the request corpus decoder (tests/corpus/*.txt; the same as tests/support/corpus.hpp)
    summary    summary.md, drawn through each workload's summary()
    workloads  one module per workload behind one protocol, and the one registry

Imports go one way: workloads -> core, procfs, designs (and stats, procstat); summary ->
workloads; nothing imports summary or suite.py back.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
