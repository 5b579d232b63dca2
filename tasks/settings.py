"""The one settings module: every tunable is read here, from XXGK_* environment variables.

Nothing else in the project reads os.environ. Nested groups carry their own prefix, e.g.
XXGK_EXTRACT_MAX_BYTES.
"""

from __future__ import annotations

import os
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExtractSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XXGK_EXTRACT_", extra="ignore")

    max_bytes: int = Field(64 * 2**20, ge=1024, description="Largest input file accepted, in bytes.")
    timeout_s: float = Field(
        120.0, gt=0, description="CPU-time limit for parsing one file, in seconds (and 10 times that in wall-clock time)."
    )
    max_memory_mb: int = Field(1536, ge=128, description="Address-space limit for the process parsing one file.")


class OcrSettings(BaseSettings):
    """OCR of scanned pages, pictures of tables and image uploads (tasks/extract/ocr*.py, docs/ocr.md)."""

    model_config = SettingsConfigDict(env_prefix="XXGK_OCR_", extra="ignore")

    enabled: bool = Field(True, description="Read scans and pictures of tables with OCR; false keeps them ScannedDocument/image_only.")
    engine: Literal["rapidocr", "tesseract"] = Field(
        "rapidocr", description="OCR engine: rapidocr (PP-OCRv4 in the wheel; the best measured, docs/ocr.md) or tesseract (chi_sim)."
    )
    confirm_engine: Literal["rapidocr", "tesseract", "same"] = Field(
        "tesseract",
        description=(
            "Second reading of a cell no identity confirms: the other engine on the cell, or 'same' "
            "(the engine at another resolution)."
        ),
    )
    dpi: int = Field(200, ge=100, le=600, description="Resolution PDF pages are rendered at for OCR.")
    max_pages: int = Field(60, ge=1, le=2000, description="Most scanned pages one report may send to OCR (DocumentTooLarge beyond).")
    max_pixels: int = Field(
        60_000_000, ge=1_000_000, description="Largest picture decoded or page rendered, in pixels (decompression bombs)."
    )
    workers: int = Field(
        1, ge=0, le=64, description="OCR processes, a lane of their own: scans never hold up text reports; 0 = OCR in the text workers."
    )
    threads: int = Field(0, ge=0, le=64, description="Threads of one OCR process; 0 = the engine's default (all cores).")
    timeout_s: float = Field(900.0, gt=0, description="Wall-clock limit for one report's OCR, in seconds.")
    max_memory_mb: int = Field(
        3072, ge=512, description="Address-space limit of an OCR process (ONNX Runtime maps more than it uses)."
    )

    def options(self):  # type: ignore[no-untyped-def]
        """The pure extraction's `OcrOptions` for these settings."""
        from tasks.extract.ocr import OcrOptions
        from tasks.extract.ocr_images import Limits

        return OcrOptions(
            enabled=self.enabled,
            engine=self.engine,
            confirm_engine=None if self.confirm_engine == "same" else self.confirm_engine,
            threads=self.threads,
            limits=Limits(max_pixels=self.max_pixels, max_pages=self.max_pages, dpi=self.dpi),
        )


class StorageSettings(BaseSettings):
    """How to reach S3-compatible object storage (AWS, MinIO, Ceph, SeaweedFS, vendors' S3 APIs).

    Local folders need none of this. Credentials left unset fall back to boto3's default chain
    (environment, shared config, instance/role credentials). Secrets are `SecretStr`: they never
    appear in reprs or logs.
    """

    model_config = SettingsConfigDict(env_prefix="XXGK_S3_", extra="ignore", populate_by_name=True)

    endpoint_url: str | None = Field(
        None,
        validation_alias=AliasChoices("XXGK_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        description="S3 endpoint, e.g. http://minio:9000; unset means AWS. Also read from AWS_ENDPOINT_URL(_S3).",
    )
    sqs_endpoint_url: str | None = Field(
        None,
        validation_alias=AliasChoices("XXGK_S3_SQS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL"),
        description="SQS endpoint for upload notifications; unset means AWS. Also read from AWS_ENDPOINT_URL(_SQS).",
    )
    region: str = Field(
        "us-east-1",
        min_length=1,
        validation_alias=AliasChoices("XXGK_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION"),
        description="Region name signed into requests (most S3-compatible servers accept any).",
    )
    access_key_id: SecretStr | None = Field(None, description="Access key id; unset means boto3's default chain.")
    secret_access_key: SecretStr | None = Field(None, description="Secret access key; unset means default chain.")
    session_token: SecretStr | None = Field(None, description="Session token for temporary credentials.")
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        "auto", description="Bucket in the path or the host name; most self-hosted servers need 'path'."
    )
    max_attempts: int = Field(5, ge=1, le=20, description="Attempts per request, first included (botocore standard retries).")
    connect_timeout_s: float = Field(5.0, gt=0, le=300, description="TCP connect timeout per attempt, in seconds.")
    read_timeout_s: float = Field(30.0, gt=0, le=900, description="Socket read timeout per attempt, in seconds.")
    list_page_size: int = Field(1000, ge=1, le=1000, description="Keys per ListObjectsV2 page.")
    queue_url: str | None = Field(None, description="SQS queue receiving the bucket's ObjectCreated notifications.")


