"""Agreement measures (reports.agreement.measures): textbook examples, the krippendorff
package and scikit-learn as references, and hypothesis properties. No database."""

import math
import warnings

import krippendorff
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from reports.agreement import (
    Ratings,
    alpha_interval,
    cohen_kappa,
    disagreements,
    fleiss_kappa,
    krippendorff_alpha,
    measures,
    pairwise_cohen,
    percent_agreement,
    summarise,
)
from reports.agreement.measures import _alpha_parts, _units

NAN = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C: four observers,
# twelve units, values 1–5, missing values; nominal alpha = 0.743.
KRIPPENDORFF_C = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]


def ratings_of_matrix(matrix) -> Ratings:
    """Reliability data (observers × units, NaN = missing) as Ratings."""
    return Ratings.from_triples(
        (unit, observer, int(value))
        for observer, row in enumerate(matrix)
        for unit, value in enumerate(row)
        if not (isinstance(value, float) and math.isnan(value))
    )


def test_krippendorff_worked_example_nominal_with_missing_values():
    r = ratings_of_matrix(KRIPPENDORFF_C)
    alpha = krippendorff_alpha(r)
    # by hand: unit 12 has one value and is left out; n = 40 pairable values, n_c = (9, 13, 10, 5, 3)
    u = _units(r)
    assert u.n_c.tolist() == [9, 13, 10, 5, 3]
    d, n, expected = _alpha_parts(u)
    assert n == 40
    assert expected == 40**2 - (9**2 + 13**2 + 10**2 + 5**2 + 3**2) == 1216
    # off-diagonal coincidences (m_u² − s_u)/(m_u − 1): units 2 (2,2,3,2) and 8 (1,1,2,1) give
    # (16 − 10)/3 = 2 each, unit 6 (1,2,3,4) gives (16 − 4)/3 = 4; all other units agree
    assert d.sum() == pytest.approx(8)
    assert alpha == pytest.approx(1 - 39 * 8 / 1216)
    assert round(alpha, 3) == 0.743
    assert alpha == pytest.approx(krippendorff.alpha(KRIPPENDORFF_C, level_of_measurement="nominal"), abs=1e-12)


def test_cohen_kappa_textbook_example():
    # 50 grant proposals, two readers: yes/yes 20, yes/no 5, no/yes 10, no/no 15:
    # p_o = 0.7, p_e = 0.5·0.6 + 0.5·0.4 = 0.5, kappa = 0.4
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971) as in the usual worked example: 10 subjects, 14 raters, 5 categories; kappa = 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    triples = []
    for subject, counts in enumerate(table):
        values = [category for category, count in enumerate(counts) for _ in range(count)]
        triples += [(subject, rater, value) for rater, value in enumerate(values)]
    r = Ratings.from_triples(triples)
    assert round(fleiss_kappa(r), 3) == 0.210
    assert percent_agreement(r) == pytest.approx(0.378, abs=5e-4)


def test_fleiss_is_none_when_items_have_different_numbers_of_ratings():
    r = Ratings.from_triples([(1, "a", "x"), (1, "b", "x"), (2, "a", "x"), (2, "b", "y"), (2, "c", "y")])
    assert fleiss_kappa(r) is None
    assert krippendorff_alpha(r) is not None


def test_unpairable_items_count_but_do_not_weigh():
    r = Ratings.from_triples([(1, "a", "x"), (1, "b", "x"), (2, "a", "y"), (2, "b", "z"), (3, "a", "q")])
    s = summarise(r)
    assert (s.items, s.ratings, s.pairable_items) == (3, 5, 2)
    assert s.percent == 0.5
    assert s.fleiss_kappa is not None  # the single-rated item does not make the counts unequal
    assert s.krippendorff_alpha == pytest.approx(
        krippendorff.alpha([[0, 1, 3], [0, 2, NAN]], level_of_measurement="nominal")
    )


