"""Uploads to S3 (moto: S3 + SQS notifications; SeaweedFS: polling) → watcher → parquet read back
with pyarrow and DuckDB; idempotency, supersession, restarts and the sweep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
from conftest import NotifiedBucket, raw_client

from flows.watch import CHECKPOINT_KEY, make_handoff
from tasks.agency import agency_id
from tasks.settings import StorageSettings
from tasks.storage import open_store

from .conftest import Outputs, assert_cells_equal, extracted, put, report_id_of, run_watch, sample, wait_for

HONGZE = "incoming/2024/hongze.pdf"
SHANGHAI = "incoming/2019/shanghai.html"


def _out_uri(settings: StorageSettings, make_bucket: Callable[[StorageSettings], str]) -> str:
    return f"s3://{make_bucket(settings)}/curated"


def _drain(settings: StorageSettings, queue_url: str, expect: int) -> list[dict[str, Any]]:
    """Receive (and hide) the `expect` upload notifications; the configuration's s3:TestEvent is deleted."""
    sqs = raw_client("sqs", settings)
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15
    while len(got) < expect and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):  # type: ignore[attr-defined]
            if "ObjectCreated" in m["Body"]:
                got.append(m)
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])  # type: ignore[attr-defined]
    assert len(got) == expect, got
    return got


def _release(settings: StorageSettings, queue_url: str, messages: list[dict[str, Any]]) -> None:
    sqs = raw_client("sqs", settings)
    for m in messages:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)  # type: ignore[attr-defined]


