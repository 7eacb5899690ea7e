"""Reads for interviews. Aggregations run in SQL; callers check membership first
(`core.selectors.project_for_member`), and these functions apply the
interview rules on top: an evaluator sees only their own fragments until both
evaluators of the interview are done.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from core.errors import NotFound
from core.text import normalise_label
from interviews.models import FinalTag, Fragment, Interview, InterviewCoder, Paragraph, Piece
from labelling.models import Annotation, Label, RoundItem
from taxonomy.models import Leaf, Node
from taxonomy.selectors import node_depths

INTERVIEWS_ROUND = "interviews"


def _count(queryset, group_by: str):
    """A scalar subquery counting `queryset` rows (filtered on an OuterRef); 0 when none."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


# --- interviews -------------------------------------------------------------------------------


def interview_list(*, project, query: str = "", stage: str = ""):
    """The project's interviews with piece and final-tag counts (one query)."""
    pieces = Piece.objects.filter(interview=OuterRef("pk"))
    finals = FinalTag.objects.filter(interview=OuterRef("pk"))
    qs = Interview.objects.filter(project=project)
    if query:
        q = Q(title__icontains=query) | Q(interviewee_profile__icontains=query) | Q(interviewers__icontains=query)
        if query.strip().isdecimal():
            q |= Q(number=int(query.strip()))
        qs = qs.filter(q)
    if stage:
        qs = qs.filter(stage=stage)
    return (
        qs.defer("text")
        .annotate(
            n_pieces=_count(pieces, "interview"),
            n_pending=_count(pieces.filter(decision=Piece.Decision.PENDING), "interview"),
            n_final=_count(finals, "interview"),
            n_accepted=_count(finals.filter(status=FinalTag.Status.ACCEPTED), "interview"),
            n_removed=_count(finals.filter(status=FinalTag.Status.REMOVED), "interview"),
            n_paragraphs=_count(Paragraph.objects.filter(interview=OuterRef("pk")), "interview"),
        )
        .prefetch_related(Prefetch("coders", queryset=InterviewCoder.objects.select_related("user")))
        .order_by("number")
    )


def interview_get(*, project, number: int) -> Interview:
    interview = Interview.objects.filter(project=project, number=number).first()
    if interview is None:
        raise NotFound(f"No interview {number} in this project.")
    return interview


def interview_coders(*, interview) -> dict:
    """{"moderator": coder|None, "evaluators": {1: coder, 2: coder}} with users."""
    coders = list(InterviewCoder.objects.filter(interview=interview).select_related("user"))
    return {
        "moderator": next((c for c in coders if c.role == InterviewCoder.Role.MODERATOR), None),
        "evaluators": {c.slot: c for c in coders if c.role == InterviewCoder.Role.EVALUATOR},
        "all": coders,
    }


def both_done(*, interview) -> bool:
    return (
        InterviewCoder.objects.filter(
            interview=interview, role=InterviewCoder.Role.EVALUATOR, done_at__isnull=False
        ).count()
        == 2
    )


def paragraphs(*, interview) -> list[dict]:
    """Paragraphs with their text, speaker and offsets."""
    text = interview.text
    return [
        {
            "id": p.id,
            "position": p.position,
            "speaker": p.speaker,
            "speaker_note": p.speaker_note,
            "start": p.start,
            "end": p.end,
            "start_time": p.start_time,
            "text": text[p.start : p.end],
        }
        for p in Paragraph.objects.filter(interview=interview).order_by("position")
    ]


def visible_fragments(*, interview, user):
    """Fragments the user may see: only their own until both evaluators are done, then all.

    The caller has checked that the user is a member of the project."""
    qs = Fragment.objects.filter(interview=interview).select_related("coder__user").order_by("start", "end", "id")
    if both_done(interview=interview):
        return qs
    return qs.filter(coder__user=user)


def fragment_counts(*, interview) -> dict[int, dict]:
    """Per evaluator slot: fragments so far and whether done (counts only; never the fragments)."""
    rows = (
        InterviewCoder.objects.filter(interview=interview, role=InterviewCoder.Role.EVALUATOR)
        .annotate(n=Count("fragments"))
        .values("slot", "n", "done_at")
    )
    return {r["slot"]: {"fragments": r["n"], "done": r["done_at"] is not None} for r in rows}


