"""The Store interface on a local folder, moto and SeaweedFS, plus retries over real HTTP faults."""

from __future__ import annotations

import ast
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from conftest import DUMMY_KEY_ID, DUMMY_SECRET, raw_client, s3_settings
from s3proxy import Fault, S3FaultProxy

from tasks import storage
from tasks.settings import Settings, StorageSettings
from tasks.storage import LocalStore, ObjectNotFound, S3Store, Store, UnsafeKey, WriteConflict, open_store

CJK_KEY = "incoming/2021/洪泽区/报告.pdf"


SLOW = pytest.mark.slow  # starts moto or SeaweedFS


@pytest.fixture(params=["local", pytest.param("moto", marks=SLOW), pytest.param("seaweedfs", marks=SLOW)])
def store(request: pytest.FixtureRequest, tmp_path: Path, make_bucket: Callable[[StorageSettings], str]) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "bucket")
    settings = request.getfixturevalue(f"{request.param}_settings")
    return S3Store(make_bucket(settings), "scope", settings)


# ---------------------------------------------------------------- every backend


def test_roundtrip(store: Store) -> None:
    store.put("a/b.pdf", b"%PDF-1.7 hello", "application/pdf")
    assert store.get("a/b.pdf") == b"%PDF-1.7 hello"
    info = store.head("a/b.pdf")
    assert info is not None and info.key == "a/b.pdf" and info.size == 14 and info.etag
    assert info.last_modified.tzinfo is not None
    assert [i.key for i in store.list()] == ["a/b.pdf"]
    assert list(store.list()) == [info]


def test_non_ascii_key(store: Store) -> None:
    store.put(CJK_KEY, "报告".encode())
    assert store.get(CJK_KEY) == "报告".encode()
    assert [i.key for i in store.list("incoming/2021/洪泽区/")] == [CJK_KEY]
    assert store.head(CJK_KEY) is not None
    assert store.url(CJK_KEY).endswith(CJK_KEY)


def test_missing_object(store: Store) -> None:
    assert store.head("nope/missing.pdf") is None
    with pytest.raises(ObjectNotFound):
        store.get("nope/missing.pdf")
    store.delete("nope/missing.pdf")  # no error, as on S3


def test_list_is_filtered_by_prefix(store: Store) -> None:
    keys = ["b.pdf", "a/b.pdf", "a-c.pdf", "a/a.pdf", "ab/x.pdf"]
    for key in keys:
        store.put(key, key.encode())
    listed = [i.key for i in store.list()]
    assert sorted(listed) == sorted(keys)
    assert sorted(i.key for i in store.list("a/")) == ["a/a.pdf", "a/b.pdf"]
    assert sorted(i.key for i in store.list("a")) == ["a-c.pdf", "a/a.pdf", "a/b.pdf", "ab/x.pdf"]
    assert list(store.list("zzz")) == []


@pytest.mark.parametrize("backend", ["local", pytest.param("moto", marks=SLOW)])
def test_list_order_is_utf8_lexicographic(
    backend: str, tmp_path: Path, moto_settings: StorageSettings, make_bucket: Callable[..., str]
) -> None:
    """Local folders and AWS-like servers list in key order (SeaweedFS lists folder by folder)."""
    store: Store = LocalStore(tmp_path) if backend == "local" else S3Store(make_bucket(moto_settings), "", moto_settings)
    keys = ["b.pdf", "a/b.pdf", "a-c.pdf", "a/a.pdf", "ab/x.pdf", "a0", CJK_KEY]
    for key in keys:
        store.put(key, b"x")
    assert [i.key for i in store.list()] == sorted(keys, key=lambda k: k.encode())


def test_overwrite_changes_etag_and_delete_removes(store: Store) -> None:
    store.put("x.pdf", b"one")
    first = store.head("x.pdf")
    store.put("x.pdf", b"second version")
    second = store.head("x.pdf")
    assert first and second and first.etag != second.etag
    store.delete("x.pdf")
    assert store.head("x.pdf") is None and list(store.list()) == []


def test_conditional_put_writes_only_the_version_read(store: Store) -> None:
    store.put_if("p/bucket-00.parquet", b"v1", None)  # absent: created
    with pytest.raises(WriteConflict):
        store.put_if("p/bucket-00.parquet", b"lost", None)  # appeared meanwhile
    first = store.head("p/bucket-00.parquet")
    assert first is not None and first.etag
    store.put_if("p/bucket-00.parquet", b"v2-longer", first.etag)  # unchanged since read: written
    with pytest.raises(WriteConflict):
        store.put_if("p/bucket-00.parquet", b"lost", first.etag)  # changed since read
    assert store.get("p/bucket-00.parquet") == b"v2-longer"
    second = store.head("p/bucket-00.parquet")
    assert second is not None and second.etag != first.etag
    store.delete("p/bucket-00.parquet")
    with pytest.raises(WriteConflict):
        store.put_if("p/bucket-00.parquet", b"lost", second.etag)  # deleted since read
    assert store.head("p/bucket-00.parquet") is None


