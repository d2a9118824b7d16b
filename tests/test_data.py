"""PreferenceData: constructors, CSR invariants, validation errors, utilities, save/load."""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import socialrm as srm
from socialrm import examples
from socialrm.data import PreferenceData, WordTokenizer

RECORDS = [
    {"rater": "ann", "prompt": "capital", "ranking": ["Memphis", "Nashville", "Knoxville"]},
    {"rater": "ann", "prompt": "worst", "ranking": ["Knoxville", "Memphis"]},
    {"rater": "bob", "prompt": "worst", "ranking": ["Nashville", "Memphis"]},
    {"rater": "cid", "prompt": "capital", "ranking": ["Knoxville", "Memphis"]},
]
TEXTS = {"capital": "The capital should be", "worst": "The worst place would be"}


def _records_data(**kwargs) -> PreferenceData:
    return PreferenceData.from_records(RECORDS, prompts=TEXTS, tokenizer="words", **kwargs)


def check_invariants(d: PreferenceData) -> None:
    """Everything the C core relies on, checked from scratch."""
    assert d.rater_ptr.dtype == np.int64 and d.entry_ptr.dtype == np.int64
    assert (
        d.entry_prompt.dtype == np.int32
        and d.rankings.dtype == np.int32
        and d.completion_prompt.dtype == np.int32
    )
    assert (
        d.rater_ptr[0] == 0 and d.rater_ptr[-1] == len(d.entry_prompt) and (np.diff(d.rater_ptr) >= 1).all()
    )
    assert d.entry_ptr[0] == 0 and d.entry_ptr[-1] == len(d.rankings) and (np.diff(d.entry_ptr) >= 2).all()
    for arr in d.arrays().values():
        assert arr.flags.c_contiguous and not arr.flags.writeable
    for r in range(d.n_raters):
        prompts = [p for p, _ in d.rater(r)]
        assert len(set(prompts)) == len(prompts)
        for p, ranking in d.rater(r):
            assert len(set(ranking.tolist())) == len(ranking)
            assert (d.completion_prompt[ranking] == p).all()
    if d.mode == "tokens":
        for tok in (d.prompt_tokens, d.completion_tokens):
            assert tok.dtype == np.int32 and (tok[:, 0] > 0).all() and tok.max() < d.vocab_size
            nonpad = tok != 0
            assert (np.sort(~nonpad, axis=1) == ~nonpad).all()  # right-padded
    else:
        assert d.prompt_features.dtype == np.float32 and d.completion_features.dtype == np.float32


def assert_same(a: PreferenceData, b: PreferenceData) -> None:
    assert a.arrays().keys() == b.arrays().keys()
    for name, arr in a.arrays().items():
        np.testing.assert_array_equal(arr, b.arrays()[name], err_msg=name)
        assert arr.dtype == b.arrays()[name].dtype, name
    assert a.rater_ids.tolist() == b.rater_ids.tolist()
    for name in ("prompt_names", "completion_names", "label_names", "vocab", "vocab_size", "allow_single"):
        assert getattr(a, name) == getattr(b, name), name


# ------------------------------------------------------------------------------------------ records


def test_from_records_ids_tokens_and_csr() -> None:
    d = _records_data()
    check_invariants(d)
    assert (d.n_raters, d.n_prompts, d.n_completions, d.n_rankings, len(d)) == (3, 2, 6, 4, 3)
    assert d.rater_ids.tolist() == ["ann", "bob", "cid"]
    assert d.prompt_names == ("capital", "worst")
    # completions are named per prompt, ids by first appearance
    assert d.completion_names == ("Memphis", "Nashville", "Knoxville", "Knoxville", "Memphis", "Nashville")
    assert d.completion_prompt.tolist() == [0, 0, 0, 1, 1, 1]
    assert d.rater_ptr.tolist() == [0, 2, 3, 4]
    assert d.entry_prompt.tolist() == [0, 1, 1, 0]
    assert d.entry_ptr.tolist() == [0, 3, 5, 7, 9]
    assert d.rankings.tolist() == [0, 1, 2, 3, 4, 5, 4, 2, 0]
    assert d.vocab == [
        "<pad>",
        "The",
        "capital",
        "should",
        "be",
        "worst",
        "place",
        "would",
        "Memphis",
        "Nashville",
        "Knoxville",
    ]
    assert d.vocab_size == 11 and d.mode == "tokens"
    assert d.prompt_tokens.tolist() == [[1, 2, 3, 4, 0], [1, 5, 6, 7, 4]]
    assert d.completion_tokens[:, 0].tolist() == [8, 9, 10, 10, 8, 9]
    assert d.max_list_length == 3 and d.max_prompts_per_rater == 2 and d.n_single == 0
    assert d.entry_rater.tolist() == [0, 0, 1, 2] and d.entry_length.tolist() == [3, 2, 2, 2]
    assert [(p, r.tolist()) for p, r in d.rater(0)] == [(0, [0, 1, 2]), (1, [3, 4])]
    assert d.rater(-1)[0][1].tolist() == [2, 0]
    assert d.completions_of(1).tolist() == [3, 4, 5]
    assert repr(d) == (
        "PreferenceData(n_raters=3, n_prompts=2, n_completions=6, n_rankings=4, mode='tokens', "
        "max_list_length=3)"
    )
    with pytest.raises(IndexError, match="rater index 3 out of range"):
        d.rater(3)


