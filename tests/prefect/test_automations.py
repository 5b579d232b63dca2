"""The shipped automation fires on a real server (`prefect server start`, its triggers and actions
services running): a batch that quarantines a file emits `xxgk.report.quarantined`, and the
`xxgk-quarantined-file` automation notifies through a Prefect notification block — here a
custom-webhook block posting to an HTTP server this test runs, so all of it works offline."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prefect_server import prefect_api, prefect_server  # noqa: F401 - fixtures

from flows import deploy

pytestmark = pytest.mark.slow  # starts a Prefect server
BAD_PDF = b"%PDF-1.4\n% not really a PDF: no objects, no /Root\n%%EOF\n"


class Receiver:
    """An HTTP server on 127.0.0.1 recording the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append(json.loads(data))
                receiver.arrived.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def _automation_events(api: str, name: str) -> list[dict[str, Any]]:
    import httpx

    body = {"filter": {"event": {"prefix": ["prefect.automation."]}}, "limit": 50}
    events = httpx.post(f"{api}/events/filter", json=body, timeout=30).json()["events"]
    return [e for e in events if e["resource"].get("prefect.resource.name") == name]


def test_a_quarantined_file_fires_the_shipped_automation(
    prefect_api: str, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    from flows.ingest import ingest

    CustomWebhookNotificationBlock(
        name="xxgk-alerts", url=receiver.url, json_data={"subject": "{{subject}}", "body": "{{body}}"}, allow_private_urls=True
    ).save("xxgk-test-alerts", overwrite=True)
    monkeypatch.setenv("XXGK_ALERT_BLOCK", "custom-webhook/xxgk-test-alerts")
    assert deploy.register_automations() == ["xxgk-quarantined-file"]
    assert deploy.register_automations() == ["xxgk-quarantined-file"]  # replaced, not added
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        (automation,) = client.read_automations_by_name("xxgk-quarantined-file")
    assert [a.type for a in automation.actions] == ["send-notification"]

    src = tmp_path / "bucket"
    (src / "2023").mkdir(parents=True)
    (src / "2023" / "broken.pdf").write_bytes(BAD_PDF)
    monkeypatch.setenv("XXGK_WORKERS", "1")
    from prefect.events.worker import EventsWorker

    # Prefect keeps one events worker per process, keyed without the API URL: one started by an
    # earlier test still posts to that test's server. Stop it, so this run's events reach this server.
    EventsWorker.drain_all(timeout=30)
    state = ingest(source=str(src), output=str(tmp_path / "out"), return_state=True)
    assert state.name == "CompletedWithIssues"

    # seconds on an idle machine; the server's trigger and action services took over 60 s at load 15
    assert receiver.arrived.wait(240), "the automation did not notify within 240 s"
    (note,) = receiver.bodies
    source = str(src / "2023" / "broken.pdf")
    assert note["subject"] == f"xxgk: quarantined {source}"
    assert note["body"].startswith(f"{source} was quarantined: CorruptDocument: ")
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
    assert note["body"].endswith(f"flow run {run.name}")
    want = {"prefect.automation.triggered", "prefect.automation.action.executed"}
    deadline = time.monotonic() + 120  # the server records its own events a moment after acting
    while not want <= (kinds := {e["event"] for e in _automation_events(prefect_api, "xxgk-quarantined-file")}):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    assert want <= kinds, kinds


def test_without_an_alert_block_the_automation_only_records_its_firing(
    prefect_api: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.delenv("XXGK_ALERT_BLOCK", raising=False)
    deploy.register_automations()
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        (automation,) = client.read_automations_by_name("xxgk-quarantined-file")
    assert [a.type for a in automation.actions] == ["do-nothing"]
    assert automation.trigger.expect == {"xxgk.report.quarantined"}


def test_an_alert_block_that_does_not_exist_is_a_typed_error(
    prefect_api: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    from tasks.errors import BlockNotFound

    with pytest.raises(BlockNotFound, match="custom-webhook/nope"):
        deploy.register_automations("custom-webhook/nope")
