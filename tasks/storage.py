"""Object storage behind one interface: a local folder or any S3-compatible bucket.

`open_store(uri)` picks the backend from the URI: ``s3://bucket/prefix`` gives an `S3Store`
whose keys are relative to the prefix; anything else (a path, or ``file://path``) gives a
`LocalStore` in which a directory is a bucket. The pipeline only reads uploaded objects; `put`
and `delete` exist for outputs, checkpoints and tests.

Keys are "/"-separated strings. Both stores refuse keys that could leave their scope (`UnsafeKey`);
the local store also refuses backslashes, empty or hidden segments and anything that resolves,
through symlinks, outside its root. Hidden names (a leading ".") are reserved for temporary files.

ETags: S3 ETags are kept as the server gives them, without the quotes (multipart ones look like
``"…-3"`` and are not an MD5). A local file's ETag is ``f"{size:x}-{mtime_ns:x}"``: cheap, and
changing whenever the file is replaced, but not a content hash.

Reading an upload: `fetch(key, max_bytes)` returns the bytes with the `ObjectInfo` of the read
itself (the GET's ETag, VersionId, LastModified and length; on a folder, the open file's stat), not
the listing's: an object replaced between listing and reading is recorded as what was read. With
`max_bytes` it refuses a larger object from its length before reading any of it, and reads at most
`max_bytes + 1` bytes whatever the length said (`ObjectTooLarge`).

Conditional writes: `put_if(key, data, etag)` writes only if the object is still the version
read (`etag`), or still absent (`etag=None`), and raises `WriteConflict` otherwise. On S3 that is
`PutObject` with ``If-Match`` / ``If-None-Match: *``, checked atomically by the server (AWS,
SeaweedFS; moto checks and writes in two steps, see tests/conftest.py). A local folder has no
compare-and-swap: `LocalStore.put_if` compares under an advisory lock, and local ETags can repeat
within one timestamp tick. The published tables do not rely on it: they are Delta tables committed
by delta-rs (`delta_location` gives it this store's root and S3 options; tasks/publish.py).

This module and `tasks/events.py` are the only ones that import boto3.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from tasks.errors import (
    AccessDenied,
    BucketNotFound,
    ConfigurationError,
    DocumentTooLarge,
    EndpointUnreachable,
    InvalidLocation,
    MissingCredentials,
    QueueNotFound,
    SourceNotFound,
    XxgkError,
)
from tasks.records import ObjectInfo
from tasks.redact import redact_location
from tasks.settings import StorageSettings

log = logging.getLogger(__name__)

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_CONFLICT_CODES = frozenset({"412", "PreconditionFailed", "409", "ConditionalRequestConflict"})
_STREAM_ERRORS = (IncompleteReadError, ReadTimeoutError, ResponseStreamingError)
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeKey(ValueError):
    """The key could escape the store's scope (``..``, absolute, backslash, NUL, symlink out)."""


class ObjectNotFound(FileNotFoundError):
    """No object under that key."""


class ObjectTooLarge(DocumentTooLarge):
    """The object is larger than the reader's `max_bytes`; `info` is what the read saw of it.
    Its error type is the contract's ``DocumentTooLarge``."""

    def __init__(self, message: str, info: ObjectInfo) -> None:
        super().__init__(message)
        self.info = info

    @property
    def type(self) -> str:
        return "DocumentTooLarge"


@dataclass(frozen=True)
class Fetched:
    """An object's bytes and the `ObjectInfo` of that read (ETag, VersionId, LastModified, length)."""

    data: bytes
    info: ObjectInfo


def _check_size(url: str, size: int, max_bytes: int | None, info: ObjectInfo) -> None:
    if max_bytes is not None and size > max_bytes:
        raise ObjectTooLarge(f"{url} is over the limit of {max_bytes:,} bytes ({size:,} bytes or more)", info)


def error_type(exc: BaseException) -> str:
    """A short, stable name for a storage failure: the S3 error code (``AccessDenied``,
    ``SlowDown``), else the exception's type name (``EndpointConnectionError``)."""
    if isinstance(exc, ClientError):
        return _error_code(exc) or type(exc).__name__
    return str(getattr(exc, "type", "") or type(exc).__name__)