def test_from_records_closed_lists_and_token_contents() -> None:
    comps = {
        "capital": {"Memphis": [5, 6], "Nashville": [7], "Morristown": [8, 9, 9]},
        "worst": ["Memphis", "x"],
    }
    recs = [
        {"rater": 1, "prompt": "capital", "ranking": ["Nashville", "Memphis"]},
        {"rater": 2, "prompt": "worst", "ranking": ["x", "Memphis"]},
    ]
    d = PreferenceData.from_records(
        recs,
        prompts={"capital": [1, 2], "worst": [3]},
        completions=comps,
        tokenizer=lambda s: [10 + len(s)],
        vocab_size=20,
    )
    check_invariants(d)
    assert d.n_completions == 5 and d.completion_names == (
        "Memphis",
        "Nashville",
        "Morristown",
        "Memphis",
        "x",
    )
    assert d.completion_tokens.tolist() == [[5, 6, 0], [7, 0, 0], [8, 9, 9], [17, 0, 0], [11, 0, 0]]
    assert d.prompt_tokens.tolist() == [[1, 2], [3, 0]]
    assert d.rankings.tolist() == [1, 0, 4, 3] and d.rater_ids.dtype == np.int64
    with pytest.raises(
        ValueError,
        match=r"records\[0\]: rater 1 ranks 'Knoxville' on prompt 'capital', which is not a completion",
    ):
        PreferenceData.from_records(
            [{"rater": 1, "prompt": "capital", "ranking": ["Knoxville", "Memphis"]}],
            completions=comps,
            tokenizer="words",
        )
    with pytest.raises(ValueError, match="ranks prompt 'other', which is not in prompts"):
        PreferenceData.from_records(
            [{"rater": 1, "prompt": "other", "ranking": ["a", "b"]}], prompts=["capital"], tokenizer="words"
        )
    with pytest.raises(ValueError, match="token id 25 >= vocab size 20"):
        PreferenceData.from_records(recs, completions=comps, tokenizer=lambda s: [25], vocab_size=20)
    with pytest.raises(ValueError, match=r"token ids must be >= 1 \(0 is the pad id\)"):
        PreferenceData.from_records(recs, completions=comps, tokenizer=lambda s: [3, 0])
    grown = PreferenceData.from_records(recs[:1], tokenizer="words", vocab=["<pad>", "capital"])
    assert grown.vocab == ["<pad>", "capital", "Nashville", "Memphis"]
    with pytest.raises(TypeError, match="needs a tokenizer"):
        PreferenceData.from_records(recs)
    with pytest.raises(ValueError, match="has no tokens"):
        PreferenceData.from_records(recs, tokenizer=lambda s: [])


def test_from_records_features() -> None:
    pf = {"capital": [1.0, 0.0], "worst": [0.0, 1.0]}
    d = PreferenceData.from_records(
        RECORDS, prompt_features=pf, completion_features=lambda p, c: [len(p), len(c), 1.0]
    )
    check_invariants(d)
    assert d.mode == "features" and d.vocab is None and d.vocab_size is None
    assert d.prompt_features.tolist() == [[1, 0], [0, 1]]
    assert d.completion_features[0].tolist() == [7, 7, 1] and d.completion_features.shape == (6, 3)
    arr = PreferenceData.from_records(RECORDS, prompt_features=np.eye(2), completion_features=np.ones((6, 4)))
    assert arr.completion_features.shape == (6, 4)
    with pytest.raises(
        ValueError, match=r"completion_features: contains NaN or infinity \(first at index \(2, 0\)\)"
    ):
        PreferenceData.from_records(
            RECORDS,
            prompt_features=pf,
            completion_features=np.where(np.arange(6)[:, None] == 2, np.nan, np.ones((6, 2))),
        )
    with pytest.raises(ValueError, match="prompt_features: contains NaN or infinity"):
        PreferenceData.from_records(
            RECORDS,
            prompt_features={"capital": [np.inf], "worst": [0.0]},
            completion_features=np.ones((6, 1)),
        )
    with pytest.raises(ValueError, match="no feature vector for 'worst'"):
        PreferenceData.from_records(
            RECORDS, prompt_features={"capital": [1.0]}, completion_features=np.ones((6, 1))
        )
    with pytest.raises(ValueError, match=r"expected an array of shape \(6, D\)"):
        PreferenceData.from_records(RECORDS, prompt_features=pf, completion_features=np.ones((5, 2)))
    with pytest.raises(ValueError, match="different lengths"):
        PreferenceData.from_records(
            RECORDS,
            prompt_features={"capital": [1.0], "worst": [1.0, 2.0]},
            completion_features=np.ones((6, 1)),
        )
    with pytest.raises(ValueError, match="both prompt_features and completion_features"):
        PreferenceData.from_records(RECORDS, prompt_features=pf)
    with pytest.raises(ValueError, match="either tokenizer or prompt_features"):
        PreferenceData.from_records(
            RECORDS, prompt_features=pf, completion_features=np.ones((6, 1)), tokenizer="words"
        )


