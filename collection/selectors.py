"""Reads for the relevance vocabulary. Tallies, statuses and matches are computed in SQL:
a term list page is one query (plus the paginator's COUNT), whatever the corpus size.

A term's status is the majority of its members' flags: more "relevant" than
"irrelevant" flags → relevant, the reverse → irrelevant, a tie or no flag → undecided.
An artefact matches the vocabulary when its index has at least one relevant term.
"""

from __future__ import annotations

from collections import Counter

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from collection.mining.rules import RepositoryFacts, RepositoryRules, rule_report, select_repositories
from collection.models import (
    Artefact,
    ArtefactIndexState,
    ArtefactTerm,
    CollectionSettings,
    MiningRun,
    Repository,
    TermFlag,
    VocabularyBatch,
    VocabularyTerm,
)
from collection.vocabulary import normalise_query
from core.jobs import job_progress
from core.models import Job
from core.selectors import upload_job

Status = VocabularyTerm.Status
STATUSES = tuple(Status.values)
MINE_FILTERS = ("flagged", "unflagged")  # terms the viewer has flagged / not flagged yet
SORTS = {
    "frequency": ("-artefact_count", "stem"),
    "word": ("example", "stem"),
    "flags": ("-flag_count", "-artefact_count", "stem"),
}


def _flag_count(verdict: str | None = None):
    flags = TermFlag.objects.filter(term=OuterRef("pk"))
    if verdict:
        flags = flags.filter(verdict=verdict)
    counted = flags.order_by().values("term").annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _status_expression():
    return Case(
        When(relevant_count__gt=F("irrelevant_count"), then=Value(Status.RELEVANT)),
        When(irrelevant_count__gt=F("relevant_count"), then=Value(Status.IRRELEVANT)),
        default=Value(Status.UNDECIDED),
        output_field=CharField(),
    )


def _filter_status(qs, project, status: str):
    """Status filters through the grouped tally of flagged terms only (no per-term subqueries)."""
    if status == Status.RELEVANT:
        return qs.filter(id__in=relevant_term_ids(project=project))
    if status == Status.IRRELEVANT:
        return qs.filter(id__in=irrelevant_term_ids(project=project))
    if status == Status.UNDECIDED:
        return qs.exclude(id__in=relevant_term_ids(project=project)).exclude(
            id__in=irrelevant_term_ids(project=project)
        )
    return qs


def vocabulary_terms(
    *,
    project,
    user,
    query: str = "",
    status: str = "",
    mine: str = "",
    sort: str = "frequency",
    min_count: int = 0,
):
    """The project's terms with `relevant_count`, `irrelevant_count`, `flag_count`, `status`
    and the viewer's own `my_verdict` ("" when not flagged), sorted by artefact count by default.

    `query` matches the stem by prefix (typed words are stemmed: "training" finds "train")
    or the example word by substring; `status` is undecided/relevant/irrelevant; `mine` is
    flagged/unflagged (by the viewer); `sort` is frequency, word or flags."""
    mine_flag = TermFlag.objects.filter(term=OuterRef("pk"), user=user).values("verdict")[:1]
    qs = VocabularyTerm.objects.filter(project=project)
    if min_count:
        qs = qs.filter(artefact_count__gte=min_count)
    query = (query or "").strip()
    if query:
        qs = qs.filter(Q(stem__startswith=normalise_query(query)) | Q(example__icontains=query[:100]))
    qs = qs.annotate(
        relevant_count=_flag_count(TermFlag.Verdict.RELEVANT),
        irrelevant_count=_flag_count(TermFlag.Verdict.IRRELEVANT),
        my_verdict=Coalesce(Subquery(mine_flag, output_field=CharField()), Value("")),
    ).annotate(flag_count=F("relevant_count") + F("irrelevant_count"), status=_status_expression())
    qs = _filter_status(qs, project, status)
    if mine == "flagged":
        qs = qs.exclude(my_verdict="")
    elif mine == "unflagged":
        qs = qs.filter(my_verdict="")
    return qs.order_by(*SORTS.get(sort, SORTS["frequency"]))


