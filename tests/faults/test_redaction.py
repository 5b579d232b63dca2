"""Credentials in locations never reach an output, an artifact, an event, a run's parameters or a
log: an S3 source given as s3://KEY:SECRET@bucket/…, object keys that themselves hold URLs with
user:password@ or a presigned query string; through `xxgk ingest` and the watcher, on moto."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.dataset as ds
import pytest
import tables
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, unique_name
from hostile.generate import BY_NAME

from faults.conftest import renamed
from tasks.cli import main

SECRETS = ("WebPass-Zq1", "webuser-zq1", "OtherSecret-Zq2", "OTHERKEYZQ2", "SigZq3", DUMMY_SECRET, DUMMY_KEY_ID)
KEYS = {  # object key under incoming/ → (bytes, the location every output must show)
    "mirror/https://webuser-zq1:WebPass-Zq1@host.example/a.txt": (renamed("甲"), "mirror/https://host.example/a.txt"),
    "mirror/https://host.example/b.txt?X-Amz-Credential=OTHERKEYZQ2&X-Amz-Signature=SigZq3":
        (renamed("乙"), "mirror/https://host.example/b.txt"),
    "mirror/s3://OTHERKEYZQ2:OtherSecret-Zq2@other/c.pdf": (BY_NAME["truncated_hongze_60"].build(), "mirror/s3://other/c.pdf"),
}


def _point_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    for name, value in {"ENDPOINT_URL": endpoint, "SQS_ENDPOINT_URL": endpoint, "ACCESS_KEY_ID": DUMMY_KEY_ID,
                        "SECRET_ACCESS_KEY": DUMMY_SECRET, "ADDRESSING_STYLE": "path", "REGION": "us-east-1"}.items():
        monkeypatch.setenv(f"XXGK_S3_{name}", value)  # fmt: skip


def _bucket(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from conftest import s3_settings

    _point_at(monkeypatch, moto_server)
    bucket = unique_name("redact")
    s3 = raw_client("s3", s3_settings(moto_server))
    s3.create_bucket(Bucket=bucket)  # type: ignore[attr-defined]
    for key, (data, _) in KEYS.items():
        s3.put_object(Bucket=bucket, Key=f"incoming/{key}", Body=data)  # type: ignore[attr-defined]
    return bucket


def _texts(out: Path, since: datetime, caplog: pytest.LogCaptureFixture, captured: str) -> dict[str, str]:
    from prefect.client.orchestration import get_client

    ours = [r for r in caplog.records if r.name.split(".")[0] in ("tasks", "flows", "xxgk", "prefect", "botocore")]
    # moto's own request log (werkzeug; also echoed inside a "Logging error" block when Prefect's console
    # handler outlives an earlier test's captured stream) is the test server's, not the pipeline's
    printed = "\n".join(line for line in captured.splitlines() if "werkzeug" not in line and 'HTTP/1.1"' not in line)
    texts = {"logs": "\n".join(r.getMessage() for r in ours), "stdout+stderr": printed}
    for path in out.rglob("*"):
        if path.is_file():
            texts[str(path)] = path.read_bytes().decode("latin-1")
            if path.suffix == ".parquet":  # compressed pages: read the strings back
                texts[f"{path} rows"] = json.dumps(ds.dataset(path, format="parquet").to_table().to_pylist(), default=str)
    with get_client(sync_client=True) as client:
        for artifact in client.read_artifacts():
            if artifact.created and artifact.created >= since:
                texts[f"artifact {artifact.key}"] = json.dumps(artifact.data, default=str, ensure_ascii=False)
        texts["api logs"] = "\n".join(r.message for r in client.read_logs())
        for run in client.read_flow_runs():
            if run.created and run.created >= since:
                # `keys` are the objects' names, needed to read them: a key that holds a URL with
                # user:password@ is passed as it is (see the report); every location is redacted
                shown = {k: v for k, v in run.parameters.items() if k != "keys"}
                texts[f"flow run {run.name}"] = run.name + json.dumps(shown, default=str)
        texts["events"] = json.dumps([e.model_dump(mode="json") for e in client.read_events(limit=50).events])
    return texts


def _assert_clean(out: Path, bucket: str, texts: dict[str, str]) -> None:
    for where, text in texts.items():
        for secret in SECRETS:
            assert secret not in text, (secret, where)
    sources = {r["source"] for r in tables.rows(out, "reports")}
    assert sources == {f"s3://{bucket}/incoming/{shown}" for key, (_, shown) in KEYS.items() if not key.endswith(".pdf")}
    (q,) = [json.loads(p.read_text("utf-8")) for p in out.glob("quarantine/**/*.json")]
    assert q["source"] == f"s3://{bucket}/incoming/mirror/s3://other/c.pdf" and q["error_type"] == "CorruptDocument"


def test_xxgk_ingest_writes_no_credential_anywhere(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    bucket = _bucket(moto_server, monkeypatch)
    for name in ("tasks", "flows", "xxgk", "prefect"):
        caplog.set_level(logging.DEBUG, logger=name)
    since = datetime.now(UTC)
    out = tmp_path / "out"
    code = main(["ingest", f"s3://{DUMMY_KEY_ID}:{DUMMY_SECRET}@{bucket}/incoming", "--output", str(out)])
    assert code == 4  # the truncated PDF is quarantined; the two reports are published
    captured = capfd.readouterr()
    assert "2 published" in captured.out
    _assert_clean(out, bucket, _texts(out, since, caplog, captured.out + captured.err))


def test_the_watcher_writes_no_credential_anywhere(
    tmp_path: Path, moto_server: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from e2e.conftest import run_watch

    bucket = _bucket(moto_server, monkeypatch)
    for name in ("tasks", "flows", "xxgk", "prefect"):
        caplog.set_level(logging.DEBUG, logger=name)
    since = datetime.now(UTC)
    out = tmp_path / "out"
    assert run_watch(f"s3://{DUMMY_KEY_ID}:{DUMMY_SECRET}@{bucket}/incoming/", str(out), max_batches=1) == 1
    captured = capfd.readouterr()
    _assert_clean(out, bucket, _texts(out, since, caplog, captured.out + captured.err))
