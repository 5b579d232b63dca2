"""xxgk-maintain: compaction, checkpoint and vacuum of the Delta outputs, on a schedule (weekly), never
as part of a publish. The work and its safety with concurrent writers: tasks/maintain.py."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from tasks import maintain as upkeep
from tasks.settings import get_settings
from tasks.storage import open_store


@task(name="maintain-tables")
def maintain_tables(output: str) -> dict[str, Any]:
    s = get_settings()
    store = open_store(output, s.storage)
    try:
        result = upkeep.maintain(store, s.maintain.retention_hours, s.maintain.lease_hours, s.maintain.attempts)
    except upkeep.MaintenanceBusy as exc:  # another run is at it: nothing done, nothing to fix
        get_run_logger().warning("%s; this run did nothing", exc)
        return {"busy": str(exc), "datasets": []}
    for d in result.datasets:
        get_run_logger().info("%s: %d → %d files, %d vacuumed%s", d.dataset, d.files_before, d.files_after,
                              d.files_vacuumed, f"; compaction given up: {d.gave_up}" if d.gave_up else "")  # fmt: skip
    return result.to_dict()


@flow(name="xxgk-maintain", flow_run_name="maintain")
def maintain(output: str | None = None) -> dict[str, Any]:
    return maintain_tables(output or get_settings().pipeline.output)