def vocabulary_term(*, project, user, term_id: int):
    """One term of the project with its tally and the viewer's flag (None if not in this project)."""
    return vocabulary_terms(project=project, user=user).filter(pk=term_id).first()


def _flag_tally(project):
    """Per flagged term of the project: `r` relevant and `i` irrelevant flags (GROUP BY term)."""
    return (
        TermFlag.objects.filter(term__project=project)
        .order_by()
        .values("term_id")
        .annotate(
            r=Count("id", filter=Q(verdict=TermFlag.Verdict.RELEVANT)),
            i=Count("id", filter=Q(verdict=TermFlag.Verdict.IRRELEVANT)),
        )
    )


def has_final_vocabulary(*, project) -> bool:
    """Whether the moderators decided any word in the meeting (then the final list is the vocabulary)."""
    return VocabularyTerm.objects.filter(project=project).exclude(final="").exists()


def relevant_term_ids(*, project):
    """A subquery of the ids of the project's vocabulary: the words decided relevant in the meeting when
    the meeting decided any, else the terms with more relevant than irrelevant flags."""
    decided = VocabularyTerm.objects.filter(project=project).exclude(final="")
    majority = _flag_tally(project).filter(r__gt=F("i")).values("term_id")
    # One subquery (no query of its own): pages that use it several times stay at their query count.
    return (
        VocabularyTerm.objects.filter(project=project)
        .alias(meeting_decided=Exists(decided))
        .filter(Q(final="relevant") | Q(meeting_decided=False, id__in=majority))
        .values("id")
    )


def irrelevant_term_ids(*, project):
    return _flag_tally(project).filter(i__gt=F("r")).values("term_id")


def matching_artefact_ids(*, project):
    """A subquery of the ids of artefacts holding at least one relevant term (for `id__in=`)."""
    return ArtefactTerm.objects.filter(term_id__in=relevant_term_ids(project=project)).values("artefact_id")


def artefacts_matching_vocabulary(*, project):
    """The project's artefacts whose index holds at least one relevant term (one SQL query)."""
    return Artefact.objects.filter(project=project, id__in=matching_artefact_ids(project=project))


def matching_preview(*, project, limit: int = 10):
    """The first matching artefacts with `matched_terms` (their relevant terms) prefetched: two queries."""
    matched = ArtefactTerm.objects.filter(term_id__in=relevant_term_ids(project=project)).select_related("term")
    return list(
        artefacts_matching_vocabulary(project=project)
        .order_by("id")
        .prefetch_related(Prefetch("vocabulary_rows", queryset=matched.order_by("term__stem"), to_attr="matched_rows"))[
            :limit
        ]
    )


def vocabulary_summary(*, project) -> dict:
    """Counts for the page header, in three queries: terms, terms by status (of the flagged ones), artefacts
    (all, read by the index, matching, matching and still in the unlabelled pool)."""
    terms = _flag_tally(project).aggregate(
        relevant=Count("term_id", filter=Q(r__gt=F("i"))), irrelevant=Count("term_id", filter=Q(i__gt=F("r")))
    )
    terms["terms"] = VocabularyTerm.objects.filter(project=project).count()
    terms["undecided"] = terms["terms"] - terms["relevant"] - terms["irrelevant"]
    indexed = Exists(ArtefactIndexState.objects.filter(artefact=OuterRef("pk")))
    # artefacts some round already holds, through the reverse relation of labelling's round items
    in_rounds = Artefact.objects.filter(project=project, round_items__isnull=False).values("id")
    rows = matching_artefact_ids(project=project)
    artefacts = Artefact.objects.filter(project=project).aggregate(
        artefacts=Count("id"),
        indexed=Count("id", filter=Q(indexed)),
        matching=Count("id", filter=Q(id__in=rows)),
        matching_pool=Count("id", filter=Q(id__in=rows) & ~Q(id__in=in_rounds)),
    )
    artefacts["unindexed"] = artefacts["artefacts"] - artefacts["indexed"]
    return {**terms, **artefacts}


