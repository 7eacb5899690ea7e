"""Round planning: balanced loads (max − min ≤ 1) and rotating pairs (pair counts differ by ≤ 1)."""

from collections import Counter
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelling import services
from labelling.models import Assignment
from labelling.planning import pair_cycle, plan_pairs
from tests.factories import ArtefactFactory, member


def spread(counter, keys) -> int:
    values = [counter.get(k, 0) for k in keys]
    return max(values) - min(values)


@given(k=st.integers(min_value=2, max_value=14), count=st.integers(min_value=0, max_value=400))
@settings(max_examples=300, deadline=None)
def test_any_prefix_is_balanced_and_rotates_pairs(k, count):
    evaluators = [f"e{i}" for i in range(k)]
    plan = plan_pairs(evaluators, count)
    assert len(plan) == count
    assert all(a != b for a, b in plan)
    loads = Counter(e for pair in plan for e in pair)
    pairs = Counter(frozenset(pair) for pair in plan)
    assert spread(loads, evaluators) <= 1
    assert spread(pairs, [frozenset(p) for p in combinations(evaluators, 2)]) <= 1


@pytest.mark.parametrize("k", range(2, 16))
def test_the_cycle_holds_every_pair_once(k):
    cycle = pair_cycle(k)
    assert len(cycle) == k * (k - 1) // 2
    assert {frozenset(p) for p in cycle} == {frozenset(p) for p in combinations(range(k), 2)}


def test_fewer_than_two_evaluators_cannot_be_planned():
    with pytest.raises(ValueError):
        pair_cycle(1)


@pytest.mark.parametrize("k, n", [(2, 5), (3, 7), (4, 10), (5, 23), (6, 31)])
def test_round_create_balances_loads_and_pairs(team, k, n):
    evaluators = [*team.evaluators, *(member(team.project, evaluator=True) for _ in range(k - 3))][:k]
    ArtefactFactory.create_batch(n, project=team.project)
    rnd = services.round_create(
        project=team.project, user=team.lead, evaluator_ids=[e.id for e in evaluators], sample_size=n, seed=1
    )
    rows = list(Assignment.objects.filter(round=rnd).values_list("item_id", "evaluator_id"))
    loads = Counter(evaluator for _, evaluator in rows)
    by_item = {}
    for item, evaluator in rows:
        by_item.setdefault(item, set()).add(evaluator)
    assert all(len(pair) == 2 for pair in by_item.values()) and len(by_item) == n
    pairs = Counter(frozenset(p) for p in by_item.values())
    ids = [e.id for e in evaluators]
    assert spread(loads, ids) <= 1
    assert spread(pairs, [frozenset(p) for p in combinations(ids, 2)]) <= 1
