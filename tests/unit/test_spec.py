"""The table spec holds exactly the canonical keys of format-spec §5.2, in the printed order."""

from tasks.spec import all_cell_keys, cell_keys, t2, t3, t4

# Transcribed from format-spec.md §3.2 / §5.2 (the independent source the module must agree with).
T3_ROWS_2021 = [
    "new_received", "carried_over", "granted", "partially_granted", "denied_state_secret", "denied_other_law",
    "denied_security_stability", "denied_third_party_rights", "denied_internal_affairs", "denied_process_info",
    "denied_enforcement_file", "denied_admin_query", "unavailable_not_held", "unavailable_needs_creation",
    "unavailable_unclear_after_correction", "not_processed_petition", "not_processed_duplicate",
    "not_processed_publication", "not_processed_excessive", "not_processed_reconfirmation", "other_no_correction",
    "other_fee_unpaid", "other_other", "total_processed", "carried_forward",
]
T3_COLS = [
    "natural_person", "commercial_enterprise", "research_institution", "social_welfare_org", "legal_service_org",
    "other_org", "total",
]
T4_ROWS = ["admin_review", "litigation_direct", "litigation_after_review"]
T4_COLS = ["upheld", "corrected", "other_result", "pending", "total"]
T2_2021 = {
    ("regulations", "issued"), ("regulations", "abolished"), ("regulations", "in_force"),
    ("normative_documents", "issued"), ("normative_documents", "abolished"), ("normative_documents", "in_force"),
    ("administrative_licensing", "decisions"), ("administrative_penalty", "decisions"),
    ("administrative_coercion", "decisions"), ("administrative_fees", "fee_amount"),
}  # fmt: skip
T2_2019 = {
    *((r, c) for r in ("regulations", "normative_documents") for c in ("newly_made", "newly_published", "total_published")),
    *((r, c) for r in ("administrative_licensing", "other_admin_services", "administrative_penalty", "administrative_coercion")
      for c in ("prior_year_items", "items_change", "decisions")),
    ("administrative_fees", "prior_year_items"), ("administrative_fees", "items_change"),
    ("centralized_procurement", "procurement_items"), ("centralized_procurement", "procurement_amount"),
}  # fmt: skip


def _keys(layout, table):
    return [(k.row, k.col) for k in cell_keys(layout) if k.table == table]


def test_t3_2021_is_25_rows_by_7_columns_in_printed_order():
    keys = _keys("2021", "t3")
    assert len(keys) == 175
    assert list(dict.fromkeys(r for r, _ in keys)) == T3_ROWS_2021
    assert [c.key for c in t3.COLUMNS] == T3_COLS


def test_t3_2019_is_23_rows_with_other_total_in_place_of_the_three_leaves():
    rows = list(dict.fromkeys(r for r, _ in _keys("2019", "t3")))
    assert len(rows) == 23
    expected = [r for r in T3_ROWS_2021 if not r.startswith("other_")]
    expected.insert(expected.index("total_processed"), "other_total")
    assert rows == expected


def test_2021_mixed_lists_other_total_and_the_three_leaves():
    rows = {r for r, _ in _keys("2021_mixed", "t3")}
    assert rows == set(T3_ROWS_2021) | {"other_total"}


def test_t4_is_three_blocks_by_five_in_both_formats():
    for layout in ("2019", "2021", "2021_mixed"):
        assert _keys(layout, "t4") == [(r, c) for r in T4_ROWS for c in T4_COLS]


def test_t2_cells_per_format():
    assert set(_keys("2021", "t2")) == T2_2021
    assert set(_keys("2021_mixed", "t2")) == T2_2021
    assert set(_keys("2019", "t2")) == T2_2019
    assert len(_keys("2019", "t2")) == 22


def test_units_and_kinds():
    by = {(k.table, k.row, k.col): k for k in all_cell_keys()}
    assert by[("t2", "administrative_fees", "fee_amount")].unit == "万元"
    assert by[("t2", "administrative_fees", "fee_amount")].kind == "amount"
    assert by[("t2", "administrative_licensing", "items_change")].kind == "signed"
    assert by[("t2", "centralized_procurement", "procurement_amount")].unit == "元"
    assert by[("t3", "granted", "total")].unit == "件"


def test_every_block_row_is_in_one_block_only():
    seen = [r.key for b in t2.BLOCKS for r in b.rows]
    assert len(seen) == len(set(seen))
    assert [r.key for r in t4.ROWS] == T4_ROWS
