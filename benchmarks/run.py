"""`make bench`: every speed and memory figure, side by side with the naive way."""

import importlib
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))

SUITES = ["bench_core", "bench_analysis", "bench_network", "bench_widgets", "bench_live", "bench_browser", "bench_hub"]

if __name__ == "__main__":
    for name in SUITES:
        if not (pathlib.Path(__file__).parent / f"{name}.py").exists():
            continue
        importlib.import_module(name).main()
