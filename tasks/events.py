"""Finding new uploads: S3 event notifications through SQS, or polling with a durable checkpoint.

`SqsSource` long-polls a queue that receives the bucket's ``s3:ObjectCreated:*`` notifications
(directly, through SNS, or as EventBridge events). Delivery contract: call `SqsSource.ack` only
after the upload has been durably handed to the pipeline (a flow run created, a manifest row
committed, ...). A message not acked reappears after the queue's visibility timeout, so a crash
re-delivers and never loses; consumers must therefore be idempotent per (bucket, key, etag).

`Poller` serves stores without notifications (SeaweedFS, plain folders). It lists a prefix and
returns objects it has not seen, or whose ETag changed, since the last `commit`. A crash between
`poll` and `commit` re-delivers, never loses.

Checkpoint format (one object, written atomically through `Store.put`): gzip-compressed UTF-8 JSON
``{"version": 1, "prefix": "<prefix>", "seen": {"<key>": "<etag>", ...}}``. About 1 MB per
100,000 keys. Keys that disappear from a listing are dropped at the next commit, so an object
deleted and uploaded again is delivered again.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from tasks.records import ObjectInfo
from tasks.settings import StorageSettings
from tasks.storage import ObjectNotFound, Store, aws_client

log = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1
_SQS_MAX_WAIT_S = 20


class MalformedEvent(ValueError):
    """A queue message that is not an S3, SNS-wrapped S3 or EventBridge S3 event."""


class CorruptCheckpoint(ValueError):
    """The poller's checkpoint object exists but cannot be read."""


@dataclass(frozen=True)
class UploadEvent:
    bucket: str
    key: str
    size: int | None
    etag: str | None
    event_time: datetime | None
    event_name: str


# ---------------------------------------------------------------- parsing


def parse_s3_event(body: str) -> list[UploadEvent]:
    """The ObjectCreated uploads in one queue message body; other events give [].

    Accepts S3 notifications (``Records``), SNS envelopes holding one (``Message``), and
    EventBridge ``Object Created`` events. Keys are URL-decoded. Raises `MalformedEvent`.
    """
    try:
        doc = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise MalformedEvent("event is not a JSON object")
    try:
        return _events_from(doc)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedEvent(f"unexpected event shape: {exc!r}") from exc


def _events_from(doc: dict[str, Any]) -> list[UploadEvent]:
    if isinstance(doc.get("Message"), str) and doc.get("Type", "Notification") == "Notification":
        return parse_s3_event(doc["Message"])  # SNS envelope
    if doc.get("Event") == "s3:TestEvent":
        return []
    if "Records" in doc:
        return [_from_record(r) for r in doc["Records"] if _is_created(r.get("eventName", ""))]
    if "detail" in doc and "detail-type" in doc:
        return [_from_eventbridge(doc)] if doc["detail-type"] == "Object Created" else []
    raise MalformedEvent(f"no Records, Message or detail in event with keys {sorted(doc)}")


def _is_created(event_name: str) -> bool:
    return event_name.removeprefix("s3:").startswith("ObjectCreated:")


def _from_record(record: dict[str, Any]) -> UploadEvent:
    s3, obj = record["s3"], record["s3"]["object"]
    return UploadEvent(
        bucket=s3["bucket"]["name"],
        key=unquote_plus(obj["key"]),
        size=_int_or_none(obj.get("size")),
        etag=obj.get("eTag") or None,
        event_time=_time_or_none(record.get("eventTime")),
        event_name=record["eventName"],
    )


