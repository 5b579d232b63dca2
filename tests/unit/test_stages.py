"""A batch cut into pipeline stages (`pipeline.stages`), and a batch's result merged from its parts."""

from __future__ import annotations

from tasks import pipeline, steps


def _groups(n: int, per: int) -> list[list[int]]:
    return [list(range(i, min(i + per, n))) for i in range(0, n, per)]


def test_stages_keep_every_group_once_in_order_and_the_last_stage_is_the_smallest() -> None:
    for n, per in [(300, 1), (300, 10), (500, 8), (101, 1), (1000, 33)]:
        groups = _groups(n, per)
        stages = pipeline.stages(groups, stages=4)  # type: ignore[arg-type]
        assert [g for s in stages for g in s] == groups, (n, per)
        sizes = [sum(len(g) for g in s) for s in stages]
        assert len(stages) == min(4, n // pipeline.MIN_STAGE_REPORTS), (n, per, sizes)
        assert all(size >= pipeline.MIN_STAGE_REPORTS for size in sizes), sizes
        assert sizes == sorted(sizes, reverse=True) and max(sizes) - min(sizes) < 2 * per, (n, per, sizes)


def test_a_small_batch_is_one_stage() -> None:
    for n in (1, 10, 2 * pipeline.MIN_STAGE_REPORTS - 1):
        assert pipeline.stages(_groups(n, 1), stages=4) == [_groups(n, 1)]  # type: ignore[arg-type]
    assert pipeline.stages(_groups(300, 1)) == [_groups(300, 1)]  # type: ignore[arg-type]  # the default: one stage
    assert pipeline.stages([[1, 2, 3]], stages=4, min_reports=1) == [[[1, 2, 3]]]  # type: ignore[list-item]


def test_merged_results_keep_the_uploads_not_read() -> None:
    unread = {"source": "s3://b/x.pdf", "error": "AccessDenied", "message": "m"}
    parts = [steps.BatchResult("a", published=["r1"], not_read=[unread]), steps.BatchResult("b", published=["r2"], conflicts=2)]
    merged = steps.merge_results("batch", parts)
    assert merged.published == ["r1", "r2"] and merged.conflicts == 2
    assert merged.not_read == [unread]
