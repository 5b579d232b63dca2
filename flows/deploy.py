"""The deployments, written once as data: registered on a server by `register()`, rendered into infra/prefect.yaml.

Five deployments of this repository's flows on one process work pool:

- `xxgk-ingest/on-upload`: started by its trigger on each `xxgk.batch.ready` event (the watcher
  posts one per batch), parameters templated from the event payload; at most `flow_runs` at a time.
- `xxgk-yearly/yearly`: 1 February and 1 April, 06:00 Asia/Shanghai (after the statutory deadlines
  of 31 January and 31 March); no `year` parameter, so the run computes it when it starts.
- `xxgk-sweep/sweep`: every `sweep_minutes`, the safety net under the event path; one at a time.
- `xxgk-maintain/weekly`: Sundays 03:00 Asia/Shanghai, compaction, checkpoint and vacuum of the Delta
  tables (tasks/maintain.py); one at a time.
- `xxgk-snapshot/daily`: 04:30 Asia/Shanghai every day, the plain-parquet snapshot replaced
  atomically (tasks/snapshot.py); one at a time.

And one automation, `xxgk-quarantined-file`: on each `xxgk.report.quarantined` event it sends a
notification through the Prefect notification block named by `XXGK_ALERT_BLOCK` (Slack, Teams,
e-mail, a webhook, ...), or, with none configured, does nothing but record that it fired (the
`prefect.automation.triggered` / `prefect.automation.action.executed` events, in the UI's event
feed and the API).

`python -m flows.deploy --write-yaml infra/prefect.yaml` regenerates the YAML after a change here;
tests/prefect/test_deployments.py fails with that command when the two drift apart.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flows.watch import BATCH_EVENT
from tasks import outcomes
from tasks.settings import PipelineSettings, get_settings

REPO = Path(__file__).resolve().parent.parent
TIMEZONE = "Asia/Shanghai"
YEARLY_CRONS = ("0 6 1 2 *", "0 6 1 4 *")  # after 31 January (departments) and 31 March (governments)
MAINTAIN_CRON = "0 3 * * 0"  # Sundays, at night in China
SNAPSHOT_CRON = "30 4 * * *"  # every day, after the night's maintenance on Sundays
BATCH_PARAMETERS = {  # Jinja over the triggering event; `event.payload.keys` would be dict.keys, hence ['keys']
    "source": "{{ event.payload.source }}",
    "output": "{{ event.payload.output }}",
    "keys": "{{ event.payload['keys'] | tojson }}",
    "label": "{{ event.payload.label }}",
}
INTERVAL_ANCHOR = "2026-01-01T00:00:00+08:00"  # fixed, so sweeps fall on round minutes and re-registering changes nothing
CODE_DIR_TEMPLATE = "{{ $XXGK_CODE_DIR }}"  # prefect.yaml: resolved on the worker when a run starts


@dataclass(frozen=True)
class ScheduleSpec:
    slug: str
    cron: str | None = None
    interval_s: int | None = None
    timezone: str = TIMEZONE


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    expect: str
    match: dict[str, str]
    parameters: dict[str, str]


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    name: str
    entrypoint: str
    description: str
    limit: int
    collision: str = "ENQUEUE"
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: tuple[ScheduleSpec, ...] = ()
    triggers: tuple[TriggerSpec, ...] = ()
    tags: tuple[str, ...] = ("xxgk",)

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


def specs(source: str | None, output: str | None, settings: PipelineSettings | None = None) -> list[DeploymentSpec]:
    """The deployments; `source`/`output` None leaves them to the worker's XXGK_SOURCE/XXGK_OUTPUT."""
    s = settings or get_settings().pipeline
    where = {k: v for k, v in (("source", source), ("output", output)) if v is not None}
    return [_on_upload(s, where), _yearly(where), _sweep(s, where), _maintain(where), _snapshot(where)]


def _on_upload(s: PipelineSettings, where: dict[str, str]) -> DeploymentSpec:
    trigger = TriggerSpec("batch-ready", BATCH_EVENT, {"prefect.resource.id": "xxgk.batch.*"}, BATCH_PARAMETERS)
    return DeploymentSpec(
        "xxgk-ingest", "on-upload", "flows/ingest.py:ingest",
        "Ingest one batch of uploads, started by each xxgk.batch.ready event from the watcher.",
        limit=s.flow_runs, parameters=dict(where), triggers=(trigger,), tags=("xxgk", "on-upload"),
    )  # fmt: skip


def _yearly(where: dict[str, str]) -> DeploymentSpec:
    return DeploymentSpec(
        "xxgk-yearly", "yearly", "flows/yearly.py:yearly",
        "Yearly ingestion and coverage after the statutory deadlines; the year is computed at run time "
        "(backfill: prefect deployment run 'xxgk-yearly/yearly' --param year=2023).",
        limit=1, parameters=dict(where), tags=("xxgk", "yearly"),
        schedules=(ScheduleSpec("after-31-january", cron=YEARLY_CRONS[0]), ScheduleSpec("after-31-march", cron=YEARLY_CRONS[1])),
    )  # fmt: skip


