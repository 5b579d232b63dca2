"""2, 4 and 8 writer processes publishing into one output at once, on a local folder and on S3
(moto over HTTP), one of them killed with SIGKILL at a random moment while publishing and its
share published again by a new process: every report exactly once in `reports`, the newer
version of each agency current whoever committed last, the current reports' cells exactly once
each, nothing lost. No lock is taken (the Delta commit protocol: tasks/publish.py)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import tables
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, unique_name

sys.path.insert(0, str(Path(__file__).resolve().parent))
from writer_process import SAMPLE, workload

pytestmark = pytest.mark.slow  # subprocesses, moto

WORKER = str(Path(__file__).with_name("writer_process.py"))
BATCHES, PER_BATCH = 2, 3


@pytest.fixture(scope="module")
def cells_per_report() -> int:
    from tasks.extract import extract_path

    return len(extract_path(SAMPLE).cells)


def _env(moto_server: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XXGK_")}
    env.update({"XXGK_PUBLISH_ATTEMPTS": "20", "PYTHONIOENCODING": "utf-8"})
    if moto_server:
        env.update({"XXGK_S3_ENDPOINT_URL": moto_server, "XXGK_S3_ACCESS_KEY_ID": DUMMY_KEY_ID,
                    "XXGK_S3_SECRET_ACCESS_KEY": DUMMY_SECRET, "XXGK_S3_ADDRESSING_STYLE": "path",
                    "XXGK_S3_REGION": "us-east-1"})  # fmt: skip
    return env


def _start(output: str, writer: int, writers: int, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, WORKER, output, str(writer), str(writers), str(BATCHES), str(PER_BATCH)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log.open("w"), text=True)


def _run(output: str, writers: int, env: dict[str, str], tmp_path: Path, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    victim = rng.randrange(writers)
    procs = [_start(output, w, writers, env, tmp_path / f"w{w}.log") for w in range(writers)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "publishing", "a writer did not start"
    time.sleep(rng.uniform(0.0, 2.0))  # a random moment of its publishing
    killed_mid_run = procs[victim].poll() is None
    procs[victim].send_signal(signal.SIGKILL)
    done = {}
    for w, p in enumerate(procs):
        out, _ = p.communicate(timeout=600)
        done[w] = out.split()
        if w != victim:
            assert p.returncode == 0, (tmp_path / f"w{w}.log").read_text()[-3000:]
    assert procs[victim].returncode in (-signal.SIGKILL, 0)
    rerun = _start(output, victim, writers, env, tmp_path / "rerun.log")  # its share, published again
    rerun.communicate(timeout=600)
    assert rerun.returncode == 0, (tmp_path / "rerun.log").read_text()[-3000:]
    return {"victim": victim, "killed_mid_run": killed_mid_run, "before_kill": done[victim].count("batch")}


def _check(root: str, options: dict[str, str] | None, writers: int, cells_per_report: int) -> None:
    work = [r for batches in workload(writers, BATCHES, PER_BATCH) for batch in batches for r in batch]
    want = {"r" + sha for sha, _, _ in work}
    newest: dict[str, tuple[Any, str]] = {}
    for sha, agency, modified in work:
        newest[agency] = max(newest.get(agency, (modified, "r" + sha)), (modified, "r" + sha))
    current = {rid for _, rid in newest.values()}

    reports = tables.rows(root, "reports", options)
    assert Counter(r["report_id"] for r in reports) == dict.fromkeys(want, 1), "a report lost or twice"
    assert {r["report_id"] for r in reports if r["is_current"]} == current
    cells = tables.rows(root, "cells", options)
    assert Counter(c["report_id"] for c in cells) == dict.fromkeys(current, cells_per_report), "current cells"
    keys = Counter((c["report_id"], c["table"], c["block"], c["row"], c["col"]) for c in cells)
    assert set(keys.values()) == {1}, "a cell twice"
    assert Counter(c["report_id"] for c in tables.rows(root, "checks", options)) == dict.fromkeys(want, 1)
    for wide in ("t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        assert {r["report_id"] for r in tables.rows(root, wide, options)} == current, wide


@pytest.mark.parametrize("writers", [2, 4, 8])
def test_many_writers_on_a_folder(tmp_path: Path, writers: int, cells_per_report: int) -> None:
    out = tmp_path / "out"
    got = _run(str(out), writers, _env(None), tmp_path, seed=writers)
    _check(str(out), None, writers, cells_per_report)
    print(f"\n{writers} writers on a folder: {got}")


@pytest.mark.parametrize("writers", [2, 4, 8])
def test_many_writers_on_s3(tmp_path: Path, writers: int, moto_server: str, moto_settings: Any,
                            cells_per_report: int) -> None:  # fmt: skip
    bucket = unique_name("writers")
    raw_client("s3", moto_settings).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    got = _run(f"s3://{bucket}/out", writers, _env(moto_server), tmp_path, seed=100 + writers)
    _check(f"s3://{bucket}/out", tables.s3_options(moto_settings), writers, cells_per_report)
    print(f"\n{writers} writers on S3: {got}")


@pytest.mark.parametrize("where", ["folder", "s3"])
def test_a_writer_that_read_the_tables_exits_cleanly(tmp_path: Path, where: str, moto_server: str,
                                                     moto_settings: Any) -> None:  # fmt: skip
    """A process that read the tables (publishing a share that is already there reads them all)
    exits 0. A scan through deltalake's Python filesystem left read-ahead on Arrow's threads that
    aborted the interpreter at shutdown in about half such runs (exit 134, "terminate called
    without an active exception"); eight runs in a row catch that almost surely."""
    if where == "s3":
        bucket = unique_name("exits")
        raw_client("s3", moto_settings).create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
        output, env = f"s3://{bucket}/out", _env(moto_server)
    else:
        output, env = str(tmp_path / "out"), _env(None)
    for run in range(8):
        proc = _start(output, 0, 1, env, tmp_path / f"run{run}.log")
        out, _ = proc.communicate(timeout=600)
        log = (tmp_path / f"run{run}.log").read_text()
        assert proc.returncode == 0 and "terminate called" not in log, (run, proc.returncode, log[-3000:])
        assert out.split().count("batch") == BATCHES, out