def test_undefined_figures_are_none():
    single_value = Ratings.from_triples([(1, "a", "x"), (1, "b", "x"), (2, "a", "x"), (2, "b", "x")])
    s = summarise(single_value)
    assert s.percent == 1.0
    assert s.krippendorff_alpha is None and s.alpha_ci95 is None
    assert s.fleiss_kappa is None and s.cohen_kappa_mean is None
    assert s.pairs[0].cohen_kappa is None and s.pairs[0].items == 2
    nothing_pairable = Ratings.from_triples([(1, "a", "x"), (2, "b", "y")])
    s = summarise(nothing_pairable)
    assert (s.percent, s.krippendorff_alpha, s.alpha_ci95, s.pairs, s.disagreements) == (None, None, None, [], [])
    empty = summarise(Ratings.from_triples([]))
    assert (empty.items, empty.ratings, empty.krippendorff_alpha) == (0, 0, None)


def test_pairs_count_shared_items_and_mean_is_over_defined_pairs():
    triples = [
        (1, "ana", "x"), (1, "ben", "x"),
        (2, "ana", "y"), (2, "ben", "x"), (2, "cy", "y"),
        (3, "ben", "x"), (3, "cy", "x"),
        (4, "ana", "x"), (4, "ben", "y"),
    ]  # fmt: skip
    pairs = {(p.a, p.b): p for p in pairwise_cohen(Ratings.from_triples(triples))}
    assert {k: (p.items, p.agreed) for k, p in pairs.items()} == {
        ("ana", "ben"): (3, 1),
        ("ana", "cy"): (1, 1),
        ("ben", "cy"): (2, 1),
    }
    assert pairs[("ana", "ben")].cohen_kappa == pytest.approx(cohen_kappa_score(["x", "y", "x"], ["x", "x", "y"]))
    assert pairs[("ana", "cy")].cohen_kappa is None  # one item, one category: p_e = 1
    s = summarise(Ratings.from_triples(triples))
    defined = [p.cohen_kappa for p in pairs.values() if p.cohen_kappa is not None]
    assert s.cohen_kappa_mean == pytest.approx(sum(defined) / len(defined))


def test_disagreements_are_unordered_pairs_most_frequent_first():
    triples = [
        (1, "a", "cat"), (1, "b", "dog"),
        (2, "a", "dog"), (2, "b", "cat"), (2, "c", "cat"),
        (3, "a", "cow"), (3, "b", "cat"),
        (4, "a", "cow"), (4, "b", "cow"),
    ]  # fmt: skip
    found = [(d.value_a, d.value_b, d.count) for d in disagreements(Ratings.from_triples(triples))]
    assert found == [("cat", "dog", 3), ("cat", "cow", 1)]
    assert [(d.value_a, d.count) for d in disagreements(Ratings.from_triples(triples), top=1)] == [("cat", 3)]


# --------------------------------------------------------------------------- bootstrap


def test_alpha_interval_is_reproducible_and_brackets_alpha():
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 5, 300)
    triples = []
    for item, value in enumerate(truth):
        for rater in rng.choice(4, size=int(rng.integers(2, 5)), replace=False):
            noisy = value if rng.random() < 0.7 else int(rng.integers(0, 5))
            triples.append((item, int(rater), int(noisy)))
    r = Ratings.from_triples(triples)
    first, second = alpha_interval(r), alpha_interval(r)
    assert first == second
    lo, hi = first
    assert lo < krippendorff_alpha(r) < hi
    assert alpha_interval(r, seed=1) != first
    narrower = alpha_interval(r, confidence=0.5)
    assert lo < narrower[0] < narrower[1] < hi


