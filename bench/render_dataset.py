"""Write the deterministic whisper dataset for the render benchmark (bench/render_bench.py).

    python3 bench/render_dataset.py DIR [--workers 2]      # prints END

10,000 metrics shaped like statsd timers,
    stats.timers.app.server_NN.api.endpoint_NNN.{mean,upper_90,count,sum}
(10 servers x 250 endpoints x 4), retention 10s:1d,1m:7d, one day of 10s points ending at END
(8,640 per metric), and the 1m archive rolled up from them as carbon/whisper would (average,
xFilesFactor 0.5).  `stats.timers.app.server_00.api.*` is the wide level (250 children) and
`stats.timers.app.*.api.*.mean` the deep wildcard (2,500 paths).

Speed: each file is made by `whisper.create`, then both archives are written in one write
each as whisper's on-disk records (big-endian uint32 timestamp + float64 value) at the offsets
`whisper.info` reports, slot 0 holding the oldest point; going through `update_many` would
take ~75 ms a file.  `verify()` checks one file against `update_many` on the same points.
DIR/.statsgraph_bench.json (hidden: finders skip it) records END and the layout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import whisper

END = 1_699_999_200                # 2023-11-14 22:00:00 UTC; requests pin now=END
STEP, POINTS = 10, 8640            # 10s:1d
ROLL_STEP, ROLL_POINTS = 60, 10080  # 1m:7d
SERVERS, ENDPOINTS = 10, 250
LEAVES = ("mean", "upper_90", "count", "sum")
SEED = 1700
META_FILE = ".statsgraph_bench.json"
RECORD = np.dtype([("t", ">u4"), ("v", ">f8")])


def metric_names() -> list[str]:
    return [f"stats.timers.app.server_{s:02d}.api.endpoint_{e:03d}.{leaf}"
            for s in range(SERVERS) for e in range(ENDPOINTS) for leaf in LEAVES]


def timer_values(index: int) -> dict[str, np.ndarray]:
    """statsd-like values for one (server, endpoint): a daily wave plus noise."""
    rng = np.random.default_rng([SEED, index])
    t = np.arange(POINTS)
    base = 20 + 10 * np.sin(2 * np.pi * t / POINTS + index % 7)
    mean = np.round(base * rng.lognormal(0, 0.25, POINTS), 3)
    upper = np.round(mean * (1.5 + rng.random(POINTS)), 3)
    count = rng.poisson(30 + 20 * (1 + np.sin(2 * np.pi * t / POINTS)), POINTS).astype(float)
    return {"mean": mean, "upper_90": upper, "count": count, "sum": np.round(mean * count, 3)}


def rollup(stamps: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 1m archive whisper's propagation builds: average of the 10s points of each
    minute, kept only when at least half of that minute's points are known."""
    buckets = stamps - stamps % ROLL_STEP
    uniq, inverse, counts = np.unique(buckets, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=values)
    keep = counts / (ROLL_STEP // STEP) >= 0.5
    return uniq[keep], (sums / counts)[keep]


def write_file(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    whisper.create(str(path), [(STEP, POINTS), (ROLL_STEP, ROLL_POINTS)],
                   xFilesFactor=0.5, aggregationMethod="average")
    archives = whisper.info(str(path))["archives"]
    stamps = END - (POINTS - 1 - np.arange(POINTS)) * STEP
    with open(path, "r+b") as fh:
        for archive, (ts, vs) in zip(archives, ((stamps, values), rollup(stamps, values)),
                                     strict=True):
            records = np.zeros(archive["points"], dtype=RECORD)
            records["t"][: len(ts)] = ts
            records["v"][: len(vs)] = vs
            fh.seek(archive["offset"])
            fh.write(records.tobytes())


def write_group(args: tuple[str, int]) -> int:
    root, index = args
    server, endpoint = divmod(index, ENDPOINTS)
    folder = Path(root, "stats", "timers", "app", f"server_{server:02d}", "api",
                  f"endpoint_{endpoint:03d}")
    for leaf, values in timer_values(index).items():
        write_file(folder / f"{leaf}.wsp", values)
    return len(LEAVES)


def verify(root: Path) -> None:
    """Our direct writes must read back exactly as whisper's own update_many would."""
    name = metric_names()[0]
    ours = Path(root, *name.split(".")).with_suffix(".wsp")
    values = timer_values(0)[name.rsplit(".", 1)[1]]
    stamps = END - (POINTS - 1 - np.arange(POINTS)) * STEP
    with tempfile.TemporaryDirectory() as tmp:
        ref = Path(tmp, "ref.wsp")
        whisper.create(str(ref), [(STEP, POINTS), (ROLL_STEP, ROLL_POINTS)],
                       xFilesFactor=0.5, aggregationMethod="average")
        whisper.update_many(str(ref), list(zip(stamps.tolist(), values.tolist(), strict=True)),
                            now=END)
        for frm in (END - 86400, END - 7 * 86400, END - 3 * 3600):
            a = whisper.fetch(str(ours), frm, END, now=END)
            b = whisper.fetch(str(ref), frm, END, now=END)
            if a != b:
                raise RuntimeError(f"direct write differs from update_many from {frm}")


def build(root: Path, workers: int = 2, log=print) -> dict:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    jobs = [(str(root), i) for i in range(SERVERS * ENDPOINTS)]
    with multiprocessing.Pool(workers) as pool:
        written = sum(pool.imap_unordered(write_group, jobs, chunksize=25))
    verify(root)
    meta = {"END": END, "metrics": written, "retention": "10s:1d,1m:7d",
            "points_per_metric": POINTS, "wide_level": "stats.timers.app.server_00.api.*",
            "deep_wildcard": "stats.timers.app.*.api.*.mean", "seed": SEED}
    (root / META_FILE).write_text(json.dumps(meta, indent=1) + "\n")
    log(f"{written} metrics in {time.perf_counter() - started:.1f}s under {root}",
        file=sys.stderr)
    return meta


def read_meta(root: Path) -> dict | None:
    path = Path(root) / META_FILE
    return json.loads(path.read_text()) if path.exists() else None


def main() -> int:
    ap = argparse.ArgumentParser(description="write the render benchmark's whisper dataset")
    ap.add_argument("dir", type=Path)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    meta = build(args.dir, args.workers)
    print(meta["END"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
