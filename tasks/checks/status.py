"""The quality status published on every row of a report (spec §6 severities)."""

from __future__ import annotations

from collections.abc import Iterable

from tasks.records import CheckResult


def quality_status(checks: Iterable[CheckResult]) -> str:
    """`failed` if an error-severity check failed, `warned` if a warn did, else `passed` (info never counts)."""
    failed = {c.severity for c in checks if not c.passed}
    if "error" in failed:
        return "failed"
    if "warn" in failed:
        return "warned"
    return "passed"
