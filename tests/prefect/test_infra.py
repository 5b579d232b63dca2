"""infra/: the notification configuration on a real S3 protocol (moto), and the static files' invariants."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
SUFFIXES = {".pdf", ".html", ".htm", ".docx", ".txt"}


def _filled(path: Path, **values: str) -> Any:
    return json.loads(string.Template(path.read_text("utf-8")).substitute(values))


@pytest.mark.slow  # moto
def test_notification_json_sends_only_report_uploads_under_the_prefix(moto_settings: Any) -> None:
    from conftest import raw_client, unique_name

    s3, sqs = raw_client("s3", moto_settings), raw_client("sqs", moto_settings)
    bucket, queue = unique_name("uploads"), unique_name("uploads-events")
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    url = sqs.create_queue(QueueName=queue)["QueueUrl"]  # type: ignore[attr-defined]
    config = _filled(INFRA / "s3-notifications" / "notification.json", AWS_REGION="us-east-1",
                     AWS_ACCOUNT_ID="123456789012", XXGK_QUEUE_NAME=queue, XXGK_SOURCE_PREFIX="reports/")  # fmt: skip
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)  # type: ignore[attr-defined]
    wanted = [f"reports/2024/a{sfx}" for sfx in sorted(SUFFIXES)]
    for key in [*wanted, "reports/2024/scan.jpg", "elsewhere/b.pdf", "reports/2024/c.html.tmp"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")  # type: ignore[attr-defined]
    assert sorted(_notified_keys(sqs, url)) == sorted(wanted)


def _notified_keys(sqs: Any, url: str) -> list[str]:
    keys: list[str] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
        for message in batch:
            records = json.loads(message["Body"]).get("Records", [])
            keys += [unquote_plus(r["s3"]["object"]["key"]) for r in records]  # S3 URL-encodes keys
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return keys


def test_queue_policy_admits_only_s3_from_the_bucket() -> None:
    [statement] = json.loads((INFRA / "s3-notifications" / "queue-policy.json").read_text("utf-8"))["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:s3:::${XXGK_SOURCE_BUCKET}"


def _statements(name: str) -> list[dict[str, Any]]:
    return json.loads((INFRA / "iam" / f"{name}-policy.json").read_text("utf-8"))["Statement"]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


@pytest.mark.parametrize("name", ["worker", "watcher"])
def test_iam_policies_are_least_privilege(name: str) -> None:
    for st in _statements(name):
        assert st["Effect"] == "Allow" and "*" not in "".join(_actions(st)), st["Sid"]
        assert st["Resource"] not in ("*", "arn:aws:s3:::*"), st["Sid"]
        if "s3:ListBucket" in _actions(st):
            assert st["Condition"]["StringLike"]["s3:prefix"], st["Sid"]  # listing limited to a prefix


def test_worker_writes_only_under_the_output_prefix() -> None:
    writes = [st for st in _statements("worker") if _actions(st) & {"s3:PutObject", "s3:DeleteObject"}]
    assert [st["Resource"] for st in writes] == ["arn:aws:s3:::${XXGK_OUTPUT_BUCKET}/${XXGK_OUTPUT_PREFIX}*"]
    reads = [st for st in _statements("worker") if st["Resource"].startswith("arn:aws:s3:::${XXGK_SOURCE_BUCKET}/")]
    assert all(_actions(st) == {"s3:GetObject"} for st in reads)


def test_watcher_consumes_the_one_queue() -> None:
    [sqs] = [st for st in _statements("watcher") if any(a.startswith("sqs:") for a in _actions(st))]
    assert _actions(sqs) == {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"}
    assert sqs["Resource"] == "arn:aws:sqs:${AWS_REGION}:${AWS_ACCOUNT_ID}:${XXGK_QUEUE_NAME}"


def test_dockerfile_runs_a_kubernetes_worker_as_non_root_without_credentials() -> None:
    text = (INFRA / "Dockerfile").read_text("utf-8")
    assert text.startswith("#")
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.M)
    assert '"--pool", "xxgk-k8s"' in text
    assert not re.search(r"(SECRET|PASSWORD|ACCESS_KEY|TOKEN)\S*=", text, re.I)


# --- the image, checked offline (the chart that runs it: test_helm_chart.py) ---------------------------
ROOT = INFRA.parent


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (INFRA / "Dockerfile").read_text("utf-8"))
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def _only(instruction: str) -> str:
    [value] = [args for name, args in _dockerfile() if name == instruction]
    return value


def test_image_is_built_on_prefects_own_image_for_the_pinned_prefect() -> None:
    import prefect
    from packaging.specifiers import SpecifierSet
    from prefect.utilities.dockerutils import get_prefect_image_name

    pyproject = _pyproject()
    [pin] = [d for d in pyproject["project"]["dependencies"] if re.match(r"prefect\b(?!-)", d)]
    assert prefect.__version__ in SpecifierSet(pin.removeprefix("prefect"))
    python = pyproject["project"]["requires-python"].removeprefix(">=")
    # the tag Prefect's own tooling names for the installed (pinned) prefect on the project's python,
    # fully qualified: buildah and podman resolve no short names without a registries.conf alias
    assert _only("FROM") == "docker.io/" + get_prefect_image_name(python_version=python)


def test_image_keeps_prefects_entrypoint() -> None:
    """The flow-run Jobs set only args (as Prefect's own job template does), so they start through the
    base image's ENTRYPOINT (tini + /opt/prefect/entrypoint.sh): the Dockerfile must not replace it."""
    assert "ENTRYPOINT" not in dict(_dockerfile())


def test_the_local_base_entrypoint_runs_its_arguments_as_prefects_does(tmp_path: Path) -> None:
    """infra/prefect-base/entrypoint.sh (the stand-in base of infra/build-image-local) sources
    ~/.bashrc, then execs its arguments unchanged (what the chart's and the Jobs' args rely on)."""
    import subprocess

    (tmp_path / ".bashrc").write_text("export FROM_BASHRC=sourced\n", "utf-8")
    script = str(INFRA / "prefect-base" / "entrypoint.sh")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([script, "sh", "-c", 'printf "%s|%s|%s" "$FROM_BASHRC" "$1" "$$"', "x", "a b"],
                          capture_output=True, text=True, env=env, check=True)  # fmt: skip
    sourced, arg, _ = done.stdout.split("|")
    assert (sourced, arg, done.stderr) == ("sourced", "a b", "")


def test_dockerfile_passes_hadolint() -> None:
    import subprocess
    import sys

    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run([str(hadolint), "--format", "json", str(INFRA / "Dockerfile")], capture_output=True, text=True)
    assert (done.returncode, json.loads(done.stdout)) == (0, []), done.stdout + done.stderr


def _pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_prefect_kubernetes_is_the_same_range_in_the_image_and_in_the_tests() -> None:
    [in_image] = re.findall(r'"(prefect-kubernetes[^"]+)"', (INFRA / "Dockerfile").read_text("utf-8"))
    assert in_image in _pyproject()["project"]["optional-dependencies"]["dev"]


def test_the_image_installs_every_program_the_pipeline_runs() -> None:
    """A program the code looks up with shutil.which must come from a package of runtime-packages.txt
    (installed by the Dockerfile) that .ci/system-packages.txt also installs (so the tests ran with it)."""
    runtime = [line.split("#")[0].strip() for line in (INFRA / "runtime-packages.txt").read_text("utf-8").splitlines()]
    runtime = [name for name in runtime if name]
    ci = {}
    for line in (ROOT / ".ci" / "system-packages.txt").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            package, check = line.split(None, 1)
            ci[package] = check.strip()
    assert set(runtime) <= set(ci), set(runtime) - set(ci)
    ours = set(_pyproject()["project"]["scripts"])  # the package's own console scripts
    looked_up = {name for path in (ROOT / "tasks").rglob("*.py")
                 for name in re.findall(r"shutil\.which\(\s*[\"']([\w.-]+)[\"']", path.read_text("utf-8"))} - ours  # fmt: skip
    provided = {ci[name] for name in runtime}
    assert looked_up <= provided, f"add the Debian packages of {sorted(looked_up - provided)} to infra/runtime-packages.txt"
    assert "COPY infra/runtime-packages.txt" in (INFRA / "Dockerfile").read_text("utf-8")


def test_build_context_holds_exactly_what_the_dockerfile_copies() -> None:
    """The context is the repository root (.venv, outputs, fixtures): the ignore file keeps out all but the copied paths."""
    lines = [line.strip() for line in (INFRA / "Dockerfile.dockerignore").read_text("utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*"
    kept = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = {src.rstrip("/") for name, args in _dockerfile() if name == "COPY" for src in args.split()[:-1]}
    assert kept == copied
    assert all((ROOT / path).exists() for path in copied)
