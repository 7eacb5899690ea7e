"""The study's vocabulary workflow: HTML-aware tokens, stop words, long tail, batches, meeting, word lists."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from collection.models import VocabularyTerm
from collection.selectors import (
    artefacts_matching_vocabulary,
    vocabulary_batches,
    vocabulary_meeting_terms,
    vocabulary_word_list,
)
from collection.services import (
    term_decide,
    term_flag,
    vocabulary_batches_create,
    vocabulary_index,
    vocabulary_settings_set,
    vocabulary_words_import,
)
from collection.vocabulary import artefact_text, stems
from core.errors import InvalidInput, NotAllowed, NotFound
from tests.factories import ArtefactFactory, member

pytestmark = pytest.mark.django_db


def test_titles_are_text_and_bodies_html():
    title = "<tf.Tensor 'batch:0' shape=(?, 3) dtype=float32> loss < 0.5 and accuracy > 0.9"
    text = artefact_text(title, "<p>the <b>gradient</b> &amp; the optimizer</p>")
    assert {"tensor", "batch", "shape", "dtype", "float32", "loss", "accuraci", "gradient", "optim"} <= stems(text)
    markdown = artefact_text("t", "use <model> here", "markdown")  # not HTML: the angle brackets keep the word
    assert "model" in stems(markdown)


@pytest.fixture
def corpus(project):
    """12 artefacts about loss, 11 about gradients, 3 about a rare word; all mention "the"."""
    for i in range(12):
        ArtefactFactory(project=project, title=f"The loss explodes {i}", body="")
    for i in range(11):
        ArtefactFactory(project=project, title=f"The gradient vanishes {i}", body="<p>the <b>optimizer</b></p>")
    for i in range(3):
        ArtefactFactory(project=project, title=f"The quaternion {i}", body="")
    vocabulary_index(project=project)
    return project


def test_stop_words_kept_when_the_project_says_so(corpus):
    assert not VocabularyTerm.objects.filter(project=corpus, stem="the").exists()
    lead = member(corpus, lead=True)
    vocabulary_settings_set(project=corpus, user=lead, keep_stop_words=True)
    report = vocabulary_index(project=corpus)
    assert report["read"] == 26  # the rules changed: every artefact is read again
    assert VocabularyTerm.objects.get(project=corpus, stem="the").artefact_count == 26


def test_batches_after_the_long_tail_and_their_progress(corpus):
    lead, a, b = member(corpus, lead=True), member(corpus, evaluator=True), member(corpus, evaluator=True)
    vocabulary_settings_set(project=corpus, user=lead, long_tail_min=10)
    batches = vocabulary_batches_create(project=corpus, user=lead, members=[a.username, b.username])
    assert len(batches) == 2
    rows = vocabulary_batches(project=corpus)
    above = VocabularyTerm.objects.filter(project=corpus, artefact_count__gte=10).count()
    assert sum(r["terms"] for r in rows) == above and abs(rows[0]["terms"] - rows[1]["terms"]) <= 1
    assert not VocabularyTerm.objects.filter(project=corpus, stem="quaternion").exclude(batch=None).exists()
    term = VocabularyTerm.objects.filter(project=corpus, batch=batches[0]).first()
    term_flag(project=corpus, term_id=term.id, user=a, verdict="relevant")
    term_flag(project=corpus, term_id=term.id, user=b, verdict="relevant")  # not b's batch: not b's progress
    rows = vocabulary_batches(project=corpus)
    assert (rows[0]["flagged"], rows[1]["flagged"]) == (1, 0)
    with pytest.raises(NotAllowed):
        vocabulary_batches_create(project=corpus, user=a, members=[a.username])
    with pytest.raises(InvalidInput):
        vocabulary_batches_create(project=corpus, user=lead, members=["stranger"])


def test_meeting_decides_the_final_vocabulary_which_filters_artefacts(corpus):
    lead, moderator, evaluator = (
        member(corpus, lead=True),
        member(corpus, moderator=True),
        member(corpus, evaluator=True),
    )
    loss = VocabularyTerm.objects.get(project=corpus, stem="loss")
    gradient = VocabularyTerm.objects.get(project=corpus, stem="gradient")
    term_flag(project=corpus, term_id=loss.id, user=evaluator, verdict="relevant")
    term_flag(project=corpus, term_id=gradient.id, user=evaluator, verdict="relevant")
    assert artefacts_matching_vocabulary(project=corpus).count() == 23  # before the meeting: the majority
    assert {t.stem for t in vocabulary_meeting_terms(project=corpus)} == {"loss", "gradient"}
    term_decide(project=corpus, user=moderator, term_id=gradient.id, verdict="relevant")
    term_decide(project=corpus, user=moderator, term_id=loss.id, verdict="irrelevant")
    assert artefacts_matching_vocabulary(project=corpus).count() == 11  # the final list decides
    assert vocabulary_word_list(project=corpus) == [("gradient", 11)]
    with pytest.raises(NotAllowed):
        term_decide(project=corpus, user=evaluator, term_id=loss.id, verdict="relevant")
    with pytest.raises(InvalidInput):
        term_decide(project=corpus, user=lead, term_id=loss.id, verdict="maybe")
    with pytest.raises(NotFound):
        term_decide(project=corpus, user=lead, term_id=10**9, verdict="relevant")


def test_word_lists_in_and_out(corpus, tmp_path):
    path = tmp_path / "final.csv"
    path.write_text("word,n_documents\nLoss,12\nexplodes,12\nnot one,1\nbackpropagation,0\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_vocabulary", corpus.slug, str(path), final=True, stdout=out, stderr=err)
    assert "'not one' is not one word" in err.getvalue()
    assert VocabularyTerm.objects.get(project=corpus, stem="backpropag").final == "relevant"  # a new term
    assert artefacts_matching_vocabulary(project=corpus).count() == 12
    out = io.StringIO()
    call_command("export_vocabulary", corpus.slug, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "word,n_documents" and "loss,12" in lines and "explodes,12" in lines
    with pytest.raises(InvalidInput, match="word"):
        vocabulary_words_import(project=corpus, data=b"term,count\nx,1\n")


def test_pages(corpus, client):
    lead, evaluator = member(corpus, lead=True), member(corpus, evaluator=True, username="eva")
    client.force_login(lead)
    workflow = reverse("collection:vocabulary_workflow", args=[corpus.slug])
    assert client.post(workflow, {"action": "settings", "long_tail_min": "10"}).status_code == 302
    assert client.post(workflow, {"action": "batches", "members": ["eva"]}).status_code == 302
    page = client.get(workflow)
    assert page.status_code == 200 and b"eva" in page.content
    client.force_login(evaluator)
    batch_url = reverse("collection:vocabulary_batch", args=[corpus.slug, 1])
    term = VocabularyTerm.objects.get(project=corpus, stem="loss")
    client.post(batch_url, {"term_id": term.id, "verdict": "relevant"})
    assert vocabulary_batches(project=corpus)[0]["flagged"] == 1
    assert client.get(reverse("collection:vocabulary_meeting", args=[corpus.slug])).status_code == 403
    client.force_login(lead)
    meeting = reverse("collection:vocabulary_meeting", args=[corpus.slug])
    assert b"loss" in client.get(meeting).content
    client.post(meeting, {"term_id": term.id, "verdict": "relevant"})
    export = client.get(reverse("collection:vocabulary_words", args=[corpus.slug]))
    assert export.content.decode().splitlines() == ["word,n_documents", "loss,12"]


def test_meeting_decision_through_the_api(corpus):
    moderator, evaluator = member(corpus, moderator=True), member(corpus, evaluator=True)
    term = VocabularyTerm.objects.get(project=corpus, stem="loss")
    url = f"/api/projects/{corpus.slug}/vocabulary/{term.id}/decide/"
    api = APIClient()
    api.force_authenticate(evaluator)
    assert api.post(url, {"verdict": "relevant"}, format="json").status_code == 403
    api.force_authenticate(moderator)
    response = api.post(url, {"verdict": "relevant"}, format="json")
    assert response.status_code == 200 and response.json()["final"] == "relevant"
    assert response.json()["decided_by"] == moderator.username
    assert api.post(url, {"verdict": "perhaps"}, format="json").status_code == 400
