"""The deployments on a real Prefect server, and infra/prefect.yaml as their rendering.

One server per session (prefect_server.py); `register()` runs against it. A batch event posted
the way the watcher posts it must create a flow run of xxgk-ingest/on-upload whose parameters
carry the batch's keys (read back from the API; no worker runs it here).
"""

from __future__ import annotations

import importlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect_server import prefect_api, prefect_server  # noqa: F401 - fixtures

from flows import deploy
from flows.ingest import parse_keys
from flows.watch import BATCH_EVENT, DEPLOYMENT, _event, post_events

pytestmark = pytest.mark.slow  # starts a Prefect server; `make test` runs it
NAMES = ["xxgk-ingest/on-upload", "xxgk-yearly/yearly", "xxgk-sweep/sweep", "xxgk-maintain/weekly", "xxgk-snapshot/daily"]
POOL = "xxgk-process"
YAML = deploy.REPO / "infra" / "prefect.yaml"
REGENERATE = ".venv/bin/python -m flows.deploy --write-yaml infra/prefect.yaml"


def _client() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


@pytest.fixture(scope="module")
def registered(prefect_server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:  # noqa: F811
    from prefect.settings import PREFECT_API_URL, temporary_settings

    where = tmp_path_factory.mktemp("where")
    source, output = str(where / "bucket"), str(where / "out")
    with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
        names = deploy.register(source, output, work_pool=POOL)
    return {"names": ",".join(names), "source": source, "output": output}


def test_register_creates_the_pool_and_the_deployments(registered: dict[str, str], prefect_api: str) -> None:  # noqa: F811
    assert registered["names"].split(",") == NAMES
    with _client() as client:
        pool = client.read_work_pool(POOL)
        deployments = {n: client.read_deployment_by_name(n) for n in NAMES}
    assert pool.type == "process"
    for name, d in deployments.items():
        assert d.work_pool_name == POOL, name
        assert d.pull_steps == [{"prefect.deployments.steps.set_working_directory": {"directory": str(deploy.REPO)}}]
        assert d.entrypoint == next(s.entrypoint for s in deploy.specs(None, None) if s.full_name == name)
    ingest = deployments["xxgk-ingest/on-upload"]
    assert ingest.global_concurrency_limit is not None and ingest.global_concurrency_limit.limit >= 1
    assert ingest.parameters == {"source": registered["source"], "output": registered["output"]}


def test_yearly_runs_after_both_deadlines_in_shanghai_with_no_baked_year(registered: dict[str, str], prefect_api: str) -> None:  # noqa: F811
    with _client() as client:
        d = client.read_deployment_by_name("xxgk-yearly/yearly")
    crons = sorted((s.schedule.cron, s.schedule.timezone) for s in d.schedules)  # type: ignore[union-attr]
    assert crons == [("0 6 1 2 *", "Asia/Shanghai"), ("0 6 1 4 *", "Asia/Shanghai")]
    assert "year" not in d.parameters
    assert all(s.active for s in d.schedules)


def test_sweep_runs_every_few_minutes_one_at_a_time(registered: dict[str, str], prefect_api: str) -> None:  # noqa: F811
    with _client() as client:
        d = client.read_deployment_by_name("xxgk-sweep/sweep")
    [schedule] = d.schedules
    assert schedule.schedule.interval.total_seconds() == 60 * deploy.get_settings().pipeline.sweep_minutes  # type: ignore[union-attr]
    assert d.global_concurrency_limit is not None and d.global_concurrency_limit.limit == 1


@pytest.mark.parametrize("name, cron", [("xxgk-maintain/weekly", "0 3 * * 0"), ("xxgk-snapshot/daily", "30 4 * * *")])
def test_maintenance_and_snapshot_are_scheduled_one_at_a_time_on_the_output(
    registered: dict[str, str], prefect_api: str, name: str, cron: str  # noqa: F811
) -> None:
    with _client() as client:
        d = client.read_deployment_by_name(name)
    assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules] == [(cron, "Asia/Shanghai", True)]  # type: ignore[union-attr]
    assert d.global_concurrency_limit is not None and d.global_concurrency_limit.limit == 1
    assert d.parameters == {"output": registered["output"]}  # the flows take no source


def _automations_of(client: Any, deployment_id: uuid.UUID) -> list[Any]:
    return [a for a in client.read_automations() if any(getattr(x, "deployment_id", None) == deployment_id for x in a.actions)]


def test_on_upload_has_a_trigger_expecting_batch_events(registered: dict[str, str], prefect_api: str) -> None:  # noqa: F811
    with _client() as client:
        d = client.read_deployment_by_name(DEPLOYMENT)
        [automation] = _automations_of(client, d.id)
    assert automation.enabled
    assert automation.trigger.expect == {BATCH_EVENT}
    assert automation.actions[0].type == "run-deployment"
    assert set(automation.actions[0].parameters) == {"source", "output", "keys", "label"}


