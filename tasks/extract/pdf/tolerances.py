"""Every tolerance and bound of the PDF reader, in one frozen settings object (pdfplumber's
`TableSettings` pattern): PDF points unless stated otherwise. `SETTINGS` is the one in force;
pass another (`dataclasses.replace(SETTINGS, snap_tol=2.0)`) to any stage to try a variant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TableSettings:
    # --- edges ----------------------------------------------------------------------------------
    snap_tol: float = 1.5
    """Edges whose positions differ by at most this much are collinear (one ruling line)."""
    join_tol: float = 1.5
    """Collinear edge segments separated by at most this gap are joined into one."""
    intersect_tol: float = 1.5
    """An edge may stop this short of the edge it meets and still intersect it."""
    thin_rect: float = 2.0
    """A rectangle at most this thick is a line; thicker stroked rectangles contribute their four sides."""
    min_edge_len: float = 3.0
    """Joined edges shorter than this are ignored (dots, tick marks)."""
    axis_tol: float = 0.5
    """A segment whose ends differ by at most this much in y (x) is horizontal (vertical)."""
    max_ruling_edges: int = 3000
    """Above this many joined edges a page is a vector drawing, not a table page: rulings are ignored."""
    # --- cells ----------------------------------------------------------------------------------
    min_cut_columns: int = 2
    """A row cut open by a page break is closed when at least this many columns' sides end there."""
    min_cut_rows: int = 2
    """A column cut open by the page's printable edge is closed when at least this many rows' rulings end there…"""
    cut_centre_em: float = 0.25
    """…and every line of its text is centred in it within this many ems (nothing of it culled by the clip)."""
    min_table_cells: int = 2
    """A ruled grid with fewer cells is a frame around text, not a table."""
    # --- characters → lines → words -------------------------------------------------------------
    line_tol_ratio: float = 0.5
    """Characters are on one visual line when their y-centres differ by at most this × char height."""
    space_gap_em: float = 0.3
    """A gap wider than this (in ems) between two non-CJK characters becomes a space."""
    cjk_space_gap_em: float = 0.5
    """Next to a CJK character a wider gap is needed: Word/LibreOffice autospace adds ~0.25 em."""
    fragment_gap_em: float = 1.0
    """In an unruled table, text fragments (cells) are separated by gaps wider than this (in ems)."""
    # --- unruled tables -------------------------------------------------------------------------
    column_cut_gap_em: float = 0.1
    """In an unruled table, a digit standing this far (in ems) after the character before it, where
    another line's fragment starts, opens a cell of its own (a number's own digits touch)."""
    label_reach: float = 1.5
    """A label-only line attaches to a value row within this many line heights (V9)."""
    opener_reach: float = 4.5
    """…and a line opening a row label ("1.本机关…") to one within this many: a long label may wrap
    twice above its numbers."""
    label_wrap_gap: float = 0.6
    """A row label's wrapped lines stand at most this many line heights apart (the line's leading;
    rows are parted by cell padding as well): a label printed without numbers reads on over them."""
    unruled_min_rows: int = 3
    """An unruled table needs at least this many lines carrying numbers…"""
    unruled_wide_row: int = 5
    """…or one line with at least this many numeric fragments (table 4 is one row of 15 numbers)."""
    unruled_max_line_gap: float = 2.5
    """Lines of one unruled table are at most this many line heights apart."""
    # --- pictures -------------------------------------------------------------------------------
    image_min_area_ratio: float = 0.1
    """An image covering at least this share of the page can hold a table."""
    figure_min_area_ratio: float = 0.02
    """Images at least this large are kept as Figure blocks (where a table printed as a picture sits)."""
    image_page_max_chars: int = 120
    """A page with such an image and at most this many non-space characters is an image page."""
    # --- noise and bounds: cheap checks before any table work -----------------------------------
    max_pages: int = 500
    """Pages after this many are not read (a report is a few dozen pages): thousands of pages after
    it, blank or not, cost those pages, never the report."""
    max_page_chars: int = 20_000
    """A page carrying more characters than this is noise, skipped like a blank page (a full A4 page
    of 5-pt CJK text holds about 16,000)."""
    min_char_size: float = 2.0
    """Characters smaller than this (points) are nobody's reading text (1-pt digit grids, hidden
    layers): dropped before line grouping."""


SETTINGS = TableSettings()
