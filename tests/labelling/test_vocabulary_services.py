"""The vocabulary under the real services (PostgreSQL, Redis, a Celery worker, real threads):
an index job run by the worker with its progress on the Job row, concurrent builds and
flags that never duplicate a row, and the VACUUM after a large build. Marked `services`."""

import pytest
from django.db import close_old_connections, connection

from collection.models import ArtefactIndexState, ArtefactTerm, TermFlag, VocabularyTerm
from collection.services import term_flag, vocabulary_index, vocabulary_index_start
from core.models import Job
from tests.factories import ArtefactFactory, ProjectFactory, member
from tests.helpers import in_threads, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def corpus():
    project = ProjectFactory()
    lead = member(project, lead=True, username="lead")
    eva = member(project, evaluator=True, username="eva1")
    for i in range(60):
        ArtefactFactory(project=project, title=f"Training run {i} diverges", body=f"<p>loss nan word{i}</p>")
    return project, lead, eva


def test_the_worker_builds_the_index_and_stores_progress(corpus, celery_worker_live):
    project, lead, _ = corpus
    job = vocabulary_index_start(project=project, user=lead)  # autocommit: the task is sent at once

    def finished():
        close_old_connections()
        job.refresh_from_db()
        return job.is_finished

    wait_until(finished, message="the index job did not finish")
    assert job.status == Job.Status.DONE, job.error
    assert (job.progress, job.report["artefacts"], job.report["read"]) == (100, 60, 60)
    assert job.started_at and job.finished_at and job.task_id
    assert VocabularyTerm.objects.get(project=project, stem="train").artefact_count == 60
    assert ArtefactIndexState.objects.filter(artefact__project=project).count() == 60


def test_simultaneous_builds_make_each_row_once(corpus):
    project, *_ = corpus
    reports = in_threads(*[lambda: vocabulary_index(project=project, batch_size=7) for _ in range(3)], together=True)
    assert all(r["artefacts"] == 60 for r in reports)
    rows = ArtefactTerm.objects.filter(artefact__project=project)
    assert rows.count() == rows.values("artefact_id", "term_id").distinct().count()
    assert VocabularyTerm.objects.filter(project=project).count() == len({*rows.values_list("term_id", flat=True)})
    vocabulary_index(project=project)  # whatever the interleaving, a later build finds it complete
    assert VocabularyTerm.objects.get(project=project, stem="word7").artefact_count == 1
    assert VocabularyTerm.objects.get(project=project, stem="diverg").artefact_count == 60


def test_simultaneous_flags_of_one_member_leave_one_flag(corpus):
    project, _, eva = corpus
    vocabulary_index(project=project)
    train = VocabularyTerm.objects.get(project=project, stem="train")
    verdicts = ["relevant", "irrelevant"] * 3
    in_threads(*[lambda v=v: term_flag(term_id=train.id, user=eva, verdict=v) for v in verdicts], together=True)
    assert TermFlag.objects.filter(term=train, user=eva).count() == 1


def test_a_large_build_vacuums_and_analyzes_the_index_tables(corpus, monkeypatch):
    project, *_ = corpus
    monkeypatch.setattr("collection.services.VACUUM_AFTER", 1)
    vocabulary_index(project=project)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
            [ArtefactTerm._meta.db_table],
        )
        assert cursor.fetchone() == (True, True)
