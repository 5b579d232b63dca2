"""infra/: the notification configuration on a real S3 protocol (moto), and the static files' invariants."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
import yaml

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
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.M)
    assert '"--pool", "xxgk-k8s"' in text
    assert not re.search(r"(SECRET|PASSWORD|ACCESS_KEY|TOKEN)\S*=", text, re.I)


def test_k8s_files_parse_and_reference_the_shared_config() -> None:
    template = json.loads((INFRA / "k8s" / "base-job-template.json").read_text("utf-8"))
    used = set(re.findall(r"\{\{ (\w+) \}\}", json.dumps(template["job_configuration"])))
    assert used <= set(template["variables"]["properties"]), used - set(template["variables"]["properties"])
    [container] = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"]
    assert {"configMapRef": {"name": "xxgk-config"}} in container["envFrom"]
    values = yaml.safe_load((INFRA / "k8s" / "worker-values.yaml").read_text("utf-8"))
    assert values["worker"]["config"] | {"workPool": "xxgk-k8s", "type": "kubernetes"} == values["worker"]["config"]
    watcher = yaml.safe_load((INFRA / "k8s" / "watcher.yaml").read_text("utf-8"))
    assert watcher["spec"]["template"]["spec"]["containers"][0]["command"][:2] == ["xxgk", "watch"]
    secret = yaml.safe_load((INFRA / "k8s" / "secret.example.yaml").read_text("utf-8"))
    assert not any(secret["stringData"].values())  # the shape only, never values