def test_alpha_interval_matches_a_plain_item_bootstrap():
    """The multinomial draw over item types is the item bootstrap (D_e fixed): its interval
    agrees with resampling items one by one, up to the resampling noise."""
    rng = np.random.default_rng(3)
    triples = []
    for item in range(400):
        value = int(rng.integers(0, 4))
        for rater in range(int(rng.integers(2, 5))):
            triples.append((item, rater, value if rng.random() < 0.75 else int(rng.integers(0, 4))))
    r = Ratings.from_triples(triples)
    u = _units(r)
    d, n, expected = _alpha_parts(u)
    picks = np.random.default_rng(11).integers(0, len(u.m), size=(4000, len(u.m)))
    plain = 1 - (d[picks].sum(axis=1) / u.m[picks].sum(axis=1)) * n * (n - 1) / expected
    lo, hi = alpha_interval(r, resamples=4000)
    assert lo == pytest.approx(np.quantile(plain, 0.025), abs=0.01)
    assert hi == pytest.approx(np.quantile(plain, 0.975), abs=0.01)


def test_alpha_interval_of_perfect_agreement_is_one():
    r = Ratings.from_triples([(i, rater, i % 3) for i in range(30) for rater in range(3)])
    assert krippendorff_alpha(r) == 1.0
    assert alpha_interval(r) == (1.0, 1.0)


# --------------------------------------------------------------------------- properties

VALUES = st.sampled_from(["a", "b", "c", "d"])
# an item: up to four raters (0..3), each present or missing
ITEMS = st.lists(st.lists(st.one_of(st.none(), VALUES), min_size=4, max_size=4), min_size=1, max_size=25)


def to_ratings(items) -> Ratings:
    return Ratings.from_triples(
        (i, rater, value) for i, row in enumerate(items) for rater, value in enumerate(row) if value is not None
    )


def to_matrix(items):
    codes = {v: k for k, v in enumerate("abcd")}
    return [[NAN if row[rater] is None else codes[row[rater]] for row in items] for rater in range(4)]