class WriteConflict(RuntimeError):
    """A conditional write refused: the object changed (or appeared, or vanished) since it was read."""


class Store(Protocol):
    """What the pipeline needs from storage. `list` order is the backend's: key order on local
    folders and AWS S3, but some S3-compatible servers (SeaweedFS) list folder by folder."""

    uri: str

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def get(self, key: str) -> bytes: ...

    def fetch(self, key: str, max_bytes: int | None = None) -> Fetched: ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> None:
        """Write only if the object's ETag is still `etag` (None: only if there is no object)."""
        ...

    def delete(self, key: str) -> None: ...

    def url(self, key: str) -> str: ...


def open_store(uri: str, settings: StorageSettings | None = None) -> Store:
    """``s3://bucket/prefix`` → `S3Store`; a path or ``file://path`` → `LocalStore`."""
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if "@" in bucket:  # s3://KEY:SECRET@bucket/…: never kept (it would be written with every location)
            bucket = bucket.rpartition("@")[2]
            log.warning("credentials in the location s3://…@%s/ are ignored: set XXGK_S3_ACCESS_KEY_ID and "
                        "XXGK_S3_SECRET_ACCESS_KEY (or the standard AWS variables)", bucket)
        if not bucket:
            raise InvalidLocation(f"no bucket in {redact_location(uri)!r}: write s3://bucket or s3://bucket/prefix")
        return S3Store(bucket, prefix, settings or StorageSettings())
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    return LocalStore(uri)


# ---------------------------------------------------------------- keys


def check_key(key: str) -> str:
    """Refuse keys that could leave a store's scope: empty, NUL, absolute, ``.``/``..`` segments."""
    if not key or "\x00" in key:
        raise UnsafeKey(f"empty key or NUL in key {key!r}")
    if key.startswith("/") or _DRIVE.match(key):
        raise UnsafeKey(f"absolute key {key!r}")
    if any(part in (".", "..") for part in key.split("/")):
        raise UnsafeKey(f"'.' or '..' segment in key {key!r}")
    return key


def check_local_key(key: str) -> str:
    """`check_key` plus the local rules: no backslash, no empty or hidden segments."""
    check_key(key)
    if "\\" in key:
        raise UnsafeKey(f"backslash in key {key!r}")
    if any(not part or part.startswith(".") for part in key.split("/")):
        raise UnsafeKey(f"empty or hidden segment in key {key!r}")
    return key


def _check_prefix(prefix: str) -> str:
    if "\x00" in prefix or prefix.startswith("/") or "\\" in prefix:
        raise UnsafeKey(f"unsafe prefix {prefix!r}")
    if any(part in (".", "..") for part in prefix.split("/")):
        raise UnsafeKey(f"'.' or '..' segment in prefix {prefix!r}")
    return prefix


# ---------------------------------------------------------------- local folder


def local_etag(st: os.stat_result) -> str:
    """ETag of a local file: size and mtime in hex, changing whenever the file is replaced."""
    return f"{st.st_size:x}-{st.st_mtime_ns:x}"


def _stat_to_info(key: str, st: os.stat_result) -> ObjectInfo:
    modified = datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=UTC)
    return ObjectInfo(key=key, size=st.st_size, last_modified=modified, etag=local_etag(st))


