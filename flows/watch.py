"""The watcher: turns uploads into batched ingest runs.

Uploads are discovered from S3 event notifications on an SQS queue (long polling) or, for
stores without notifications and for local folders, by polling with a durable checkpoint.
Each discovered upload is posted as a Prefect event `xxgk.report.uploaded` (resource: the
object), visible in the UI's event feed. Uploads are gathered into batches of up to
`XXGK_BATCH_SIZE` keys or `XXGK_BATCH_SECONDS` seconds, and each batch is handed off:

- to the `xxgk-ingest/on-upload` deployment, when the configured Prefect server has it: one
  `xxgk.batch.ready` event per batch, which its trigger turns into one flow run on a worker;
- otherwise (no server, or no deployment) by running the ingest flow in this process.

Only once the hand-off is durable (the server accepted the event, or the in-process run
published) are the SQS messages deleted or the poll checkpoint advanced: a crash before that
re-delivers the batch, and the ledger makes the re-delivery harmless. A hand-off that fails
(the server is unreachable) is logged and retried with backoff, never acknowledged: an outage
delays ingestion and loses no upload.

A poison batch is never retried forever: a hand-off that fails twice the same way (any error but
transient I/O) splits the batch in halves, each handed off on its own and split again if it fails
the same way twice, so the rest of the batch is ingested; an upload that still fails alone is
dead-lettered — a record under `DEST/dead-letter/`, a ledger row `dead_letter` (no sweep retries it
until it is uploaded again), a WARNING with the count — and acknowledged with its batch.

While messages are held (gathered into a batch, then handed off), their visibility is extended
every third of the queue's visibility timeout, so a batch that runs longer than that timeout is
not delivered to another watcher as well. After an in-process run, the poll checkpoint records
each object as the version the ledger says was read (an object replaced mid-run is new again in
its listed version; one gone when read is not marked seen). An upload whose read failed is
recorded pending in the ledger, so its message is acknowledged; the watcher reads it again from
the ledger, `XXGK_READ_RETRY_SECONDS` after the failure, doubling per failure up to an hour.

The watcher is a long-running process, not a flow run: it starts flow runs.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from tasks import pipeline
from tasks.events import Delivery, Poller, SqsSource
from tasks.pipeline import DEAD_LETTER_PREFIX, failure_signature, transient_failure, write_dead_letter as dead_letter
from tasks.records import ObjectInfo
from tasks.redact import redact_location, redact_text
from tasks.settings import get_settings
from tasks.storage import S3Store, Store, open_store

log = logging.getLogger("xxgk.watch")

UPLOAD_EVENT = "xxgk.report.uploaded"
BATCH_EVENT = "xxgk.batch.ready"
DEPLOYMENT = "xxgk-ingest/on-upload"
CHECKPOINT_KEY = "state/poll-checkpoint.json.gz"
HANDOFF_RETRY_S = 0.5
"""After a failed hand-off the watcher waits this long, doubling per failure up to HANDOFF_RETRY_MAX_S."""
HANDOFF_RETRY_MAX_S = 60.0
READ_RETRY_MAX_S = 3600.0
"""The longest wait before an upload whose reads keep failing is read again."""


@dataclass
class Found:
    keys: list[str] = field(default_factory=list)
    tokens: list[Any] = field(default_factory=list)  # what to acknowledge once handed off


class Feed(Protocol):
    def next(self, wait_s: float) -> Found: ...
    def ack(self, tokens: list[Any]) -> None: ...
    def release(self, tokens: list[Any]) -> None: ...
    def close(self) -> None: ...


class SqsFeed:
    """Upload keys from S3 notifications, relative to the source store's bucket and prefix.

    Messages received and not yet acknowledged are held: a thread extends their visibility every
    third of the queue's visibility timeout until they are acknowledged or released."""

    def __init__(self, queue: SqsSource, source: Store) -> None:
        self.queue = queue
        self.bucket = source.bucket if isinstance(source, S3Store) else None
        self.prefix = source.prefix if isinstance(source, S3Store) else ""
        self.visibility_s = queue.visibility_timeout()
        self._held: dict[str, Delivery] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._keeper = threading.Thread(target=self._keep_hidden, name="xxgk-sqs-visibility", daemon=True)
        self._keeper.start()

    def next(self, wait_s: float) -> Found:
        found = Found()
        for d in self.queue.receive(max_messages=10, wait_seconds=int(max(0, min(20, wait_s)))):
            with self._lock:
                self._held[d.message_id] = d
            found.tokens.append(d)
            for key in self._keys(d):
                found.keys.append(key)
        return found

    def _keep_hidden(self) -> None:
        period = max(0.5, self.visibility_s / 3)
        while not self._closed.wait(period):
            with self._lock:
                held = list(self._held.values())
            for d in held:
                try:
                    self.queue.extend(d, self.visibility_s)
                except Exception as exc:  # noqa: BLE001 - e.g. a stale receipt: it comes back, the ledger dedupes
                    log.warning("could not extend the visibility of message %s: %s", d.message_id, exc)

    def _keys(self, d: Delivery) -> list[str]:
        if d.error:
            log.warning("malformed notification %s dropped: %s", d.message_id, d.error)
        out = []
        for ev in d.events:
            if self.bucket is not None and ev.bucket != self.bucket:
                log.warning("notification for bucket %s ignored (watching %s)", ev.bucket, self.bucket)
                continue
            if not ev.key.startswith(self.prefix):
                continue
            out.append(ev.key[len(self.prefix) :])
        return out

    def ack(self, tokens: list[Any]) -> None:
        for d in tokens:
            self.queue.ack(d)
            with self._lock:
                self._held.pop(d.message_id, None)

    def release(self, tokens: list[Any]) -> None:
        """Stop holding these messages and make them visible again now (their hand-off failed)."""
        for d in tokens:
            with self._lock:
                self._held.pop(d.message_id, None)
            try:
                self.queue.release(d)
            except Exception as exc:  # noqa: BLE001 - it comes back after its visibility timeout anyway
                log.warning("could not release message %s: %s", d.message_id, exc)

    def close(self) -> None:
        self._closed.set()