def test_labels_and_weights_from_records() -> None:
    recs = [dict(r, label={"ann": "Me", "bob": "Na", "cid": "Me"}[r["rater"]], weight=0.5) for r in RECORDS]
    d = PreferenceData.from_records(recs, prompts=TEXTS, tokenizer="words")
    assert d.rater_labels.tolist() == [0, 1, 0] and d.label_names == ("Me", "Na")
    assert d.rater_weights.tolist() == [0.5] * 3 and d.rater_weights.dtype == np.float64
    d2 = PreferenceData.from_records(recs, prompts=TEXTS, tokenizer="words", label_names=["Na", "Me", "Ch"])
    assert d2.rater_labels.tolist() == [1, 0, 1]
    assert "n_labels=3, weighted" in repr(d2)
    with pytest.raises(ValueError, match="rater 'ann' has two different labels"):
        PreferenceData.from_records([dict(recs[0]), dict(recs[1], label="Na")], tokenizer="words")
    with pytest.raises(ValueError, match="'label' must be given for every rater or for none"):
        PreferenceData.from_records([recs[0], RECORDS[2]], tokenizer="words")
    with pytest.raises(ValueError, match="label 'Na' is not in label_names"):
        PreferenceData.from_records(recs, tokenizer="words", label_names=["Me"])
    with pytest.raises(ValueError, match="rater_weights: weights must be non-negative"):
        PreferenceData.from_records([dict(RECORDS[0], weight=-1.0)], tokenizer="words")


# ------------------------------------------------------------------------------------------ validation


def _raw(**overrides):
    """A valid raw dataset: 2 prompts x 3 completions, 2 raters; overrides replace arguments."""
    args = {
        "prompt_tokens": [[1, 2, 0], [1, 3, 4]],
        "completion_tokens": [[5], [6], [7], [5], [6], [7]],
        "completion_prompt": [0, 0, 0, 1, 1, 1],
        "rater_ptr": [0, 2, 3],
        "entry_prompt": [0, 1, 1],
        "entry_ptr": [0, 3, 5, 7],
        "rankings": [0, 1, 2, 3, 5, 4, 3],
        "vocab_size": 8,
    }
    args.update(overrides)
    return PreferenceData(**args)


