"""Benchmarks: ``python -m bench.<name>`` prints figures for this machine."""
