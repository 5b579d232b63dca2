"""Faults and reruns: nothing lost, nothing duplicated, nothing hangs.

Each test runs the pipeline under a fault — a SIGKILL mid-run then a rerun, S3 errors and slow
responses, duplicate and out-of-order notifications, a Prefect server that is down for a while —
and asserts the outputs (parquet rows, quarantine records, ledger) are exactly those of a clean
run over the same uploads. The last test greps every output, artifact and log for credentials.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, s3_settings, unique_name
from s3proxy import Fault, S3FaultProxy

from faults.conftest import CORPUS_HOSTILE, renamed, write_corpus
from tasks.settings import StorageSettings

XXGK = str(Path(sys.executable).with_name("xxgk"))
EXIT_QUARANTINED = 4


# ------------------------------------------------------------------ reading outputs back


def _parquet(root: Path) -> dict[str, list[dict[str, Any]]]:
    """Every Delta table as a reader sees it (tests/tables.py: current cells, every report once)."""
    import tables

    return {name: rows for name in tables.DATASETS if (rows := tables.rows(root, name))}


def snapshot(root: Path) -> dict[str, Any]:
    """What must be equal between a clean run and a faulted one: rows per dataset, the cells,
    current reports, quarantine records and ledger outcomes (timestamps left out)."""
    data = _parquet(root)
    cells = [(r["report_id"], r["table"], r["row"], r["col"], r["value"], r["status"]) for r in data.get("cells", [])]
    assert len(cells) == len(set(cells)), "duplicate cell rows"
    reports = [(r["report_id"], r["is_current"], r["source"]) for r in data.get("reports", [])]
    assert len(reports) == len({r[0] for r in reports}), "a report listed twice"
    quarantine = []
    for path in sorted((root / "quarantine").rglob("*.json")):
        q = json.loads(path.read_text("utf-8"))
        assert q["message"] and q["pipeline_version"] and q["at"] and q["source"]
        quarantine.append((q["sha256"], q["error_type"]))
    rows = sorted(
        (r for path in (root / "state" / "ledger").glob("*.parquet") for r in pq.read_table(path).to_pylist()),
        key=lambda r: r["at"],
    )
    ledger = [(r["url"], r["outcome"], r["error_type"]) for r in rows if r["outcome"] != "pending"]
    versions = Counter((r["url"], r["etag"]) for r in rows if r["outcome"] != "pending")  # an upload: a url's version
    assert all(n == 1 for n in versions.values()), f"uploads ingested twice: {[u for u, n in versions.items() if n > 1]}"
    pending: dict[str, str] = {}  # uploads whose latest ledger row is a failed read → its error
    for r in rows:
        if r["outcome"] == "pending":
            assert r["error_type"], r
            pending[r["url"]] = r["error_type"]
        else:
            pending.pop(r["url"], None)
    return {
        "rows": {name: len(rs) for name, rs in data.items()},
        "cells": set(cells),
        "reports": set(reports),
        "quarantine": sorted(quarantine),
        "ledger": {u: (o, e) for u, o, e in ledger},  # the latest outcome of each url
        "pending": pending,
    }


def _same_ledger(got: dict[str, tuple[str, str | None]], clean: dict[str, tuple[str, str | None]]) -> None:
    """Equal outcomes, except that a report published by a killed batch (rows durable, ledger not
    yet written) is found again "unchanged" by the rerun: that is the same end state."""
    assert got.keys() == clean.keys()
    for url, outcome in got.items():
        assert outcome == clean[url] or (outcome[0], clean[url][0]) == ("unchanged", "published"), url


# ------------------------------------------------------------------ (a) killed mid-run, rerun


def _ingest_cmd(src: Path, dest: Path) -> list[str]:
    return [XXGK, "ingest", str(src), "--output", str(dest)]


def _child_env(prefect_api: str) -> dict[str, str]:
    return {**os.environ, "PREFECT_API_URL": prefect_api, "PYTHONIOENCODING": "utf-8"}


def test_killed_mid_run_then_rerun_equals_a_clean_run(tmp_path: Path, pipeline_env: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    files = write_corpus(src)
    env = _child_env(pipeline_env)

    clean = subprocess.run(_ingest_cmd(src, tmp_path / "clean"), env=env, capture_output=True, text=True, timeout=300)
    assert clean.returncode == EXIT_QUARANTINED, clean.stdout[-3000:] + clean.stderr[-3000:]
    expected = snapshot(tmp_path / "clean")
    assert len(expected["quarantine"]) == len(CORPUS_HOSTILE)
    assert len(expected["ledger"]) == len(files)

    dest = tmp_path / "dest"
    ledger = dest / "state" / "ledger"
    log = (tmp_path / "killed.log").open("w")
    proc = subprocess.Popen(_ingest_cmd(src, dest), env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while proc.poll() is None and time.monotonic() < deadline:
            if ledger.is_dir() and any(p.suffix == ".parquet" for p in ledger.iterdir()):
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run, its extraction workers and forkserver
        proc.wait(10)
    batches = len(list(ledger.glob("*.parquet")))
    assert 1 <= batches < 4, f"the kill did not land mid-run ({batches} batches done); see {log.name}"

    rerun = subprocess.run(_ingest_cmd(src, dest), env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == EXIT_QUARANTINED, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    got = snapshot(dest)
    _same_ledger(got.pop("ledger"), expected.pop("ledger"))
    assert got == expected

    again = subprocess.run(_ingest_cmd(src, dest), env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:]  # nothing pending, nothing quarantined anew
    assert snapshot(dest)["cells"] == expected["cells"]


# ------------------------------------------------------------------ (b) transient S3 errors


class FlakyS3Proxy(S3FaultProxy):
    """An HTTP proxy in front of moto failing GETs on a fixed cycle: of every 20, four get 503
    SlowDown and one a slow answer (past the client's read timeout); never more than two faults in
    a row for one request path. Deterministic whatever the threads' order."""

    def __init__(self, upstream: str) -> None:
        self.lock = threading.Lock()
        self.gets = 0
        self.streak: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        super().__init__(upstream)

    def _fault(self, method: str, path: str) -> str | None:
        if method != "GET":
            return None
        with self.lock:
            self.gets += 1
            slot = self.gets % 20
            fault = "503" if slot in (1, 6, 11, 16) else "slow" if slot == 3 else None
            if fault and self.streak[path] >= 2:
                fault = None
            self.streak[path] = self.streak[path] + 1 if fault else 0
            if fault:
                self.injected[fault] += 1
            return fault

    def fault_for(self, method: str, path: str) -> Fault:
        fault = self._fault(method, path)
        if fault == "503":
            return ("status", 503)
        if fault == "slow":
            return ("delay", 1.3)  # past the client's 1 s read timeout
        return None


@pytest.fixture
def flaky_proxy(moto_server: str) -> Iterator[FlakyS3Proxy]:
    proxy = FlakyS3Proxy(moto_server)
    yield proxy
    proxy.close()


def _point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str, **extra: str) -> StorageSettings:
    values = {"ENDPOINT_URL": endpoint, "SQS_ENDPOINT_URL": endpoint, "ACCESS_KEY_ID": DUMMY_KEY_ID,
              "SECRET_ACCESS_KEY": DUMMY_SECRET, "ADDRESSING_STYLE": "path", "REGION": "us-east-1",
              **extra}  # fmt: skip
    for name, value in values.items():
        monkeypatch.setenv(f"XXGK_S3_{name}", value)
    return s3_settings(endpoint)


