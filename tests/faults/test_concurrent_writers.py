"""Many writers on one S3 output, and runs killed with SIGKILL: nothing lost, nothing blocks, nothing left.

- Two `xxgk ingest` runs at once on one S3 output (moto), each with its own temporary Prefect
  server (no PREFECT_API_URL: what two users, containers or cron jobs get), distinct agencies each,
  small batches, and every write under the Delta tables slowed down by a proxy (1 s each), so that
  the two runs' publishes overlap. Every report and every cell ends up in the tables exactly once
  and the ledger agrees (issue 11: 295 of 300 reports were
  kept while the ledger said all 300 were published).
- `xxgk ingest` killed with SIGKILL (its pid only, not its process group) mid-run on S3: its
  temporary Prefect server and extraction processes exit on their own, and a rerun completes at
  once with every report exactly once (issue 13: the server stayed up, orphaned, and the rerun
  waited 13+ minutes for the publish slot the killed run held).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tables
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, unique_name
from s3proxy import Fault, S3FaultProxy

from faults.conftest import renamed

pytestmark = pytest.mark.slow  # moto, subprocess runs with their own Prefect servers

XXGK = str(Path(sys.executable).with_name("xxgk"))
CHARS = "东西南北中上下左右前后甲乙丙丁戊己庚辛壬"


def county(i: int) -> str:
    """A distinct two-character county name per i (400 of them)."""
    return CHARS[i // len(CHARS) % len(CHARS)] + CHARS[i % len(CHARS)]


def _run_env(moto_server: str, home: Path, **extra: str) -> dict[str, str]:
    """The child's environment: no PREFECT_API_URL (each run starts its own temporary server, in a
    PREFECT_HOME of its own), the pipeline pointed at moto."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "XXGK_"))}
    env.update({
        "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
        "PYTHONIOENCODING": "utf-8", "XXGK_S3_ENDPOINT_URL": moto_server, "XXGK_S3_SQS_ENDPOINT_URL": moto_server,
        "XXGK_S3_ACCESS_KEY_ID": DUMMY_KEY_ID, "XXGK_S3_SECRET_ACCESS_KEY": DUMMY_SECRET,
        "XXGK_S3_ADDRESSING_STYLE": "path", "XXGK_S3_REGION": "us-east-1", "XXGK_WORKERS": "1", **extra,
    })  # fmt: skip
    return env


class Bucket:
    """An S3 bucket on moto, read back with a plain boto3 client (not the pipeline's store)."""

    def __init__(self, moto_settings: Any) -> None:
        self.s3 = raw_client("s3", moto_settings)
        self.settings = moto_settings
        self.name = unique_name("writers")
        self.s3.create_bucket(Bucket=self.name)  # type: ignore[attr-defined]

    def put(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.name, Key=key, Body=data)  # type: ignore[attr-defined]

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)  # type: ignore[attr-defined]
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def table(self, prefix: str) -> pa.Table | None:
        parts = [pq.read_table(pa.BufferReader(self.s3.get_object(Bucket=self.name, Key=k)["Body"].read()))  # type: ignore[attr-defined]
                 for k in self.keys(prefix) if k.endswith(".parquet")]  # fmt: skip
        return pa.concat_tables(parts) if parts else None

    def rows(self, prefix: str) -> list[dict[str, Any]]:
        table = self.table(prefix)
        return [] if table is None else table.to_pylist()

    def delta(self, name: str) -> list[dict[str, Any]]:
        """A Delta table under out/, as a reader sees it (tests/tables.py)."""
        return tables.rows(f"s3://{self.name}/out", name, tables.s3_options(self.settings))


def upload(bucket: Bucket, prefix: str, names: list[str]) -> dict[str, bytes]:
    """One text report per county name under `prefix`: distinct agencies, one year (2021)."""
    files = {f"{prefix}/{name}.txt": renamed(name) for name in names}
    for key, data in files.items():
        bucket.put(key, data)
    return files


