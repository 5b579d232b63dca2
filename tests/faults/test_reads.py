"""Reads that fail or change under the pipeline: no upload is dropped, the ledger records what was read.

Each test runs the pipeline through a fault-injecting proxy in front of moto — 403 after some
requests, refused connections, objects deleted, overwritten or grown between listing and reading,
two watchers on one queue — and ends with every upload published, quarantined or pending with its
reason, then (once the fault is gone) every upload ingested exactly as in a clean run.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from conftest import raw_client, unique_name
from s3proxy import Fault, S3FaultProxy

from faults.conftest import SAMPLES, renamed
from faults.test_faults import (
    EXIT_QUARANTINED,
    XXGK,
    _child_env,
    _corrected,
    _point_at,
    _queue,
    _queue_counts,
    _same_ledger,
    _send,
    _upload_corpus,
    snapshot,
)
from tasks.settings import StorageSettings

EXIT_NOT_READ = 5


def _object_key(path: str) -> str | None:
    """The object key of a path-style request (/bucket/key), None for bucket-level requests (listings)."""
    parts = urlsplit(path)
    if parts.query and "list-type" in parts.query:
        return None
    _, _, key = parts.path.lstrip("/").partition("/")
    return unquote(key) or None


# ------------------------------------------------------------------ (a) 403 mid-run, through `xxgk ingest`


class DenyAfter(S3FaultProxy):
    """Serves the first `allow` object GETs, then answers every object GET with 403 AccessDenied
    (credentials revoked mid-run); listings pass."""

    def __init__(self, upstream: str, allow: int) -> None:
        self.allow = allow
        self.lock = threading.Lock()
        self.served = 0
        self.denied: Counter[str] = Counter()
        super().__init__(upstream)

    def fault_for(self, method: str, path: str) -> Fault:
        key = _object_key(path)
        if method != "GET" or key is None:
            return None
        with self.lock:
            if self.served < self.allow:
                self.served += 1
                return None
            self.denied[key] += 1
        return ("status", 403)


def test_access_denied_mid_run_is_reported_and_read_by_the_next_ingest(
    tmp_path: Path, moto_server: str, pipeline_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _point_at(monkeypatch, moto_server, MAX_ATTEMPTS="2")
    bucket = _upload_corpus(settings, tmp_path)
    src = f"s3://{bucket}/incoming"
    env = _child_env(pipeline_env)

    def ingest(dest: Path, endpoint: str) -> subprocess.CompletedProcess[str]:
        cmd = [XXGK, "ingest", src, "--output", str(dest)]
        run_env = {**env, "XXGK_S3_ENDPOINT_URL": endpoint}
        return subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=300)

    from flows.ingest import ingest as ingest_in_process

    ingest_in_process(source=src, output=str(tmp_path / "clean"))  # the clean run, without a CLI start-up
    expected = snapshot(tmp_path / "clean")
    assert len(expected["ledger"]) == 10 and expected["pending"] == {}

    proxy = DenyAfter(moto_server, allow=4)
    try:
        dest = tmp_path / "dest"
        faulted = ingest(dest, proxy.url)
        out = faulted.stdout
        assert faulted.returncode == EXIT_NOT_READ, out[-3000:] + faulted.stderr[-3000:]
        assert "6 not read" in out and "not read: 6 upload(s) could not be read" in out, out[-3000:]
        assert sum(line.startswith("  not read ") and ": AccessDenied: " in line for line in out.splitlines()) == 6
        got = snapshot(dest)
        assert set(got["pending"].values()) == {"AccessDenied"} and len(got["pending"]) == 6
        assert not got["pending"].keys() & got["ledger"].keys()
        assert got["pending"].keys() | got["ledger"].keys() == expected["ledger"].keys()  # none dropped
        assert sorted(proxy.denied.values()) == [1] * 6  # a 403 is not retried within the run

        proxy.allow = 10**9  # access restored: the next ingest reads the pending uploads
        rerun = ingest(dest, proxy.url)
        hostile = any(expected["ledger"][u][0] == "quarantined" for u in got["pending"])
        assert rerun.returncode == (EXIT_QUARANTINED if hostile else 0), rerun.stdout[-3000:] + rerun.stderr[-3000:]
        assert "0 not read" in rerun.stdout
    finally:
        proxy.close()
    final = snapshot(dest)
    _same_versions(final.pop("ledger"), expected.pop("ledger"))
    assert final == expected


INGESTED = {"published", "unchanged", "older"}


def _same_versions(got: dict[str, tuple[str, str | None]], clean: dict[str, tuple[str, str | None]]) -> None:
    """Every upload ingested, the same ones quarantined for the same reason. Two versions of one
    report (the same agency and year) read in another order are "published" then superseded, or
    "older", by the order they came in; which one is current (by LastModified) is in the snapshot."""
    assert got.keys() == clean.keys()
    for url, outcome in got.items():
        assert outcome == clean[url] or {outcome[0], clean[url][0]} <= INGESTED, url


# ------------------------------------------------------------------ (b) objects changing between listing and reading


class ChangesOnRead(S3FaultProxy):
    """Before forwarding the first GET of a key in `actions`, runs that key's action on the upstream
    (delete it, overwrite it); counts the GETs of every object."""

    def __init__(self, upstream: str, actions: dict[str, Callable[[], None]]) -> None:
        self.actions = dict(actions)
        self.gets: Counter[str] = Counter()
        self.lock = threading.Lock()
        super().__init__(upstream)

    def fault_for(self, method: str, path: str) -> Fault:
        key = _object_key(path)
        if method == "GET" and key is not None:
            with self.lock:
                self.gets[key] += 1
                action = self.actions.pop(key, None)
            if action is not None:
                action()
        return None


JINING = (SAMPLES / "jining_org_dept_2021_text" / "source.txt").read_bytes()
CHANGING = {
    "up/deleted.txt": renamed("甲"),  # deleted before it is read, then uploaded again with the same bytes
    "up/overwritten.txt": JINING,  # overwritten by a correction while the run reads it, later reverted
    "up/grown.txt": renamed("乙"),  # replaced by a file over the size limit between listing and reading
    "up/big.txt": b"%PDF-1.7\n" + b"0" * (2 * 2**20),  # over the limit as listed: never fetched
    "up/plain.txt": renamed("丙"),
}
LIMIT = 2**20


def _versions(settings: StorageSettings, bucket: str, key: str) -> list[dict[str, Any]]:
    listed = raw_client("s3", settings).list_object_versions(Bucket=bucket, Prefix=key)  # type: ignore[attr-defined]
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def _changing_bucket(settings: StorageSettings) -> tuple[str, dict[str, Callable[[], None]]]:
    s3 = raw_client("s3", settings)
    bucket = unique_name("changing")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})  # type: ignore[attr-defined]
    for key, data in CHANGING.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)  # type: ignore[attr-defined]
    actions = {
        "up/deleted.txt": lambda: s3.delete_object(Bucket=bucket, Key="up/deleted.txt"),  # type: ignore[attr-defined]
        "up/overwritten.txt": lambda: s3.put_object(  # type: ignore[attr-defined]
            Bucket=bucket, Key="up/overwritten.txt", Body=_corrected(JINING)
        ),
        "up/grown.txt": lambda: s3.put_object(  # type: ignore[attr-defined]
            Bucket=bucket, Key="up/grown.txt", Body=b"%PDF-1.7\n" + b"1" * (2 * 2**20)
        ),
    }
    return bucket, actions


def _restore(settings: StorageSettings, bucket: str) -> None:
    """After the run: the deleted object uploaded again (same bytes), the overwritten one reverted."""
    time.sleep(1.1)  # LastModified has one-second resolution: the revert is strictly newer than the correction
    s3 = raw_client("s3", settings)
    s3.put_object(Bucket=bucket, Key="up/deleted.txt", Body=CHANGING["up/deleted.txt"])  # type: ignore[attr-defined]
    s3.put_object(Bucket=bucket, Key="up/overwritten.txt", Body=JINING)  # type: ignore[attr-defined]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_first_pass(root: Path, bucket: str, settings: StorageSettings) -> dict[str, Any]:
    """After the run that saw the changes: what was read is what the ledger and the datasets say."""
    got = snapshot(root)
    url = f"s3://{bucket}/up/"
    assert got["pending"] == {}
    assert got["ledger"] == {
        url + "deleted.txt": ("quarantined", "ObjectNotFound"),
        url + "overwritten.txt": ("published", None),
        url + "grown.txt": ("quarantined", "DocumentTooLarge"),
        url + "big.txt": ("quarantined", "DocumentTooLarge"),
        url + "plain.txt": ("published", None),
    }
    rows = _ledger_rows(root)
    (over,) = [r for r in rows if r["url"] == url + "overwritten.txt"]
    correction = _versions(settings, bucket, "up/overwritten.txt")[0]  # newest first
    assert over["sha256"] == _sha(_corrected(JINING))  # the bytes read …
    assert over["etag"] == correction["ETag"].strip('"') and over["version_id"] == correction["VersionId"]  # … as read
    assert over["size"] == len(_corrected(JINING))
    (gone,) = [r for r in rows if r["url"] == url + "deleted.txt"]
    assert gone["etag"] is None and gone["sha256"]  # nothing read: no version recorded
    (grown,) = [r for r in rows if r["url"] == url + "grown.txt"]
    grown_now = _versions(settings, bucket, "up/grown.txt")[0]
    assert grown["size"] == 2 * 2**20 + 9 and grown["etag"] == grown_now["ETag"].strip('"')
    return got


def _check_second_pass(root: Path, bucket: str) -> None:
    """After the deleted object came back and the overwritten one was reverted: both ingested."""
    got = snapshot(root)
    url = f"s3://{bucket}/up/"
    assert got["pending"] == {}
    assert got["ledger"][url + "deleted.txt"] == ("published", None)
    assert got["ledger"][url + "overwritten.txt"] == ("published", None)
    current = {r["source"]: r["sha256"] for r in _report_rows(root) if r["is_current"]}
    assert current == {
        url + "deleted.txt": _sha(CHANGING["up/deleted.txt"]),
        url + "overwritten.txt": _sha(JINING),  # the revert, newer than the correction, is current
        url + "plain.txt": _sha(CHANGING["up/plain.txt"]),
    }


def _ledger_rows(root: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return [r for p in sorted((root / "state" / "ledger").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]


def _report_rows(root: Path) -> list[dict[str, Any]]:
    """The `reports` table, with `is_current` (tests/tables.py)."""
    import tables

    return tables.rows(root, "reports")


@pytest.fixture
def changing(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ChangesOnRead, StorageSettings]]:
    direct = _point_at(monkeypatch, moto_server)
    bucket, actions = _changing_bucket(direct)
    proxy = ChangesOnRead(moto_server, actions)
    _point_at(monkeypatch, proxy.url)
    monkeypatch.setenv("XXGK_EXTRACT_MAX_BYTES", str(LIMIT))
    monkeypatch.setenv("XXGK_BATCH_SIZE", "10")
    yield bucket, proxy, direct
    proxy.close()


def test_objects_deleted_overwritten_or_grown_mid_run_through_ingest(
    tmp_path: Path, changing: tuple[str, ChangesOnRead, StorageSettings]
) -> None:
    from flows.ingest import ingest

    bucket, proxy, direct = changing
    src, out = f"s3://{bucket}/up", tmp_path / "out"
    first = ingest(source=src, output=str(out))
    assert first["not_read"] == [] and first["published"] == 2
    assert proxy.gets["up/big.txt"] == 0  # refused on its listed size: not a byte fetched
    _check_first_pass(out, bucket, direct)

    _restore(direct, bucket)
    second = ingest(source=src, output=str(out))
    assert second["published"] == 2 and second["quarantined"] == []
    _check_second_pass(out, bucket)
    assert ingest(source=src, output=str(out))["batches"] == 0  # nothing left: the grown file stays refused


def test_objects_deleted_or_overwritten_mid_run_through_the_polling_watcher(
    tmp_path: Path, changing: tuple[str, ChangesOnRead, StorageSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest
    from flows.watch import watch

    bucket, proxy, direct = changing
    monkeypatch.setenv("XXGK_POLL_SECONDS", "1")
    src, out = f"s3://{bucket}/up", tmp_path / "out"
    handed: list[list[str]] = []

    def handoff(keys: list[str], label: str) -> None:  # the watcher's in-process hand-off, observed
        handed.append(sorted(keys))
        ingest(source=src, output=str(out), keys=keys, label=label)
        if len(handed) == 1:
            _check_first_pass(out, bucket, direct)
            _restore(direct, bucket)  # between two polls: same bytes again, and the original again

    stop = threading.Event()
    timer = threading.Timer(120, stop.set)
    timer.start()
    try:
        assert watch(src, str(out), max_batches=2, stop=stop, handoff=handoff) == 2
    finally:
        timer.cancel()
    assert handed == [sorted(k.removeprefix("up/") for k in CHANGING), ["deleted.txt", "overwritten.txt"]]
    assert proxy.gets["up/big.txt"] == 0
    _check_second_pass(out, bucket)


# ------------------------------------------------------------------ (c) connection refused, through the SQS watcher


class RefuseAfter(S3FaultProxy):
    """Serves the first `allow` object GETs, then stops listening (connections refused) until `accept()`."""

    def __init__(self, upstream: str, allow: int) -> None:
        self.allow = allow
        self.served = 0
        self.lock = threading.Lock()
        super().__init__(upstream)

    def fault_for(self, method: str, path: str) -> Fault:
        if method == "GET" and _object_key(path) is not None:
            with self.lock:
                self.served += 1
                if self.served == self.allow + 1:
                    self.refuse()  # the listener is closed before this request is hung up on
        return None


def test_refused_connections_leave_pending_reads_that_the_sqs_watcher_reads_again(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest
    from flows.watch import make_handoff, watch
    from tasks.storage import open_store

    settings = _point_at(monkeypatch, moto_server)
    monkeypatch.setenv("XXGK_BATCH_SIZE", "10")
    monkeypatch.setenv("XXGK_READ_RETRY_SECONDS", "1")
    s3 = raw_client("s3", settings)
    bucket = unique_name("refused")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    keys = [f"up/{county}.txt" for county in ("子", "丑", "寅", "卯")]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=renamed(key[3]))  # type: ignore[attr-defined]
    source, out = f"s3://{bucket}/", tmp_path / "watched"
    ingest(source=source, output=str(tmp_path / "clean"))
    expected = snapshot(tmp_path / "clean")

    proxy = RefuseAfter(moto_server, allow=2)
    _point_at(monkeypatch, proxy.url, SQS_ENDPOINT_URL=moto_server, MAX_ATTEMPTS="2", CONNECT_TIMEOUT_S="1")
    queue_url = _queue(settings)
    _send(settings, queue_url, bucket, keys)
    real, via_server = make_handoff(source, str(out), open_store(source))
    assert not via_server
    after_handoff: list[tuple[dict[str, Any], tuple[int, int]]] = []
    stop = threading.Event()

    def handoff(batch: list[str], label: str) -> None:
        real(batch, label)
        after_handoff.append((snapshot(out), _queue_counts(settings, queue_url)))
        if len(after_handoff) == 1:
            proxy.accept()  # the storage is back; the pending reads are due a second later
        elif not after_handoff[-1][0]["pending"]:
            stop.set()

    timer = threading.Timer(120, stop.set)
    timer.start()
    try:
        watch(source, str(out), queue_url=queue_url, stop=stop, handoff=handoff)
    finally:
        timer.cancel()
        proxy.close()
    first, in_queue = after_handoff[0]
    assert len(first["pending"]) == 2 and len(first["ledger"]) == 2  # every upload accounted for …
    assert set(first["pending"].values()) <= {"EndpointUnreachable", "ConnectionClosedError"}, first["pending"]
    assert in_queue == (0, 4)  # … before its message is acknowledged (all four still held, none visible)
    assert _queue_counts(settings, queue_url) == (0, 0)
    got = snapshot(out)
    assert got["pending"] == {} and len(after_handoff) >= 2
    _same_ledger(got.pop("ledger"), expected.pop("ledger"))
    assert got == expected


# ------------------------------------------------------------------ (d) two watchers on one queue


def test_two_watchers_on_one_queue_hand_off_each_message_once(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch runs longer than the queue's visibility timeout: the messages it holds must not reach
    the other watcher meanwhile (the watcher extends their visibility while it holds them)."""
    from flows.watch import watch

    settings = _point_at(monkeypatch, moto_server)
    monkeypatch.setenv("XXGK_BATCH_SIZE", "4")
    monkeypatch.setenv("XXGK_BATCH_SECONDS", "1")
    s3 = raw_client("s3", settings)
    bucket = unique_name("two")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    keys = [f"up/{n:02d}.txt" for n in range(12)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())  # type: ignore[attr-defined]
    queue_url = _queue(settings, visibility_timeout=2)
    _send(settings, queue_url, bucket, keys)
    handed: Counter[str] = Counter()
    lock = threading.Lock()
    stop = threading.Event()

    def slow_handoff(batch: list[str], label: str) -> None:  # a batch that takes 3 visibility timeouts
        time.sleep(6)
        with lock:
            handed.update(batch)
            if sum(handed.values()) >= len(keys):
                threading.Timer(8, stop.set).start()  # long enough for any redelivery to show

    source, out = f"s3://{bucket}/", str(tmp_path / "out")
    watchers = [
        threading.Thread(target=watch, args=(source, out), kwargs={"queue_url": queue_url, "stop": stop,
                                                                    "handoff": slow_handoff})
        for _ in range(2)
    ]  # fmt: skip
    timer = threading.Timer(120, stop.set)
    timer.start()
    for w in watchers:
        w.start()
    for w in watchers:
        w.join(150)
    timer.cancel()
    assert not any(w.is_alive() for w in watchers)
    assert handed == Counter(keys), handed  # every message handed off exactly once
    assert _queue_counts(settings, queue_url) == (0, 0)