def highlight_paragraphs(paragraph_rows: list[dict], fragments: list, *, user_id: int) -> list[dict]:
    """Each paragraph split into segments, each with the fragments covering it (for <mark>s)."""
    ordered = sorted(fragments, key=lambda f: (f.start, f.end))
    result = []
    for p in paragraph_rows:
        inside = [f for f in ordered if f.start < p["end"] and f.end > p["start"]]
        cuts = sorted({p["start"], p["end"], *[max(f.start, p["start"]) for f in inside],
                       *[min(f.end, p["end"]) for f in inside]})  # fmt: skip
        segments = []
        for a, b in zip(cuts, cuts[1:], strict=False):
            covering = [f for f in inside if f.start <= a and f.end >= b]
            slots = {f.coder.slot for f in covering}
            segments.append(
                {
                    "text": p["text"][a - p["start"] : b - p["start"]],
                    "fragments": covering,
                    "ids": " ".join(str(f.id) for f in covering),
                    "tags": "; ".join(dict.fromkeys(f.tag for f in covering)),
                    "mine": any(f.coder.user_id == user_id for f in covering),
                    "slots": "".join(f"e{s}" for s in sorted(slots)),
                }
            )
        result.append({**p, "segments": segments})
    return result


# --- moderation and review ---------------------------------------------------------------------


def moderation_pieces(*, interview):
    """The interview's pieces in text order, with fragments (and their evaluators) and final tags:
    a constant number of queries however many pieces there are."""
    return (
        Piece.objects.filter(interview=interview)
        .select_related("final_tag", "decided_by", "final_tag__leaf__label")
        .prefetch_related(
            Prefetch(
                "fragments",
                queryset=Fragment.objects.select_related("coder__user").order_by("coder__slot", "start", "id"),
            )
        )
        .order_by("position")
    )


def moderation_summary(*, interview) -> dict:
    summary = Piece.objects.filter(interview=interview).aggregate(
        total=Count("id"),
        agreements=Count("id", filter=Q(kind=Piece.Kind.AGREEMENT)),
        conflicts=Count("id", filter=Q(kind=Piece.Kind.CONFLICT)),
        one_sided=Count("id", filter=Q(kind=Piece.Kind.ONE_SIDED)),
        pending=Count("id", filter=Q(decision=Piece.Decision.PENDING)),
        kept=Count("id", filter=Q(decision=Piece.Decision.KEPT)),
        not_kept=Count("id", filter=Q(decision=Piece.Decision.NOT_KEPT)),
    )
    summary["decided"] = summary["kept"] + summary["not_kept"]
    summary["pct"] = round(100 * summary["decided"] / summary["total"]) if summary["total"] else 0
    return summary


def moderation_item(piece, *, text: str, coders: dict) -> dict:
    """A piece arranged for the moderation page: its excerpt and each evaluator's side
    (fragments from the prefetch, or the recorded tag of an imported piece). No queries."""
    fragments = list(piece.fragments.all())
    sides = []
    for slot in (1, 2):
        coder = coders["evaluators"].get(slot)
        sides.append(
            {
                "slot": slot,
                "user": coder.user.username if coder else "",
                "fragments": [f for f in fragments if f.coder.slot == slot],
                "tag": piece.evaluator1_tag if slot == 1 else piece.evaluator2_tag,
            }
        )
    excerpt = ""
    if piece.start is not None and text and len(fragments) > 1:  # a lone fragment shows its own quote
        excerpt = text[piece.start : piece.end]
        if len(excerpt) > 600:
            excerpt = excerpt[:599] + "…"
    return {"piece": piece, "excerpt": excerpt, "sides": sides}


def final_tags(*, project, status: str = "", number: int | None = None, query: str = ""):
    """Final tags of the project for the final review, in interview and piece order."""
    qs = FinalTag.objects.filter(interview__project=project)
    if status:
        qs = qs.filter(status=status)
    if number is not None:
        qs = qs.filter(interview__number=number)
    if query:
        qs = qs.filter(normalised__contains=normalise_label(query))
    return (
        qs.select_related("interview", "piece", "reviewed_by", "leaf__label", "leaf__node")
        .defer("interview__text")
        .annotate(auto_leaf=_auto_leaf(project))
        .order_by("interview__number", "piece__position")
    )


def final_tag_counts(*, project) -> dict:
    return FinalTag.objects.filter(interview__project=project).aggregate(
        total=Count("id"),
        pending=Count("id", filter=Q(status=FinalTag.Status.PENDING)),
        accepted=Count("id", filter=Q(status=FinalTag.Status.ACCEPTED)),
        removed=Count("id", filter=Q(status=FinalTag.Status.REMOVED)),
    )


# --- taxonomy ------------------------------------------------------------------------------------


def _auto_leaf(project):
    """The leaf whose label has the tag's normalised text (the oldest, if the label is a leaf twice)."""

    match = (
        Leaf.objects.filter(node__project_id=project.id, label__normalised=OuterRef("normalised"))
        .order_by("id")
        .values("id")[:1]
    )
    return Subquery(match, output_field=IntegerField())