def vocabulary_jobs(*, project):
    """The project's index jobs, newest first."""
    jobs = Job.objects.filter(project=project, kind=Job.Kind.VOCABULARY_INDEX)
    return jobs.defer("input_data", "result_data").order_by("-id")


def artefacts_import_job(*, project, job_id: int) -> Job:
    """An artefact import of the project, without its upload's bytes (the mapping page reads its stored preview)."""
    return upload_job(
        project=project,
        job_id=job_id,
        kind=Job.Kind.IMPORT_ARTEFACTS,
        missing="No such artefact import in this project.",
    )


# --- repositories (the study's GitHub selection) ------------------------------------------------

REPOSITORY_SORTS = {
    "url": ("url",),
    "stars": ("-stars", "url"),
    "contributors": ("-contributors", "url"),
    "commits": ("-commits", "url"),
    "relevant_issues": ("-relevant_issues", "-relevant_commits", "url"),
    "relevant_commits": ("-relevant_commits", "url"),
}
REPOSITORY_STATES = ("selected", "excluded")


def collection_settings(*, project) -> CollectionSettings:
    """The project's settings (the defaults, unsaved, when none were stored)."""
    found = CollectionSettings.objects.filter(project=project).first()
    return found or CollectionSettings(project=project)


def repository_rules(*, project) -> RepositoryRules:
    return RepositoryRules.from_dict(collection_settings(project=project).repository_rules)


def repository_facts(repo: Repository) -> RepositoryFacts:
    return RepositoryFacts(
        url=repo.url,
        is_fork=repo.is_fork,
        has_open_issues=repo.has_open_issues,
        open_issues=repo.open_issues,
        contributors=repo.contributors,
        commits=repo.commits,
        stars=repo.stars,
        forks=repo.forks,
        top_contributor=repo.top_contributor,
        relevant_issues=repo.relevant_issues,
        relevant_commits=repo.relevant_commits,
    )


def repositories(*, project, framework: str = "", state: str = "", query: str = "", sort: str = "url"):
    qs = Repository.objects.filter(project=project)
    if framework:
        qs = qs.filter(framework=framework)
    if state == "selected":
        qs = qs.filter(selected=True)
    elif state == "excluded":
        qs = qs.filter(selected=False)
    if query:
        qs = qs.filter(Q(url__icontains=query) | Q(exclusion_reason__icontains=query) | Q(comment__icontains=query))
    return qs.order_by(*REPOSITORY_SORTS.get(sort, REPOSITORY_SORTS["url"]))


def repository_frameworks(*, project) -> list[str]:
    return list(
        Repository.objects.filter(project=project).order_by("framework").values_list("framework", flat=True).distinct()
    )


def repository_selection(*, project, framework: str = "", top: int = 100) -> dict:
    """`{"repositories": [{"rank", "url", "relevant_issues", "relevant_commits"}], "excluded": [{"url", "reason"}]}`."""
    qs = repositories(project=project, framework=framework)
    kept = [repository_facts(r) for r in qs if r.selected]
    ranked = select_repositories(kept, top=top)
    excluded = [{"url": r.url, "reason": r.exclusion_reason} for r in qs if not r.selected]
    return {"repositories": [r.as_dict() for r in ranked], "excluded": excluded}