class PollFeed:
    """New or changed objects by listing, with the checkpoint kept in the output store.

    With `ledger` (source and output stores; set when batches run in this process), an object is
    committed as the version the ledger recorded for it (`pipeline.accounted_for`), else as listed."""

    def __init__(self, poller: Poller, interval_s: float, ledger: tuple[Store, Store] | None = None) -> None:
        self.poller = poller
        self.interval_s = interval_s
        self.ledger = ledger
        self._last = 0.0

    def next(self, wait_s: float) -> Found:
        delay = self._last + self.interval_s - time.monotonic()
        if delay > 0:
            time.sleep(min(delay, wait_s))
            if self._last + self.interval_s > time.monotonic():
                return Found()
        self._last = time.monotonic()
        infos: list[ObjectInfo] = self.poller.poll()
        return Found([i.key for i in infos], [infos])

    def ack(self, tokens: list[Any]) -> None:
        for infos in tokens:
            if self.ledger is not None:
                source, output = self.ledger
                infos = pipeline.accounted_for(output, source, infos)
            self.poller.commit(infos)

    def release(self, tokens: list[Any]) -> None:
        """Nothing to do: what was not committed is listed again."""

    def close(self) -> None:
        """Nothing to stop."""


class Handoff(Protocol):
    def __call__(self, keys: list[str], label: str) -> None: ...


def _server_deployment() -> Any | None:
    """The on-upload deployment on the configured Prefect server, if there is both."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        return None
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            return client.read_deployment_by_name(DEPLOYMENT)
    except Exception:  # noqa: BLE001 - no deployment (or no server): run in-process
        return None


def post_events(events: list[dict[str, Any]]) -> None:
    """POST events to the server's events API and wait for it to accept them (204)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        response = client._client.post("/events", json=events)  # the SDK's emitter is fire-and-forget
        response.raise_for_status()


def _event(name: str, resource: dict[str, str], payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "occurred": datetime.now(UTC).isoformat(),
        "event": name,
        "resource": resource,
        "payload": payload,
    }


def upload_events(source: Store, keys: list[str]) -> list[dict[str, Any]]:
    return [
        _event(UPLOAD_EVENT, {"prefect.resource.id": f"xxgk.object.{redact_location(source.url(k))}", "xxgk.key": k},
               {"source": redact_location(source.uri)})
        for k in keys
    ]


