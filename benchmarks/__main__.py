"""`python -m benchmarks [OUT]`: every benchmark and its table (what `make bench` runs)."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import checkpoint, ingest, lambda_cold_start, lifecycle, routing, turn


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-results")
    for benchmark in (ingest, turn, checkpoint, routing, lambda_cold_start, lifecycle):
        print(f"\n=== {benchmark.__name__.split('.')[-1]} ===")
        benchmark.run(out)


if __name__ == "__main__":
    main()
