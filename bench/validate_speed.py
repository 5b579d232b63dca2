"""Validation speed: 1,000 reports in one stacked GX run vs one report per run (extrapolated from 20).

Prints figures; asserts nothing. Run: .venv/bin/python bench/validate_speed.py
"""

from __future__ import annotations

import copy
import random
import sys
import time
from pathlib import Path
from typing import Any

from tasks.extract import extract_path

SAMPLES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "samples"
N_REPORTS = 1000
N_SINGLE = 20


def _samples() -> list[dict[str, Any]]:
    return [extract_path(next(p.glob("source.*"))).to_dict() for p in sorted(SAMPLES.iterdir()) if p.is_dir()]


def _vary(d: dict[str, Any], i: int, rng: random.Random) -> dict[str, Any]:
    """A copy with its own ids and, in one report of three, a printed count nudged (some identities fail)."""
    out = copy.deepcopy(d)
    out["report_id"], out["agency_id"] = f"R{i:05d}", f"A{i % 400:04d}"
    if i % 3 == 0:
        cells = [c for c in out["cells"] if c["status"] == "reported" and c["table"] == "t3"]
        c = rng.choice(cells)
        c["value"] = int(c["value"]) + rng.randint(1, 9)
        c["raw"] = str(c["value"])
    return out


def main() -> int:
    from tasks.checks import gx

    base = _samples()
    rng = random.Random(7)
    batch = [_vary(base[i % len(base)], i, rng) for i in range(N_REPORTS)]
    gx.validate_batch(batch[:5])  # warm-up: context, suites, batch definitions
    gx.validation_timing(reset=True)

    runs = []
    for _ in range(3):  # median of three stacked runs (the machine may be shared)
        t0 = time.perf_counter()
        stacked = gx.validate_batch(batch)
        runs.append((gx.validation_timing(reset=True), time.perf_counter() - t0))
    st, wall = sorted(runs, key=lambda r: r[0]["gx_seconds"])[1]

    for d in batch[:N_SINGLE]:
        gx.validate_batch([d])
    one = gx.validation_timing(reset=True)

    per_stacked = st["gx_seconds"] / N_REPORTS * 1000
    per_single = one["gx_seconds"] / N_SINGLE * 1000
    statuses = {s: sum(1 for v in stacked.values() if v.status == s) for s in ("passed", "warned", "failed")}
    out = sys.stdout
    out.write(f"reports: {N_REPORTS} ({len(base)} samples varied); statuses {statuses}\n")
    out.write(f"stacked:    GX {st['gx_seconds']:.3f} s for {N_REPORTS} reports in {int(st['validations'])} validations "
              f"= {per_stacked:.3f} ms/report (frames {st['frame_seconds']:.3f} s, wall incl. pure checks {wall:.2f} s)\n")
    out.write(f"one-by-one: GX {one['gx_seconds']:.3f} s for {N_SINGLE} reports = {per_single:.1f} ms/report "
              f"→ {per_single * N_REPORTS / 1000:.1f} s extrapolated to {N_REPORTS}\n")
    out.write(f"speed-up of stacking: {per_single / per_stacked:.0f}×\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
