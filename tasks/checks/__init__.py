"""Validation of extracted reports (spec §6): pure rule logic plus one Great Expectations edge.

Pure modules (pandas allowed; no great_expectations, prefect or boto3):
`identities` (the arithmetic of the spec as data), `frames` (stack extraction dicts into
frames), `blanks` (BLANK-01), `localize` (which cell and what value would satisfy the
identities), `narrative` (TXT-01/02), `crossyear` (XY-01..03, PLAUS-02), `plaus` (PLAUS-01),
`status` (quality status), `suites` (suite JSON generated from the spec), `assemble` (GX
outcomes + pure checks → `Validated`). `gx.py` is the only module importing great_expectations;
its `validate_batch` is the pipeline's entry point.
"""

from __future__ import annotations

__all__ = ["validate_batch"]


def validate_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Lazy re-export of `tasks.checks.gx.validate_batch` (importing GX takes seconds)."""
    from tasks.checks.gx import validate_batch as _validate_batch

    return _validate_batch(*args, **kwargs)