def assert_exactly_once(out: Bucket, src: Bucket, files: dict[str, bytes], cells_per_report: int) -> dict[str, Any]:
    """Every upload's report once in `reports` (current), its cells once each, one ledger row each."""
    reports = out.delta("reports")
    by_source = Counter(r["source"] for r in reports)
    want = {f"s3://{src.name}/{k}" for k in files}
    assert set(by_source) == want, f"{len(want - set(by_source))} report(s) missing, {len(set(by_source) - want)} unexpected"
    assert all(n == 1 for n in by_source.values()), [s for s, n in by_source.items() if n > 1]
    assert all(r["is_current"] for r in reports)
    ids = {r["report_id"] for r in reports}
    cells = out.delta("cells")
    keys = Counter((c["report_id"], c["table"], c["block"], c["row"], c["col"]) for c in cells)
    assert all(n == 1 for n in keys.values()), "a cell published twice"
    per_report = Counter(c["report_id"] for c in cells)
    assert per_report == dict.fromkeys(ids, cells_per_report), "cells lost or added"
    for wide in ("t2_active_disclosure", "t3_applications", "t4_review_litigation"):
        assert {r["report_id"] for r in out.delta(wide)} == ids, wide
    assert {r["report_id"] for r in out.delta("checks")} == ids
    ledger = out.rows("out/state/ledger/")
    urls = Counter(r["url"] for r in ledger)
    assert set(urls) == want and all(n == 1 for n in urls.values()), "ledger disagrees with the tables"
    assert {r["outcome"] for r in ledger} <= {"published", "unchanged"}
    return {"reports": len(reports), "cells": len(cells), "ledger": ledger}


@pytest.fixture(scope="module")
def cells_per_report() -> int:
    from tasks.extract import extract_bytes

    return len(extract_bytes(renamed(county(0))).cells)


# ------------------------------------------------------------------ two runs, one output


class SlowParquet(S3FaultProxy):
    """In front of moto: every write under a Delta table (data file or log entry) is forwarded `delay_s` late."""

    delay_s = 1.0

    def fault_for(self, method: str, path: str) -> Fault:
        return ("delay", self.delay_s) if method == "PUT" and "/delta/" in path else None


@pytest.fixture
def slow_parquet(moto_server: str) -> Iterator[SlowParquet]:
    proxy = SlowParquet(moto_server)
    yield proxy
    proxy.close()