@given(ITEMS)
@settings(max_examples=300, deadline=None)
def test_alpha_equals_the_krippendorff_package(items):
    ours = krippendorff_alpha(to_ratings(items))
    try:
        with np.errstate(invalid="ignore"):  # the package returns NaN for 0/0
            theirs = krippendorff.alpha(to_matrix(items), level_of_measurement="nominal")
    except ValueError:  # no pairable unit or a single value: undefined
        assert ours is None
        return
    if not math.isfinite(theirs):  # 0/0: one value among the pairable units
        assert ours is None
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@given(st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_cohen_kappa_equals_scikit_learn(pairs):
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ours = cohen_kappa(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns when kappa is 0/0
        theirs = cohen_kappa_score(a, b)
    if ours is None:
        assert not math.isfinite(theirs) or len(set(a) | set(b)) == 1
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


@given(st.lists(st.lists(VALUES, min_size=1, max_size=1), min_size=2, max_size=25), st.integers(2, 4))
@settings(max_examples=200, deadline=None)
def test_alpha_is_one_for_identical_ratings(values, raters):
    r = Ratings.from_triples((i, rater, v[0]) for i, v in enumerate(values) for rater in range(raters))
    if len({v[0] for v in values}) == 1:
        assert krippendorff_alpha(r) is None
    else:
        assert krippendorff_alpha(r) == 1.0
        assert fleiss_kappa(r) == pytest.approx(1.0)
        assert all(p.cohen_kappa == pytest.approx(1.0) for p in pairwise_cohen(r))
        assert percent_agreement(r) == 1.0


@given(ITEMS, st.permutations(["a", "b", "c", "d"]))
@settings(max_examples=200, deadline=None)
def test_measures_are_invariant_under_relabelling(items, permutation):
    rename = dict(zip("abcd", permutation, strict=True))
    renamed = [[None if v is None else rename[v] for v in row] for row in items]
    before, after = summarise(to_ratings(items)), summarise(to_ratings(renamed))
    for field in ("percent", "cohen_kappa_mean", "fleiss_kappa", "krippendorff_alpha"):
        x, y = getattr(before, field), getattr(after, field)
        assert (x is None) == (y is None)
        if x is not None:
            assert x == pytest.approx(y, abs=1e-12)
    assert before.alpha_ci95 == after.alpha_ci95
    renamed_before = sorted((*sorted((rename[d.value_a], rename[d.value_b])), d.count) for d in before.disagreements)
    assert renamed_before == sorted((d.value_a, d.value_b, d.count) for d in after.disagreements)


def scott_pi(a, b):
    pooled = {v: (a.count(v) + b.count(v)) / (2 * len(a)) for v in set(a) | set(b)}
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
    p_e = sum(p * p for p in pooled.values())
    return (p_o - p_e) / (1 - p_e)


@given(st.lists(st.tuples(VALUES, VALUES), min_size=2, max_size=40))
@settings(max_examples=300, deadline=None)
def test_two_raters_without_missing_data(pairs):
    """Two raters, no missing data: alpha = pi + (1 − pi)/n (Scott's pi, n = 2N values), and
    kappa ≥ pi; so alpha and kappa are both 1 together and both exceed pi, and they have the
    same sign whenever pi ≥ 0 or alpha < 0."""
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    assume(len(set(a) | set(b)) > 1)
    r = Ratings.from_triples([(i, 0, v) for i, v in enumerate(a)] + [(i, 1, v) for i, v in enumerate(b)])
    alpha, kappa = krippendorff_alpha(r), cohen_kappa(a, b)
    pi = scott_pi(a, b)
    n = 2 * len(a)
    assert alpha == pytest.approx(pi + (1 - pi) / n, abs=1e-9)
    assert (alpha == 1.0) == (a == b)
    if kappa is not None:
        assert kappa >= pi - 1e-12
        assert (kappa == pytest.approx(1.0)) == (a == b)
        if pi >= 0:
            assert alpha >= 0 and kappa >= 0


def test_kappa_and_alpha_signs_can_differ_on_small_samples():
    """The issue's property "kappa for a pair has alpha's sign" does not hold exactly: with
    unequal marginals kappa can be positive while alpha is negative."""
    a, b = list("xxxxy"), list("xyyyy")
    r = Ratings.from_triples([(i, 0, v) for i, v in enumerate(a)] + [(i, 1, v) for i, v in enumerate(b)])
    assert cohen_kappa(a, b) == pytest.approx(0.08 / 0.68)
    assert krippendorff_alpha(r) == pytest.approx(-0.08)


@given(ITEMS)
@settings(max_examples=100, deadline=None)
def test_sparse_chance_agreement_equals_the_dense_one(items):
    r = to_ratings(items)
    dense = pairwise_cohen(r)
    original = measures.DENSE_LIMIT
    measures.DENSE_LIMIT = 0
    try:
        sparse = pairwise_cohen(r)
    finally:
        measures.DENSE_LIMIT = original
    assert sparse == dense


def test_ratings_in_any_order_give_the_same_measures():
    triples = [(item, rater, (item * rater) % 3) for item in range(20) for rater in range(3) if (item + rater) % 4]
    shuffled = [triples[i] for i in np.random.default_rng(5).permutation(len(triples))]
    assert summarise(Ratings.from_triples(triples)) == summarise(Ratings.from_triples(shuffled))


@given(ITEMS)
@settings(max_examples=100, deadline=None)
def test_relabelled_ratings_share_the_layout_and_give_the_measures_of_fresh_ones(items):
    """A taxonomy level reuses where the pairs of ratings are; its measures are those of the
    mapped values read afresh (here a level that merges c and d)."""
    r = to_ratings(items).laid_out()
    merge = {"a": "a", "b": "b", "c": "cd", "d": "cd"}
    names = sorted({merge[v] for v in r.value_names})
    table = np.array([names.index(merge[v]) for v in r.value_names], np.int64)
    level = r.relabelled(table, names)
    assert level.layout is r.layout
    fresh = Ratings.from_triples(
        (i, rater, merge[value]) for i, row in enumerate(items) for rater, value in enumerate(row) if value is not None
    )
    assert summarise(level) == summarise(fresh)