def _upload_corpus(settings: StorageSettings, tmp_path: Path, only: set[str] | None = None) -> str:
    bucket = unique_name("faults")
    s3 = raw_client("s3", settings)
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    for key, data in write_corpus(tmp_path / "corpus").items():
        if only is None or key in only:
            s3.put_object(Bucket=bucket, Key=f"incoming/{key}", Body=data)  # type: ignore[attr-defined]
    return bucket


def test_transient_s3_errors_are_retried_and_change_nothing(
    tmp_path: Path, moto_server: str, flaky_proxy: FlakyS3Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    settings = _point_at(monkeypatch, moto_server)
    bucket = _upload_corpus(settings, tmp_path)
    ingest(source=f"s3://{bucket}/incoming", output=str(tmp_path / "clean"))
    expected = snapshot(tmp_path / "clean")

    _point_at(monkeypatch, flaky_proxy.url, READ_TIMEOUT_S="1", CONNECT_TIMEOUT_S="1", MAX_ATTEMPTS="5")
    ingest(source=f"s3://{bucket}/incoming", output=str(tmp_path / "flaky"))
    assert flaky_proxy.injected["503"] >= 2 and flaky_proxy.injected["slow"] >= 1, flaky_proxy.injected
    got = snapshot(tmp_path / "flaky")
    assert got == expected  # same rows, same quarantine records: none caused by the faults


# ------------------------------------------------------------------ (c) duplicate, out-of-order events


def _event_body(bucket: str, key: str, etag: str, size: int) -> str:
    record = {
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size, "eTag": etag}},
    }  # fmt: skip
    return json.dumps({"Records": [record]})