VALIDATION_CASES = [
    (
        {"rankings": [0, 1, 0, 3, 5, 4, 3]},
        ValueError,
        "rankings: rater 0 on prompt 0 lists completion 0 twice",
    ),
    (
        {"rankings": [0, 1, 2, 3, 1, 4, 3]},
        ValueError,
        "rankings: rater 0 on prompt 1 lists completion 1, a completion of another prompt \\(prompt 0\\)",
    ),
    ({"rankings": [0, 1, 2, 3, 9, 4, 3]}, ValueError, "lists completion 9, outside \\[0, 6\\)"),
    (
        {"entry_ptr": [0, 3, 4, 7]},
        ValueError,
        "rater 0 on prompt 1: a ranking of a single completion, which carries no comparison",
    ),
    ({"entry_ptr": [0, 5, 5, 7]}, ValueError, "rater 0 on prompt 1: an empty ranking"),
    ({"entry_prompt": [1, 1, 1]}, ValueError, "rater 0 lists prompt 1 twice"),
    ({"entry_prompt": [0, 2, 1]}, ValueError, "rater 0 rates prompt 2, outside \\[0, 2\\)"),
    ({"rater_ptr": [0, 3, 3]}, ValueError, "rater 1 has no rankings"),
    ({"rater_ptr": [0]}, ValueError, "empty data: there are no raters"),
    ({"rater_ptr": [0, 2, 4]}, ValueError, "rater_ptr: must end at len\\(entry_prompt\\) = 3"),
    ({"rater_ptr": [1, 2, 3]}, ValueError, "rater_ptr: must start at 0"),
    ({"rater_ptr": [0, 3, 2, 3]}, ValueError, "rater_ptr: must be non-decreasing"),
    ({"entry_ptr": [0, 3, 5, 8]}, ValueError, "entry_ptr: must end at len\\(rankings\\) = 7"),
    (
        {"prompt_tokens": [[1, 2, 0], [1, 3, 8]]},
        ValueError,
        "prompt_tokens: prompt 1 has token id 8 >= vocab size 8",
    ),
    (
        {"completion_tokens": [[5], [6], [-7], [5], [6], [7]]},
        ValueError,
        "completion_tokens: completion 2 has a negative token id",
    ),
    ({"completion_tokens": [[5], [6], [0], [5], [6], [7]]}, ValueError, "completion 2 has no tokens"),
    ({"prompt_tokens": [[1, 0, 2], [1, 3, 4]]}, ValueError, "prompt 0 is not right-padded"),
    ({"prompt_tokens": [[1.5, 2, 0], [1, 3, 4]]}, TypeError, "prompt_tokens: expected integers"),
    ({"prompt_tokens": [1, 2]}, ValueError, "prompt_tokens: expected a 2-D array"),
    ({"prompt_tokens": np.zeros((0, 3), int)}, ValueError, "empty data: there are no prompts"),
    (
        {"completion_prompt": [0, 0, 0]},
        ValueError,
        "completion_prompt: 3 entries but there are 6 completions",
    ),
    ({"completion_prompt": [0, 0, 0, 1, 1, 2]}, ValueError, "completion 5 refers to prompt 2"),
    ({"vocab": ["<pad>", "a"]}, ValueError, "vocab_size: 8 differs from len\\(vocab\\) = 2"),
    ({"prompt_features": np.ones((2, 2))}, ValueError, "either token ids .* or features, not both"),
    ({"completion_tokens": None}, ValueError, "token mode needs both"),
    ({"rater_labels": [0, 1, 2]}, ValueError, "rater_labels: expected 2 labels"),
    ({"rater_labels": [0, 2], "label_names": ["a", "b"]}, ValueError, "label 2 has no name"),
    ({"label_names": ["a"]}, ValueError, "label_names: given without rater_labels"),
    ({"rater_weights": [1.0, np.nan]}, ValueError, "rater_weights: contains NaN"),
    ({"rater_ids": ["x", "x"]}, ValueError, "rater_ids: rater 'x' appears more than once"),
    ({"prompt_names": ["a"]}, ValueError, "prompt_names: expected 2 names"),
]


@pytest.mark.parametrize("overrides, exc, message", VALIDATION_CASES)
def test_validation_errors(overrides, exc, message) -> None:
    with pytest.raises(exc, match=message):
        _raw(**overrides)


def test_valid_raw_and_single_rankings() -> None:
    d = _raw()
    check_invariants(d)
    assert d.vocab_size == 8 and d.rater_ids.tolist() == [0, 1]
    assert _raw(vocab_size=None).vocab_size == 8  # inferred: largest id + 1
    single = _raw(entry_ptr=[0, 3, 4, 7], rankings=[0, 1, 2, 3, 4, 5, 3], allow_single=True)
    assert single.n_single == 1 and "n_single=1" in repr(single)
    assert len(single.pairs().rater) == 3 + 0 + 3
    with pytest.raises(ValueError, match="an empty ranking"):
        _raw(entry_ptr=[0, 5, 5, 7], allow_single=True)


def test_messages_name_raters_and_prompts() -> None:
    bad = [RECORDS[0], {"rater": "bob", "prompt": "worst", "ranking": ["Nashville", "Memphis", "Nashville"]}]
    with pytest.raises(
        ValueError,
        match=r"rater 'bob' \(index 1\) on prompt 'worst' \(id 1\) lists completion 'Nashville' \(id 3\) twice",
    ):
        PreferenceData.from_records(bad, tokenizer="words")
    twice = [RECORDS[0], dict(RECORDS[0], ranking=["Memphis", "Knoxville"])]
    with pytest.raises(ValueError, match=r"rater 'ann' \(index 0\) lists prompt 'capital' \(id 0\) twice"):
        PreferenceData.from_records(twice, tokenizer="words")
    with pytest.raises(
        ValueError, match=r"rater 'ann' \(index 0\) on prompt 'capital' \(id 0\): a ranking of a single"
    ):
        PreferenceData.from_records([dict(RECORDS[0], ranking=["Memphis"])], tokenizer="words")
    with pytest.raises(ValueError, match="empty ranking"):
        PreferenceData.from_records([dict(RECORDS[0], ranking=[])], tokenizer="words")
    with pytest.raises(ValueError, match="records: empty data"):
        PreferenceData.from_records([], tokenizer="words")
    with pytest.raises(ValueError, match=r"records\[0\]: missing keys \['ranking'\]"):
        PreferenceData.from_records([{"rater": 1, "prompt": 2}], tokenizer="words")
    with pytest.raises(TypeError, match="must be a list of completions"):
        PreferenceData.from_records([{"rater": 1, "prompt": "p", "ranking": "ab"}], tokenizer="words")
    with pytest.raises(TypeError, match="records: expected an iterable of dicts"):
        PreferenceData.from_records({"rater": 1}, tokenizer="words")
    d = PreferenceData.from_records(
        [dict(RECORDS[0], ranking=["Memphis"])], tokenizer="words", allow_single=True
    )
    assert d.n_single == 1


