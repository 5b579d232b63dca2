"""xxgk-sweep: every few minutes, ingest anything uploaded but not yet ingested.

The safety net under the event path: a lost notification, a dropped Prefect event or a
watcher that was down costs minutes, not data (the ledger says what was ingested).
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.ingest import ingest
from tasks import steps
from tasks.settings import get_settings


@flow(name="xxgk-sweep", flow_run_name="sweep")
def sweep(source: str | None = None, output: str | None = None, prefix: str = "") -> dict[str, Any]:
    settings = get_settings().pipeline
    source, output = source or settings.source, output or settings.output
    if not steps.discover(source, output, None, prefix):
        return {"batches": 0}
    return steps.final_state(ingest(source=source, output=output, prefix=prefix, label="sweep"))
