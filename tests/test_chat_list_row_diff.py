"""The chat list's row diff: applied to the old rows it gives the new ones, whatever they are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from galileio_desktop.ui.sidebar.chat_list_model import _row_diff

ROWS = st.lists(st.tuples(st.sampled_from(["h", "c"]), st.sampled_from(list("abcdefgh"))), max_size=12)


def _apply(old: list, new: list, opcodes: list) -> list:
    rows = list(old)
    for tag, i1, i2, j1, j2 in reversed(opcodes):
        if tag in ("delete", "replace"):
            del rows[i1:i2]
        if tag in ("insert", "replace"):
            rows[i1:i1] = new[j1:j2]
    return rows


@given(ROWS, ROWS)
def test_the_diff_turns_the_old_rows_into_the_new(old: list, new: list) -> None:
    opcodes = _row_diff(old, new)
    assert _apply(old, new, opcodes) == new
    assert all(tag in ("insert", "delete", "replace") for tag, *_ in opcodes)


def test_a_first_load_is_one_insert() -> None:
    new = [("h", "Today"), ("c", "a"), ("c", "b")]
    assert _row_diff([], new) == [("insert", 0, 0, 0, 3)]
    assert _row_diff(new, []) == [("delete", 0, 3, 0, 0)]
    assert _row_diff(new, list(new)) == []
