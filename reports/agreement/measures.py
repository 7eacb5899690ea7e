"""Agreement measures for nominal ratings: percent agreement, Cohen's kappa per pair of
raters and its mean, Fleiss' kappa, Krippendorff's alpha with a bootstrap interval, and
the most frequent disagreements — computed in one vectorised pass with numpy.

Ratings are triples (item, rater, value), one value per rater and item; values are
categories (labels, taxonomy nodes and verdicts alike). An item with fewer than two
ratings is *unpairable*: it carries no information about agreement and every measure
leaves it out (as Krippendorff's alpha does), though `items` and `ratings` count it.

Notation (for the pairable items u = 1..N):
    m_u    ratings of item u;  n = Σ_u m_u  (pairable values)
    n_uc   ratings of item u with value c;  n_c = Σ_u n_uc;  s_u = Σ_c n_uc²

Every figure is None where it is undefined (no pairable item, a single category so
that the expected disagreement is zero, …), never NaN.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

#: Bootstrap defaults (issue 10: fixed seed, 1,000 resamples, 95 %).
RESAMPLES = 1000
SEED = 20200523
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Ratings:
    """Ratings as parallel integer arrays with the names behind the codes.

    `values[i]` is an index into `value_names`, `raters[i]` into `rater_names`;
    `items[i]` is any integer identifying the item. One rating per (item, rater)."""

    items: np.ndarray
    raters: np.ndarray
    values: np.ndarray
    value_names: Sequence = field(default_factory=list)
    rater_names: Sequence = field(default_factory=list)
    #: where the pairs of ratings are (independent of the values): shared by relabelled copies
    layout: _Layout | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_triples(cls, triples: Iterable[tuple[Hashable, Hashable, Hashable]]) -> Ratings:
        """Ratings from (item, rater, value) triples; values and raters coded in sorted order."""
        triples = list(triples)
        value_names = sorted({v for _, _, v in triples}, key=sort_key)
        rater_names = sorted({r for _, r, _ in triples}, key=sort_key)
        value_code = {v: i for i, v in enumerate(value_names)}
        rater_code = {r: i for i, r in enumerate(rater_names)}
        item_code: dict = {}
        items = np.fromiter((item_code.setdefault(u, len(item_code)) for u, _, _ in triples), np.int64, len(triples))
        raters = np.fromiter((rater_code[r] for _, r, _ in triples), np.int64, len(triples))
        values = np.fromiter((value_code[v] for _, _, v in triples), np.int64, len(triples))
        return cls(items, raters, values, value_names, rater_names)

    def relabelled(self, table: np.ndarray, value_names: Sequence) -> Ratings:
        """The same ratings with each value code c replaced by table[c] (a taxonomy level)."""
        values = np.asarray(table)[self.values]
        return Ratings(self.items, self.raters, values, value_names, self.rater_names, _layout(self))

    def laid_out(self) -> Ratings:
        """The same ratings with their layout computed once: relabelled copies (the taxonomy
        levels) share it instead of finding the pairs of ratings again."""
        if self.layout is not None:
            return self
        return Ratings(self.items, self.raters, self.values, self.value_names, self.rater_names, _layout(self))

    def __len__(self) -> int:
        return len(self.values)


def sort_key(value):
    """Order of values and raters: by type, then value (labels, then Category values)."""
    return (type(value).__name__, value)


@dataclass(frozen=True)
class Pair:
    a: Hashable
    b: Hashable
    items: int
    agreed: int
    cohen_kappa: float | None


@dataclass(frozen=True)
class Disagreement:
    value_a: Hashable
    value_b: Hashable
    count: int


@dataclass(frozen=True)
class Summary:
    items: int  # items with at least one rating
    ratings: int  # all ratings
    pairable_items: int
    percent: float | None
    cohen_kappa_mean: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    alpha_ci95: tuple[float, float] | None
    pairs: list[Pair]
    disagreements: list[Disagreement]


# --------------------------------------------------------------------------- preparation


@dataclass(frozen=True)
class _Layout:
    """Where the pairs of ratings are, from items and raters alone (so computed once for all
    taxonomy levels): positions of the pairable ratings, ratings per pairable item, and each
    pair of ratings of one item — positions of its two ratings (rater a < rater b), its item,
    its pair of raters (a compact index into `pair_keys` = a · n_raters + b) — and the items
    each pair of raters shares."""

    items: int  # items with at least one rating
    rows: np.ndarray
    m: np.ndarray
    a_pos: np.ndarray
    b_pos: np.ndarray
    unit: np.ndarray
    pair: np.ndarray
    pair_keys: np.ndarray
    shared: np.ndarray
    n_raters: int


@dataclass(frozen=True)
class _Units:
    """Pairable items as arrays: per item m_u and s_u; per value n_c; the values of every pair
    of ratings of one item; and the layout."""

    layout: _Layout
    m: np.ndarray
    s: np.ndarray
    n_c: np.ndarray
    value_a: np.ndarray
    value_b: np.ndarray

    @property
    def items(self) -> int:
        return self.layout.items


def _run_lengths(sorted_keys: np.ndarray) -> np.ndarray:
    """Lengths of the runs of equal keys in a sorted array."""
    if not len(sorted_keys):
        return np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    return np.diff(np.r_[starts, len(sorted_keys)])


def _order(r: Ratings) -> np.ndarray | None:
    """Positions sorting the ratings by (item, rater); None when they already are."""
    items, raters = r.items, r.raters
    if len(items) > 1:
        step = np.diff(items)
        if not ((step > 0) | ((step == 0) & (np.diff(raters) >= 0))).all():
            return np.lexsort((raters, items))
    return None


def _layout(r: Ratings) -> _Layout:
    if r.layout is not None:
        return r.layout
    order = _order(r)
    positions = np.arange(len(r.items)) if order is None else order
    counts = _run_lengths(r.items[positions])
    rows = positions[np.repeat(counts >= 2, counts)]  # pairable items only
    m = counts[counts >= 2]
    starts = np.cumsum(m) - m
    # every pair of ratings within an item: offsets p < q inside the item's run (sorted by rater)
    a_idx, b_idx, unit = [], [], []
    for q in range(1, int(m.max()) if len(m) else 0):
        has = np.flatnonzero(m > q)
        for p in range(q):
            a_idx.append(starts[has] + p)
            b_idx.append(starts[has] + q)
            unit.append(has)
    a_idx, b_idx, unit = (np.concatenate(x) if x else np.zeros(0, np.int64) for x in (a_idx, b_idx, unit))
    a_pos, b_pos = rows[a_idx], rows[b_idx]
    rater_a, rater_b = r.raters[a_pos], r.raters[b_pos]
    n_raters = max(len(r.rater_names), int(r.raters.max()) + 1 if len(r.raters) else 0)
    present = np.bincount(rater_a * n_raters + rater_b, minlength=n_raters * n_raters) > 0
    pair_keys = np.flatnonzero(present)
    pair = (np.cumsum(present) - 1)[rater_a * n_raters + rater_b]  # compact pair index
    shared = np.bincount(pair, minlength=len(pair_keys))
    return _Layout(len(counts), rows, m, a_pos, b_pos, unit, pair, pair_keys, shared, n_raters)


def _units(r: Ratings) -> _Units:
    layout = _layout(r)
    values = r.values[layout.rows]
    n_values = max(len(r.value_names), int(values.max()) + 1 if len(values) else 0)
    n_c = np.bincount(values, minlength=n_values)
    value_a, value_b = r.values[layout.a_pos], r.values[layout.b_pos]
    # s_u = Σ_c n_uc² = m_u + 2 · (agreeing pairs of ratings in u)
    s = layout.m + 2.0 * np.bincount(layout.unit, weights=value_a == value_b, minlength=len(layout.m))
    return _Units(layout, layout.m, s, n_c, value_a, value_b)


# --------------------------------------------------------------------------- measures


def _percent(u: _Units) -> float | None:
    """Percent agreement: the mean over pairable items of the share of agreeing pairs of
    ratings, P_u = (s_u − m_u) / (m_u (m_u − 1)); P̄ = (1/N) Σ_u P_u.
    With two raters per item it is the share of items on which they agree."""
    if not len(u.m):
        return None
    return float(np.mean((u.s - u.m) / (u.m * (u.m - 1.0))))


def _fleiss(u: _Units) -> float | None:
    """Fleiss' kappa, defined only when every pairable item has the same number m of ratings:
    p_c = n_c / (N m);  P̄ = (1/N) Σ_u (s_u − m) / (m (m − 1));  P̄_e = Σ_c p_c²;
    κ = (P̄ − P̄_e) / (1 − P̄_e)   (None when P̄_e = 1: a single category)."""
    if not len(u.m) or (u.m != u.m[0]).any():
        return None
    m = float(u.m[0])
    p_bar = float(np.mean((u.s - m) / (m * (m - 1.0))))
    p_c = u.n_c / (len(u.m) * m)
    p_e = float((p_c**2).sum())
    return None if np.isclose(p_e, 1.0) else (p_bar - p_e) / (1.0 - p_e)


def _alpha_parts(u: _Units) -> tuple[np.ndarray, float, float]:
    """Per-item observed disagreement mass d_u = (m_u² − s_u) / (m_u − 1) (the item's
    off-diagonal coincidences), n, and n² − Σ_c n_c² (the expected off-diagonal mass)."""
    m = u.m.astype(np.float64)
    d = (m**2 - u.s) / (m - 1.0)
    n = float(m.sum())
    return d, n, n * n - float((u.n_c.astype(np.float64) ** 2).sum())


def _alpha(u: _Units) -> float | None:
    """Krippendorff's alpha for nominal data with missing values.

    Coincidences o_ck = Σ_u (number of c–k pairs of ratings in u) / (m_u − 1), so that
    n_c = Σ_k o_ck and n = Σ_c n_c. With the nominal metric (δ_ck = 0 if c = k, else 1):
        D_o = (1/n) Σ_{c≠k} o_ck = (1/n) Σ_u (m_u² − s_u) / (m_u − 1)
        D_e = 1/(n (n − 1)) Σ_{c≠k} n_c n_k = (n² − Σ_c n_c²) / (n (n − 1))
        α   = 1 − D_o / D_e
    None without pairable items or when D_e = 0 (every value the same)."""
    if not len(u.m):
        return None
    d, n, expected = _alpha_parts(u)
    if expected <= 0:
        return None
    return 1.0 - (n - 1.0) * float(d.sum()) / expected


def _alpha_interval(
    u: _Units, *, resamples: int = RESAMPLES, seed: int = SEED, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    """Bootstrap interval for alpha: percentiles (1 − confidence)/2 and (1 + confidence)/2 of
    α* = 1 − D_o* / D_e over `resamples` resamples of the pairable items drawn with
    replacement; D_e stays at its value in the data, as in Krippendorff's bootstrap
    (only the observed coincidences are resampled), D_o* = Σ_u w_u d_u / Σ_u w_u m_u
    with w_u the times item u is drawn.

    An item's contribution depends only on its type (m_u, s_u) — a handful of types for
    2–4 raters — so a resample is a multinomial draw of N items over the types: fast at
    any N and reproducible with the fixed seed."""
    if not len(u.m):
        return None
    d, n, expected = _alpha_parts(u)
    if expected <= 0:
        return None
    base = int(u.m.max()) ** 2 + 1  # s_u ≤ m_u²
    _, first, counts = np.unique(u.m * base + u.s.astype(np.int64), return_index=True, return_counts=True)
    d_type, m_type = d[first], u.m[first].astype(np.float64)
    draws = np.random.default_rng(seed).multinomial(len(u.m), counts / counts.sum(), size=resamples)
    observed = (draws @ d_type) / (draws @ m_type)  # D_o* per resample
    alphas = 1.0 - observed * n * (n - 1.0) / expected
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(alphas, [tail, 1.0 - tail])
    return float(lo), float(hi)


DENSE_LIMIT = 20_000_000


def _chance(pair: np.ndarray, value_a: np.ndarray, value_b: np.ndarray, n_pairs: int, n_values: int) -> np.ndarray:
    """Σ_c n_ac · n_bc for each pair: counts per (pair, value) on either side, multiplied."""
    if n_pairs * n_values <= DENSE_LIMIT:
        size = n_pairs * n_values
        count_a = np.bincount(pair * n_values + value_a, minlength=size).astype(np.float64)
        count_b = np.bincount(pair * n_values + value_b, minlength=size)
        return (count_a * count_b).reshape(n_pairs, n_values).sum(axis=1)
    side_a, count_a = np.unique(pair * n_values + value_a, return_counts=True)
    side_b, count_b = np.unique(pair * n_values + value_b, return_counts=True)
    _, ia, ib = np.intersect1d(side_a, side_b, assume_unique=True, return_indices=True)
    weights = count_a[ia] * count_b[ib].astype(np.float64)
    return np.bincount(side_a[ia] // n_values, weights=weights, minlength=n_pairs)


def _pairs(u: _Units, r: Ratings) -> list[Pair]:
    """Cohen's kappa for each pair of raters over the items both rated:
    p_o = agreed / items;  p_e = Σ_c (n_ac / items) (n_bc / items), with n_ac the items of
    the pair to which rater a gave c;  κ = (p_o − p_e) / (1 − p_e)  (None when p_e = 1)."""
    layout = u.layout
    if not len(layout.pair):
        return []
    n_values = max(len(r.value_names), int(max(u.value_a.max(), u.value_b.max())) + 1)
    n_pairs = len(layout.pair_keys)
    agreed = np.bincount(layout.pair, weights=u.value_a == u.value_b, minlength=n_pairs)
    chance = _chance(layout.pair, u.value_a, u.value_b, n_pairs, n_values)
    p_o = agreed / layout.shared
    p_e = chance / layout.shared.astype(np.float64) ** 2
    undefined = np.isclose(p_e, 1.0)
    kappa = (p_o - p_e) / np.where(undefined, 1.0, 1.0 - p_e)
    names = r.rater_names
    result = []
    for k, key in enumerate(layout.pair_keys.tolist()):
        a, b = divmod(key, layout.n_raters)
        value = None if undefined[k] else float(kappa[k])
        result.append(Pair(_name(names, a), _name(names, b), int(layout.shared[k]), int(agreed[k]), value))
    return result


def _disagreements(u: _Units, r: Ratings, top: int) -> list[Disagreement]:
    """The most frequent unordered pairs of different values given to one item by two raters;
    count = pairs of ratings (an item rated A, A, B counts A–B twice). Most frequent first."""
    differ = u.value_a != u.value_b
    if not differ.any():
        return []
    lo = np.minimum(u.value_a[differ], u.value_b[differ])
    hi = np.maximum(u.value_a[differ], u.value_b[differ])
    n_values = int(hi.max()) + 1
    keys, counts = np.unique(lo * n_values + hi, return_counts=True)
    order = np.lexsort((keys, -counts))[:top]  # by count, then by value codes (sorted names)
    names = r.value_names
    return [
        Disagreement(_name(names, int(keys[i] // n_values)), _name(names, int(keys[i] % n_values)), int(counts[i]))
        for i in order
    ]


def _name(names: Sequence, code: int):
    return names[code] if code < len(names) else code


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return float(np.mean(defined)) if defined else None


# --------------------------------------------------------------------------- public API


def summarise(
    r: Ratings, *, top: int = 10, resamples: int = RESAMPLES, seed: int = SEED, confidence: float = CONFIDENCE
) -> Summary:
    """Every measure of one set of ratings in one pass.

    cohen_kappa_mean is the unweighted mean of the pairs' defined kappas (Light's kappa)."""
    u = _units(r)
    pairs = _pairs(u, r)
    return Summary(
        items=u.items,
        ratings=len(r),
        pairable_items=int(len(u.m)),
        percent=_percent(u),
        cohen_kappa_mean=_mean(p.cohen_kappa for p in pairs),
        fleiss_kappa=_fleiss(u),
        krippendorff_alpha=_alpha(u),
        alpha_ci95=_alpha_interval(u, resamples=resamples, seed=seed, confidence=confidence),
        pairs=pairs,
        disagreements=_disagreements(u, r, top),
    )


def percent_agreement(r: Ratings) -> float | None:
    return _percent(_units(r))


def fleiss_kappa(r: Ratings) -> float | None:
    return _fleiss(_units(r))


def krippendorff_alpha(r: Ratings) -> float | None:
    return _alpha(_units(r))


def alpha_interval(
    r: Ratings, *, resamples: int = RESAMPLES, seed: int = SEED, confidence: float = CONFIDENCE
) -> tuple[float, float] | None:
    return _alpha_interval(_units(r), resamples=resamples, seed=seed, confidence=confidence)


def pairwise_cohen(r: Ratings) -> list[Pair]:
    return _pairs(_units(r), r)


def disagreements(r: Ratings, *, top: int = 10) -> list[Disagreement]:
    return _disagreements(_units(r), r, top)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' values for the same items (a[i] and b[i] rate item i):
    κ = (p_o − p_e) / (1 − p_e), p_o the share of equal values, p_e = Σ_c p_ac p_bc."""
    if len(a) != len(b):
        raise ValueError("both raters must rate the same items")
    triples = [(i, 0, v) for i, v in enumerate(a)] + [(i, 1, v) for i, v in enumerate(b)]
    pairs = pairwise_cohen(Ratings.from_triples(triples))
    return pairs[0].cohen_kappa if pairs else None
