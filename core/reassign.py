"""Where a deactivated evaluator's open work goes (pure planning, no database).

Each open assignment moves to another active evaluator of the round who has never
had the item (blindness, and never the same evaluator twice on an item), the
least loaded first (then by id, so the plan is deterministic). When nobody is
left, the item goes to the moderators with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

NO_EVALUATOR_LEFT = "no other active evaluator of the round who has not seen the item"


@dataclass(frozen=True)
class OpenWork:
    assignment_id: int
    item_id: int


@dataclass(frozen=True)
class Move:
    assignment_id: int
    item_id: int
    to_user_id: int


@dataclass(frozen=True)
class ToModerators:
    assignment_id: int
    item_id: int
    reason: str


@dataclass(frozen=True)
class Plan:
    moves: tuple[Move, ...]
    to_moderators: tuple[ToModerators, ...]


def plan_reassignment(
    *,
    open_work: Iterable[OpenWork],
    leaving_user_id: int,
    candidates: Iterable[int],
    seen: Mapping[int, Iterable[int]],
    load: Mapping[int, int] | None = None,
) -> Plan:
    """Plan the moves of `leaving_user_id`'s `open_work`.

    `candidates`: active evaluators of the round; `seen[item_id]`: every user who has
    (or had) an assignment on the item; `load[user_id]`: their open assignments now.
    """
    pool = sorted({c for c in candidates if c != leaving_user_id})
    loads = {user: int((load or {}).get(user, 0)) for user in pool}
    moves: list[Move] = []
    escalated: list[ToModerators] = []
    for work in sorted(open_work, key=lambda w: (w.item_id, w.assignment_id)):
        excluded = set(seen.get(work.item_id, ())) | {leaving_user_id}
        eligible = [user for user in pool if user not in excluded]
        if not eligible:
            escalated.append(ToModerators(work.assignment_id, work.item_id, NO_EVALUATOR_LEFT))
            continue
        chosen = min(eligible, key=lambda user: (loads[user], user))
        loads[chosen] += 1
        moves.append(Move(work.assignment_id, work.item_id, chosen))
    return Plan(tuple(moves), tuple(escalated))