def repository_rule_report(*, project, framework: str = "") -> dict:
    """How many repositories each rule excluded, how many people excluded or included, how many are kept."""
    rules = repository_rules(project=project)
    qs = list(repositories(project=project, framework=framework))
    report = rule_report([repository_facts(r) for r in qs], rules)
    report["excluded_by_hand"] = sum(1 for r in qs if r.excluded_by_hand)
    report["included_by_hand"] = sum(1 for r in qs if r.included_by_hand)
    report["selected"] = sum(1 for r in qs if r.selected)
    report["rows"] = [(text, report["excluded"].get(code, 0)) for code, text in report["rules"]]
    report["reasons"] = dict(
        Counter(r.exclusion_reason for r in qs if r.excluded_by_hand and r.exclusion_reason).most_common()
    )
    return report


# --- the vocabulary workflow: long tail, batches, meeting, word lists --------------------------------


def vocabulary_above_tail(*, project):
    """The terms left after the long-tail cut (in at least `long_tail_min` artefacts), most frequent first."""
    cut = collection_settings(project=project).long_tail_min
    return VocabularyTerm.objects.filter(project=project, artefact_count__gte=cut).order_by("-artefact_count", "stem")


def vocabulary_batches(*, project) -> list[dict]:
    """Each batch with its member and progress: terms, terms the member flagged, percent."""
    batches = (
        VocabularyBatch.objects.filter(project=project)
        .select_related("assignee")
        .annotate(
            n_terms=Count("terms", distinct=True),
            n_flagged=Count("terms", filter=Q(terms__flags__user=F("assignee")), distinct=True),
        )
        .order_by("number")
    )
    return [
        {
            "id": b.id,
            "number": b.number,
            "assignee": b.assignee.username if b.assignee else "",
            "assignee_id": b.assignee_id,
            "terms": b.n_terms,
            "flagged": b.n_flagged,
            "percent": int(100 * b.n_flagged / b.n_terms) if b.n_terms else 100,
        }
        for b in batches
    ]


def vocabulary_batch_terms(*, project, batch_number: int, user):
    """The terms of one batch, with the viewer's flag."""
    return (
        VocabularyTerm.objects.filter(project=project, batch__number=batch_number)
        .annotate(my_flag=Subquery(TermFlag.objects.filter(term=OuterRef("pk"), user=user).values("verdict")[:1]))
        .order_by("-artefact_count", "stem")
    )


MEETING_FILTERS = ("flagged", "relevant", "undecided", "decided")


def vocabulary_meeting_terms(*, project, which: str = "flagged"):
    """The words for the meeting: flagged relevant by someone (default), or all flagged, undecided, decided."""
    qs = VocabularyTerm.objects.filter(project=project).annotate(
        relevant_flags=_flag_count("relevant"), irrelevant_flags=_flag_count("irrelevant")
    )
    if which == "relevant":
        qs = qs.filter(relevant_flags__gt=0)
    elif which == "undecided":
        qs = qs.filter(relevant_flags__gt=0, final="")
    elif which == "decided":
        qs = qs.exclude(final="")
    else:
        qs = qs.filter(Q(relevant_flags__gt=0) | Q(irrelevant_flags__gt=0))
    return qs.select_related("decided_by").order_by("-relevant_flags", "-artefact_count", "stem")


def vocabulary_word_list(*, project, which: str = "final") -> list[tuple[str, int]]:
    """(word, n_documents) rows in the study's layout: the final list, or every term above the long tail."""
    if which == "final":
        qs = VocabularyTerm.objects.filter(project=project, id__in=relevant_term_ids(project=project))
        qs = qs.order_by("-artefact_count", "stem")
    else:
        qs = vocabulary_above_tail(project=project)
    return list(qs.values_list("example", "artefact_count"))


def mining_runs(*, project, limit: int = 10) -> list[dict]:
    """The latest mining runs with their job's progress."""
    runs = MiningRun.objects.filter(project=project).select_related("job").order_by("-id")[:limit]
    return [
        {
            "run": run,
            "progress": job_progress(run.job) if run.job else None,
            "repositories": len(run.params.get("repositories", [])),
        }
        for run in runs
    ]
