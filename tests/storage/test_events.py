"""Upload events: S3 notifications through SQS (moto) and polling with a durable checkpoint."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from conftest import NotifiedBucket, raw_client

from tasks.events import (
    CorruptCheckpoint,
    MalformedEvent,
    Poller,
    SqsSource,
    UploadEvent,
    decode_checkpoint,
    encode_checkpoint,
    parse_s3_event,
)
from tasks.records import ObjectInfo
from tasks.settings import StorageSettings
from tasks.storage import LocalStore, S3Store, Store

CJK_KEY = "incoming/2021/洪泽区/报告 1.pdf"
SLOW = pytest.mark.slow  # starts moto


def s3_event(key: str, *, event: str = "ObjectCreated:Put", bucket: str = "uploads") -> dict[str, object]:
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventTime": "2026-02-01T02:03:04.000Z",
        "eventName": event,
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 12, "eTag": "abc"}},
    }
    return {"Records": [record]}


# ---------------------------------------------------------------- parsing


def test_parse_decodes_url_encoded_keys() -> None:
    key = "incoming/2021/洪泽区/报告 a+b.pdf"
    (event,) = parse_s3_event(json.dumps(s3_event(quote_plus(key, safe="/"))))
    assert event == UploadEvent("uploads", key, 12, "abc", event.event_time, "ObjectCreated:Put")
    assert event.event_time is not None and event.event_time.isoformat() == "2026-02-01T02:03:04+00:00"


def test_parse_ignores_test_and_non_created_events() -> None:
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "uploads"}
    assert parse_s3_event(json.dumps(test_event)) == []
    assert parse_s3_event(json.dumps(s3_event("a.pdf", event="ObjectRemoved:Delete"))) == []


def test_parse_minio_style_event_name() -> None:
    (event,) = parse_s3_event(json.dumps(s3_event("a.pdf", event="s3:ObjectCreated:CompleteMultipartUpload")))
    assert event.key == "a.pdf"


def test_parse_sns_wrapped() -> None:
    envelope = {"Type": "Notification", "MessageId": "m", "Message": json.dumps(s3_event("a%2Fb.pdf"))}
    assert [e.key for e in parse_s3_event(json.dumps(envelope))] == ["a/b.pdf"]


def test_parse_eventbridge() -> None:
    doc = {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "time": "2026-02-01T02:03:04Z",
        "detail": {
            "bucket": {"name": "uploads"},
            "object": {"key": "incoming/r.pdf", "size": 5, "etag": "e1"},
            "reason": "PutObject",
        },
    }
    (event,) = parse_s3_event(json.dumps(doc))
    assert (event.bucket, event.key, event.size, event.etag, event.event_name) == (
        "uploads", "incoming/r.pdf", 5, "e1", "ObjectCreated:PutObject"
    )  # fmt: skip
    assert parse_s3_event(json.dumps({**doc, "detail-type": "Object Deleted"})) == []


@pytest.mark.parametrize("body", ["", "not json", "[]", "{}", '{"Records": [{"eventName": "ObjectCreated:Put"}]}'])
def test_parse_malformed(body: str) -> None:
    with pytest.raises(MalformedEvent):
        parse_s3_event(body)


# ---------------------------------------------------------------- SQS (moto)


def _drain_test_event(source: SqsSource) -> None:
    deliveries = source.receive(wait_seconds=1)
    assert len(deliveries) == 1 and deliveries[0].events == [] and deliveries[0].error is None
    source.ack(deliveries[0])


@pytest.fixture
def notified(moto_settings: StorageSettings, make_notified_bucket: Callable[..., NotifiedBucket]) -> NotifiedBucket:
    return make_notified_bucket(moto_settings, visibility_timeout=1, prefix="incoming/")


@SLOW
def test_sqs_delivers_decoded_key_and_ack_deletes(notified: NotifiedBucket, moto_settings: StorageSettings) -> None:
    source = SqsSource(notified.queue_url, moto_settings)
    _drain_test_event(source)
    store = S3Store(notified.bucket, "", moto_settings)
    store.put(CJK_KEY, b"%PDF")
    store.put("elsewhere/x.pdf", b"%PDF")  # filtered out by the notification's prefix rule

    (delivery,) = source.receive(wait_seconds=2)
    (event,) = delivery.events
    head = store.head(event.key)
    assert (event.bucket, event.key, event.size) == (notified.bucket, CJK_KEY, 4)
    assert head is not None and event.etag == head.etag
    assert delivery.receipt_handle not in repr(delivery)

    time.sleep(1.3)  # not acked: the message comes back after the visibility timeout
    (again,) = source.receive(wait_seconds=2)
    assert again.message_id == delivery.message_id and again.receive_count == 2
    source.ack(again)
    time.sleep(1.3)
    assert source.receive(wait_seconds=1) == []


@SLOW
def test_sqs_malformed_message_is_a_delivery_with_error(
    notified: NotifiedBucket, moto_settings: StorageSettings
) -> None:
    source = SqsSource(notified.queue_url, moto_settings)
    _drain_test_event(source)
    raw_client("sqs", moto_settings).send_message(QueueUrl=notified.queue_url, MessageBody="garbage")  # type: ignore[attr-defined]
    (delivery,) = source.receive(wait_seconds=2)
    assert delivery.events == [] and delivery.error and delivery.body == "garbage"
    source.ack(delivery)


@SLOW
def test_sqs_release_makes_message_visible_again(notified: NotifiedBucket, moto_settings: StorageSettings) -> None:
    source = SqsSource(notified.queue_url, moto_settings)
    (delivery,) = source.receive(wait_seconds=2)  # the TestEvent
    source.release(delivery)
    (again,) = source.receive(wait_seconds=2)
    assert again.message_id == delivery.message_id
    source.ack(again)


# ---------------------------------------------------------------- polling


def _keys(infos: list[ObjectInfo]) -> list[str]:
    return sorted(i.key for i in infos)


@pytest.fixture(params=["local", pytest.param("moto", marks=SLOW)])
def uploads(request: pytest.FixtureRequest, tmp_path: Path, make_bucket: Callable[..., str]) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "uploads")
    settings = request.getfixturevalue("moto_settings")
    return S3Store(make_bucket(settings), "", settings)


def test_poller_new_once_unchanged_never_changed_again(uploads: Store, tmp_path: Path) -> None:
    state = LocalStore(tmp_path / "state")
    poller = Poller(uploads, "incoming/", state, "poller/incoming.json.gz")
    uploads.put("incoming/a.pdf", b"a")
    uploads.put(CJK_KEY, b"b")
    uploads.put("other/c.pdf", b"c")
    first = poller.poll()
    assert _keys(first) == sorted(["incoming/a.pdf", CJK_KEY])
    poller.commit(first)
    assert poller.poll() == []

    uploads.put("incoming/a.pdf", b"a, corrected and longer")
    uploads.put("incoming/d.pdf", b"d")
    assert _keys(poller.poll()) == ["incoming/a.pdf", "incoming/d.pdf"]


def test_poller_restart_misses_nothing_repeats_nothing_committed(uploads: Store, tmp_path: Path) -> None:
    state = LocalStore(tmp_path / "state")
    uploads.put("incoming/a.pdf", b"a")
    poller = Poller(uploads, "incoming/", state, "cp.json.gz")
    poller.commit(poller.poll())

    uploads.put("incoming/b.pdf", b"b")
    crashed = Poller(uploads, "incoming/", state, "cp.json.gz")
    assert _keys(crashed.poll()) == ["incoming/b.pdf"]  # ... and it crashes before commit

    restarted = Poller(uploads, "incoming/", state, "cp.json.gz")
    pending = restarted.poll()
    assert _keys(pending) == ["incoming/b.pdf"]  # re-delivered, not lost
    restarted.commit(pending)
    assert Poller(uploads, "incoming/", state, "cp.json.gz").poll() == []


def test_poller_redelivers_deleted_then_reuploaded(tmp_path: Path) -> None:
    uploads, state = LocalStore(tmp_path / "u"), LocalStore(tmp_path / "s")
    uploads.put("k.pdf", b"x")
    poller = Poller(uploads, "", state, "cp")
    poller.commit(poller.poll())
    uploads.delete("k.pdf")
    poller.commit(poller.poll())  # the listing no longer has it: forgotten
    assert decode_checkpoint(state.get("cp")) == {}


def test_checkpoint_is_compact_and_round_trips() -> None:
    seen = {f"incoming/{year}/A{i:05d}/报告.pdf": f"{i:032x}" for i, year in enumerate([2021] * 100_000)}
    data = encode_checkpoint("incoming/", seen)
    assert decode_checkpoint(data) == seen
    assert len(data) < 4_000_000, len(data)
    doc = json.loads(gzip.decompress(data))
    assert doc["version"] == 1 and doc["prefix"] == "incoming/"


def test_corrupt_checkpoint_raises(tmp_path: Path) -> None:
    state = LocalStore(tmp_path)
    state.put("cp", b"not gzip")
    with pytest.raises(CorruptCheckpoint):
        Poller(LocalStore(tmp_path / "u"), "", state, "cp").poll()
