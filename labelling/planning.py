"""Pure planning of who labels what: balanced loads and rotating evaluator pairs.

`pair_cycle(k)` orders all k·(k-1)/2 evaluator pairs so that every prefix keeps
the evaluators' loads within one of each other. Walking the cycle over and over
therefore gives loads with max − min ≤ 1 and pair counts that differ by at most
one, for any number of artefacts.

- even k: the circle method's rounds, each a perfect matching;
- odd k: Walecki's decomposition into (k−1)/2 Hamiltonian cycles, each walked as
  alternate edges first (v0v1, v2v3, …) and then the others, so that no one gets
  two ahead.
"""

from collections.abc import Sequence


def pair_cycle(k: int) -> list[tuple[int, int]]:
    if k < 2:
        raise ValueError("at least two evaluators are needed")
    if k % 2 == 0:
        return _circle_method(k)
    return _walecki(k)


def _circle_method(k: int) -> list[tuple[int, int]]:
    n = k - 1
    pairs = []
    for r in range(n):
        pairs.append((r, k - 1))
        for j in range(1, k // 2):
            pairs.append(((r + j) % n, (r - j) % n))
    return pairs


def _walecki(k: int) -> list[tuple[int, int]]:
    m = (k - 1) // 2
    inf = k - 1  # the hub vertex; the circle is 0 .. 2m-1
    pairs = []
    for i in range(m):
        zigzag = [i % (2 * m)]
        for j in range(1, m + 1):
            zigzag.append((i + j) % (2 * m))
            if j < m:
                zigzag.append((i - j) % (2 * m))
        cycle = [inf, *zigzag]  # a Hamiltonian cycle: inf, z0, z1, ..., z_last, back to inf
        edges = [(cycle[t], cycle[(t + 1) % k]) for t in range(k)]
        pairs.extend(edges[0 : k - 1 : 2])  # disjoint edges v0v1, v2v3, ..., v_{k-3}v_{k-2}
        pairs.append(edges[k - 1])  # the closing edge v_{k-1}v0
        pairs.extend(edges[1 : k - 1 : 2])  # v1v2, v3v4, ..., v_{k-2}v_{k-1}
    return pairs


def plan_pairs(evaluators: Sequence, count: int) -> list[tuple]:
    """The evaluator pair for each of `count` artefacts, balanced and rotating."""
    cycle = pair_cycle(len(evaluators))
    plan = []
    for i in range(count):
        a, b = cycle[i % len(cycle)]
        plan.append((evaluators[a], evaluators[b]))
    return plan
