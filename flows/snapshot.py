"""xxgk-snapshot: the plain-parquet snapshot of every year's current rows, replaced atomically, on a
schedule (daily). What it writes and how readers stay safe: tasks/snapshot.py."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from tasks import snapshot as export
from tasks.settings import get_settings
from tasks.storage import open_store


@task(name="export-snapshot")
def export_snapshot(output: str) -> dict[str, Any]:
    s = get_settings()
    result = export.export(open_store(output, s.storage), s.maintain.snapshot_grace_hours, s.maintain.attempts)
    get_run_logger().info("snapshot %s %s: %s; removed %s", result.id, "current" if result.switched else
                          "not switched to (a newer one is current)", result.rows, result.removed or "none")  # fmt: skip
    return result.to_dict()


@flow(name="xxgk-snapshot", flow_run_name="snapshot")
def snapshot(output: str | None = None) -> dict[str, Any]:
    return export_snapshot(output or get_settings().pipeline.output)