def _runs_of(client: Any, deployment_id: uuid.UUID) -> list[Any]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])))


def test_a_batch_event_starts_an_ingest_run_carrying_its_keys(registered: dict[str, str], prefect_api: str) -> None:  # noqa: F811
    keys = ["2024/洪泽区人民政府.pdf", "2024/o'brien & co.html", "a b/c.docx"]
    label = f"test batch {uuid.uuid4().hex[:8]}"
    payload = {"source": "s3://uploads/reports", "output": "s3://data/xxgk", "keys": keys, "label": label}
    post_events([_event(BATCH_EVENT, {"prefect.resource.id": f"xxgk.batch.{uuid.uuid4()}"}, payload)])
    run = _wait_for_run(label)
    assert parse_keys(run.parameters["keys"]) == keys
    assert (run.parameters["source"], run.parameters["output"]) == (payload["source"], payload["output"])


def _wait_for_run(label: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    with _client() as client:
        deployment = client.read_deployment_by_name(DEPLOYMENT)
        while time.monotonic() < deadline:
            runs = [r for r in _runs_of(client, deployment.id) if r.parameters.get("label") == label]
            if runs:
                assert len(runs) == 1
                return runs[0]
            time.sleep(0.3)
    pytest.fail(f"no flow run of {DEPLOYMENT} for the event within {timeout_s} s")


def _inventory(client: Any) -> dict[str, Any]:
    deployments = {n: client.read_deployment_by_name(n) for n in NAMES}
    return {
        "deployments": sorted(d.name for d in client.read_deployments()),
        "pools": sorted(p.name for p in client.read_work_pools()),
        "schedules": {n: sorted(s.slug or "" for s in d.schedules) for n, d in deployments.items()},
        "automations": {n: len(_automations_of(client, d.id)) for n, d in deployments.items()},
        "all automations": len(client.read_automations()),
        "ids": {n: d.id for n, d in deployments.items()},
    }


def test_registering_again_duplicates_nothing(registered: dict[str, str], prefect_api: str) -> None:  # noqa: F811
    with _client() as client:
        before = _inventory(client)
    deploy.register(registered["source"], registered["output"], work_pool=POOL)
    with _client() as client:
        after = _inventory(client)
    assert after == before
    assert before["automations"] == {"xxgk-ingest/on-upload": 1, "xxgk-yearly/yearly": 0, "xxgk-sweep/sweep": 0,
                                     "xxgk-maintain/weekly": 0, "xxgk-snapshot/daily": 0}
    assert sum(len(v) for v in before["schedules"].values()) == 5


# ---------------------------------------------------------------- infra/prefect.yaml (no server needed)


def _yaml() -> dict[str, Any]:
    return yaml.safe_load(YAML.read_text("utf-8"))


@pytest.mark.parametrize("spec", deploy.specs(None, None), ids=lambda s: s.full_name)
def test_prefect_yaml_entrypoints_import(spec: deploy.DeploymentSpec) -> None:
    path, func = spec.entrypoint.split(":")
    assert (deploy.REPO / path).is_file()
    flow = getattr(importlib.import_module(Path(path).with_suffix("").as_posix().replace("/", ".")), func)
    assert flow.name == spec.flow_name


def test_prefect_yaml_names_the_same_deployments_and_schedules() -> None:
    entries = {d["name"]: d for d in _yaml()["deployments"]}
    by_name = {s.name: s for s in deploy.specs(None, None, deploy.PipelineSettings.model_construct())}
    assert set(entries) == set(by_name)
    for name, spec in by_name.items():
        entry = entries[name]
        assert entry["entrypoint"] == spec.entrypoint and entry["work_pool"]["name"] == POOL
        crons = [(s.get("cron"), s.get("interval"), s["timezone"]) for s in entry.get("schedules", [])]
        assert crons == [(s.cron, s.interval_s, s.timezone) for s in spec.schedules]
    yearly = entries["yearly"]
    assert "year" not in yearly["parameters"]
    assert [s["cron"] for s in yearly["schedules"]] == list(deploy.YEARLY_CRONS)
    assert entries["on-upload"]["triggers"][0]["expect"] == [BATCH_EVENT]


def test_prefect_yaml_is_generated_from_flows_deploy() -> None:
    assert YAML.read_text("utf-8") == deploy.render_yaml(), f"infra/prefect.yaml drifted from flows/deploy.py: run {REGENERATE}"


def test_batch_parameters_render_the_keys_as_parse_keys_reads_them() -> None:
    """`event.payload.keys` would render dict.keys (a bound method), so the template indexes the payload."""
    import asyncio

    from prefect.server.utilities.user_templates import render_user_template

    keys = ["2024/洪泽区.pdf", "it's.html", 'say "hi".txt']
    event = {"payload": {"keys": keys}}
    rendered = asyncio.run(render_user_template(deploy.BATCH_PARAMETERS["keys"], {"event": event}))
    assert parse_keys(rendered) == keys