class LocalStore:
    """A directory used as a bucket; created on the first `put`. Writes are atomic."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).absolute()
        self.uri = str(self.root)

    def __repr__(self) -> str:
        return f"LocalStore({self.uri!r})"

    def url(self, key: str) -> str:
        return str(self.root / check_local_key(key))

    def _path(self, key: str) -> Path:
        """The file for `key`, refusing anything that resolves outside the root."""
        path = self.root / check_local_key(key)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise UnsafeKey(f"key {key!r} resolves outside {self.uri}")
        return path

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Files under the root whose key starts with `prefix`, sorted; skips hidden and temp files."""
        _check_prefix(prefix)
        start = self.root / prefix.rpartition("/")[0]
        infos = [info for info in self._walk(start) if info.key.startswith(prefix)]
        yield from sorted(infos, key=lambda info: info.key)

    def _walk(self, start: Path) -> Iterator[ObjectInfo]:
        if not start.is_dir() or not start.resolve().is_relative_to(self.root.resolve()):
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                info = self._file_info(Path(dirpath) / name)
                if info is not None:
                    yield info

    def _file_info(self, path: Path) -> ObjectInfo | None:
        if path.name.startswith(".") or path.is_symlink():
            return None
        key = path.relative_to(self.root).as_posix()
        try:
            check_local_key(key)
            st = path.stat()
        except UnsafeKey:
            log.warning("skipping %s: its name is not a safe key", path)
            return None
        except FileNotFoundError:  # removed while listing
            return None
        return _stat_to_info(key, st)

    def get(self, key: str) -> bytes:
        return self.fetch(key).data

    def fetch(self, key: str, max_bytes: int | None = None) -> Fetched:
        """The file's bytes and the stat of the open file; read again if it changed while being read."""
        path = self._path(key)
        for _ in range(3):
            try:
                with open(path, "rb") as fh:
                    before = os.fstat(fh.fileno())
                    if not stat.S_ISREG(before.st_mode):
                        raise IsADirectoryError(str(path))
                    info = _stat_to_info(key, before)
                    _check_size(str(path), before.st_size, max_bytes, info)
                    data = fh.read() if max_bytes is None else fh.read(max_bytes + 1)
                    _check_size(str(path), len(data), max_bytes, info)
                    after = os.fstat(fh.fileno())
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
                raise ObjectNotFound(f"no object {path}") from exc
            unchanged = (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
            if unchanged and len(data) == before.st_size:
                return Fetched(data, info)
            log.info("%s changed while it was read: reading it again", path)
        raise OSError(f"{path} kept changing while it was read")

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return _stat_to_info(key, st) if path.is_file() else None

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write atomically: a hidden temp file in the same directory, fsync, then `os.replace`."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            _write_all(fd, data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)
        log.debug("wrote %s (%d bytes)", path, len(data))

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> None:
        """`put` if the file's ETag is still `etag` (None: if absent), else `WriteConflict`. The
        compare and the replace hold a lock on ``.put_if.lock`` in the root, so two `put_if` calls
        never both win; plain `put` does not take it."""
        self._path(key)  # refuse unsafe keys before creating anything
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".put_if.lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released by the kernel if this process dies
            current = self.head(key)
            if (current.etag if current else None) != etag:
                raise WriteConflict(f"{self.url(key)} changed since it was read (expected {etag}, found "
                                    f"{current.etag if current else 'no file'})")  # fmt: skip
            self.put(key, data, content_type)

    def delete(self, key: str) -> None:
        """Remove the file; a missing key is not an error (as on S3)."""
        self._path(key).unlink(missing_ok=True)


def _write_all(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- S3


def aws_client(service: str, settings: StorageSettings, endpoint_url: str | None = None, **config: Any) -> Any:
    """A boto3 client from settings: standard retries (transient errors only) and timeouts.

    Credentials left unset in `settings` fall back to boto3's default chain.
    """
    session = boto3.session.Session(
        aws_access_key_id=_reveal(settings.access_key_id),
        aws_secret_access_key=_reveal(settings.secret_access_key),
        aws_session_token=_reveal(settings.session_token),
        region_name=settings.region,
    )
    cfg = Config(
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        connect_timeout=settings.connect_timeout_s,
        read_timeout=config.pop("read_timeout", settings.read_timeout_s),
        **config,
    )
    log.debug("%s client: endpoint=%s region=%s", service, endpoint_url or "default", settings.region)
    return TypedErrors(session.client(service, endpoint_url=endpoint_url, config=cfg), service, endpoint_url)


# ---------------------------------------------------------------- typed misconfiguration errors

_DENIED_CODES = frozenset({
    "403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
    "ExpiredToken", "AccountProblem", "InvalidClientTokenId", "UnrecognizedClientException", "AccessDeniedException",
})  # fmt: skip
_NO_QUEUE_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"})
_TRANSIENT_CODES = frozenset({
    "500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown", "Throttling", "ThrottlingException",
    "RequestTimeout", "RequestTimeTooSkewed", "OperationAborted",
})  # fmt: skip
_TRANSIENT_BOTO = (ConnectionClosedError, ReadTimeoutError, IncompleteReadError, ResponseStreamingError)


class TypedErrors:
    """A boto3 client whose misconfiguration errors arrive as `ConfigurationError`s (one line for
    an operator: what is wrong and where) instead of botocore's; every other error passes through."""

    def __init__(self, client: Any, service: str, endpoint_url: str | None) -> None:
        self._client = client
        self._where = f"the {service} endpoint {endpoint_url or '(AWS default)'}"

    def __getattr__(self, name: str) -> Any:
        if name == "_client":  # not yet set (copy, unpickling)
            raise AttributeError(name)
        attr = getattr(self._client, name)
        if name == "get_paginator":
            return lambda operation: _TypedPaginator(attr(operation), self)
        if not callable(attr) or name.startswith("_"):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except (BotoCoreError, ClientError) as exc:
                raise self.translate(exc, name, kwargs) from exc

        return call

    def translate(self, exc: Exception, operation: str, params: dict[str, Any]) -> Exception:
        """The typed error for `exc`, or `exc` itself when it is not a misconfiguration."""
        what = params.get("Bucket") or params.get("QueueUrl") or ""
        target = f"{operation} {what}".strip()
        if isinstance(exc, NoCredentialsError | PartialCredentialsError):
            return MissingCredentials(
                f"no credentials for {self._where} ({target}): set XXGK_S3_ACCESS_KEY_ID and XXGK_S3_SECRET_ACCESS_KEY, "
                "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or an instance role"
            )
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
            return EndpointUnreachable(
                f"nothing answers at {self._where} ({target}); check XXGK_S3_ENDPOINT_URL / AWS_ENDPOINT_URL"
            )
        if isinstance(exc, ClientError):
            code = _error_code(exc)
            if code in _DENIED_CODES:
                return AccessDenied(f"{self._where} refused {target}: {code}; check the credentials and the policy")
            if code == "NoSuchBucket":
                return BucketNotFound(f"no bucket {params.get('Bucket')!r} at {self._where}")
            if code in _NO_QUEUE_CODES:
                return QueueNotFound(f"no queue {params.get('QueueUrl')!r} at {self._where}")
        return exc


class _TypedPaginator:
    def __init__(self, paginator: Any, client: TypedErrors) -> None:
        self._paginator, self._client = paginator, client

    def paginate(self, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from self._paginator.paginate(**kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise self._client.translate(exc, "list", kwargs) from exc


def is_transient(exc: BaseException) -> bool:
    """Whether retrying could help: transient I/O only (a dropped connection, a timeout, a 5xx or
    throttling answer, an interrupted local write). Never a misconfiguration, a typed document
    error, a missing object or a bug."""
    if isinstance(exc, ConfigurationError | XxgkError | UnsafeKey | FileNotFoundError | PermissionError):
        return False
    if isinstance(exc, ClientError):
        return _error_code(exc) in _TRANSIENT_CODES
    if isinstance(exc, _TRANSIENT_BOTO):
        return True
    return isinstance(exc, ConnectionError | TimeoutError | InterruptedError | BlockingIOError) or (
        type(exc) is OSError and exc.errno is not None
    )


def require_source(store: Store) -> None:
    """Raise the typed error if `store` cannot be listed: a missing folder (`SourceNotFound`), a
    missing bucket, no credentials, an unreachable endpoint, access refused."""
    if isinstance(store, LocalStore):
        if not store.root.is_dir():
            raise SourceNotFound(f"no folder {store.uri}")
        return
    next(iter(store.list()), None)


def require_output(store: Store) -> None:
    """Raise the typed error if an output cannot be reached; a local folder is created when written."""
    if isinstance(store, LocalStore):
        if store.root.exists() and not store.root.is_dir():
            raise SourceNotFound(f"{store.uri} is not a folder")
        return
    next(iter(store.list("state/")), None)


def _reveal(secret: Any) -> str | None:
    return None if secret is None else str(secret.get_secret_value())


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _strip_etag(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None


class S3Store:
    """A bucket, or a prefix inside one, through boto3; keys are relative to the prefix."""

    def __init__(self, bucket: str, prefix: str = "", settings: StorageSettings | None = None) -> None:
        self.settings = settings or StorageSettings()
        self.bucket = bucket
        self.prefix = _check_prefix(prefix.strip("/") + "/" if prefix.strip("/") else "")
        self.uri = f"s3://{bucket}/{self.prefix}"
        self._client = aws_client(
            "s3",
            self.settings,
            endpoint_url=self.settings.endpoint_url,
            s3={"addressing_style": self.settings.addressing_style},
        )

    def __repr__(self) -> str:
        return f"S3Store({self.uri!r}, endpoint={self.settings.endpoint_url!r})"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in S3 order; "folder" markers (ending "/") skipped."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=self.prefix + _check_prefix(prefix),
            PaginationConfig={"PageSize": self.settings.list_page_size},
        )
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    yield self._info(obj["Key"], obj["Size"], obj["LastModified"], obj.get("ETag"))

    def _info(self, full_key: str, size: int, modified: datetime, etag: str | None) -> ObjectInfo:
        return ObjectInfo(key=full_key[len(self.prefix) :], size=size, last_modified=modified, etag=_strip_etag(etag))

    def get(self, key: str) -> bytes:
        """The object's bytes. Requests are retried by botocore; a body cut off mid-stream is
        fetched again here (botocore's retries end at the response headers)."""
        return self.fetch(key).data

    def fetch(self, key: str, max_bytes: int | None = None) -> Fetched:
        """The object's bytes with the GET's own ETag, VersionId, LastModified and length."""
        return _retry_stream(lambda: self._get_once(key, max_bytes), self.settings.max_attempts)

    def _get_once(self, key: str, max_bytes: int | None = None) -> Callable[[], Fetched]:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(f"no object {self.url(key)}") from exc
            raise
        body, length = response["Body"], response.get("ContentLength")  # none on a chunked answer
        info = ObjectInfo(
            key=key,
            size=-1 if length is None else int(length),
            last_modified=response["LastModified"],
            etag=_strip_etag(response.get("ETag")),
            version_id=response.get("VersionId"),
        )
        try:
            _check_size(self.url(key), info.size, max_bytes, info)  # from the GET's length, before reading
        except ObjectTooLarge:
            body.close()
            raise

        def read() -> Fetched:
            try:
                data = bytes(body.read() if max_bytes is None else body.read(max_bytes + 1))
            finally:
                body.close()
            _check_size(self.url(key), len(data), max_bytes, info)
            if length is not None and len(data) != info.size:
                raise IncompleteReadError(actual_bytes=len(data), expected_bytes=info.size)
            return Fetched(data, info if length is not None else replace(info, size=len(data)))

        return read

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND_CODES:
                return None
            raise
        return self._info(self._key(key), response["ContentLength"], response["LastModified"], response.get("ETag"))

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        log.debug("put %s (%d bytes)", self.url(key), len(data))

    def put_if(self, key: str, data: bytes, etag: str | None, content_type: str | None = None) -> None:
        """`PutObject` with ``If-Match: "etag"`` (or ``If-None-Match: *`` when `etag` is None).
        412 PreconditionFailed, 409 ConditionalRequestConflict (a concurrent write of the key) and
        404 NoSuchKey (deleted meanwhile) are `WriteConflict`. A retried attempt whose first try
        did land also gets 412: a conflict, and the caller's fresh read then finds its own bytes."""
        extra: dict[str, str] = {"ContentType": content_type} if content_type else {}
        extra.update({"IfMatch": f'"{etag}"'} if etag is not None else {"IfNoneMatch": "*"})
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **extra)
        except ClientError as exc:
            code = _error_code(exc)
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code in _CONFLICT_CODES or status in ("412", "409") or (etag is not None and code in _NOT_FOUND_CODES):
                raise WriteConflict(f"{self.url(key)} changed since it was read ({code or status})") from exc
            raise
        log.debug("put %s (%d bytes, if %s)", self.url(key), len(data), etag or "absent")

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._key(key))


def delta_location(store: Store) -> tuple[str, dict[str, str]]:
    """Where a store's Delta tables live, for delta-rs: the root URI and its storage options.

    A folder is a plain path (delta-rs commits there by an atomic rename that refuses to replace an
    existing log entry). An S3 prefix gets the same endpoint, region, addressing style and
    credentials as boto3 (credentials left unset fall back to delta-rs's own default chain, the
    standard AWS variables) and ``conditional_put=etag``: every log entry is written with
    ``If-None-Match: *``, so two writers never both commit one table version, with no lock and no
    DynamoDB table."""
    if isinstance(store, LocalStore):
        return str(store.root), {}
    if not isinstance(store, S3Store):
        raise TypeError(f"no Delta location for {store!r}")
    s = store.settings
    options = {"conditional_put": "etag", "AWS_REGION": s.region}
    if s.endpoint_url:
        options["AWS_ENDPOINT_URL"] = s.endpoint_url
        if s.endpoint_url.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
    if s.addressing_style == "path":
        options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "false"
    elif s.addressing_style == "virtual":
        options["AWS_VIRTUAL_HOSTED_STYLE_REQUEST"] = "true"
    for name, secret in (("AWS_ACCESS_KEY_ID", s.access_key_id), ("AWS_SECRET_ACCESS_KEY", s.secret_access_key),
                         ("AWS_SESSION_TOKEN", s.session_token)):  # fmt: skip
        if secret is not None:
            options[name] = str(secret.get_secret_value())
    options["connect_timeout"] = f"{s.connect_timeout_s:g}s"
    options["timeout"] = f"{s.read_timeout_s:g}s"
    return f"s3://{store.bucket}/{store.prefix.rstrip('/')}".rstrip("/"), options


def arrow_filesystem(store: Store) -> tuple[Any, str]:
    """A native pyarrow filesystem for reading a store's Delta data files, and the prefix that
    turns a file URI of the table into a path of that filesystem.

    Native, not the Python filesystem deltalake's `to_pyarrow_dataset` wraps: a scan over that one
    leaves read-ahead on Arrow's I/O threads holding Python file objects, and their release during
    interpreter shutdown aborts the process ("terminate called without an active exception",
    exit 134) after its work is done."""
    import pyarrow.fs as pafs

    if isinstance(store, LocalStore):
        return pafs.LocalFileSystem(), ""
    if not isinstance(store, S3Store):
        raise TypeError(f"no filesystem for {store!r}")
    s = store.settings
    secrets = {name: None if v is None else str(v.get_secret_value())
               for name, v in (("access_key", s.access_key_id), ("secret_key", s.secret_access_key),
                               ("session_token", s.session_token))}  # fmt: skip
    endpoint, scheme = None, "https"
    if s.endpoint_url:
        scheme, _, endpoint = s.endpoint_url.partition("://")
    fs = pafs.S3FileSystem(
        **secrets, region=s.region, endpoint_override=endpoint, scheme=scheme,
        force_virtual_addressing=s.addressing_style == "virtual",
        connect_timeout=s.connect_timeout_s, request_timeout=s.read_timeout_s,
        retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=s.max_attempts),
    )  # fmt: skip
    return fs, "s3://"


def _retry_stream(request: Callable[[], Callable[[], Fetched]], attempts: int) -> Fetched:
    """`request()` returns a body reader; a broken body is requested again, with backoff.

    Errors from `request()` itself propagate: botocore has already retried those.
    """
    for attempt in range(1, attempts + 1):
        read = request()
        try:
            return read()
        except _STREAM_ERRORS as exc:
            if attempt == attempts:
                raise
            delay = min(0.2 * 2**attempt, 5.0)
            log.warning("response stream broken (%s); attempt %d of %d in %.1f s", exc, attempt + 1, attempts, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")
