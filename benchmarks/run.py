"""Run every benchmark in turn (`make bench`); each prints its own measured rates.

Rates and ratios, not pass/fail: simulated cycles/s (SAT, RTL vs model), training
steps/s, FlightLLM end-to-end simulation time, PIUMA partial products/s, sweep design
points/s (bench_sweep.py).  Search quality against the full grid: bench_search.py.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
SCRIPTS = ("bench_sat.py", "bench_flightllm.py", "bench_piuma.py", "bench_rtl.py", "bench_sweep.py")


def main() -> int:
    worst = 0
    for name in SCRIPTS:
        print(f"== {name}", flush=True)
        worst = max(worst, subprocess.call([sys.executable, str(HERE / name)]))
    return worst


if __name__ == "__main__":
    sys.exit(main())