def _effective_leaf(project):
    return Coalesce(F("leaf_id"), _auto_leaf(project))


def _includes_interviews(rounds) -> bool:
    if rounds is None:
        return True
    if isinstance(rounds, str | int):
        rounds = [rounds]
    return any(str(r).strip().lower() == INTERVIEWS_ROUND for r in rounds)


def interview_counts_by_leaf(project, rounds=None) -> dict[int, int]:
    """{leaf_id: accepted interview final tags} — the MM of a leaf's "NN+MM".

    A final tag counts for the leaf a lead placed it under, else for the leaf whose label
    has the same normalised text. `rounds`: None for every interview; otherwise an
    iterable of round keys, and interviews count only if it contains "interviews"
    (interviews are not artefact rounds). One aggregate query."""
    if not _includes_interviews(rounds):
        return {}
    rows = (
        FinalTag.objects.filter(interview__project=project, status=FinalTag.Status.ACCEPTED)
        .annotate(effective_leaf=_effective_leaf(project))
        .filter(effective_leaf__isnull=False)
        .values("effective_leaf")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["effective_leaf"]: row["n"] for row in rows}


def unmapped_final_tags(*, project):
    """Accepted final tags that join no leaf, grouped by normalised text: [{normalised, text, count,
    interviews, ids}], most frequent first — for the lead to place or to create as new leaves."""
    rows = (
        FinalTag.objects.filter(interview__project=project, status=FinalTag.Status.ACCEPTED)
        .annotate(effective_leaf=_effective_leaf(project))
        .filter(effective_leaf__isnull=True)
        .values("id", "normalised", "text", "interview__number")
        .order_by("normalised", "interview__number", "id")
    )
    groups: dict[str, dict] = {}
    for row in rows:
        group = groups.setdefault(
            row["normalised"],
            {"normalised": row["normalised"], "text": row["text"], "count": 0, "interviews": [], "ids": []},
        )
        group["count"] += 1
        group["ids"].append(row["id"])
        if row["interview__number"] not in group["interviews"]:
            group["interviews"].append(row["interview__number"])
    return sorted(groups.values(), key=lambda g: (-g["count"], g["normalised"]))


def interview_unmapped_tags(project) -> dict[str, int]:
    """{final tag text: accepted instances} for accepted tags joining no leaf (the taxonomy's unmapped list)."""
    return {group["text"]: group["count"] for group in unmapped_final_tags(project=project)}


def _new_from_interviews(project, interview_leaf_ids: set[int]) -> tuple[list[int], int]:
    """Inner categories per level and leaves that exist because of interviews: they hold accepted
    interview tags in their subtree, no relevant artefact, and no round created them."""

    nodes = {
        n["id"]: n for n in Node.objects.filter(project=project).values("id", "parent_id", "round_created_id", "code")
    }
    if not nodes:
        return [], 0
    leaves = {
        leaf["id"]: leaf
        for leaf in Leaf.objects.filter(node__project=project).values("id", "node_id", "round_created_id")
    }
    artefact_leaf_ids = set(
        RoundItem.objects.filter(round__project=project, leaf__isnull=False).values_list("leaf_id", flat=True)
    )

    depths = node_depths([(node_id, node["parent_id"]) for node_id, node in nodes.items()])

    def depth(node_id):
        """A node's level as Table 1 and the taxonomy page count it: its depth in the tree."""
        return depths.get(node_id, 1)

    def mark(leaf_ids):
        marked = set()
        for leaf_id in leaf_ids:
            node_id = leaves.get(leaf_id, {}).get("node_id")
            while node_id is not None and node_id not in marked:
                marked.add(node_id)
                node_id = nodes.get(node_id, {}).get("parent_id")
        return marked

    with_interviews, with_artefacts = mark(interview_leaf_ids), mark(artefact_leaf_ids)
    levels = max(depth(n) for n in nodes)
    new_inner = [0] * levels
    for node_id in with_interviews - with_artefacts:
        if nodes[node_id]["round_created_id"] is None:
            new_inner[depth(node_id) - 1] += 1
    new_leaves = sum(
        1
        for leaf_id in interview_leaf_ids - artefact_leaf_ids
        if leaf_id in leaves and leaves[leaf_id]["round_created_id"] is None
    )
    return new_inner, new_leaves


