"""Shared fixtures of the hostile-input tests: a bounded extractor pool with small limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tasks.sandbox import ExtractorPool

POOL_TIMEOUT_S = 2.0
POOL_MEMORY_MB = 400


@pytest.fixture(scope="module")
def small_pool() -> Iterator[ExtractorPool]:
    """One worker, 2 s and 400 MB per file: what a hostile file may cost."""
    with ExtractorPool(1, timeout_s=POOL_TIMEOUT_S, max_memory_mb=POOL_MEMORY_MB) as pool:
        yield pool