def test_racing_conditional_puts_have_one_winner(store: Store) -> None:
    """Four threads put the same key conditionally on the same ETag, 25 rounds: exactly one wins
    each round and the object holds the winner's bytes (no lost update inside the server)."""
    store.put("race/k", b"start")
    for rnd in range(25):
        info = store.head("race/k")
        assert info is not None
        barrier, won, lost = threading.Barrier(4), [], []

        def write(
            i: int, etag: str | None = info.etag, rnd: int = rnd,
            barrier: threading.Barrier = barrier, won: list[bytes] = won, lost: list[int] = lost,
        ) -> None:
            body = f"round {rnd} writer {i} ".encode() * (50 + i)  # sizes differ: local ETags differ
            barrier.wait()
            try:
                store.put_if("race/k", body, etag)
                won.append(body)
            except WriteConflict:
                lost.append(i)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1 and len(lost) == 3, (rnd, len(won))
        assert store.get("race/k") == won[0]


@pytest.mark.parametrize("key", ["", "../x", "a/../../x", "/etc/passwd", "a/./b", "a\x00b"])
def test_unsafe_keys_refused_everywhere(store: Store, key: str) -> None:
    for call in (store.get, store.head, store.delete, lambda k: store.put(k, b"x")):
        with pytest.raises(UnsafeKey):
            call(key)


# ---------------------------------------------------------------- local folder


@pytest.mark.parametrize("key", ["a\\b", "C:/x", "a//b", ".hidden", "a/.tmp", "a/"])
def test_local_refuses_more(tmp_path: Path, key: str) -> None:
    with pytest.raises(UnsafeKey):
        LocalStore(tmp_path).put(key, b"x")


def test_local_symlink_out_of_root_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    (root / "file-link").symlink_to(outside / "secret.txt")
    store = LocalStore(root)
    for key in ("link/secret.txt", "file-link"):
        with pytest.raises(UnsafeKey):
            store.get(key)
    with pytest.raises(UnsafeKey):
        store.put("link/new.txt", b"x")
    assert not (outside / "new.txt").exists()
    assert list(store.list()) == []


def test_local_store_created_on_first_put_and_etag_format(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "new" / "bucket")
    assert list(store.list()) == []
    store.put("k.txt", b"abc")
    st = (tmp_path / "new" / "bucket" / "k.txt").stat()
    info = store.head("k.txt")
    assert info is not None and info.etag == f"{3:x}-{st.st_mtime_ns:x}"
    assert oct(st.st_mode & 0o777) == oct(0o644)


def test_local_list_skips_hidden_and_temp_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("x")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".report.pdf.abc.tmp").write_text("partial")
    (tmp_path / "d" / "report.pdf").write_text("full")
    (tmp_path / "d" / "back\\slash.pdf").write_text("unsafe name: listed nowhere")
    assert [i.key for i in LocalStore(tmp_path).list()] == ["d/report.pdf"]