def interview_stats_row(project) -> dict:
    """The interviews row of Table 1, computed by SQL aggregation:

    {"round": "interviews", "analysed": tagged pieces, "disagreements": conflicts + one-sided
    pieces, "conflicts": overlapping fragments with different tags, "relevant": accepted,
    "final": final tags, "removed": removed, "new_inner": [per level], "new_leaves": n,
    "interviews": interviews with pieces, "final_per_interview": {"min", "max", "mean"},
    "pending_review": n, "not_kept": n, "unmapped": accepted tags joining no leaf}.

    Figures a coding sheet does not record (disagreements and conflicts between the
    evaluators) are None when any analysed interview was imported — never guessed."""
    pieces = Piece.objects.filter(interview__project=project).aggregate(
        analysed=Count("id"),
        imported=Count("id", filter=Q(interview__coding_source=Interview.Source.IMPORT)),
        conflicts=Count("id", filter=Q(kind=Piece.Kind.CONFLICT)),
        disagreements=Count("id", filter=Q(kind__in=[Piece.Kind.CONFLICT, Piece.Kind.ONE_SIDED])),
        not_kept=Count("id", filter=Q(decision=Piece.Decision.NOT_KEPT)),
    )
    finals = final_tag_counts(project=project)
    per_interview = (
        Interview.objects.filter(project=project)
        .annotate(
            n_pieces=_count(Piece.objects.filter(interview=OuterRef("pk")), "interview"),
            n_final=_count(FinalTag.objects.filter(interview=OuterRef("pk")), "interview"),
        )
        .filter(n_pieces__gt=0)
        .aggregate(interviews=Count("id"), low=Min("n_final"), high=Max("n_final"), mean=Avg("n_final"))
    )
    counts = interview_counts_by_leaf(project)
    new_inner, new_leaves = _new_from_interviews(project, set(counts))
    recorded = pieces["imported"] == 0
    accepted_total = finals["accepted"]
    return {
        "round": INTERVIEWS_ROUND,
        "analysed": pieces["analysed"],
        "disagreements": pieces["disagreements"] if recorded else None,
        "conflicts": pieces["conflicts"] if recorded else None,
        "relevant": accepted_total,
        "final": finals["total"],
        "removed": finals["removed"],
        "new_inner": new_inner,
        "new_leaves": new_leaves,
        "interviews": per_interview["interviews"],
        "final_per_interview": {
            "min": per_interview["low"],
            "max": per_interview["high"],
            "mean": round(per_interview["mean"], 2) if per_interview["mean"] is not None else None,
        },
        "pending_review": finals["pending"],
        "not_kept": pieces["not_kept"],
        "unmapped": accepted_total - sum(counts.values()),
    }


def final_tags_per_interview(*, project) -> list[dict]:
    """Per analysed interview: number, pieces, final, accepted, removed (for the chart)."""
    finals = FinalTag.objects.filter(interview=OuterRef("pk"))
    rows = (
        Interview.objects.filter(project=project)
        .annotate(
            n_pieces=_count(Piece.objects.filter(interview=OuterRef("pk")), "interview"),
            n_final=_count(finals, "interview"),
            n_accepted=_count(finals.filter(status=FinalTag.Status.ACCEPTED), "interview"),
            n_removed=_count(finals.filter(status=FinalTag.Status.REMOVED), "interview"),
        )
        .filter(n_pieces__gt=0)
        .order_by("number")
        .values("number", "n_pieces", "n_final", "n_accepted", "n_removed")
    )
    return [
        {
            "number": r["number"],
            "pieces": r["n_pieces"],
            "final": r["n_final"],
            "accepted": r["n_accepted"],
            "removed": r["n_removed"],
        }
        for r in rows
    ]


# --- people and suggestions ---------------------------------------------------------------------------


def members_with_roles(*, project, roles: tuple[str, ...]):
    """Active members holding any of `roles` (one membership row: never another project's roles)."""

    role_q = Q()
    for role in roles:
        role_q |= Q(**{f"memberships__is_{role}": True})
    return (
        get_user_model()
        .objects.filter(Q(memberships__project=project, memberships__is_active=True) & role_q)
        .distinct()
        .order_by("username")
    )


def my_interviews(*, project, user):
    """The user's coding parts in the project with their interviews, by interview number."""
    return (
        InterviewCoder.objects.filter(interview__project=project, user=user)
        .select_related("interview")
        .defer("interview__text")
        .order_by("interview__number")
    )