def _queue_depth(settings: StorageSettings, queue_url: str) -> int:
    attrs = raw_client("sqs", settings).get_queue_attributes(  # type: ignore[attr-defined]
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def _etags(settings: StorageSettings, uri: str, sub: str) -> dict[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    listed = raw_client("s3", settings).list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/{sub}")  # type: ignore[attr-defined]
    return {o["Key"]: o["ETag"] for o in listed.get("Contents", [])}


def test_notification_to_parquet_then_reupload_and_replay_change_nothing(
    moto_env: StorageSettings,
    make_notified_bucket: Callable[..., NotifiedBucket],
    make_bucket: Callable[[StorageSettings], str],
) -> None:
    nb = make_notified_bucket(moto_env)
    src, out = f"s3://{nb.bucket}", _out_uri(moto_env, make_bucket)
    docs = {HONGZE: sample("hongze_2024_pdf"), "incoming/2023/样例县/报告 2023.docx": sample("synthetic_2021_docx")}
    for key, data in docs.items():
        put(moto_env, nb.bucket, key, data)
    events = _drain(moto_env, nb.queue_url, expect=2)  # kept, to replay them later
    _release(moto_env, nb.queue_url, events)

    assert run_watch(src, out, queue_url=nb.queue_url, max_batches=1) == 1  # no deployment: ingest in-process
    assert _queue_depth(moto_env, nb.queue_url) == 0  # acked once the batch was published

    o = Outputs.s3(moto_env, out)
    cells = o.rows("cells")
    for key, data in docs.items():
        own = [r for r in cells if r["report_id"] == report_id_of(data)]
        assert {r["source"] for r in own} == {f"{src}/{key}"}
        assert_cells_equal(own, extracted(data))
    con = o.duck()
    assert con.execute("SELECT count(*), count(DISTINCT report_id) FROM cells").fetchone() == (len(cells), 2)
    assert con.execute("SELECT year, count(*) FROM reports WHERE is_current GROUP BY year ORDER BY year").fetchall() == [
        (2023, 1),
        (2024, 1),
    ]
    doc = o.json(f"quality/{agency_id(extracted(docs[HONGZE])['agency'])}.json")
    assert [(r["year"], r["source"]) for r in doc["reports"]] == [(2024, f"{src}/{HONGZE}")]

    counts, parquet = o.counts(), _etags(moto_env, out, "delta/")
    assert parquet
    # the same bytes re-uploaded (same key, and a new key), and the old notifications replayed
    put(moto_env, nb.bucket, HONGZE, docs[HONGZE])
    put(moto_env, nb.bucket, "incoming/again/hongze-copy.pdf", docs[HONGZE])
    sqs = raw_client("sqs", moto_env)
    for m in events:
        sqs.send_message(QueueUrl=nb.queue_url, MessageBody=m["Body"])  # type: ignore[attr-defined]
    assert wait_for(lambda: _queue_depth(moto_env, nb.queue_url) == 4, timeout=10)  # 2 re-uploads + 2 replays

    assert run_watch(src, out, queue_url=nb.queue_url, max_batches=1) == 1
    assert _queue_depth(moto_env, nb.queue_url) == 0
    assert o.counts() == counts
    assert _etags(moto_env, out, "delta/") == parquet  # not a file rewritten, no commit
    outcomes = {
        (r["url"], r["outcome"])
        for f in o.files("state/ledger")
        for r in pq.read_table(o.fs.open_input_file(f"{o.root}/{f}")).to_pylist()
    }
    assert (f"{src}/incoming/again/hongze-copy.pdf", "unchanged") in outcomes
    assert len([u for u, _ in outcomes if u == f"{src}/{HONGZE}"]) == 1  # ingested once, whatever the events


def test_corrected_report_newer_last_modified_wins_on_s3(
    moto_env: StorageSettings, make_bucket: Callable[[StorageSettings], str]
) -> None:
    """The corrected upload (later LastModified) is ingested first, the original after it: the correction stays current."""
    from flows.ingest import ingest

    bucket = make_bucket(moto_env)
    src, out = f"s3://{bucket}/uploads", _out_uri(moto_env, make_bucket)
    old, new = sample("synthetic_2021_pdf"), sample("synthetic_2021_docx")
    put(moto_env, bucket, "uploads/original.pdf", old)
    time.sleep(1.1)  # LastModified has a resolution of one second
    put(moto_env, bucket, "uploads/corrected.docx", new)

    assert ingest(source=src, output=out, keys=["corrected.docx"])["published"] == 1
    second = ingest(source=src, output=out, keys=["original.pdf"])
    assert (second["published"], second["older"], second["superseded"]) == (0, 1, 0)

    o = Outputs.s3(moto_env, out)
    con = o.duck()
    assert con.execute("SELECT DISTINCT report_id FROM cells").fetchall() == [(report_id_of(new),)]
    history = con.execute("SELECT report_id, is_current, superseded_by, source FROM reports ORDER BY source_last_modified").fetchall()
    assert history == [
        (report_id_of(old), False, report_id_of(new), f"{src}/original.pdf"),
        (report_id_of(new), True, None, f"{src}/corrected.docx"),
    ]
    assert_cells_equal(o.rows("cells"), extracted(new))


def test_sweep_ingests_what_a_lost_event_missed(
    moto_env: StorageSettings,
    make_notified_bucket: Callable[..., NotifiedBucket],
    make_bucket: Callable[[StorageSettings], str],
) -> None:
    from flows.sweep import sweep

    nb = make_notified_bucket(moto_env)
    src, out = f"s3://{nb.bucket}", _out_uri(moto_env, make_bucket)
    put(moto_env, nb.bucket, HONGZE, sample("hongze_2024_pdf"))
    put(moto_env, nb.bucket, SHANGHAI, sample("shanghai_office_2019_html"))
    events = _drain(moto_env, nb.queue_url, expect=2)
    lost = [m for m in events if "shanghai" in m["Body"]]
    assert len(lost) == 1
    raw_client("sqs", moto_env).delete_message(QueueUrl=nb.queue_url, ReceiptHandle=lost[0]["ReceiptHandle"])  # type: ignore[attr-defined]
    _release(moto_env, nb.queue_url, [m for m in events if m not in lost])

    assert run_watch(src, out, queue_url=nb.queue_url, max_batches=1) == 1
    o = Outputs.s3(moto_env, out)
    assert [r["source"] for r in o.rows("reports")] == [f"{src}/{HONGZE}"]

    result = sweep(source=src, output=out)
    assert result["published"] == 1 and result["unchanged"] == 0
    assert sorted(r["source"] for r in o.rows("reports")) == [f"{src}/{SHANGHAI}", f"{src}/{HONGZE}"]
    assert_cells_equal(
        [r for r in o.rows("cells") if r["report_id"] == report_id_of(sample("shanghai_office_2019_html"))],
        extracted(sample("shanghai_office_2019_html")),
    )
    counts = o.counts()
    assert sweep(source=src, output=out)["batches"] == 0  # nothing left
    assert o.counts() == counts


def test_seaweedfs_polling_watcher_restarts_miss_nothing_repeat_nothing(
    seaweed_env: StorageSettings, make_bucket: Callable[[StorageSettings], str]
) -> None:
    source_bucket = make_bucket(seaweed_env)
    src, out = f"s3://{source_bucket}", _out_uri(seaweed_env, make_bucket)
    real, via_server = make_handoff(src, out, open_store(src, seaweed_env))
    assert not via_server
    handed: list[list[str]] = []

    def recording(keys: list[str], label: str) -> None:
        handed.append(sorted(keys))
        real(keys, label)

    killed = threading.Event()

    def crashing(keys: list[str], label: str) -> None:  # the watcher dies while handing off
        handed.append(sorted(keys))
        killed.set()
        raise RuntimeError("watcher killed during the hand-off")

    put(seaweed_env, source_bucket, HONGZE, sample("hongze_2024_pdf"))
    put(seaweed_env, source_bucket, SHANGHAI, sample("shanghai_office_2019_html"))
    assert run_watch(src, out, max_batches=1, handoff=recording) == 1
    assert handed == [[SHANGHAI, HONGZE]]
    o = Outputs.s3(seaweed_env, out)
    assert CHECKPOINT_KEY in o.files("state")

    # uploaded while no watcher runs; the next watcher crashes before its hand-off is durable
    late = "incoming/2021/jining.txt"
    put(seaweed_env, source_bucket, late, sample("jining_org_dept_2021_text"))
    assert run_watch(src, out, max_batches=1, handoff=crashing, stop=killed) == 0  # nothing acknowledged
    # a new watcher: the late upload again (not lost), nothing before it (not repeated)
    assert run_watch(src, out, max_batches=1, handoff=recording) == 1
    assert handed[1:] == [[late], [late]]
    # and one more restart with nothing new: no batch at all
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    assert run_watch(src, out, stop=stop, handoff=recording) == 0
    assert len(handed) == 3

    rows = o.rows("reports")
    assert sorted(r["source"] for r in rows) == sorted(f"{src}/{k}" for k in (HONGZE, SHANGHAI, late))
    con = o.duck()
    assert con.execute("SELECT count(DISTINCT report_id), count(*) FROM cells").fetchone() == (
        3,
        sum(len(extracted(sample(s))["cells"]) for s in ("hongze_2024_pdf", "shanghai_office_2019_html", "jining_org_dept_2021_text")),
    )
