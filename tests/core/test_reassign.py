from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.reassign import NO_EVALUATOR_LEFT, Move, OpenWork, ToModerators, plan_reassignment


def test_moves_to_least_loaded_evaluator_who_has_not_seen_the_item():
    plan = plan_reassignment(
        open_work=[OpenWork(11, 1), OpenWork(12, 2)],
        leaving_user_id=7,
        candidates=[7, 8, 9, 10],
        seen={1: {7, 8}, 2: {7, 9}},
        load={8: 0, 9: 5, 10: 3},
    )
    # item 1: 8 has seen it → 9 (load 5) or 10 (load 3) → 10; item 2: 8 (load 0)
    assert plan.moves == (Move(11, 1, 10), Move(12, 2, 8))
    assert plan.to_moderators == ()


def test_load_grows_as_work_is_spread():
    plan = plan_reassignment(
        open_work=[OpenWork(a, a) for a in range(1, 5)], leaving_user_id=1, candidates=[1, 2, 3], seen={}
    )
    assert [m.to_user_id for m in plan.moves] == [2, 3, 2, 3]


def test_goes_to_moderators_when_everybody_has_seen_it():
    plan = plan_reassignment(open_work=[OpenWork(5, 50)], leaving_user_id=1, candidates=[1, 2, 3], seen={50: [1, 2, 3]})
    assert plan.moves == ()
    assert plan.to_moderators == (ToModerators(5, 50, NO_EVALUATOR_LEFT),)


def test_no_candidates_at_all():
    plan = plan_reassignment(open_work=[OpenWork(5, 50)], leaving_user_id=1, candidates=[1], seen={})
    assert plan.to_moderators[0].item_id == 50


def test_leaving_user_never_chosen_even_if_not_listed_as_seen():
    plan = plan_reassignment(open_work=[OpenWork(5, 50)], leaving_user_id=1, candidates=[1], seen={50: []})
    assert plan.moves == ()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, 30), unique=True, max_size=15),
    st.sets(st.integers(2, 8), max_size=7),
    st.dictionaries(st.integers(1, 30), st.sets(st.integers(1, 8), max_size=8)),
)
def test_never_twice_and_everything_accounted_for(items, candidates, seen):
    work = [OpenWork(100 + i, i) for i in items]
    plan = plan_reassignment(open_work=work, leaving_user_id=1, candidates=candidates | {1}, seen=seen)
    assert len(plan.moves) + len(plan.to_moderators) == len(work)
    for move in plan.moves:
        assert move.to_user_id != 1
        assert move.to_user_id in candidates
        assert move.to_user_id not in seen.get(move.item_id, set())
    for sent in plan.to_moderators:
        assert candidates <= set(seen.get(sent.item_id, set())) | {1}