def tag_suggestions(*, project, user, query: str = "", limit: int = 12) -> list[dict]:
    """Tags to suggest while `user` types, with usage counts, never leaking undecided tags of others.

    Sources: the lead's label catalogue, labels of decided artefacts, final tags that the
    moderators kept (not removed ones), and the user's own fragments and annotations."""
    key = normalise_label(query)
    found: dict[str, dict] = {}

    def add(normalised, name, n, source):
        if not normalised:
            return
        entry = found.setdefault(normalised, {"name": name, "normalised": normalised, "count": 0, "sources": []})
        entry["count"] += n
        if source not in entry["sources"]:
            entry["sources"].append(source)

    decided = RoundItem.objects.filter(final_label=OuterRef("pk"), status__in=RoundItem.DECIDED)
    labels = Label.objects.filter(project=project)
    if key:
        labels = labels.filter(normalised__contains=key)
    for row in (
        labels.annotate(n=_count(decided, "final_label"))
        .filter(Q(in_catalogue=True) | Q(n__gt=0))
        .order_by("-n", "normalised")
        .values("normalised", "name", "n", "in_catalogue")[:50]
    ):
        add(row["normalised"], row["name"], row["n"], "catalogue" if row["in_catalogue"] else "decided")
    own_annotations = Annotation.objects.filter(
        assignment__evaluator=user, assignment__round__project=project, label__isnull=False
    )
    if key:
        own_annotations = own_annotations.filter(label__normalised__contains=key)
    for row in (
        own_annotations.values("label__normalised").annotate(n=Count("id"), name=Min("label__name")).order_by("-n")[:50]
    ):
        add(row["label__normalised"], row["name"], row["n"], "mine")
    finals = FinalTag.objects.filter(
        interview__project=project, status__in=[FinalTag.Status.PENDING, FinalTag.Status.ACCEPTED]
    )
    if key:
        finals = finals.filter(normalised__contains=key)
    for row in finals.values("normalised").annotate(n=Count("id"), name=Min("text")).order_by("-n")[:50]:
        add(row["normalised"], row["name"], row["n"], "final")
    own = Fragment.objects.filter(interview__project=project, coder__user=user)
    if key:
        own = own.filter(normalised__contains=key)
    for row in own.values("normalised").annotate(n=Count("id"), name=Min("tag")).order_by("-n")[:50]:
        add(row["normalised"], row["name"], row["n"], "mine")
    ranked = sorted(
        found.values(),
        key=lambda e: (0 if key and e["normalised"].startswith(key) else 1, -e["count"], e["normalised"]),
    )
    return ranked[:limit]


def interview_part_get(*, model, object_id, project):
    """An interview of the project (model Interview) or a row of one of its interviews; NotFound otherwise."""
    filters = {"id": object_id, ("project" if model is Interview else "interview__project"): project}
    obj = model.objects.filter(**filters).first()
    if obj is None:
        raise NotFound(f"No such {model._meta.verbose_name} in this project.")
    return obj


def paragraph_get(*, project, number: int, paragraph_id: int) -> Paragraph:
    paragraph = Paragraph.objects.filter(id=paragraph_id, interview__project=project, interview__number=number).first()
    if paragraph is None:
        raise NotFound("No such paragraph in this interview.")
    return paragraph


def fragment_get(*, project, number: int, fragment_id: int) -> Fragment:
    fragment = Fragment.objects.filter(id=fragment_id, interview__project=project, interview__number=number).first()
    if fragment is None:
        raise NotFound("No such fragment in this interview.")
    return fragment


def piece_interview(*, piece_id: int) -> Interview:
    return Piece.objects.select_related("interview").get(id=piece_id).interview


def interview_numbers_with_final_tags(*, project) -> list[int]:
    return list(
        Interview.objects.filter(project=project, final_tags__isnull=False)
        .values_list("number", flat=True)
        .distinct()
        .order_by("number")
    )


def final_tag_statuses(*, project) -> list[dict]:
    """Reviewed final tags grouped by the leaf they join (placed, else by label text) or, joining none,
    by their normalised text: [{leaf, text, accepted, removed}] — the tag summary's accepted/removed.
    One query; `text` is the earliest tag's."""
    rows = (
        FinalTag.objects.filter(interview__project=project)
        .exclude(status=FinalTag.Status.PENDING)
        .annotate(effective_leaf=_effective_leaf(project))
        .values("effective_leaf", "normalised", "text", "status")
        .order_by("interview__number", "id")
    )
    groups: dict[tuple, dict] = {}
    for row in rows:
        key = ("leaf", row["effective_leaf"]) if row["effective_leaf"] else ("text", row["normalised"])
        group = groups.setdefault(
            key, {"leaf": row["effective_leaf"], "text": row["text"], "accepted": 0, "removed": 0}
        )
        group["accepted" if row["status"] == FinalTag.Status.ACCEPTED else "removed"] += 1
    return list(groups.values())