class PipelineSettings(BaseSettings):
    """The ingest pipeline: where reports come from and go to, batching, parallelism, policy."""

    model_config = SettingsConfigDict(env_prefix="XXGK_", extra="ignore")

    source: str = Field(
        "xxgk-output/bucket", description="Where uploads are read: a folder or s3://bucket/prefix. Never written."
    )
    output: str = Field("xxgk-output/out", description="Where outputs go: a folder or s3://bucket/prefix.")
    workers: int = Field(0, ge=0, le=256, description="Extraction processes per flow run; 0 means one per core.")
    batch_size: int = Field(
        500, ge=1, le=5000,
        description="Reports per batch (one GX run and one publish each; more uploads become child flow runs).",
    )  # fmt: skip
    reports_per_task: int = Field(
        1, ge=0, le=5000,
        description="Reports per extraction task run: 1 (the default) = one task run per report, named after its "
        "agency and year; 0 = automatic (about 16 task runs per extraction process and batch: less orchestration, "
        "measured faster on 2 cores, see docs/scaling.md); N = N reports per task run.",
    )  # fmt: skip
    batch_seconds: float = Field(30.0, gt=0, le=3600, description="The watcher starts a batch after this long.")
    strict: bool = Field(False, description="Withhold reports whose quality status is failed from the curated data.")
    publish_attempts: int = Field(
        10, ge=1, le=100,
        description="Attempts per Delta commit that lost its race to other writers (after delta-rs's own retries; "
        "jittered exponential backoff from 0.1 s, at most 5 s), then the publish fails.",
    )  # fmt: skip
    agency_aliases: str | None = Field(None, description="Extra alias CSV (alias,canonical) for agency names.")
    poll_seconds: float = Field(10.0, gt=0, le=3600, description="Polling interval for stores without notifications.")
    read_retry_seconds: float = Field(
        60.0, gt=0, le=3600,
        description="The watcher reads an upload whose read failed again after this long, doubling per failure "
        "(up to an hour); `xxgk ingest` and the sweep read pending uploads again at every run.",
    )  # fmt: skip
    sweep_minutes: int = Field(5, ge=1, le=1440, description="Interval of the sweep deployment.")
    work_pool: str = Field("xxgk-process", description="Prefect work pool the deployments run on.")
    code_dir: str | None = Field(
        None, description="Folder holding flows/ where workers run (prefect.yaml's pull step); unset: this checkout."
    )
    flow_runs: int = Field(
        2, ge=1, le=64, description="Ingest flow runs at a time: the on-upload deployment's concurrency limit."
    )
    timezone: str = Field(
        "Asia/Shanghai",
        description="Time zone (IANA name, e.g. Asia/Shanghai, UTC) the quality pages show times in, with the zone named.",
    )
    alert_block: str | None = Field(
        None,
        description="Prefect notification block the quarantine automation notifies, as <block-type-slug>/<name> "
        "(e.g. slack-webhook/data-team); unset: the automation only records that it fired (events in the UI and API).",
    )


    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Asia/Shanghai or UTC)") from e
        return v


class ServerSettings(BaseSettings):
    """`xxgk server` and `xxgk worker`: a local Prefect server (with its UI) and a process worker."""

    model_config = SettingsConfigDict(env_prefix="XXGK_SERVER_", extra="ignore")

    host: str = Field("127.0.0.1", min_length=1, description="Interface the server binds (PREFECT_SERVER_API_HOST).")
    port: int = Field(4200, ge=1, le=65535, description="Port of the API and UI (PREFECT_SERVER_API_PORT).")
    home: str = Field("xxgk-output/prefect", description="PREFECT_HOME of the server and worker: database, logs.")
    health_timeout_s: float = Field(90.0, gt=0, le=900, description="How long to wait for /api/health at start.")
    worker_limit: int = Field(0, ge=0, le=64, description="Flow runs one worker runs at a time; 0 means flow_runs.")
    worker_poll_seconds: float = Field(
        5.0, ge=1, le=300, description="How often a worker asks for scheduled runs (PREFECT_WORKER_QUERY_SECONDS)."
    )


class MaintenanceSettings(BaseSettings):
    """Scheduled upkeep of the outputs (tasks/maintain.py, tasks/snapshot.py): compaction and vacuum of
    the Delta tables, the plain-parquet snapshot; and the compaction of a fragmented `reports`
    partition by the batch that finds it so."""

    model_config = SettingsConfigDict(env_prefix="XXGK_MAINTAIN_", extra="ignore")

    retention_hours: int = Field(
        168, ge=24, le=24 * 365,
        description="Vacuum deletes the data files a compaction replaced only this long after it: longer than any "
        "read of a table version (a publish batch, a snapshot export, a reader's query), so none loses a file it listed.",
    )  # fmt: skip
    lease_hours: float = Field(
        6.0, gt=0, le=72,
        description="A maintenance run holds a lease (state/maintenance.lease) this long, renewed per table; another "
        "run finding it held gives up. Longer than one table's compaction.",
    )  # fmt: skip
    attempts: int = Field(
        5, ge=1, le=50, description="Attempts of a compaction whose commit conflicts, or of the snapshot's pointer switch."
    )
    compact_after_files: int = Field(
        64, ge=0, le=100_000,
        description="A batch that leaves a year's `reports` partition with more files than this compacts it "
        "(under the lease), so that reading it by agency, which every batch does, stays a read of a few files "
        "between weekly runs; 0: only the weekly run compacts.",
    )  # fmt: skip
    snapshot_grace_hours: float = Field(
        24.0, ge=0, le=24 * 30,
        description="A replaced plain-parquet snapshot is deleted this long after the one replacing it became "
        "current (readers that read the old pointer finish first); an abandoned export after this long too.",
    )  # fmt: skip


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XXGK_", extra="ignore")

    extract: ExtractSettings = Field(default_factory=ExtractSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    maintain: MaintenanceSettings = Field(default_factory=MaintenanceSettings)


def get_settings() -> Settings:
    return Settings()


def child_env(overrides: dict[str, str]) -> dict[str, str]:
    """The environment for a child process (a Prefect server or worker): this one's plus `overrides`."""
    return {**os.environ, **overrides}
