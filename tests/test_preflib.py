"""PrefLib reader: real elections from ../shared/data/preflib, both readings of unranked candidates,
and strict validation of malformed files (errors name the line)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import socialrm as srm

# ../shared/data beside the checkout (as tests/conftest.py), or SOCIALRM_SHARED_DATA
DATA = Path(os.environ.get("SOCIALRM_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
DATA = DATA / "preflib"
FILES = sorted(DATA.glob("*/*.[st]o[ci]")) if DATA.is_dir() else []
needs_data = pytest.mark.skipif(not FILES, reason="../shared/data/preflib is absent (only in the project workspace)")

HEADER = (
    "# FILE NAME: test.{ext}\n# TITLE: Test\n# DATA TYPE: {ext}\n# NUMBER ALTERNATIVES: 4\n"
    "# NUMBER VOTERS: {voters}\n# NUMBER UNIQUE ORDERS: {unique}\n"
    "# ALTERNATIVE NAME 1: a\n# ALTERNATIVE NAME 2: b\n# ALTERNATIVE NAME 3: c\n# ALTERNATIVE NAME 4: d\n"
)


def text(body: str, ext: str = "toi", voters: int = 7, unique: int = 3) -> str:
    return HEADER.format(ext=ext, voters=voters, unique=unique) + body


def test_parse_choice_example_6_5(tmp_path):
    # CHOICE.md §6.5 in PrefLib form
    path = tmp_path / "example.toi"
    path.write_text(text("3: 1,2\n2: 2,3,4,1\n2: {3,4},1\n"))
    P = srm.read_preflib(path)
    assert P.candidates == ["a", "b", "c", "d"]
    assert P.n_voters == 7 and P.n_ballots == 3
    assert P.metadata["title"] == "Test" and P.metadata["data_type"] == "toi"
    np.testing.assert_array_equal(P.levels, [[0, 1, -1, -1], [3, 0, 1, 2], [1, -1, 0, 0]])
    np.testing.assert_array_equal(P.margins("strict"), [[0, 1, -4, -4], [-1, 0, 2, 2], [4, -2, 0, 2], [4, -2, -2, 0]])
    np.testing.assert_array_equal(P.margins("extended"), [[0, 3, -1, -1], [-3, 0, 3, 3], [1, -3, 0, 2], [1, -3, -2, 0]])
    assert str(srm.aggregate(P, "borda")) == "b ≻ a ≻ c ≻ d"


def test_tennessee_soc():
    body = "42: 1,2,3,4\n26: 2,3,4,1\n15: 3,4,2,1\n17: 4,3,2,1\n"
    P = srm.parse_preflib(text(body, ext="soc", voters=100, unique=4))
    assert P.is_linear
    assert str(srm.aggregate(P, "kemeny")) == "b ≻ c ≻ d ≻ a"
    assert str(srm.aggregate(P, "instant_runoff")) == "d ≻ a ≻ b ≻ c"


def test_whitespace_crlf_and_blank_lines():
    body = "3 :  1 , 2\r\n\r\n2: 2,3, 4,1\r\n2: { 3 , 4 } , 1\r\n\n"
    P = srm.parse_preflib(text(body).replace("\n#", "\r\n#"))
    np.testing.assert_array_equal(P.levels, [[0, 1, -1, -1], [3, 0, 1, 2], [1, -1, 0, 0]])


@pytest.mark.parametrize(
    "body, ext, voters, unique, match",
    [
        ("3: 1,2\n2: 2,3,4,\n2: 3,1\n", "soi", 7, 3, r"line 12: truncated order"),
        ("3: 1,2\n2: 2,{3,4\n2: 3,1\n", "toi", 7, 3, r"line 12: truncated order"),
        ("3: 1,2\n2: 2,3\n", "soi", 7, 3, r"NUMBER UNIQUE ORDERS is 3"),
        ("3: 1,2\n2: 2,3\n1: 3\n", "soi", 7, 3, r"add up to 6, but NUMBER VOTERS is 7"),
        ("3: 1,2\n2: 2,5\n2: 3\n", "soi", 7, 3, r"line 12: unknown alternative id 5"),
        ("3: 1,2\n2: 2,0\n2: 3\n", "soi", 7, 3, r"line 12: unknown alternative id 0"),
        ("3: 1,2\n2: 2,3,2\n2: 3\n", "soi", 7, 3, r"line 12: alternative 2 appears twice"),
        ("3: 1,2\n2: {2,3}\n2: 3\n", "soi", 7, 3, r"line 12: a tie in a strict-order file"),
        ("3: 1,2,3,4\n2: 2,3,4,1\n2: 3,1\n", "soc", 7, 3, r"line 13: ranks 2 of 4"),
        ("3.5: 1,2\n2: 2,3\n1.5: 3\n", "soi", 7, 3, r"line 11: count '3.5'"),
        ("3 1,2\n2: 2,3\n2: 3\n", "soi", 7, 3, r"line 11: malformed order line"),
        ("3: 1,2\n# LATE: x\n2: 2,3\n2: 3\n", "soi", 7, 3, r"line 12: header line after the data"),
        ("3: 1;2\n2: 2,3\n2: 3\n", "soi", 7, 3, r"line 11: unexpected character ';'"),
        ("-3: 1,2\n2: 2,3\n2: 3\n", "soi", 7, 3, r"line 11: count '-3'"),
    ],
)
def test_malformed_data(body, ext, voters, unique, match):
    with pytest.raises(ValueError, match=match):
        srm.parse_preflib(text(body, ext=ext, voters=voters, unique=unique))


@pytest.mark.parametrize(
    "header, match",
    [
        ("# NUMBER ALTERNATIVES: four\n", r"line 1: NUMBER ALTERNATIVES must be a non-negative integer"),
        ("# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n1: 1\n", r"missing NUMBER ALTERNATIVES"),
        ("# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n# ALTERNATIVE NAME 1: a\n1: 1\n",
         r"missing ALTERNATIVE NAME 2"),
        ("# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 3: c\n", r"line 2: bad alternative id"),
        ("# NUMBER ALTERNATIVES: 2\n# ALTERNATIVE NAME 1: a\n# ALTERNATIVE NAME 1: b\n",
         r"line 3: duplicated ALTERNATIVE NAME 1"),
        (("# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 1\n# NUMBER UNIQUE ORDERS: 1\n# ALTERNATIVE NAME 1: a\n"
         "# ALTERNATIVE NAME 2: a\n1: 1\n"), r"same name"),
        ("# NUMBER ALTERNATIVES 2\n", r"line 1: malformed header line"),
        ("# DATA TYPE: xoc\n", r"line 1: DATA TYPE must be"),
        ("", r"missing NUMBER ALTERNATIVES"),
    ],
)
def test_malformed_header(header, match):
    with pytest.raises(ValueError, match=match):
        srm.parse_preflib(header)


def test_type_from_extension_must_agree(tmp_path):
    path = tmp_path / "x.soc"
    path.write_text(text("3: 1,2\n2: 2,3,4,1\n2: {3,4},1\n"))  # header says toi
    with pytest.raises(ValueError, match=r"x\.soc: line 3: DATA TYPE 'toi' does not match the file type 'soc'"):
        srm.read_preflib(path)
    assert srm.read_preflib(path, data_type="toi").n_voters == 7
    with pytest.raises(ValueError, match="data_type"):
        srm.parse_preflib("", data_type="csv")


def test_real_counts_only_behind_flag():
    body = "1.5: 1,2\n0.5: 2,1\n"
    src = ("# NUMBER ALTERNATIVES: 2\n# NUMBER VOTERS: 2\n# NUMBER UNIQUE ORDERS: 2\n# ALTERNATIVE NAME 1: a\n"
           "# ALTERNATIVE NAME 2: b\n" + body)
    with pytest.raises(ValueError, match="integer"):
        srm.parse_preflib(src)
    P = srm.parse_preflib(src, allow_real_counts=True)
    np.testing.assert_array_equal(P.weights, [1.5, 0.5])
    assert P.n_voters == 2.0


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        srm.read_preflib(tmp_path / "none.soi")


@needs_data
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_elections(path):
    P = srm.read_preflib(path)
    header = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        header[key.strip()] = value.strip()
    m = int(header["NUMBER ALTERNATIVES"])
    assert P.n_candidates == m
    assert P.n_voters == int(header["NUMBER VOTERS"])
    assert P.n_ballots == int(header["NUMBER UNIQUE ORDERS"])
    assert P.candidates == [header[f"ALTERNATIVE NAME {i}"] for i in range(1, m + 1)]
    # the first data line, re-parsed by hand
    first = next(line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#"))
    count, _, order = first.partition(":")
    assert P.weights[0] == int(count)
    level = 0
    for item in order.replace(" ", "").replace("{", "|{").replace("}", "}|").split("|"):
        if not item:
            continue
        ids = [int(x) for x in item.strip("{},").split(",") if x]
        if item.startswith("{"):
            assert all(P.levels[0, i - 1] == level for i in ids)
            level += 1
        else:
            for i in ids:
                assert P.levels[0, i - 1] == level
                level += 1
    # both readings of unranked candidates: extended counts ranked-over-unranked pairs too
    S_strict, S_ext = P.support("strict"), P.support("extended")
    assert np.all(S_ext >= S_strict)
    ranked = P.levels >= 0
    extra = np.einsum("b,ba,bc->ac", P.weights, ranked.astype(float), (~ranked).astype(float))
    np.testing.assert_array_equal(S_ext - S_strict, extra)
    assert srm.aggregate(P, "schulze").n_candidates == m
