"""The chart modules of plots/ that a workload names in CHARTS, imported only when drawn (the
suite runs without matplotlib until it draws). Not a workload: the registry lists it nowhere."""

import importlib
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def chart_module(name):
    """plots/NAME.py as a module."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    return importlib.import_module(f"plots.{name}")
