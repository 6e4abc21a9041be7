"""The ceiling of the carbon ingest benchmark: a bare loop of whisper.update_many,
one call per metric with all its points, with nothing in front of it.

    PYTHON bench/carbon/ceiling.py --root DIR --metrics N --points P --base TS
                                   --marker M [--create] [--fallocate]

With --create every file is first made with whisper.create (archive list and
aggregation as in the benchmark's storage-schemas.conf / storage-aggregation.conf;
folders made as needed) and then written; without it the files must exist.  The points
and paths are built before the clock starts.  Prints one JSON object: seconds of the
loop, CPU seconds of this process during the loop, and its peak RSS.  Run in its own
process so that its CPU and memory are its own.  Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import whisper
from workload import ARCHIVES, Workload, metric_relpath


def vm_hwm_kb() -> int:
    """Peak RSS of this process image.  Not getrusage's ru_maxrss: Linux carries that
    over exec from the parent that forked us (the benchmark, with its payloads)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--metrics", type=int, required=True)
    p.add_argument("--points", type=int, required=True)
    p.add_argument("--base", type=int, required=True)
    p.add_argument("--marker", type=int, required=True)
    p.add_argument("--create", action="store_true")
    p.add_argument("--fallocate", action="store_true")
    args = p.parse_args()

    w = Workload(args.metrics, args.points, args.base, args.marker)
    points = w.per_metric_points()
    paths = [os.path.join(args.root, metric_relpath(i)) for i in range(w.metrics)]
    dirs = sorted({os.path.dirname(path) for path in paths})
    fallocate = bool(args.fallocate and whisper.CAN_FALLOCATE)
    create = whisper.create
    update_many = whisper.update_many

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    if args.create:
        made = set()
        for path in paths:
            d = os.path.dirname(path)
            if d not in made:
                os.makedirs(d, exist_ok=True)
                made.add(d)
            create(path, ARCHIVES, xFilesFactor=0.5, aggregationMethod="average",
                   sparse=False, useFallocate=fallocate)
            update_many(path, points)
    else:
        for path in paths:
            update_many(path, points)
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    peak_kb = vm_hwm_kb()
    json.dump({"seconds": elapsed, "cpu_s": cpu, "peak_rss_kb": peak_kb,
               "points": w.total, "files": len(paths), "dirs": len(dirs),
               "fallocate": fallocate, "whisper": getattr(whisper, "__version__", None),
               "python": sys.version.split()[0]}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
