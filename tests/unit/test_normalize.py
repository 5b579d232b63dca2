from hypothesis import given, strategies as st

from tasks.extract.normalize import label_score, lcs_len, norm


def _lcs_reference(a: str, b: str) -> int:
    row = [0] * (len(b) + 1)
    for ca in a:
        prev = 0
        for j, cb in enumerate(b):
            cur = row[j + 1]
            row[j + 1] = prev + 1 if ca == cb else max(row[j + 1], row[j])
            prev = cur
    return row[-1]


@given(st.text(alphabet="ab一二三.", max_size=40), st.text(alphabet="ab一二三.", max_size=40))
def test_bit_parallel_lcs_equals_dynamic_programming(a, b):
    assert lcs_len(a, b) == _lcs_reference(a, b)


def test_norm_folds_width_space_quotes_and_list_marks():
    assert norm("（三）不 予公开") == "(三)不予公开"
    assert norm("3.危及“三安全一稳定”") == norm('3.危及"三安全一稳定"') == "3.危及三安全一稳定"
    assert norm("1、申请人") == "1.申请人"
    assert norm("第二十条 第（一）项") == norm("第二十条第(一)项")


def test_lost_characters_still_score_high_but_below_an_exact_label():
    lost = label_score(norm("2.其他法律行政法规禁止公开"), norm("2.其他法律行政止公开"))
    assert 0.75 < lost < 1.0
    assert label_score(norm("3.其他"), norm("3.其他")) == 1.0
