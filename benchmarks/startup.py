#!/usr/bin/env python3
"""Start-up latency of `geode --help` and of a completion request, against `python -c "import typer"`.

    python3 benchmarks/startup.py [--runs 15]

Prints the median wall time of each command (fresh process every run) and its ratio to the typer import
baseline. The commands take turns, round after round, so a machine whose load changes during the measurement
weighs on every command alike and the ratios stay fair. Targets: `geode --help` and one completion request
each under 0.3 s median (issue 8); `geode --help` at most 2.0x `import typer` (issue 15).

Completion requests measured:
* bash TAB on `geode gamit <TAB>`: the shipped script, sourced in a fresh bash, completes from its embedded
  tree (no Python at all); `bash -c true` is shown as its own floor;
* `geode completion stations`: the only completion that starts Python (station codes); measured with no
  database running, the state in which it must return at once without starting the embedded server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET = 0.3
HELP_RATIO = 2.0


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env=env, check=True)
    return time.perf_counter() - start


def median_walls(cmds: list[list[str]], runs: int, env: dict[str, str]) -> list[float]:
    """Median wall time of each command, the commands taking turns round after round."""
    for cmd in cmds:  # warm the page cache once
        wall(cmd, env)
    times: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            times[i].append(wall(cmd, env))
    return [statistics.median(t) for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from tests.fixtures.services import clear_isolated_env

    scratch = tempfile.mkdtemp(prefix="geode-bench-")
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):  # no user config, no embedded DB
        env[var] = os.path.join(scratch, var.lower())
    clear_isolated_env(env)
    env["PYTHONDONTWRITEBYTECODE"] = "0"

    geode = shutil.which("geode")
    entry = [geode] if geode else [sys.executable, "-m", "geode_cli"]
    bash_tab = ["bash", "--norc", "-c", f'source "{ROOT / "completions" / "geode.bash"}"; '
                'COMP_WORDS=(geode gamit ""); COMP_CWORD=2; _geode; [ ${#COMPREPLY[@]} -gt 0 ]']
    cases = [
        ('python -c "import typer"  (baseline)', [sys.executable, "-c", "import typer"]),
        ("python -m geode_cli --help", [sys.executable, "-m", "geode_cli", "--help"]),
        (f"{' '.join(entry)} --help  (console script)", entry + ["--help"]),
        ("bash -c true  (bash floor)", ["bash", "--norc", "-c", "true"]),
        ("bash TAB: geode gamit <TAB>", bash_tab),
        ("python -m geode_cli completion stations", [sys.executable, "-m", "geode_cli", "completion", "stations"]),
        (f"{' '.join(entry)} completion stations", entry + ["completion", "stations"]),
    ]
    print(f"median wall time over {args.runs} runs, commands taking turns (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cpus, load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])})")
    medians = median_walls([cmd for _, cmd in cases], args.runs, env)
    baseline = medians[0]
    for (label, _), seconds in zip(cases, medians):
        ratio = seconds / baseline
        if "baseline" in label or "floor" in label:
            verdict = ""
        else:
            verdict = "  ok" if seconds < TARGET else "  OVER 0.3 s"
            if "--help" in label:
                verdict += "; ratio ok" if ratio <= HELP_RATIO else f"; ratio OVER {HELP_RATIO}"
        print(f"  {label:<64} {seconds * 1000:7.1f} ms   x{ratio:5.2f} typer{verdict}")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