def test_inputs_are_copied_and_read_only() -> None:
    rankings = np.array([0, 1, 2, 3, 5, 4, 3])
    d = _raw(rankings=rankings)
    rankings[0] = 2
    assert d.rankings[0] == 0
    with pytest.raises(ValueError, match="read-only"):
        d.rankings[0] = 1


# ------------------------------------------------------------------------------------------ dataframe / pairwise


def test_from_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(RECORDS)
    d = PreferenceData.from_dataframe(df, prompts=TEXTS, tokenizer="words")
    assert_same(d, _records_data())
    df2 = df.rename(columns={"rater": "user", "ranking": "order"})
    df2["order"] = df2["order"].map(np.array)  # numpy arrays in cells
    df2["label"] = np.array([3, 3, 4, 5])
    d2 = PreferenceData.from_dataframe(df2, rater="user", ranking="order", prompts=TEXTS, tokenizer="words")
    assert d2.rater_labels.tolist() == [3, 4, 5] and d2.rater_ids.tolist() == ["ann", "bob", "cid"]
    with pytest.raises(ValueError, match=r"df: missing columns \['rater', 'ranking'\]"):
        PreferenceData.from_dataframe(df2, tokenizer="words")


def test_from_pairwise_chains_consistent_pairs() -> None:
    pairs = [
        {"rater": "ann", "prompt": "capital", "chosen": "Memphis", "rejected": "Knoxville"},
        {"rater": "ann", "prompt": "capital", "chosen": "Nashville", "rejected": "Knoxville"},
        {"rater": "ann", "prompt": "capital", "chosen": "Memphis", "rejected": "Nashville"},
        {"rater": "ann", "prompt": "capital", "chosen": "Memphis", "rejected": "Nashville"},  # repeat
        {"rater": "bob", "prompt": "worst", "chosen": "Nashville", "rejected": "Memphis"},
        {"rater": "ann", "prompt": "worst", "chosen": "Knoxville", "rejected": "Memphis"},
        {"rater": "cid", "prompt": "capital", "chosen": "Knoxville", "rejected": "Memphis"},
    ]
    d = PreferenceData.from_pairwise(pairs, prompts=TEXTS, tokenizer="words")
    assert [(r["rater"], r["prompt"], r["ranking"]) for r in d.to_records()] == [
        (r["rater"], r["prompt"], r["ranking"]) for r in RECORDS
    ]
    # the pairs of any full-ranking dataset chain back to it
    data = examples.four_types(n_raters=30, seed=3)
    p = data.pairs()
    rows = [
        {
            "rater": int(r),
            "prompt": int(q),
            "chosen": int(w),
            "rejected": int(lo),
            "label": int(data.rater_labels[r]),
        }
        for r, q, w, lo in zip(p.rater, p.prompt, p.winner, p.loser)
    ][::-1]
    rebuilt = PreferenceData.from_pairwise(
        rows,
        completions={0: [0, 1, 2, 3], 1: [4, 5, 6, 7]},
        prompts=[0, 1],
        prompt_features=np.eye(2),
        completion_features=np.eye(8),
    )
    order = np.argsort(rebuilt.rater_ids)
    rebuilt = rebuilt.subset(order)
    for r in range(data.n_raters):
        assert sorted((q, x.tolist()) for q, x in rebuilt.rater(r)) == sorted(
            (q, x.tolist()) for q, x in data.rater(r)
        )
    assert rebuilt.rater_labels.tolist() == data.rater_labels.tolist()