def test_local_put_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a put is stalled before the rename, readers see the old bytes or nothing."""
    store = LocalStore(tmp_path)
    store.put("r.pdf", b"old")
    entered, release = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        if not entered.is_set():
            entered.set()
            release.wait(5)
        real_fsync(fd)

    monkeypatch.setattr(storage.os, "fsync", slow_fsync)
    writer = threading.Thread(target=store.put, args=("r.pdf", b"N" * 1_000_000))
    writer.start()
    assert entered.wait(5)
    assert [i.key for i in store.list()] == ["r.pdf"] and store.get("r.pdf") == b"old"
    assert any(p.name.startswith(".r.pdf.") for p in tmp_path.iterdir())  # the temp file exists, unlisted
    release.set()
    writer.join(5)
    assert store.get("r.pdf") == b"N" * 1_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["r.pdf"]


def test_open_store_picks_backend(tmp_path: Path) -> None:
    settings = s3_settings("http://127.0.0.1:9")
    local = open_store(str(tmp_path))
    assert isinstance(local, LocalStore) and local.uri == str(tmp_path)
    assert isinstance(open_store(f"file://{tmp_path}"), LocalStore)
    s3 = open_store("s3://reports/incoming/2021", settings)
    assert isinstance(s3, S3Store) and s3.bucket == "reports" and s3.prefix == "incoming/2021/"
    assert s3.url("a.pdf") == "s3://reports/incoming/2021/a.pdf"
    assert open_store("s3://reports", settings).url("a.pdf") == "s3://reports/a.pdf"


# ---------------------------------------------------------------- S3 specifics (moto)


@SLOW
def test_s3_keys_are_relative_to_prefix(moto_settings: StorageSettings, make_bucket: Callable[..., str]) -> None:
    bucket = make_bucket(moto_settings)
    raw = raw_client("s3", moto_settings)
    raw.put_object(Bucket=bucket, Key="outside.pdf", Body=b"o")  # type: ignore[attr-defined]
    raw.put_object(Bucket=bucket, Key="in/folder/", Body=b"")  # type: ignore[attr-defined]  # console "folder"
    store = S3Store(bucket, "in", moto_settings)
    store.put("x.pdf", b"x", "application/pdf")
    head = raw.head_object(Bucket=bucket, Key="in/x.pdf")  # type: ignore[attr-defined]
    assert head["ContentType"] == "application/pdf"
    assert [i.key for i in store.list()] == ["x.pdf"]


@SLOW
def test_s3_pagination(moto_settings: StorageSettings, make_bucket: Callable[..., str]) -> None:
    settings = moto_settings.model_copy(update={"list_page_size": 7})
    store = S3Store(make_bucket(settings), "", settings)
    keys = [f"incoming/{i:03d}.pdf" for i in range(25)]
    for key in keys:
        store.put(key, b"x")
    calls: list[str] = []
    store._client.meta.events.register("after-call.s3.ListObjectsV2", lambda **kw: calls.append("list"))
    assert [i.key for i in store.list("incoming/")] == keys
    assert len(calls) == 4


@SLOW
def test_s3_multipart_etag_kept(moto_settings: StorageSettings, make_bucket: Callable[..., str]) -> None:
    bucket = make_bucket(moto_settings)
    raw = raw_client("s3", moto_settings)
    upload = raw.create_multipart_upload(Bucket=bucket, Key="big.pdf")["UploadId"]  # type: ignore[attr-defined]
    parts = []
    for number, body in ((1, b"a" * 5 * 2**20), (2, b"b")):
        part = raw.upload_part(  # type: ignore[attr-defined]
            Bucket=bucket, Key="big.pdf", UploadId=upload, PartNumber=number, Body=body
        )
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    raw.complete_multipart_upload(  # type: ignore[attr-defined]
        Bucket=bucket, Key="big.pdf", UploadId=upload, MultipartUpload={"Parts": parts}
    )
    store = S3Store(bucket, "", moto_settings)
    info = store.head("big.pdf")
    assert info is not None and info.etag and info.etag.endswith("-2") and '"' not in info.etag
    assert [i.etag for i in store.list()] == [info.etag]


# ---------------------------------------------------------------- retries, over real HTTP


class FaultProxy(S3FaultProxy):
    """Injects the queued faults into the next GET requests, and records every request."""

    def __init__(self, upstream: str) -> None:
        self.faults: list[tuple[str, float]] = []  # ("status", 503) or ("delay", seconds)
        self.requests: list[tuple[str, str]] = []
        super().__init__(upstream)

    def fault_for(self, method: str, path: str) -> Fault:
        self.requests.append((method, path))
        return self.faults.pop(0) if self.faults and method == "GET" else None

    def gets(self, key: str) -> int:
        return sum(1 for method, path in self.requests if method == "GET" and path.split("?")[0].endswith(key))


@pytest.fixture
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    p = FaultProxy(moto_server)
    yield p
    p.close()


@pytest.fixture
def proxied_store(proxy: FaultProxy, moto_settings: StorageSettings, make_bucket: Callable[..., str]) -> S3Store:
    settings = s3_settings(proxy.url, read_timeout_s=0.5, connect_timeout_s=0.5, max_attempts=3)
    store = S3Store(make_bucket(moto_settings), "", settings)
    store.put("r.pdf", b"report")
    return store


@SLOW
@pytest.mark.parametrize("status", [503, 500])
def test_transient_error_on_get_is_retried(proxy: FaultProxy, proxied_store: S3Store, status: int) -> None:
    proxy.faults.append(("status", status))
    assert proxied_store.get("r.pdf") == b"report"
    assert proxy.gets("r.pdf") == 2


@SLOW
def test_read_timeout_on_get_is_retried(proxy: FaultProxy, proxied_store: S3Store) -> None:
    proxy.faults.append(("delay", 1.5))
    assert proxied_store.get("r.pdf") == b"report"
    assert proxy.gets("r.pdf") == 2


@SLOW
def test_no_such_key_is_not_retried(proxy: FaultProxy, proxied_store: S3Store) -> None:
    with pytest.raises(ObjectNotFound):
        proxied_store.get("missing.pdf")
    assert proxy.gets("missing.pdf") == 1


@SLOW
def test_access_denied_is_not_retried(proxy: FaultProxy, proxied_store: S3Store) -> None:
    from tasks.errors import AccessDenied

    proxy.faults.append(("status", 403))
    with pytest.raises(AccessDenied, match="AccessDenied"):
        proxied_store.get("r.pdf")
    assert proxy.gets("r.pdf") == 1


@SLOW
def test_retries_give_up_after_max_attempts(proxy: FaultProxy, proxied_store: S3Store) -> None:
    from botocore.exceptions import ClientError

    proxy.faults.extend([("status", 503)] * 3)
    with pytest.raises(ClientError):
        proxied_store.get("r.pdf")
    assert proxy.gets("r.pdf") == 3


# ---------------------------------------------------------------- settings and secrets


def test_boto_is_imported_only_at_the_storage_edge() -> None:
    root = Path(storage.__file__).parent
    importers = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if any(name in _imported_modules(path) for name in ("boto3", "botocore"))
    }
    assert importers <= {"storage.py", "events.py"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    froms = {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module and not n.level}
    return names | froms


def test_endpoint_from_aws_endpoint_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://minio.example:9000")
    monkeypatch.delenv("XXGK_S3_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert Settings().storage.endpoint_url == "http://minio.example:9000"
    monkeypatch.setenv("XXGK_S3_ENDPOINT_URL", "http://ceph.example:7480")
    assert StorageSettings().endpoint_url == "http://ceph.example:7480"


@SLOW
def test_credentials_never_in_reprs_or_logs(
    moto_settings: StorageSettings, make_bucket: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = moto_settings
    store = S3Store(make_bucket(settings), "p", settings)
    with caplog.at_level(logging.DEBUG):
        store.put("a.pdf", b"a")
        store.get("a.pdf")
        store.head("missing.pdf")
    shown = " ".join([repr(settings), str(settings), repr(Settings(storage=settings)), repr(store)])
    assert DUMMY_SECRET not in shown and DUMMY_KEY_ID not in shown
    assert caplog.records, "expected some DEBUG logging from boto and the store"
    assert DUMMY_SECRET not in caplog.text
    ours = " ".join(r.getMessage() for r in caplog.records if r.name.startswith("tasks"))
    assert ours and DUMMY_KEY_ID not in ours


def test_unset_credentials_use_default_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, object]] = []
    real_init = boto3.session.Session.__init__

    def recording_init(self: boto3.session.Session, **kwargs: object) -> None:
        seen.append(kwargs)
        real_init(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(boto3.session.Session, "__init__", recording_init)
    S3Store("b", "", StorageSettings(endpoint_url="http://127.0.0.1:9", access_key_id=None, secret_access_key=None))
    assert seen and seen[0]["aws_access_key_id"] is None and seen[0]["aws_secret_access_key"] is None


def test_xxgk_extract_reads_an_s3_uri(moto_settings, make_bucket, monkeypatch, capsys):
    """`xxgk extract s3://bucket/key` reads the object through the storage settings."""
    import json as _json

    from tasks.cli import main

    bucket = make_bucket(moto_settings)
    sample = Path(__file__).resolve().parents[1] / "fixtures" / "samples" / "jining_org_dept_2021_text" / "source.txt"
    raw_client("s3", moto_settings).put_object(Bucket=bucket, Key="incoming/报告.txt", Body=sample.read_bytes())
    for name, value in (("XXGK_S3_ENDPOINT_URL", moto_settings.endpoint_url), ("XXGK_S3_ACCESS_KEY_ID", DUMMY_KEY_ID),
                        ("XXGK_S3_SECRET_ACCESS_KEY", DUMMY_SECRET), ("XXGK_S3_ADDRESSING_STYLE", "path")):
        monkeypatch.setenv(name, value)
    assert main(["extract", f"s3://{bucket}/incoming/报告.txt"]) == 0
    out = _json.loads(capsys.readouterr().out)
    assert out["agency"] == "济宁经济技术开发区党工委组织部" and out["year"] == 2021 and len(out["cells"]) == 200
    assert main(["extract", f"s3://{bucket}/incoming/missing.txt"]) == 3
    assert _json.loads(capsys.readouterr().out)["error"]["type"] == "FileNotFound"