def _sweep(s: PipelineSettings, where: dict[str, str]) -> DeploymentSpec:
    return DeploymentSpec(
        "xxgk-sweep", "sweep", "flows/sweep.py:sweep",
        "Every few minutes, ingest anything uploaded but not yet ingested (missed or lost events).",
        limit=1, collision="CANCEL_NEW", parameters=dict(where), tags=("xxgk", "sweep"),
        schedules=(ScheduleSpec("every-few-minutes", interval_s=s.sweep_minutes * 60),),
    )  # fmt: skip


def _maintain(where: dict[str, str]) -> DeploymentSpec:
    return DeploymentSpec(
        "xxgk-maintain", "weekly", "flows/maintain.py:maintain",
        "Weekly compaction, checkpoint and vacuum of the Delta tables (XXGK_MAINTAIN_RETENTION_HOURS); "
        "safe alongside publishing runs.",
        limit=1, collision="CANCEL_NEW", parameters={k: v for k, v in where.items() if k == "output"},
        tags=("xxgk", "maintenance"), schedules=(ScheduleSpec("sunday-night", cron=MAINTAIN_CRON),),
    )  # fmt: skip


def _snapshot(where: dict[str, str]) -> DeploymentSpec:
    return DeploymentSpec(
        "xxgk-snapshot", "daily", "flows/snapshot.py:snapshot",
        "Daily plain-parquet snapshot of every year's current rows (snapshot/current.json names it), replaced "
        "atomically; the replaced one is removed after XXGK_MAINTAIN_SNAPSHOT_GRACE_HOURS.",
        limit=1, collision="CANCEL_NEW", parameters={k: v for k, v in where.items() if k == "output"},
        tags=("xxgk", "snapshot"), schedules=(ScheduleSpec("every-night", cron=SNAPSHOT_CRON),),
    )  # fmt: skip


@dataclass(frozen=True)
class AutomationSpec:
    name: str
    description: str
    expect: str
    match: dict[str, str]
    subject: str
    body: str


QUARANTINE_ALERT = AutomationSpec(
    "xxgk-quarantined-file",
    "A report file could not be published and was quarantined: notify XXGK_ALERT_BLOCK (if set).",
    outcomes.QUARANTINED,
    {"prefect.resource.id": "xxgk.report.*"},
    subject="xxgk: quarantined {{ event.resource['xxgk.source'] }}",
    body=(
        "{{ event.resource['xxgk.source'] }} was quarantined: {{ event.resource['xxgk.reason'] }}\n"
        "report id {{ event.resource['xxgk.report-id'] }}; agency (from the file name) "
        "{{ event.resource['xxgk.agency'] or 'unknown' }}; flow run {{ flow_run.name }}"
    ),
)


def automations() -> list[AutomationSpec]:
    return [QUARANTINE_ALERT]


# ---------------------------------------------------------------- on a server


def register(source: str, output: str, work_pool: str | None = None) -> list[str]:
    """Create (or update in place) the process work pool and the deployments; returns their names.

    Runs against the configured PREFECT_API_URL. The code is this checkout (a process worker on
    this machine runs it from here); registering again replaces schedules and triggers, never adds.
    """
    pool = work_pool or get_settings().pipeline.work_pool
    ensure_process_pool(pool)
    deployments = specs(source, output)
    for spec in deployments:
        _apply(spec, pool)
    register_automations()
    return [spec.full_name for spec in deployments]


def register_automations(alert_block: str | None = None) -> list[str]:
    """Create (or replace, by name) the automations; `alert_block` defaults to XXGK_ALERT_BLOCK."""
    from prefect.automations import Automation
    from prefect.client.orchestration import get_client

    block = alert_block if alert_block is not None else get_settings().pipeline.alert_block
    with get_client(sync_client=True) as client:
        block_id = _block_id(client, block) if block else None
        for spec in automations():
            for old in client.read_automations_by_name(spec.name):
                client.delete_automation(old.id)
            Automation(
                name=spec.name, description=spec.description, enabled=True,
                trigger=_event_trigger(spec), actions=[_action(spec, block_id)],
            ).create()  # fmt: skip
    return [spec.name for spec in automations()]


def _block_id(client: Any, slug_and_name: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    from tasks.errors import BlockNotFound

    slug, _, name = slug_and_name.partition("/")
    try:
        return client.read_block_document_by_name(name=name, block_type_slug=slug).id
    except (ObjectNotFound, ValueError) as exc:
        raise BlockNotFound(f"no block {slug_and_name!r} on the Prefect server (XXGK_ALERT_BLOCK)") from exc


def _event_trigger(spec: AutomationSpec) -> Any:
    from datetime import timedelta

    from prefect.events.schemas.automations import EventTrigger, Posture

    return EventTrigger(expect={spec.expect}, match=spec.match, posture=Posture.Reactive, threshold=1,
                        within=timedelta(0))  # fmt: skip


def _action(spec: AutomationSpec, block_id: Any) -> Any:
    from prefect.events.actions import DoNothing, SendNotification

    if block_id is None:
        return DoNothing()
    return SendNotification(block_document_id=block_id, subject=spec.subject, body=spec.body)


def ensure_process_pool(name: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))