def test_from_pairwise_cycle_and_ambiguity() -> None:
    cyc = [
        {"rater": "dan", "prompt": "capital", "chosen": "a", "rejected": "b"},
        {"rater": "dan", "prompt": "capital", "chosen": "b", "rejected": "c"},
        {"rater": "dan", "prompt": "capital", "chosen": "c", "rejected": "a"},
        {"rater": "dan", "prompt": "capital", "chosen": "d", "rejected": "a"},
    ]
    msg = "the pairs of rater 'dan' on prompt 'capital' form a cycle: 'a' > 'b' > 'c' > 'a'"
    with pytest.raises(ValueError, match=re.escape(msg)):
        PreferenceData.from_pairwise(cyc, tokenizer="words")
    two = [
        {"rater": 7, "prompt": "p", "chosen": "x", "rejected": "y"},
        {"rater": 7, "prompt": "p", "chosen": "y", "rejected": "x"},
    ]
    with pytest.raises(ValueError, match=re.escape("rater 7 on prompt 'p' form a cycle: 'x' > 'y' > 'x'")):
        PreferenceData.from_pairwise(two, tokenizer="words")
    amb = [
        {"rater": "eve", "prompt": "capital", "chosen": "a", "rejected": "b"},
        {"rater": "eve", "prompt": "capital", "chosen": "a", "rejected": "c"},
        {"rater": "fay", "prompt": "capital", "chosen": "a", "rejected": "b"},
    ]
    with pytest.raises(
        ValueError,
        match="rater 'eve' on prompt 'capital' do not determine a single order: 'b' and 'c' are never compared",
    ):
        PreferenceData.from_pairwise(amb, tokenizer="words")
    with pytest.warns(UserWarning, match=r"dropped 1 of 2 \(rater, prompt\) groups"):
        d = PreferenceData.from_pairwise(amb, tokenizer="words", ambiguous="drop")
    assert d.rater_ids.tolist() == ["fay"] and d.to_records()[0]["ranking"] == ["a", "b"]
    with pytest.raises(ValueError, match="every group was ambiguous"), pytest.warns(UserWarning):
        PreferenceData.from_pairwise(amb[:2], tokenizer="words", ambiguous="drop")
    with pytest.raises(ValueError, match="chose 'a' over itself"):
        PreferenceData.from_pairwise(
            [{"rater": 1, "prompt": "p", "chosen": "a", "rejected": "a"}], tokenizer="words"
        )
    with pytest.raises(ValueError, match="ambiguous: expected 'error' or 'drop'"):
        PreferenceData.from_pairwise(amb, tokenizer="words", ambiguous="keep")
    with pytest.raises(ValueError, match="pairs: empty data"):
        PreferenceData.from_pairwise([], tokenizer="words")


def test_from_pairwise_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "user": ["u1", "u1", "u2"],
            "prompt": ["p", "p", "p"],
            "chosen": ["a", "b", "b"],
            "rejected": ["b", "c", "a"],
        }
    )
    d = PreferenceData.from_pairwise(df, rater="user", tokenizer="words")
    assert [r["ranking"] for r in d.to_records()] == [["a", "b", "c"], ["b", "a"]]


# ------------------------------------------------------------------------------------------ utilities


def test_pairs_match_a_brute_force_loop() -> None:
    d = examples.morristown_partial(n_raters=200, seed=1)
    p = d.pairs()
    expected = [
        (r, q, int(x[i]), int(x[j]))
        for r in range(d.n_raters)
        for q, x in d.rater(r)
        for i in range(len(x))
        for j in range(i + 1, len(x))
    ]
    assert list(zip(p.rater.tolist(), p.prompt.tolist(), p.winner.tolist(), p.loser.tolist())) == expected
    assert p.rater.dtype == np.int64 and p.winner.dtype == np.int32 and p.prompt.dtype == np.int32


def test_subset_and_split() -> None:
    d = examples.four_types(n_raters=50, seed=2)
    s = d.subset([7, 3, 49])
    check_invariants(s)
    assert (
        s.rater_ids.tolist() == [7, 3, 49] and s.rater_labels.tolist() == d.rater_labels[[7, 3, 49]].tolist()
    )
    for i, r in enumerate([7, 3, 49]):
        assert [(q, x.tolist()) for q, x in s.rater(i)] == [(q, x.tolist()) for q, x in d.rater(r)]
    assert s.prompt_tokens is d.prompt_tokens  # prompts and completions are shared, not copied
    mask = d.rater_labels == 0
    assert d.subset(mask).rater_ids.tolist() == np.flatnonzero(mask).tolist()
    assert d.subset([-1]).rater_ids.tolist() == [49]
    with pytest.raises(ValueError, match="selected twice"):
        d.subset([1, 1])
    with pytest.raises(IndexError, match="out of range"):
        d.subset([50])
    with pytest.raises(ValueError, match="no raters selected"):
        d.subset([])
    train, test = d.train_test_split(0.2, random_state=0)
    assert (len(train), len(test)) == (40, 10)
    assert sorted(train.rater_ids.tolist() + test.rater_ids.tolist()) == list(range(50))
    assert np.all(np.diff(train.rater_ids) > 0)
    _, test2 = d.train_test_split(0.2, random_state=0)
    assert test2.rater_ids.tolist() == test.rater_ids.tolist()
    assert d.train_test_split(0.2, random_state=1)[1].rater_ids.tolist() != test.rater_ids.tolist()
    assert len(d.train_test_split(7, random_state=0)[1]) == 7
    for bad in (0.0, 1.0, 0, 50):
        with pytest.raises(ValueError, match="test_size"):
            d.train_test_split(bad)
    with pytest.raises(TypeError, match="test_size"):
        d.train_test_split("half")