def _queue(settings: StorageSettings, visibility_timeout: int = 30) -> str:
    sqs = raw_client("sqs", settings)
    return str(sqs.create_queue(  # type: ignore[attr-defined]
        QueueName=unique_name("events"), Attributes={"VisibilityTimeout": str(visibility_timeout)}
    )["QueueUrl"])  # fmt: skip


def _send(settings: StorageSettings, queue_url: str, bucket: str, keys: list[str]) -> None:
    s3, sqs = raw_client("s3", settings), raw_client("sqs", settings)
    for key in keys:
        head = s3.head_object(Bucket=bucket, Key=key)  # type: ignore[attr-defined]
        body = _event_body(bucket, key, head["ETag"].strip('"'), head["ContentLength"])
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)  # type: ignore[attr-defined]


def _queue_counts(settings: StorageSettings, queue_url: str) -> tuple[int, int]:
    attrs = raw_client("sqs", settings).get_queue_attributes(  # type: ignore[attr-defined]
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


JINING = "jining_org_dept_2021_text"


def _corrected(text: bytes) -> bytes:
    """The same report with one figure corrected (a new sha256, the same agency and year)."""
    old = "\t行政许可\n\t0\n".encode()
    assert old in text
    return text.replace(old, "\t行政许可\n\t3\n".encode(), 1)


def _ingest_each(source: str, output: str, calls: list[list[str]]) -> Callable[[list[str], str], None]:
    """A hand-off that ingests the batch's uploads one by one, in the order it received them."""
    from flows.ingest import ingest

    def handoff(keys: list[str], label: str) -> None:
        calls.append(list(keys))
        for key in keys:
            ingest(source=source, output=output, keys=[key], label=f"{label}: {key}")

    return handoff


def test_duplicate_and_out_of_order_events_are_harmless(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest
    from flows.watch import watch

    settings = _point_at(monkeypatch, moto_server)
    monkeypatch.setenv("XXGK_BATCH_SIZE", "10")  # the watcher gathers all five notifications in one batch
    s3 = raw_client("s3", settings)
    bucket = unique_name("events")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    original = (Path(__file__).parents[1] / "fixtures" / "samples" / JINING / "source.txt").read_bytes()
    s3.put_object(Bucket=bucket, Key="a/other.txt", Body=renamed("丁"))  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="a/report.txt", Body=original)  # type: ignore[attr-defined]
    time.sleep(1.1)  # LastModified has one-second resolution: the correction is strictly newer
    s3.put_object(Bucket=bucket, Key="a/report-corrected.txt", Body=_corrected(original))  # type: ignore[attr-defined]
    source, out = f"s3://{bucket}/", str(tmp_path / "watched")

    ingest(source=source, output=str(tmp_path / "clean"))
    expected = snapshot(tmp_path / "clean")

    queue_url = _queue(settings)
    # the same notification three times, then the correction's event before the original's
    _send(settings, queue_url, bucket, ["a/other.txt"] * 3 + ["a/report-corrected.txt", "a/report.txt"])
    calls: list[list[str]] = []
    assert watch(source, out, queue_url=queue_url, max_batches=1, handoff=_ingest_each(source, out, calls)) == 1
    assert calls == [["a/other.txt", "a/report-corrected.txt", "a/report.txt"]]  # de-duplicated, order kept
    assert _queue_counts(settings, queue_url) == (0, 0)  # acked after the hand-off

    # the same notification again, later (an at-least-once redelivery): the ledger makes it a no-op
    _send(settings, queue_url, bucket, ["a/other.txt"])
    assert watch(source, out, queue_url=queue_url, max_batches=1, handoff=_ingest_each(source, out, calls)) == 1

    got = snapshot(Path(out))
    assert got["cells"] == expected["cells"] and got["rows"] == expected["rows"]
    assert got["reports"] == expected["reports"]
    current = {src.rsplit("/", 1)[-1] for _, is_current, src in got["reports"] if is_current}
    assert current == {"other.txt", "report-corrected.txt"}
    assert got["ledger"][f"s3://{bucket}/a/report.txt"][0] == "older"  # arrived after its correction


# ------------------------------------------------------------------ (d) Prefect server unreachable


def test_handoff_failures_delay_but_lose_nothing(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest
    from flows.watch import watch

    settings = _point_at(monkeypatch, moto_server)
    s3 = raw_client("s3", settings)
    bucket = unique_name("down")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    keys = []
    for county in ("戊", "己", "庚"):
        keys.append(f"up/{county}.txt")
        s3.put_object(Bucket=bucket, Key=keys[-1], Body=renamed(county))  # type: ignore[attr-defined]
    source, out = f"s3://{bucket}/", str(tmp_path / "watched")
    ingest(source=source, output=str(tmp_path / "clean"))
    expected = snapshot(tmp_path / "clean")

    queue_url = _queue(settings, visibility_timeout=2)
    _send(settings, queue_url, bucket, keys)
    attempts: list[list[str]] = []
    in_flight: list[tuple[int, int]] = []

    def flaky_handoff(batch: list[str], label: str) -> None:
        attempts.append(sorted(batch))
        if len(attempts) <= 2:  # the server is down: the event cannot be posted
            in_flight.append(_queue_counts(settings, queue_url))
            raise ConnectionError("All connection attempts failed (Prefect API unreachable)")
        ingest(source=source, output=out, keys=batch, label=label)

    started = time.monotonic()
    assert watch(source, out, queue_url=queue_url, max_batches=1, handoff=flaky_handoff) == 1
    assert time.monotonic() - started < 60
    assert len(attempts) == 3 and all(a == sorted(keys) for a in attempts)
    assert all(visible + hidden == len(keys) for visible, hidden in in_flight)  # not acked while failing
    assert _queue_counts(settings, queue_url) == (0, 0)
    got = snapshot(Path(out))
    assert got["ledger"].keys() == expected["ledger"].keys()  # every upload once (snapshot checks "once")
    assert got["cells"] == expected["cells"] and got["reports"] == expected["reports"]


# ------------------------------------------------------------------ (e) credentials never leak


def test_credentials_never_appear_in_outputs_artifacts_or_logs(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from prefect.client.orchestration import get_client

    from flows.ingest import ingest

    settings = _point_at(monkeypatch, moto_server)
    bucket = _upload_corpus(settings, tmp_path, only={"m_synthetic_2021_docx.docx", "z_truncated.pdf"})
    for name in ("tasks", "flows", "xxgk", "prefect"):
        caplog.set_level(logging.DEBUG, logger=name)
    since = datetime.now(UTC)
    summary = ingest(source=f"s3://{bucket}/incoming", output=str(tmp_path / "out"))
    assert summary["published"] >= 1 and summary["quarantined"]

    texts = {"summary": json.dumps(summary, default=str, ensure_ascii=False), "logs": caplog.text}
    captured = capfd.readouterr()
    texts["stdout"], texts["stderr"] = captured.out, captured.err
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("latin-1")
    with get_client(sync_client=True) as client:
        for artifact in client.read_artifacts():
            if artifact.created and artifact.created >= since:
                texts[f"artifact {artifact.key}"] = json.dumps(artifact.data, default=str, ensure_ascii=False)
        for record in client.read_logs():
            texts.setdefault("api logs", "")
            texts["api logs"] += record.message + "\n"
        for run in client.read_flow_runs():
            texts[f"flow run {run.name}"] = json.dumps(run.parameters, default=str)
    # the quarantined file is listed in the run's artifact and in the quality index
    artifacts = " ".join(t for k, t in texts.items() if k.startswith("artifact"))
    assert "z_truncated.pdf" in artifacts and "CorruptDocument" in artifacts
    assert "z_truncated.pdf" in (tmp_path / "out" / "quality" / "index.html").read_text("utf-8")
    for where, text in texts.items():
        assert DUMMY_SECRET not in text, where
        assert DUMMY_KEY_ID not in text, where


# ------------------------------------------------------------------ (f) keys that try to escape the store


def test_escaping_keys_are_quarantined_not_read(tmp_path: Path) -> None:
    from flows.ingest import ingest

    src = tmp_path / "bucket"
    src.mkdir()
    (tmp_path / "secret.txt").write_bytes(renamed("辛"))  # outside the store: must never be read
    (src / "ok.txt").write_bytes(renamed("壬"))
    keys = ["../secret.txt", "incoming/../../secret.txt", "/etc/passwd", "ok.txt"]
    summary = ingest(source=str(src), output=str(tmp_path / "out"), keys=keys)
    assert summary["published"] == 1
    assert sorted(q["error"] for q in summary["quarantined"]) == ["UnsafeKey"] * 3
    got = snapshot(tmp_path / "out")
    assert {src for _, _, src in got["reports"]} == {str(src / "ok.txt")}
    assert [t for _, t in got["quarantine"]] == ["UnsafeKey"] * 3
    again = ingest(source=str(src), output=str(tmp_path / "out"), keys=keys)  # recorded: not quarantined twice
    assert again["published"] == 0 and again["quarantined"] == []
