"""pt_spark benchmarks: ``python benchmarks/run.py [--quick]`` (``make bench`` / ``make bench-quick``).

Not a test suite: it measures, compares each figure with a floor measured side by side in the same
run, and prints PASS/FAIL per target. See ``benchmarks/README.md`` for the method and the results.
"""
