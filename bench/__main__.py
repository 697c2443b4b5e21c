"""`python -m bench`: every benchmark, one table (see bench.suite)."""

from bench.suite import main

main()