def _apply(spec: DeploymentSpec, pool: str) -> None:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

    # sync_compatible: called from sync code these return their values, not coroutines
    flow = cast(Flow[..., Any], Flow.from_source(source=str(REPO), entrypoint=spec.entrypoint))
    deployment = flow.to_deployment(
        name=spec.name,
        work_pool_name=pool,
        description=spec.description,
        parameters=spec.parameters,
        schedules=[_schedule(s) for s in spec.schedules] or None,
        triggers=[_trigger(t) for t in spec.triggers],
        concurrency_limit=_concurrency(spec),
        tags=list(spec.tags),
    )
    cast(RunnerDeployment, deployment).apply(work_pool_name=pool)


def _schedule(s: ScheduleSpec) -> Any:
    from datetime import datetime, timedelta

    from prefect.schedules import Cron, Interval

    if s.cron is not None:
        return Cron(s.cron, timezone=s.timezone, slug=s.slug)
    anchor = datetime.fromisoformat(INTERVAL_ANCHOR)
    return Interval(timedelta(seconds=s.interval_s or 0), anchor_date=anchor, timezone=s.timezone, slug=s.slug)


def _trigger(t: TriggerSpec) -> Any:
    from prefect.events import DeploymentEventTrigger

    return DeploymentEventTrigger(name=t.name, expect={t.expect}, match=t.match, parameters=dict(t.parameters))


def _concurrency(spec: DeploymentSpec) -> Any:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy

    return ConcurrencyLimitConfig(limit=spec.limit, collision_strategy=ConcurrencyLimitStrategy(spec.collision))


# ---------------------------------------------------------------- infra/prefect.yaml


def prefect_yaml(work_pool: str | None = None) -> dict[str, Any]:
    """infra/prefect.yaml as data: the same specs at the documented defaults (not this shell's XXGK_*),
    with source/output left to the worker's environment."""
    s = PipelineSettings.model_construct()  # defaults only: the committed file must not depend on the shell
    return {
        "name": "xxgk-pipeline",
        "prefect-version": "3.9.1",
        "build": None,
        "push": None,
        "pull": [{"prefect.deployments.steps.set_working_directory": {"directory": CODE_DIR_TEMPLATE}}],
        "deployments": [_yaml_deployment(spec, work_pool or s.work_pool) for spec in specs(None, None, s)],
    }


def _yaml_deployment(spec: DeploymentSpec, pool: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": spec.name,
        "entrypoint": spec.entrypoint,
        "description": spec.description,
        "tags": list(spec.tags),
        "parameters": dict(spec.parameters),
        "work_pool": {"name": pool, "work_queue_name": None, "job_variables": {}},
        "concurrency_limit": {"limit": spec.limit, "collision_strategy": spec.collision},
    }
    if spec.schedules:
        out["schedules"] = [_yaml_schedule(s) for s in spec.schedules]
    if spec.triggers:
        out["triggers"] = [_yaml_trigger(t) for t in spec.triggers]
    return out


def _yaml_schedule(s: ScheduleSpec) -> dict[str, Any]:
    when: dict[str, Any] = (
        {"cron": s.cron} if s.cron is not None else {"interval": s.interval_s, "anchor_date": INTERVAL_ANCHOR}
    )
    return {**when, "timezone": s.timezone, "slug": s.slug, "active": True}


def _yaml_trigger(t: TriggerSpec) -> dict[str, Any]:
    return {
        "type": "event",
        "name": t.name,
        "enabled": True,
        "expect": [t.expect],
        "match": dict(t.match),
        "posture": "Reactive",
        "threshold": 1,
        "parameters": dict(t.parameters),
    }


YAML_HEADER = """\
# GENERATED from flows/deploy.py; do not edit by hand. Regenerate with:
#   .venv/bin/python -m flows.deploy --write-yaml infra/prefect.yaml
# Deploy from the repository root (entrypoints are relative to it):
#   prefect work-pool create xxgk-process --type process --overwrite
#   prefect --no-prompt deploy --all --prefect-file infra/prefect.yaml
# Workers need XXGK_CODE_DIR (the checkout or image path holding flows/), XXGK_SOURCE and XXGK_OUTPUT.
"""


def render_yaml(work_pool: str | None = None) -> str:
    import yaml

    return YAML_HEADER + yaml.safe_dump(prefect_yaml(work_pool), sort_keys=False, allow_unicode=True, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flows.deploy", description=__doc__.splitlines()[0])
    parser.add_argument("--write-yaml", metavar="PATH", help="write the prefect.yaml rendered from these specs")
    parser.add_argument("--work-pool", help="another pool than xxgk-process, e.g. xxgk-k8s (not for infra/prefect.yaml)")
    parser.add_argument("--register-automations", action="store_true",
                        help="create or replace the automations on PREFECT_API_URL (prefect deploy does not), then exit")  # fmt: skip
    args = parser.parse_args(argv)
    if args.register_automations:
        print("registered:", ", ".join(register_automations()))
        return 0
    text = render_yaml(args.work_pool)
    if args.write_yaml:
        Path(args.write_yaml).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
