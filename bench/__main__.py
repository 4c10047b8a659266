"""`python -m bench` (make bench): run every benchmark module in bench/ (but BY_NAME_ONLY) and print their figures.
`python -m bench bench_web bench_train_load` runs only those named."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench

BY_NAME_ONLY = {"bench_train_load"}
"""Run only when named (`python -m bench bench_train_load`): two training jobs take minutes on 2 cores."""


def main(argv: list[str]) -> int:
    wanted = set(argv)
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_"))
    failed = []
    for name in names:
        if (wanted and name not in wanted) or (not wanted and name in BY_NAME_ONLY):
            continue
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main()
        except Exception as exc:  # one benchmark failing must not hide the others' figures
            failed.append(name)
            print(f"FAILED: {type(exc).__name__}: {exc}")
        print(f"({name}: {time.perf_counter() - start:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
