"""The error taxonomy: for any bytes, extraction returns a result or raises one of these; and the
configuration errors (`ConfigurationError`) of storage the pipeline cannot use.

Each error is also a builtin exception type (pdfminer.six's two-parent pattern), carries a
stable `type` name (the JSON `error.type` and the quarantine record's `error_type`) and a
message an operator can act on.
"""

from __future__ import annotations


class XxgkError(Exception):
    """Base of every typed extraction error."""

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": str(self)}


class UnsupportedFormat(XxgkError, ValueError):
    """The bytes are not PDF, HTML, DOCX or text (e.g. an image, a spreadsheet, an archive)."""


class CorruptDocument(XxgkError, ValueError):
    """The bytes claim a known format but cannot be parsed (truncated, damaged, looping)."""


class EncryptedDocument(XxgkError, ValueError):
    """The document is password protected and cannot be read without the password."""


class ScannedDocument(XxgkError, ValueError):
    """The document has no text layer (a scan or pictures of pages): it needs OCR."""


class NotAReport(XxgkError, ValueError):
    """The document is readable but is not a government information-disclosure annual report."""


class TableNotFound(XxgkError, LookupError):
    """The document is a report, but none of its statistical tables could be read."""


class DocumentTooLarge(XxgkError, ValueError):
    """The file exceeds the configured size limit, or unpacks to more than it allows (zip bomb)."""


class ResourceLimitExceeded(XxgkError, RuntimeError):
    """Parsing the file took more time or memory than the configured limits allow."""


class Unpublishable(XxgkError, ValueError):
    """Publishing, not extraction: the report's rows cannot be written in the datasets' schemas.
    The report is quarantined with the reason; the rest of its batch is published."""


ERROR_TYPES: tuple[type[XxgkError], ...] = (
    UnsupportedFormat,
    CorruptDocument,
    EncryptedDocument,
    ScannedDocument,
    NotAReport,
    TableNotFound,
    DocumentTooLarge,
    ResourceLimitExceeded,
)
"""What extraction may raise (`Unpublishable` comes from publishing and is not one of them)."""


class ConfigurationError(Exception):
    """Base of the errors no retry can fix: the pipeline is pointed at storage it cannot use
    (no credentials, an endpoint that does not answer, access refused, a bucket, queue or folder
    that does not exist). The command line prints one line with the type and exits 3; tasks do
    not retry them (`tasks.storage.is_transient`)."""

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, str]:
        return {"type": self.type, "message": str(self)}


class MissingCredentials(ConfigurationError, PermissionError):
    """No credentials were found for the object store (settings, environment, profile, role)."""


class AccessDenied(ConfigurationError, PermissionError):
    """The object store refused the credentials or the request (403, unknown key, bad signature)."""


class EndpointUnreachable(ConfigurationError, ConnectionError):
    """Nothing answers at the configured endpoint (refused, unresolvable, connect timeout), after
    the storage client's own retries."""


class BucketNotFound(ConfigurationError, LookupError):
    """The bucket named in an s3:// location does not exist."""


class QueueNotFound(ConfigurationError, LookupError):
    """The SQS queue of upload notifications does not exist."""


class SourceNotFound(ConfigurationError, LookupError):
    """The source folder does not exist (or is not a folder): there is nothing to list."""


class ServerUnavailable(ConfigurationError, ConnectionError):
    """Prefect's temporary server (no PREFECT_API_URL set) did not answer within its start-up wait."""


class InvalidLocation(ConfigurationError, ValueError):
    """A source or output location that names no usable place (e.g. `s3://` without a bucket)."""


class BlockNotFound(ConfigurationError, LookupError):
    """A Prefect block named in the settings (e.g. XXGK_ALERT_BLOCK) does not exist on the server."""


CONFIGURATION_ERRORS: tuple[type[ConfigurationError], ...] = (
    MissingCredentials,
    AccessDenied,
    EndpointUnreachable,
    BucketNotFound,
    QueueNotFound,
    SourceNotFound,
    InvalidLocation,
    BlockNotFound,
    ServerUnavailable,
)