def test_restrict_drop_and_map() -> None:
    d = examples.prompts_partial(n_raters=100, seed=0)
    inv = d.restrict_prompts([1])
    check_invariants(inv)
    both = np.diff(d.rater_ptr) == 2
    assert inv.rater_ids.tolist() == np.flatnonzero(both).tolist()
    assert (inv.entry_prompt == 1).all() and inv.n_prompts == 2
    with pytest.raises(ValueError, match="would be left with no rankings"):
        d.restrict_prompts(1, drop_empty=False)
    assert d.restrict_prompts([0, 1]).n_rankings == d.n_rankings
    with pytest.raises(ValueError, match="empty data"):
        examples.four_types(10).restrict_prompts([])

    # a ballot omitting one city (Knoxville on `normal`, completion 3)
    pop = examples.population("four_types")
    d4 = examples.four_types(n_raters=20, seed=1)
    no_kn = d4.drop_completions([3])
    check_invariants(no_kn)
    assert no_kn.n_raters == 20
    for r in range(20):
        (p0, x0), (_, x1) = no_kn.rater(r)
        order = [c for c in pop.order_indices("normal")[d4.rater_labels[r]] if c != 3]
        assert (p0, x0.tolist(), len(x1)) == (0, order, 4)
    with pytest.raises(IndexError, match="raters: rater index out of range"):
        d4.drop_completions([3], raters=[20])
    assert "rater 4 (index 1)" in d4.subset([3, 4]).drop_completions([0, 1, 2, 3])._rater_desc(1)
    only_first = d4.drop_completions([3], raters=[0])
    assert len(only_first.rater(0)[0][1]) == 3 and len(only_first.rater(1)[0][1]) == 4

    # a single comparison Memphis > Knoxville on `normal`
    single = d4.map_rankings(lambda r, p, x: [0, 3] if p == 0 else None)
    check_invariants(single)
    assert single.n_rankings == 20 and single.rankings.tolist() == [0, 3] * 20
    dropped = d4.drop_completions([0, 1, 2], raters=[5])  # rater 5's normal ranking keeps 1 completion
    assert [q for q, _ in dropped.rater(5)] == [1]
    with pytest.raises(ValueError, match="a completion of another prompt"):
        d4.map_rankings(lambda r, p, x: [0, 4])
    with pytest.raises(ValueError, match="lists completion 'Memphis' \\(id 0\\) twice"):
        d4.map_rankings(lambda r, p, x: [0, 0] if p == 0 else x)
    with pytest.raises(ValueError, match="outside"):
        d4.map_rankings(lambda r, p, x: [99, 0])
    gone = d4.map_rankings(lambda r, p, x: None if r == 2 else x)
    assert gone.n_raters == 19 and 2 not in gone.rater_ids.tolist()
    with pytest.raises(ValueError, match=r"rater 2 would be left with no rankings"):
        d4.map_rankings(lambda r, p, x: None if r == 2 else x, drop_empty=False)


def test_records_round_trip_and_concat() -> None:
    d = examples.morristown_partial(n_raters=40, seed=5)
    pop = examples.population("morristown_partial")
    back = PreferenceData.from_records(
        d.to_records(),
        prompts=dict(pop.prompt_texts),
        completions={"normal": list(pop.candidates)},
        tokenizer=WordTokenizer(pop.vocab, frozen=True),
        vocab=pop.vocab,
        label_names=pop.types,
    )
    assert_same(back, d)
    a, b = d.subset(np.arange(0, 25)), d.subset(np.arange(25, 40))
    assert_same(a.concat(b), d)
    re_ = a.concat(a, renumber=True)
    assert (
        re_.rater_ids.tolist() == list(range(50)) and re_.rater_labels.tolist() == a.rater_labels.tolist() * 2
    )
    with pytest.raises(ValueError, match="rater id 0 is in both datasets"):
        a.concat(a)
    with pytest.raises(ValueError, match="prompt_tokens differs"):
        a.concat(examples.four_types(5))
    with pytest.raises(TypeError, match="expected a PreferenceData"):
        a.concat([1])


def test_save_load(tmp_path) -> None:
    d = _records_data()
    d.save(tmp_path / "d.safetensors")
    assert_same(PreferenceData.load(tmp_path / "d.safetensors"), d)
    f = examples.prompts_missing(n_raters=30, seed=0, mode="features").subset([3, 1, 2])
    f.save(tmp_path / "f.safetensors")
    back = PreferenceData.load(tmp_path / "f.safetensors")
    assert_same(back, f)
    assert back.rater_labels.tolist() == f.rater_labels.tolist() and back.label_names == f.label_names
    tuples = PreferenceData.from_records([dict(RECORDS[0], rater=("a", 1))], tokenizer="words")
    with pytest.raises(TypeError, match=r"rater_ids must be strings or numbers to be saved .*\('a', 1\)"):
        tuples.save(tmp_path / "t.safetensors")
    srm.save_safetensors(tmp_path / "other.safetensors", {"x": np.zeros(2)})
    with pytest.raises(ValueError, match="not a socialrm preference dataset"):
        PreferenceData.load(tmp_path / "other.safetensors")


