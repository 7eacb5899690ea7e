"""Relevance vocabulary: tokenising and stemming, the index build (idempotent, batched,
following edits), flags and their majority, the matching selector and round sampling."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import ArtefactTerm, TermFlag, VocabularyTerm
from collection.selectors import (
    artefacts_matching_vocabulary,
    matching_preview,
    vocabulary_summary,
    vocabulary_terms,
)
from collection.services import term_flag, vocabulary_index, vocabulary_index_job_run, vocabulary_index_start
from collection.vocabulary import example_word, normalise_query, plain_text, stem_forms, stems, tokenise
from core.errors import InvalidInput, NotAllowed, NotFound
from core.models import Job
from labelling import services
from tests.factories import ArtefactFactory, ProjectFactory, member

# --- tokenising and stemming ----------------------------------------------------------------


def test_inflections_share_one_stem():
    assert stems("training trained trains train") == {"train"}
    assert stems("Layers layer LAYER") == {"layer"}


def test_each_stem_keeps_its_most_frequent_surface_form():
    forms = stem_forms("Training the model; training again. It trained.")
    assert forms["train"] == {"training": 2, "trained": 1}
    assert example_word(forms["train"]) == "training"
    assert example_word(stem_forms("trains trained")["train"]) == "trains"  # a tie: the shorter word


def test_html_tags_entities_and_stop_words_are_dropped():
    words = tokenise(plain_text('<p class="x">The loss is <b>NaN</b> &amp; it diverges</p><br/>'))
    assert words == ["loss", "nan", "diverges"]


def test_tokens_keep_identifiers_but_not_numbers_or_noise():
    words = tokenise("conv2d float32 batch_size 3.14 x " + "a" * 41)
    assert words == ["conv2d", "float32", "batch", "size"]


def test_a_search_is_stemmed_like_the_text():
    assert normalise_query("Training") == "train"
    assert normalise_query("  ") == ""


# --- the index ------------------------------------------------------------------------------


def corpus(project):
    return [
        ArtefactFactory(
            project=project, title="Training loss is NaN", body="<p>The loss became nan while training.</p>"
        ),
        ArtefactFactory(project=project, title="Model trains slowly on GPU", body="GPU memory is full"),
        ArtefactFactory(project=project, title="Wrong tensor shape", body="<pre>ValueError: shape mismatch</pre>"),
    ]


def term(project, stem):
    return VocabularyTerm.objects.get(project=project, stem=stem)


def index_rows(project):
    return set(ArtefactTerm.objects.filter(artefact__project=project).values_list("id", "artefact_id", "term__stem"))


def test_index_builds_terms_with_counts_and_examples(project):
    a, b, c = corpus(project)
    report = vocabulary_index(project=project)
    assert report["artefacts"] == 3
    train = term(project, "train")
    assert train.artefact_count == 2  # "Training" in a, "trains" in b
    assert train.example == "training"
    assert term(project, "shape").artefact_count == 1
    assert term(project, "gpu").artefact_count == 1
    assert not VocabularyTerm.objects.filter(project=project, stem__in=["the", "is", "p", "pre"]).exists()
    assert set(ArtefactTerm.objects.filter(artefact=c).values_list("term__stem", flat=True)) == {
        "wrong",
        "tensor",
        "shape",
        "valueerror",
        "mismatch",
    }
    assert report["terms"] == VocabularyTerm.objects.filter(project=project).count() == report["terms_new"]


def test_index_is_idempotent(project):
    corpus(project)
    first = vocabulary_index(project=project)
    rows = index_rows(project)
    terms = set(VocabularyTerm.objects.filter(project=project).values_list("id", "stem", "artefact_count"))
    second = vocabulary_index(project=project)
    assert first["rows_added"] == len(rows) > 0 and first["read"] == 3
    assert second["rows_added"] == second["rows_removed"] == second["terms_new"] == second["terms_pruned"] == 0
    assert second["read"] == 0 and second["artefacts"] == 3  # unchanged artefacts are not read again
    third = vocabulary_index(project=project, full=True)
    assert third["read"] == 3 and third["rows_added"] == third["rows_removed"] == 0
    assert index_rows(project) == rows  # the very same rows, not deleted and recreated
    assert set(VocabularyTerm.objects.filter(project=project).values_list("id", "stem", "artefact_count")) == terms


def test_batches_give_the_same_index_as_one_pass(db):
    one, many = ProjectFactory(), ProjectFactory()
    for p in (one, many):
        corpus(p)
        ArtefactFactory.create_batch(4, project=p, body="dropout layer overfitting")
    vocabulary_index(project=one, batch_size=1000)
    calls = []
    vocabulary_index(project=many, batch_size=2, progress=lambda done, total, message: calls.append((done, total)))
    counts = {
        p: dict(VocabularyTerm.objects.filter(project=p).values_list("stem", "artefact_count")) for p in (one, many)
    }
    assert counts[one] == counts[many]
    assert calls[0] == (0, 7) and calls[-1] == (7, 7) and len(calls) == 5  # start + 4 batches


def test_refresh_follows_edited_and_deleted_artefacts(project, django_user_model):
    a, b, c = corpus(project)
    vocabulary_index(project=project)
    user = member(project, evaluator=True)
    term_flag(term_id=term(project, "mismatch").id, user=user, verdict="relevant")
    c.body = "broadcasting error"
    c.save()
    b.delete()
    report = vocabulary_index(project=project)
    assert report["read"] == 1  # only the edited one
    assert report["rows_removed"] >= 2  # valueerror, mismatch left c
    assert term(project, "train").artefact_count == 1
    assert term(project, "broadcast").artefact_count == 1
    assert not VocabularyTerm.objects.filter(project=project, stem__in=["gpu", "valueerror"]).exists()  # pruned
    flagged = term(project, "mismatch")  # no artefact left, but a member's flag keeps it
    assert flagged.artefact_count == 0 and flagged.flags.count() == 1


def test_index_is_per_project(db):
    mine, other = ProjectFactory(), ProjectFactory()
    corpus(mine)
    ArtefactFactory(project=other, title="Something about training")
    vocabulary_index(project=mine)
    assert not VocabularyTerm.objects.filter(project=other).exists()
    vocabulary_index(project=other)
    assert term(other, "train").artefact_count == 1 and term(mine, "train").artefact_count == 2


def test_index_of_an_empty_project_reports_zero(project):
    assert vocabulary_index(project=project)["artefacts"] == 0
    with pytest.raises(InvalidInput) as error:
        vocabulary_index(project=project, batch_size=0)
    assert error.value.field == "batch_size"


# --- flags and their majority ---------------------------------------------------------------


@pytest.fixture
def indexed(team):
    corpus(team.project)
    vocabulary_index(project=team.project)
    return team


def status_of(project, user, stem):
    return vocabulary_terms(project=project, user=user).get(stem=stem)


def test_status_is_the_majority_of_flags(indexed):
    t = indexed
    p, (e1, e2, e3) = t.project, t.evaluators
    train = term(p, "train")
    assert status_of(p, e1, "train").status == "undecided"
    term_flag(term_id=train.id, user=e1, verdict="relevant")
    row = status_of(p, e1, "train")
    assert (row.status, row.relevant_count, row.irrelevant_count, row.my_verdict) == ("relevant", 1, 0, "relevant")
    term_flag(term_id=train.id, user=e2, verdict="irrelevant")
    assert status_of(p, e1, "train").status == "undecided"  # a tie
    term_flag(term_id=train.id, user=e3, verdict="irrelevant")
    assert status_of(p, e1, "train").status == "irrelevant"
    term_flag(term_id=train.id, user=e3, verdict="relevant")  # changing a flag replaces it
    row = status_of(p, e3, "train")
    assert (row.status, row.relevant_count, row.irrelevant_count, row.my_verdict) == ("relevant", 2, 1, "relevant")
    assert TermFlag.objects.filter(term=train).count() == 3
    term_flag(term_id=train.id, user=e1, verdict="clear")
    assert status_of(p, e1, "train").my_verdict == ""
    assert status_of(p, e1, "train").status == "undecided"


def test_every_member_may_flag(indexed):
    for user in (indexed.lead, indexed.moderator, indexed.evaluators[0]):
        term_flag(term_id=term(indexed.project, "gpu").id, user=user, verdict="relevant")
    assert TermFlag.objects.filter(term__stem="gpu").count() == 3


def test_bad_flags_are_refused_and_nothing_is_written(indexed):
    p, eva = indexed.project, indexed.evaluators[0]
    gpu = term(p, "gpu")
    with pytest.raises(InvalidInput) as error:
        term_flag(term_id=gpu.id, user=eva, verdict="maybe")
    assert error.value.field == "verdict"
    with pytest.raises(InvalidInput):
        term_flag(term_id="abc", user=eva, verdict="relevant")
    outsider = member(ProjectFactory(), lead=True)
    with pytest.raises(NotFound):
        term_flag(term_id=gpu.id, user=outsider, verdict="relevant")
    gone = member(p, evaluator=True, active=False)
    with pytest.raises(NotFound):
        term_flag(term_id=gpu.id, user=gone, verdict="relevant")
    with pytest.raises(NotFound):
        term_flag(term_id=gpu.id, user=eva, verdict="relevant", project=ProjectFactory())
    with pytest.raises(NotFound):
        term_flag(term_id=10**9, user=eva, verdict="relevant")
    assert not TermFlag.objects.exists()


# --- term lists -----------------------------------------------------------------------------


def test_term_list_filters_search_and_sorts(indexed):
    p, (e1, e2, _) = indexed.project, indexed.evaluators
    term_flag(term_id=term(p, "gpu").id, user=e1, verdict="relevant")
    term_flag(term_id=term(p, "shape").id, user=e2, verdict="irrelevant")
    stems_of = lambda **kw: [t.stem for t in vocabulary_terms(project=p, user=e1, **kw)]  # noqa: E731
    everything = stems_of()
    assert everything[0] == "train" and everything[1:] == sorted(everything[1:])  # by count, then stem
    assert stems_of(status="relevant") == ["gpu"]
    assert stems_of(status="irrelevant") == ["shape"]
    assert "gpu" not in stems_of(status="undecided") and "train" in stems_of(status="undecided")
    assert stems_of(mine="flagged") == ["gpu"]
    assert "gpu" not in stems_of(mine="unflagged") and "shape" in stems_of(mine="unflagged")
    assert stems_of(query="Training") == ["train"]
    assert stems_of(query="mism") == ["mismatch"]
    assert stems_of(min_count=2) == ["train"]
    assert stems_of(sort="flags")[:2] in (["gpu", "shape"], ["shape", "gpu"])
    words = [t.example for t in vocabulary_terms(project=p, user=e1, sort="word")]
    assert words == sorted(words)


# --- matching -------------------------------------------------------------------------------


def test_artefacts_matching_vocabulary(indexed):
    p, (e1, e2, e3) = indexed.project, indexed.evaluators
    a, b, c = p.artefacts.order_by("id")
    assert not artefacts_matching_vocabulary(project=p).exists()
    term_flag(term_id=term(p, "train").id, user=e1, verdict="relevant")  # "Training" in a, "trains" in b
    assert set(artefacts_matching_vocabulary(project=p)) == {a, b}
    term_flag(term_id=term(p, "train").id, user=e2, verdict="irrelevant")  # now a tie: undecided
    assert not artefacts_matching_vocabulary(project=p).exists()
    term_flag(term_id=term(p, "shape").id, user=e3, verdict="relevant")
    term_flag(term_id=term(p, "gpu").id, user=e3, verdict="irrelevant")
    assert list(artefacts_matching_vocabulary(project=p)) == [c]
    other = ProjectFactory()
    ArtefactFactory(project=other, title="wrong shape")
    vocabulary_index(project=other)
    assert list(artefacts_matching_vocabulary(project=p)) == [c]  # other projects' flags and artefacts stay apart


def test_matching_is_one_query_and_the_preview_two(indexed):
    p, e1 = indexed.project, indexed.evaluators[0]
    term_flag(term_id=term(p, "train").id, user=e1, verdict="relevant")
    term_flag(term_id=term(p, "nan").id, user=e1, verdict="relevant")
    with CaptureQueriesContext(connection) as queries:
        matched = list(artefacts_matching_vocabulary(project=p))
    assert len(matched) == 2 and len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        preview = matching_preview(project=p)
        words = {a.id: [row.term.stem for row in a.matched_rows] for a in preview}
    assert len(queries) == 2
    first, second = (a.id for a in preview)
    assert words == {first: ["nan", "train"], second: ["train"]}


def test_summary_counts(indexed):
    p, (e1, e2, _) = indexed.project, indexed.evaluators
    term_flag(term_id=term(p, "train").id, user=e1, verdict="relevant")
    term_flag(term_id=term(p, "gpu").id, user=e1, verdict="irrelevant")
    term_flag(term_id=term(p, "shape").id, user=e1, verdict="relevant")
    term_flag(term_id=term(p, "shape").id, user=e2, verdict="irrelevant")
    ArtefactFactory(project=p, title="not indexed yet")
    summary = vocabulary_summary(project=p)
    total = VocabularyTerm.objects.filter(project=p).count()
    assert summary["terms"] == total
    assert (summary["relevant"], summary["irrelevant"], summary["undecided"]) == (1, 1, total - 2)
    assert (summary["artefacts"], summary["indexed"], summary["unindexed"]) == (4, 3, 1)
    assert (summary["matching"], summary["matching_pool"]) == (2, 2)


# --- round sampling restricted to the vocabulary ---------------------------------------------


def test_round_sample_can_keep_to_matching_artefacts(indexed):
    p, (e1, e2, _) = indexed.project, indexed.evaluators
    ArtefactFactory.create_batch(5, project=p, title="unrelated words", body="")
    vocabulary_index(project=p)
    term_flag(term_id=term(p, "train").id, user=e1, verdict="relevant")
    matching = set(artefacts_matching_vocabulary(project=p).values_list("id", flat=True))
    assert len(matching) == 2
    rnd = services.round_create(
        project=p, user=indexed.lead, evaluator_ids=[e1.id, e2.id], sample_size=2, seed=1, vocabulary_only=True
    )
    assert set(rnd.items.values_list("artefact_id", flat=True)) == matching
    assert (vocabulary_summary(project=p)["matching"], vocabulary_summary(project=p)["matching_pool"]) == (2, 0)
    with pytest.raises(InvalidInput) as error:  # the matching pool is used up now
        services.round_create(
            project=p, user=indexed.lead, evaluator_ids=[e1.id, e2.id], sample_size=1, vocabulary_only=True
        )
    assert error.value.field == "sample_size"
    rnd = services.round_create(project=p, user=indexed.lead, evaluator_ids=[e1.id, e2.id], sample_size=6, seed=1)
    assert rnd.items.count() == 6  # without the flag the whole pool is sampled


# --- index jobs -----------------------------------------------------------------------------


def test_a_lead_starts_an_index_job_and_it_reports(team, django_capture_on_commit_callbacks):
    corpus(team.project)
    with django_capture_on_commit_callbacks(execute=True):
        job = vocabulary_index_start(project=team.project, user=team.lead)
    job.refresh_from_db()
    assert (job.kind, job.status, job.progress) == (Job.Kind.VOCABULARY_INDEX, Job.Status.DONE, 100)
    assert job.report["artefacts"] == 3 and job.report["terms"] == VocabularyTerm.objects.count()
    assert job.started_at and job.finished_at
    assert vocabulary_index_job_run(job_id=job.id) == Job.Status.DONE  # a retried task changes nothing
    assert Job.objects.get(pk=job.pk).finished_at == job.finished_at


def test_only_leads_start_index_jobs_and_one_at_a_time(team, django_capture_on_commit_callbacks):
    with pytest.raises(NotAllowed):
        vocabulary_index_start(project=team.project, user=team.evaluators[0])
    with pytest.raises(NotFound):
        vocabulary_index_start(project=team.project, user=member(ProjectFactory(), lead=True))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = vocabulary_index_start(project=team.project, user=team.lead)
        again = vocabulary_index_start(project=team.project, user=team.lead)
    assert first.pk == again.pk and first.status == Job.Status.PENDING
    assert len(callbacks) == 1
    assert Job.objects.filter(kind=Job.Kind.VOCABULARY_INDEX).count() == 1


def test_a_failing_build_is_recorded_on_its_job(team, monkeypatch):
    job = Job.objects.create(project=team.project, kind=Job.Kind.VOCABULARY_INDEX)

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("collection.services.vocabulary_index", broken)
    assert vocabulary_index_job_run(job_id=job.id) == Job.Status.FAILED
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "disk full" and job.finished_at
