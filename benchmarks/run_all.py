#!/usr/bin/env python
"""The whole benchmark as one command: epoch_speed.py, sweep_speed.py, conv_speed.py and time_to_accuracy.py in turn.

Each script runs in its own process (so that memory figures are the script's own), prints its
tables as it goes, and this driver adds the wall time of each and of the whole run at the end.
Options after the script's own are passed to all four (``--quick`` is understood by each).

Usage, from the repository root::

    python benchmarks/run_all.py            # everything: about 6-10 minutes on 2 cores
    python benchmarks/run_all.py --quick    # a rough version in about 2-3 minutes
    python benchmarks/run_all.py --json-dir results/   # also each script's figures as JSON
    python benchmarks/run_all.py --variants  # also where the time goes: epoch_speed.py's variants
                                             # and conv_profile.py after conv_speed.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ("epoch_speed.py", "sweep_speed.py", "conv_speed.py", "time_to_accuracy.py")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="each script's quick, rough mode")
    ap.add_argument(
        "--variants",
        action="store_true",
        help="also where the time goes: epoch_speed.py's variants, and conv_profile.py (one conv-net step, operation by operation)",
    )
    ap.add_argument("--json-dir", help="write each script's figures to DIR/<script>.json (all but conv_speed.py)")
    args = ap.parse_args(argv)
    if args.json_dir:
        os.makedirs(args.json_dir, exist_ok=True)
    walls, failed = [], []
    start_all = time.perf_counter()
    scripts = list(SCRIPTS)
    if args.variants:
        scripts.insert(scripts.index("conv_speed.py") + 1, "conv_profile.py")
    for script in scripts:
        quick = ["--quick"] if script != "conv_profile.py" else ["--batches", "50"]
        cmd = [sys.executable, os.path.join(HERE, script)] + (quick if args.quick else [])
        if args.variants and script == "epoch_speed.py":
            cmd.append("--variants")
        if args.json_dir and script not in ("conv_speed.py", "conv_profile.py"):
            cmd += ["--json", os.path.join(args.json_dir, script.replace(".py", ".json"))]
        print(f"\n# {script}\n", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=os.path.dirname(HERE))
        walls.append((script, time.perf_counter() - start, code))
        if code:
            failed.append(script)
    total = time.perf_counter() - start_all
    print("\n# Wall time\n\n| script | seconds | exit status |\n|---|---:|---:|")
    for script, wall, code in walls:
        print(f"| {script} | {wall:.0f} | {code} |")
    print(f"| all | {total:.0f} | {'failed: ' + ', '.join(failed) if failed else 0} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