def test_word_tokenizer() -> None:
    tok = WordTokenizer()
    assert tok("a b a") == [1, 2, 1] and tok.vocab == ["<pad>", "a", "b"]
    frozen = WordTokenizer(tok.vocab, frozen=True)
    with pytest.raises(ValueError, match="unknown word 'c'"):
        frozen("a c")
    with pytest.raises(ValueError, match="must be '<pad>'"):
        WordTokenizer(["a"])


def test_large_dataset_builds_and_validates() -> None:
    d = examples.prompts_partial(n_raters=100_000, seed=0)
    check = d.subset(np.arange(0, 100_000, 3))
    assert check.n_raters == 33_334 and d.pairs().rater.shape == (6 * d.n_rankings,)


def test_public_names() -> None:
    assert srm.PreferenceData is PreferenceData and srm.WordTokenizer is WordTokenizer
    assert srm.examples.four_types is examples.four_types
    assert srm.save_safetensors is srm.io.save_safetensors and srm.load_safetensors is srm.io.load_safetensors


# ------------------------------------------------------------------------------------------ properties


@st.composite
def record_sets(draw):
    """Random incomplete data: 1-3 prompts with 2-5 completions, 1-6 raters, random subsets/orders."""
    n_prompts = draw(st.integers(1, 3))
    sizes = [draw(st.integers(2, 5)) for _ in range(n_prompts)]
    records = []
    for r in range(draw(st.integers(1, 6))):
        rated = draw(st.lists(st.integers(0, n_prompts - 1), min_size=1, max_size=n_prompts, unique=True))
        for p in rated:
            ranking = draw(st.permutations(range(sizes[p])))[: draw(st.integers(2, sizes[p]))]
            records.append({"rater": f"r{r}", "prompt": f"p{p}", "ranking": [f"c{c}" for c in ranking]})
    return records


@settings(max_examples=60, deadline=None)
@given(records=record_sets(), seed=st.integers(0, 2**16))
def test_properties_of_random_datasets(records, seed) -> None:
    d = PreferenceData.from_records(records, tokenizer="words")
    check_invariants(d)
    lengths = d.entry_length
    assert len(d.pairs().rater) == int((lengths * (lengths - 1) // 2).sum())
    assert d.rankings.size == sum(len(r["ranking"]) for r in records)
    back = PreferenceData.from_records(d.to_records(), tokenizer="words")
    assert_same(back, d)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(d.n_raters)
    shuffled = d.subset(perm)
    check_invariants(shuffled)
    assert_same(shuffled.subset(np.argsort(perm)), d)
    keep = rng.choice(d.n_prompts, size=rng.integers(1, d.n_prompts + 1), replace=False)
    if np.isin(d.entry_prompt, keep).any():
        restricted = d.restrict_prompts(keep)
        check_invariants(restricted)
        assert np.isin(restricted.entry_prompt, keep).all()
        assert restricted.n_rankings == int(np.isin(d.entry_prompt, keep).sum())
    if d.n_raters > 1:
        train, test = d.train_test_split(0.5, random_state=seed)
        assert_same(train.concat(test).subset(np.argsort(np.r_[train.rater_ids, test.rater_ids])), d)
    with tempfile.TemporaryDirectory() as tmp:
        d.save(os.path.join(tmp, "d.safetensors"))
        assert_same(PreferenceData.load(os.path.join(tmp, "d.safetensors")), d)


def test_from_ballots() -> None:
    ballots = np.array([[0, 2, 1], [1, 0, -1], [2, 1, 0]])
    d = PreferenceData.from_ballots(
        ballots, counts=[2, 1, 3], candidate_names=["a", "b", "c"], tokenizer="words"
    )
    check_invariants(d)
    assert d.n_raters == 6 and d.rater_ids.tolist() == list(range(6))
    assert d.prompt_names == ("election",) and d.completion_names == ("a", "b", "c")
    assert d.rankings.tolist() == [0, 2, 1] * 2 + [1, 0] + [2, 1, 0] * 3
    lists = PreferenceData.from_ballots(
        [[1, 0], [0, 1, 2]], prompt_features=np.ones((1, 2)), completion_features=np.eye(3)
    )
    assert lists.completion_names == (0, 1, 2) and lists.rankings.tolist() == [1, 0, 0, 1, 2]
    with pytest.raises(ValueError, match="counts: expected 3 positive counts"):
        PreferenceData.from_ballots(ballots, counts=[1, 0, 1], tokenizer=lambda s: [1])
    with pytest.raises(ValueError, match="candidate 2 has no name"):
        PreferenceData.from_ballots(ballots, candidate_names=["a", "b"], tokenizer="words")
    with pytest.raises(ValueError, match="a ranking of a single completion"):
        PreferenceData.from_ballots(
            [[0, -1], [1, 0]], prompt_features=np.ones((1, 2)), completion_features=np.eye(2)
        )
    with pytest.raises(ValueError, match="must be >= 0"):
        PreferenceData.from_ballots(np.array([[0, -2]]), tokenizer="words")