def _from_eventbridge(doc: dict[str, Any]) -> UploadEvent:
    detail, obj = doc["detail"], doc["detail"]["object"]
    return UploadEvent(
        bucket=detail["bucket"]["name"],
        key=unquote_plus(obj["key"]),
        size=_int_or_none(obj.get("size")),
        etag=obj.get("etag") or None,
        event_time=_time_or_none(doc.get("time")),
        event_name=f"ObjectCreated:{detail.get('reason', 'Unknown')}",
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _time_or_none(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# ---------------------------------------------------------------- SQS


@dataclass(frozen=True)
class Delivery:
    """One received message. `error` is set (and `events` empty) when the body was malformed:
    log it, then ack it or leave it for the queue's dead-letter policy."""

    message_id: str
    receipt_handle: str = field(repr=False)
    events: list[UploadEvent]
    receive_count: int = 1
    error: str | None = None
    body: str = field(default="", repr=False)


class SqsSource:
    """Long-polls an SQS queue of S3 notifications.

    Contract: `ack` deletes the message, so call it only once every upload in the delivery has
    been durably handed to the pipeline. Until then the message reappears after the queue's
    visibility timeout and is delivered again.
    """

    def __init__(self, queue_url: str, settings: StorageSettings | None = None) -> None:
        self.settings = settings or StorageSettings()
        self.queue_url = queue_url
        read_timeout = max(self.settings.read_timeout_s, _SQS_MAX_WAIT_S + 10)
        self._client = aws_client("sqs", self.settings, self.settings.sqs_endpoint_url, read_timeout=read_timeout)

    def __repr__(self) -> str:
        return f"SqsSource({self.queue_url!r})"

    def receive(self, max_messages: int = 10, wait_seconds: int = 20) -> list[Delivery]:
        """Up to `max_messages` (1–10) messages, waiting up to `wait_seconds` (0–20) for the first."""
        response = self._client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(max_messages, 10)),
            WaitTimeSeconds=max(0, min(wait_seconds, _SQS_MAX_WAIT_S)),
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        return [_to_delivery(m) for m in response.get("Messages", [])]

    def ack(self, delivery: Delivery) -> None:
        """Delete the message. Only after the hand-off of its uploads is durable."""
        self._client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=delivery.receipt_handle)
        log.debug("acked message %s", delivery.message_id)

    def release(self, delivery: Delivery, delay_s: int = 0) -> None:
        """Make the message visible again after `delay_s` seconds (e.g. the hand-off failed)."""
        self._client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=delivery.receipt_handle, VisibilityTimeout=delay_s
        )

    def extend(self, delivery: Delivery, seconds: int) -> None:
        """Keep the message hidden from other consumers for `seconds` more, from now."""
        self.release(delivery, seconds)

    def visibility_timeout(self) -> int:
        """The queue's VisibilityTimeout, in seconds: how long a received message stays hidden."""
        attrs = self._client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["VisibilityTimeout"])
        return int(attrs["Attributes"]["VisibilityTimeout"])


def _to_delivery(message: dict[str, Any]) -> Delivery:
    body = message.get("Body", "")
    count = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
    base = {"message_id": message["MessageId"], "receipt_handle": message["ReceiptHandle"], "receive_count": count}
    try:
        return Delivery(events=parse_s3_event(body), body=body, **base)
    except MalformedEvent as exc:
        log.warning("malformed message %s: %s", message["MessageId"], exc)
        return Delivery(events=[], error=str(exc), body=body, **base)


# ---------------------------------------------------------------- polling


def fingerprint(info: ObjectInfo) -> str:
    """What must change for an object to count as new: its ETag, else size and mtime."""
    return info.etag or f"{info.size:x}-{info.last_modified.isoformat()}"


class Poller:
    """Lists `prefix` of `store` and returns what is new or changed since the last commit.

    The checkpoint lives in another store (uploaded objects are never written to) under
    `checkpoint_key`; see the module docstring for its format.
    """

    def __init__(self, store: Store, prefix: str, checkpoint: Store, checkpoint_key: str) -> None:
        self.store = store
        self.prefix = prefix
        self.checkpoint = checkpoint
        self.checkpoint_key = checkpoint_key
        self._seen: dict[str, str] | None = None
        self._listed: set[str] | None = None

    def poll(self) -> list[ObjectInfo]:
        """Objects not committed before, or whose fingerprint changed, in listing order."""
        seen = self._load()
        listed = list(self.store.list(self.prefix))
        self._listed = {info.key for info in listed}
        fresh = [info for info in listed if seen.get(info.key) != fingerprint(info)]
        log.info("polled %s prefix %r: %d objects, %d new or changed", self.store.uri, self.prefix, len(listed), len(fresh))
        return fresh

    def commit(self, infos: Iterable[ObjectInfo]) -> None:
        """Record `infos` as delivered and persist the checkpoint atomically."""
        seen = self._load()
        if self._listed is not None:  # forget keys gone from the latest listing
            for key in set(seen) - self._listed:
                del seen[key]
        seen.update((info.key, fingerprint(info)) for info in infos)
        self.checkpoint.put(self.checkpoint_key, encode_checkpoint(self.prefix, seen), "application/gzip")

    def _load(self) -> dict[str, str]:
        if self._seen is None:
            try:
                self._seen = decode_checkpoint(self.checkpoint.get(self.checkpoint_key))
            except ObjectNotFound:
                log.info("no checkpoint at %s: starting empty", self.checkpoint.url(self.checkpoint_key))
                self._seen = {}
        return self._seen


def encode_checkpoint(prefix: str, seen: dict[str, str]) -> bytes:
    doc = {"version": CHECKPOINT_VERSION, "prefix": prefix, "seen": dict(sorted(seen.items()))}
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return gzip.compress(raw, mtime=0)


def decode_checkpoint(data: bytes) -> dict[str, str]:
    try:
        doc = json.loads(gzip.decompress(data).decode("utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise CorruptCheckpoint(f"unreadable checkpoint: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != CHECKPOINT_VERSION or not isinstance(doc.get("seen"), dict):
        raise CorruptCheckpoint("checkpoint is not a version-1 {version, prefix, seen} object")
    return {str(k): str(v) for k, v in doc["seen"].items()}