def absolute(uri: str) -> str:
    """A local path made absolute: a flow run on a worker starts in another directory."""
    if "://" in uri and not uri.startswith("file://"):
        return uri
    return str(Path(uri.removeprefix("file://")).absolute())


def make_handoff(source_uri: str, output_uri: str, source: Store) -> tuple[Handoff, bool]:
    """(hand-off, via_server): events to the deployment when it exists, else an in-process run."""
    # event payloads and run parameters are recorded by Prefect: never with credentials
    source_uri = absolute(redact_location(source_uri, escape=False))
    output_uri = absolute(redact_location(output_uri, escape=False))
    if _server_deployment() is not None:

        def via_events(keys: list[str], label: str) -> None:
            batch = _event(
                BATCH_EVENT,
                {"prefect.resource.id": f"xxgk.batch.{uuid.uuid4()}", "xxgk.source": source_uri},
                {"source": source_uri, "output": output_uri, "keys": keys, "label": label},
            )
            post_events([*upload_events(source, keys), batch])

        return via_events, True

    from flows.ingest import ingest

    def in_process(keys: list[str], label: str) -> None:
        ingest(source=source_uri, output=output_uri, keys=keys, label=label)

    return in_process, False


def make_feed(source: Store, output: Store, queue_url: str | None, prefix: str = "", in_process: bool = False) -> Feed:
    s = get_settings()
    if queue_url:
        return SqsFeed(SqsSource(queue_url, s.storage), source)
    ledger = (source, output) if in_process else None
    return PollFeed(Poller(source, prefix, output, CHECKPOINT_KEY), s.pipeline.poll_seconds, ledger)


def watch(
    source_uri: str,
    output_uri: str,
    queue_url: str | None = None,
    prefix: str = "",
    stop: threading.Event | None = None,
    max_batches: int | None = None,
    handoff: Handoff | None = None,
) -> int:
    """Run until `stop` is set (or `max_batches` batches were handed off); returns the batch count."""
    source, output = open_store(source_uri, get_settings().storage), open_store(output_uri, get_settings().storage)
    via_server = False
    if handoff is None:
        handoff, via_server = make_handoff(source_uri, output_uri, source)
    feed = make_feed(source, output, queue_url, prefix, in_process=not via_server)
    log.info("watching %s (%s) → %s; hand-off: %s", source_uri, "SQS" if queue_url else "polling", output_uri,
             "Prefect deployment " + DEPLOYMENT if via_server else "ingest runs in this process")
    stop = stop or threading.Event()
    try:
        return _loop(feed, handoff, source, output, prefix, stop, max_batches)
    finally:
        feed.close()


def _loop(
    feed: Feed, handoff: Handoff, source: Store, output: Store, prefix: str, stop: threading.Event,
    max_batches: int | None,
) -> int:  # fmt: skip
    s = get_settings().pipeline
    idle_s = min(20.0, s.read_retry_seconds)  # how long a turn waits for news: pending reads are looked up once a turn
    done = failures = dead_lettered = 0
    failed: dict[frozenset[str], str] = {}  # keys of a batch whose last hand-off failed → how (see isolate)
    next_lookup = 0.0
    while not stop.is_set() and (max_batches is None or done < max_batches):
        keys, tokens = _gather(feed, s.batch_size, s.batch_seconds, stop, idle_s=idle_s)
        if stop.is_set() and not tokens:
            break
        if time.monotonic() >= next_lookup:
            keys += _due_reads(source, output, prefix, s.read_retry_seconds)
            next_lookup = time.monotonic() + idle_s
        if not tokens and not keys:
            continue
        unique = list(dict.fromkeys(keys))
        if unique:
            label = f"watch batch {datetime.now(UTC):%Y-%m-%d %H:%M:%S} ({len(unique)} uploads)"
            log.info("handing off %d upload(s)", len(unique))
            try:
                dead = isolate(handoff, unique, label, failed)
            except Exception as exc:  # noqa: BLE001 - e.g. the Prefect server is unreachable: keep the uploads
                failures += 1
                delay = min(HANDOFF_RETRY_S * 2 ** (failures - 1), HANDOFF_RETRY_MAX_S)
                log.warning(
                    "hand-off of %d upload(s) failed (%s: %s): not acknowledged, they are delivered again; "
                    "next attempt in %.1f s", len(unique), type(exc).__name__, exc, delay,
                )  # fmt: skip
                feed.release(tokens)
                stop.wait(delay)
                continue
            failures = 0
            done += 1
            for key, error in dead:  # acknowledged with the batch: recorded, never retried until re-uploaded
                record = dead_letter(output, source, key, error, POISON_ATTEMPTS)
                dead_lettered += 1
                log.warning(
                    "dead-lettered %s: its hand-off failed the same way %d times (%s: %s); record %s; "
                    "%d upload(s) dead-lettered by this watcher", redact_location(source.url(key)), POISON_ATTEMPTS,
                    type(error).__name__, redact_text(str(error))[:300], record, dead_lettered,
                )  # fmt: skip
        feed.ack(tokens)
    if dead_lettered:
        log.warning("%d upload(s) dead-lettered: see %s/%s", dead_lettered, output.uri.rstrip("/"), DEAD_LETTER_PREFIX)
    return done