def test_two_concurrent_ingest_runs_on_one_s3_output_lose_nothing(
    tmp_path: Path, moto_settings: Any, slow_parquet: SlowParquet, cells_per_report: int
) -> None:
    per_run = 12
    src, out = Bucket(moto_settings), Bucket(moto_settings)
    files_a = upload(src, "a", [county(i) for i in range(per_run)])
    files_b = upload(src, "b", [county(i) for i in range(per_run, 2 * per_run)])
    started = time.monotonic()
    runs = []
    for name in ("a", "b"):
        env = _run_env(slow_parquet.url, tmp_path / f"prefect-{name}", XXGK_BATCH_SIZE="2")
        log = (tmp_path / f"{name}.log").open("w")
        cmd = [XXGK, "ingest", f"s3://{src.name}/{name}", "--output", f"s3://{out.name}/out"]
        runs.append((subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    for proc, log in runs:
        try:
            proc.wait(420)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    elapsed = time.monotonic() - started
    logs = {n: (tmp_path / f"{n}.log").read_text("utf-8", "replace") for n in ("a", "b")}
    for (proc, _), name in zip(runs, ("a", "b")):
        assert proc.returncode == 0, logs[name][-4000:]
        assert f"ingested: {per_run} published" in logs[name], logs[name][-2000:]

    got = assert_exactly_once(out, src, {**files_a, **files_b}, cells_per_report)
    windows = {}
    for name in ("a", "b"):
        at = [r["at"] for r in got["ledger"] if f"/{name}/" in r["url"]]
        windows[name] = (min(at), max(at))
    overlap = min(windows["a"][1], windows["b"][1]) > max(windows["a"][0], windows["b"][0])
    assert overlap, f"the runs did not publish at the same time, the test proves nothing: {windows}"
    conflicts = {n: _conflicts(logs[n]) for n in logs}
    print(f"\n2 runs x {per_run} reports, batches of 2: {elapsed:.1f} s; write conflicts redone: "
          f"{conflicts}; publishing windows {_fmt(windows)}")  # fmt: skip


def _conflicts(log: str) -> int:
    for line in log.splitlines():
        if line.startswith("publishing: "):
            return int(line.split()[1])
    return 0


def _fmt(windows: dict[str, tuple[datetime, datetime]]) -> str:
    return ", ".join(f"{n} {a:%H:%M:%S.%f}–{b:%H:%M:%S.%f}" for n, (a, b) in windows.items())


# ------------------------------------------------------------------ kill -9, then rerun


def _descendants(pid: int) -> dict[int, tuple[str, str]]:
    """pid → (start time, command line) of every process under `pid`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out: dict[int, tuple[str, str]] = {}
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        ident = _identity(p)
        if ident is not None:
            out[p] = ident
        todo.extend(children.get(p, []))
    return out


def _identity(pid: int) -> tuple[str, str] | None:
    """(start time, command line) of a live process; None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19], cmd


def _alive(procs: dict[int, tuple[str, str]]) -> dict[int, str]:
    return {p: cmd for p, (start, cmd) in procs.items() if (_identity(p) or ("", ""))[0] == start}


@pytest.fixture
def killed_run_leftovers() -> Iterator[dict[int, tuple[str, str]]]:
    """The processes a test records; any still alive at the end are killed (by pid) and reported."""
    procs: dict[int, tuple[str, str]] = {}
    yield procs
    for pid in _alive(procs):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_killed_ingest_leaves_no_process_and_never_blocks_the_rerun(
    tmp_path: Path, moto_server: str, moto_settings: Any, cells_per_report: int,
    killed_run_leftovers: dict[int, tuple[str, str]],
) -> None:  # fmt: skip
    src, out = Bucket(moto_settings), Bucket(moto_settings)
    files = upload(src, "in", [county(i) for i in range(12)])
    env = _run_env(moto_server, tmp_path / "prefect", XXGK_BATCH_SIZE="3")
    cmd = [XXGK, "ingest", f"s3://{src.name}/in", "--output", f"s3://{out.name}/out"]
    with (tmp_path / "killed.log").open("w") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while proc.poll() is None and time.monotonic() < deadline and not out.keys("out/state/ledger/"):
            time.sleep(0.05)
        killed_run_leftovers.update(_descendants(proc.pid))
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # the run only: its children must go by themselves
        proc.wait(10)
    log_text = (tmp_path / "killed.log").read_text("utf-8", "replace")
    done = len(out.keys("out/state/ledger/"))
    assert 1 <= done < 4, f"the kill did not land mid-run ({done} of 4 batches done): {log_text[-3000:]}"
    servers = [p for p, (_, c) in killed_run_leftovers.items() if "prefect.server.api.server:create_app" in c]
    assert len(servers) == 1, f"no temporary Prefect server among the run's processes: {killed_run_leftovers}"

    killed_at = time.monotonic()
    while _alive(killed_run_leftovers) and time.monotonic() - killed_at < 30:
        time.sleep(0.2)
    assert _alive(killed_run_leftovers) == {}, "processes outlived the killed run"
    gone_after = time.monotonic() - killed_at

    started = time.monotonic()
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    rerun_s = time.monotonic() - started
    got = assert_exactly_once(out, src, files, cells_per_report)
    print(f"\nkilled after {done} of 4 batches; its {len(killed_run_leftovers)} processes (server included) gone "
          f"{gone_after:.1f} s after the kill; rerun {rerun_s:.1f} s; {got['reports']} reports, {got['cells']} cells")
