"""The user's whole path at scale: one ``emgame`` process reads an economy of 10⁶ consumer types
from Parquet, solves it, certifies it and writes the result (Parquet, or JSON).

    python benchmarks/output_scale.py                     # 10⁶ types → Parquet, 10⁵ → JSON
    python benchmarks/output_scale.py --types 100000 --json-types 10000   # smaller
    python benchmarks/output_scale.py --json results.json

The economy (seeded): T = 24; ``n`` consumer types with counts drawn uniformly from 1..50,
log-normal endowments ``ω = exp(N(0, 0.5²))`` and Dirichlet(1, …, 1) weights, every type ``ai``
and Cobb–Douglas; 50 producer types as in :func:`benchmarks.economies.scale_economy` (slack
capacity). The consumers are written as a Parquet table (weights as columns ``w1..w24``) beside
a TOML file that references it (``consumers_table``).

Each command runs as its own process, exactly as a user types it, after one warm-up solve of a
small example so that numba's compiled kernels are loaded from the cache (the first run after an
install compiles them, about two minutes, reported separately as ``warm-up``). Wall time is the
process's; CPU time (user + system, all threads) and peak memory (``ru_maxrss``) are its
``resource.RUSAGE_CHILDREN``, measured for each command alone by running it from a fresh helper
process. On a machine shared with other jobs the wall time grows with the load; the CPU time
much less.

Targets (issue 11): 10⁶ types from Parquet to Parquet in under 15 s and 6 GiB; ``--json`` of
10⁵ types in under 30 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T = 24
PRODUCERS = 50
WORK = Path(os.environ.get("TMPDIR", "/tmp")) / "emgame-output-scale"


def build(n: int, seed: int = 0):  # noqa: ANN201
    """The benchmark economy with ``n`` consumer types (see the module notes)."""
    import numpy as np
    from benchmarks.economies import _producers

    from emgame.model.economy import Economy, Market, Population

    rc, rp = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, n, 11]).spawn(2))
    count = rc.integers(1, 51, size=n).astype(float)
    cons = Population.from_arrays(
        names=[f"c{i}" for i in range(n)], count=count,
        weights=rc.dirichlet(np.ones(T), size=n), endowment=np.exp(rc.normal(0.0, 0.5, n)))
    omega = float(count @ cons.endowment)
    prod = _producers(rp, PRODUCERS, T, omega)
    return Economy(name=f"output-scale-{n}", periods=T, consumers=cons, producers=prod,
                   market=Market())


def write(n: int, folder: Path, seed: int = 0) -> Path:
    """The economy's TOML and Parquet files in ``folder``; the TOML's path."""
    from benchmarks.economies import write_consumer_table

    return write_consumer_table(build(n, seed), folder, fmt="parquet", weights="columns")


def measure(argv: list[str]) -> dict:
    """Run ``argv`` in a fresh process and return its wall time, peak RSS and exit code."""
    code = ("import json, resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
            "stderr=subprocess.PIPE, text=True)\n"
            "wall = time.perf_counter() - t\n"
            "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
            "print(json.dumps({'seconds': wall, 'cpu_seconds': u.ru_utime + u.ru_stime, "
            "'peak_mib': u.ru_maxrss / 1024, 'exit': p.returncode, "
            "'stderr': p.stderr[-2000:]}))\n")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def emgame() -> str:
    exe = Path(sys.executable).parent / "emgame"
    return str(exe) if exe.exists() else "emgame"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--types", type=int, default=1_000_000,
                    help="consumer types for the Parquet → Parquet run")
    ap.add_argument("--json-types", type=int, default=100_000,
                    help="consumer types for the Parquet → JSON run (0: skip)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=WORK)
    ap.add_argument("--json", type=Path, help="also write the measurements here")
    args = ap.parse_args(argv)

    args.workdir.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    t = time.perf_counter()
    warm = measure([emgame(), "solve", str(ROOT / "examples" / "ai_solar_day.toml"), "-q"])
    rows.append({"what": "warm-up: solve ai_solar_day.toml (loads or compiles the kernels)",
                 **warm})
    print(f"warm-up {warm['seconds']:.1f} s", flush=True)

    runs = [(args.types, "parquet")]
    if args.json_types:
        runs.append((args.json_types, "json"))
    for n, fmt in runs:
        folder = args.workdir / f"n{n}"
        t = time.perf_counter()
        toml = write(n, folder, args.seed)
        made = time.perf_counter() - t
        target = folder / f"result.{fmt}"
        target.unlink(missing_ok=True)
        cmd = [emgame(), "solve", str(toml), "--out", str(target), "-q"]
        r = measure(cmd)
        size = target.stat().st_size if target.exists() else 0
        check = verify(target, n) if target.exists() else "no output"
        rows.append({"what": f"{n:,} consumer types (+{PRODUCERS} producers), Parquet in, "
                             f"{fmt} out", "types": n, "format": fmt,
                     "command": " ".join(["emgame", "solve", toml.name, "--out", target.name,
                                          "-q"]),
                     "economy_written_s": made, "output_mib": size / 2**20, "check": check, **r})
        print(f"{n:>9,} types → {fmt}: {r['seconds']:.1f} s wall ({r['cpu_seconds']:.1f} s CPU), "
              f"peak {r['peak_mib'] / 1024:.2f} GiB, exit {r['exit']}, output "
              f"{size / 2**20:.0f} MiB; {check}; load average {os.getloadavg()[0]:.1f}",
              flush=True)
        if r["exit"] != 0:
            print(r["stderr"], file=sys.stderr)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.machine(),
            "cpus": os.cpu_count(), "load_average": os.getloadavg(), "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(meta, indent=2))
    return 0 if all(r.get("exit") == 0 for r in rows) else 1


def verify(path: Path, n: int) -> str:
    """A short check that the output holds every type and an equilibrium."""
    if path.suffix == ".json":
        with open(path, "rb") as fh:
            d = json.load(fh)
        return f"status {d['status']}, {len(d['consumers']):,} consumer rows"
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    summary = json.loads(f.schema_arrow.metadata[b"emgame"])
    return (f"status {summary['status']}, {f.metadata.num_rows:,} rows, "
            f"{f.metadata.num_columns} columns")


if __name__ == "__main__":
    sys.exit(main())