def _due_reads(source: Store, output: Store, prefix: str, first_delay_s: float) -> list[str]:
    """Uploads whose read failed (pending in the ledger) and are due to be read again."""
    try:
        keys = pipeline.due_reads(output, source, first_delay_s, READ_RETRY_MAX_S, prefix)
    except Exception as exc:  # noqa: BLE001 - the ledger is unreachable now: try again at the next turn
        log.warning("could not read the ledger for pending reads (%s: %s)", type(exc).__name__, exc)
        return []
    if keys:
        log.info("reading again %d upload(s) whose read failed", len(keys))
    return keys


POISON_ATTEMPTS = 2
"""A hand-off that fails this many times in a row the same way (not transient I/O) is poison: the
batch is split, and a single upload that still fails so is dead-lettered."""


def isolate(handoff: Handoff, keys: list[str], label: str, failed: dict[frozenset[str], str]) -> list[tuple[str, BaseException]]:
    """Hand `keys` off. A failure that is transient I/O (the server unreachable) is raised: the batch is
    not acknowledged and comes again. Any other failure is raised the first time too (it may be
    transient in ways we cannot tell), and remembered; when the same keys fail the same way again the
    batch is poison: it is split in halves, each handed off on its own (and split again if it fails
    the same way twice), until the uploads that fail alone are found. Returns those, with their
    error, to be dead-lettered; every other upload of the batch has been handed off."""
    try:
        handoff(keys, label)
        failed.pop(frozenset(keys), None)
        return []
    except Exception as exc:
        if transient_failure(exc):
            raise
        group = frozenset(keys)
        if failed.get(group) != failure_signature(exc):
            if len(failed) > 1000:  # batches that failed once and never came again as they were
                failed.clear()
            failed[group] = failure_signature(exc)
            raise
        failed.pop(group, None)
        if len(keys) == 1:
            return [(keys[0], exc)]
        log.warning("the hand-off of %d upload(s) failed the same way twice (%s): splitting it", len(keys), failure_signature(exc))
    dead: list[tuple[str, BaseException]] = []
    half = len(keys) // 2
    for n, part in enumerate((keys[:half], keys[half:]), 1):
        part_label = f"{label} part {n}/2"
        for attempt in range(POISON_ATTEMPTS):
            try:
                dead += isolate(handoff, part, part_label, failed)
                break
            except Exception as exc:
                if transient_failure(exc) or attempt + 1 == POISON_ATTEMPTS:
                    raise
    return dead


def _gather(
    feed: Feed, size: int, seconds: float, stop: threading.Event, idle_s: float = 20.0
) -> tuple[list[str], list[Any]]:
    """Up to `size` keys, or whatever arrived within `seconds` of the first one; waits at most
    `idle_s` when nothing arrives."""
    keys: list[str] = []
    tokens: list[Any] = []
    deadline: float | None = None
    while not stop.is_set() and len(keys) < size:
        wait = idle_s if deadline is None else max(0.0, deadline - time.monotonic())
        if deadline is not None and wait <= 0:
            break
        found = feed.next(min(wait, 20.0))
        tokens.extend(found.tokens)
        keys.extend(found.keys)
        if found.tokens and deadline is None:
            deadline = time.monotonic() + seconds
        if not found.tokens and deadline is None:
            break  # nothing arrived within idle_s: the caller looks for due reads, then waits again
    return keys, tokens
