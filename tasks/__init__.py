"""xxgk-pipeline: every log record of a process using the package is redacted (tasks/redact.py)."""

from tasks.redact import install_log_redaction

install_log_redaction()
