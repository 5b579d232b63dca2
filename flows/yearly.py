"""xxgk-yearly: the scheduled yearly ingestion (and, run with a past `year`, the backfill).

Scheduled after the statutory deadlines (departments publish by 31 January, people's
governments by 31 March): 1 February and 1 April, Asia/Shanghai. `year` defaults to the year
before the run's scheduled start, computed when the run starts, not when the deployment was
registered. It ingests everything under the source prefix not yet ingested, then writes which
agencies already known to the dataset have no report for `year`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run

from flows.ingest import ingest
from tasks import steps
from tasks.settings import get_settings

TZ = ZoneInfo("Asia/Shanghai")


def statistics_year(now: datetime | None = None) -> int:
    """The year whose reports are due: the calendar year before `now` in China."""
    when = now or flow_run.scheduled_start_time or datetime.now(TZ)
    return when.astimezone(TZ).year - 1


def _run_name() -> str:
    year = flow_run.parameters.get("year") or statistics_year()
    return f"yearly {year}"


@flow(name="xxgk-yearly", flow_run_name=_run_name)
def yearly(source: str | None = None, output: str | None = None, year: int | None = None, prefix: str = "") -> dict[str, Any]:
    settings = get_settings().pipeline
    year = year or statistics_year()
    source, output = source or settings.source, output or settings.output
    result = ingest(source=source, output=output, prefix=prefix, label=f"{year} (yearly)")
    result["coverage"] = steps.coverage(output, year)
    return steps.final_state(result)
