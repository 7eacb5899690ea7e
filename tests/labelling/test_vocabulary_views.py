"""The vocabulary page: who sees it, flagging word by word (htmx rows and plain posts),
building the index with its progress panel, fragments, bad input and flat query counts."""

import pytest
from django.urls import reverse

from collection.models import TermFlag, VocabularyTerm
from collection.services import term_flag, vocabulary_index
from core.models import Job
from tests.factories import ArtefactFactory, ProjectFactory, member


def page(project, query=""):
    return reverse("collection:vocabulary", args=[project.slug]) + (f"?{query}" if query else "")


@pytest.fixture
def login_as(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def indexed(team):
    ArtefactFactory(project=team.project, title="Training loss is NaN", body="<p>loss became nan</p>")
    ArtefactFactory(project=team.project, title="Model trains slowly on GPU", body="GPU memory")
    ArtefactFactory(project=team.project, title="<script>alert(1)</script> shape", body="")
    vocabulary_index(project=team.project)
    return team


def term(project, stem):
    return VocabularyTerm.objects.get(project=project, stem=stem)


# --- access -----------------------------------------------------------------------------------


def test_non_members_get_404_and_see_nothing(indexed, login_as):
    outsider = member(ProjectFactory(), lead=True, moderator=True, evaluator=True)
    client = login_as(outsider)
    response = client.get(page(indexed.project))
    assert response.status_code == 404
    assert indexed.project.name not in response.content.decode()
    gpu = term(indexed.project, "gpu")
    response = client.post(page(indexed.project), {"action": "flag", "term_id": gpu.id, "verdict": "relevant"})
    assert response.status_code == 404
    response = client.post(page(indexed.project), {"action": "index"})
    assert response.status_code == 404
    assert not TermFlag.objects.exists() and not Job.objects.exists()


def test_inactive_members_are_outsiders_and_anonymous_visitors_log_in(indexed, login_as, client):
    assert client.get(page(indexed.project)).status_code == 302
    gone = member(indexed.project, evaluator=True, active=False)
    assert login_as(gone).get(page(indexed.project)).status_code == 404


@pytest.mark.parametrize("role", ["lead", "moderator", "evaluator"])
def test_every_member_sees_the_page_and_the_nav_link(indexed, login_as, role):
    user = {"lead": indexed.lead, "moderator": indexed.moderator, "evaluator": indexed.evaluators[0]}[role]
    response = login_as(user).get(page(indexed.project))
    assert response.status_code == 200
    content = response.content.decode()
    assert f'href="{page(indexed.project)}" aria-current="page">Vocabulary' in content
    assert "training" in content and 'id="term-' in content
    assert ('id="vocab-build"' in content) == (role == "lead")  # only leads get the build button


# --- flagging ---------------------------------------------------------------------------------


def test_flag_by_htmx_returns_the_row(indexed, login_as):
    eva = indexed.evaluators[0]
    gpu = term(indexed.project, "gpu")
    response = login_as(eva).post(
        page(indexed.project, "status=undecided"),
        {"action": "flag", "term_id": gpu.id, "verdict": "relevant"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="term-{gpu.id}"')
    assert "<html" not in content
    assert 'value="relevant" class="small primary" aria-pressed="true"' in content
    assert "?status=undecided" in content  # the row keeps the list's filters for its next post
    assert TermFlag.objects.get(term=gpu, user=eva).verdict == "relevant"


def test_flag_without_javascript_redirects_back_to_the_list(indexed, login_as):
    eva = indexed.evaluators[1]
    gpu = term(indexed.project, "gpu")
    response = login_as(eva).post(
        page(indexed.project, "sort=word&page=1"), {"action": "flag", "term_id": gpu.id, "verdict": "irrelevant"}
    )
    assert response.status_code == 302
    assert response["Location"] == page(indexed.project, "sort=word&page=1") + f"#term-{gpu.id}"
    assert TermFlag.objects.get(term=gpu, user=eva).verdict == "irrelevant"


def test_the_table_shows_my_flag_and_the_tally(indexed, login_as):
    p, (e1, e2, e3) = indexed.project, indexed.evaluators
    gpu = term(p, "gpu")
    term_flag(term_id=gpu.id, user=e2, verdict="relevant")
    term_flag(term_id=gpu.id, user=e3, verdict="relevant")
    term_flag(term_id=gpu.id, user=e1, verdict="irrelevant")
    response = login_as(e1).get(page(p, "q=gpu"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="vocab-terms")
    content = response.content.decode()
    assert content.lstrip().startswith('<section class="card" id="vocab-terms"')
    assert '<span class="badge agreed">relevant</span>' in content
    assert '<span title="relevant">2</span> / <span title="irrelevant">1</span>' in content
    assert 'value="irrelevant" class="small primary" aria-pressed="true"' in content


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "flag", "verdict": "maybe"}, "verdict"),
        ({"action": "flag", "verdict": "relevant", "term_id": "x"}, "term_id"),
        ({"action": "dance"}, "action"),
    ],
)
def test_bad_posts_are_4xx_naming_the_field_and_write_nothing(indexed, login_as, data, field):
    data = {"term_id": term(indexed.project, "gpu").id, **data}
    response = login_as(indexed.evaluators[0]).post(page(indexed.project), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not TermFlag.objects.exists()


def test_a_term_of_another_project_is_404(indexed, login_as):
    other = ProjectFactory()
    ArtefactFactory(project=other, title="hidden words")
    vocabulary_index(project=other)
    foreign = VocabularyTerm.objects.filter(project=other).first()
    response = login_as(indexed.evaluators[0]).post(
        page(indexed.project), {"action": "flag", "term_id": foreign.id, "verdict": "relevant"}
    )
    assert response.status_code == 404
    assert not TermFlag.objects.exists()


@pytest.mark.parametrize("query", ["status=maybe", "min=-1", "sort=random", "mine=everyone", "min=abc"])
def test_bad_filters_are_400(indexed, login_as, query):
    response = login_as(indexed.evaluators[0]).get(page(indexed.project, query))
    assert response.status_code == 400


def test_filters_narrow_the_table(indexed, login_as):
    p, eva = indexed.project, indexed.evaluators[0]
    term_flag(term_id=term(p, "gpu").id, user=eva, verdict="relevant")
    client = login_as(eva)
    content = client.get(page(p, "status=relevant"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="vocab-terms")
    rows = content.content.decode().count('class="term-row"')
    assert rows == 1
    content = client.get(page(p, "q=zzz"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="vocab-terms").content.decode()
    assert "No term matches these filters." in content


def test_untrusted_titles_are_escaped(indexed, login_as):
    p, eva = indexed.project, indexed.evaluators[0]
    term_flag(term_id=term(p, "shape").id, user=eva, verdict="relevant")
    content = login_as(eva).get(page(p)).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt; shape" in content


# --- the index button and its progress --------------------------------------------------------


def test_empty_state_before_any_index(team, login_as):
    content = login_as(team.evaluators[0]).get(page(team.project)).content.decode()
    assert "No terms yet. A lead builds the index" in content
    content = login_as(team.lead).get(page(team.project)).content.decode()
    assert "Build the index" in content and "The index has not been built yet." in content


def test_a_lead_builds_the_index_from_the_page(team, login_as, django_capture_on_commit_callbacks):
    ArtefactFactory(project=team.project, title="Exploding gradients", body="gradient clipping")
    client = login_as(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(team.project), {"action": "index"})
    assert response.status_code == 302  # eager Celery in tests: the job ran after commit
    job = Job.objects.get(kind=Job.Kind.VOCABULARY_INDEX)
    assert job.status == Job.Status.DONE and job.created_by == team.lead
    assert VocabularyTerm.objects.filter(project=team.project, stem="gradient", artefact_count=1).exists()
    content = client.get(response["Location"]).content.decode()
    assert "Rebuild the index" in content and "Indexed 1 artefacts" in content  # the message, once done


def test_only_leads_build_the_index(indexed, login_as):
    for user in (indexed.moderator, indexed.evaluators[0]):
        response = login_as(user).post(page(indexed.project), {"action": "index"})
        assert response.status_code == 403
    assert not Job.objects.exists()


def test_the_job_panel_polls_while_running_and_reloads_when_done(indexed, login_as):
    job = Job.objects.create(
        project=indexed.project, kind=Job.Kind.VOCABULARY_INDEX, status=Job.Status.RUNNING, progress=40
    )
    client = login_as(indexed.evaluators[0])
    content = client.get(page(indexed.project)).content.decode()
    assert 'aria-valuenow="40"' in content and 'hx-trigger="every 1s"' in content
    response = client.get(page(indexed.project), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="vocab-job")
    assert response.content.decode().lstrip().startswith('<div id="vocab-job"')
    assert "HX-Refresh" not in response
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE, progress=100)
    response = client.get(page(indexed.project), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="vocab-job")
    assert response["HX-Refresh"] == "true"
    assert 'hx-trigger="every 1s"' not in response.content.decode()


def test_matching_count_and_preview(indexed, login_as):
    p, eva = indexed.project, indexed.evaluators[0]
    term_flag(term_id=term(p, "train").id, user=eva, verdict="relevant")
    content = login_as(eva).get(page(p)).content.decode()
    assert '<strong class="num" id="vocab-matching-count">2</strong>' in content
    assert "Training loss is NaN" in content and "Model trains slowly on GPU" in content


# --- query counts -----------------------------------------------------------------------------


def grow(project, n, start):
    for i in range(start, start + n):
        ArtefactFactory(project=project, title=f"word{i} training", body=f"<p>other{i} gpu layer{i}</p>")
    vocabulary_index(project=project)


def test_page_queries_stay_flat_as_the_vocabulary_grows(indexed, login_as, django_assert_max_num_queries):
    p, (e1, e2, _) = indexed.project, indexed.evaluators
    client = login_as(e1)

    def flag_some():
        for t in VocabularyTerm.objects.filter(project=p)[:30]:
            term_flag(term_id=t.id, user=e1, verdict="relevant")
            term_flag(term_id=t.id, user=e2, verdict="irrelevant")

    flag_some()
    term_flag(term_id=term(p, "train").id, user=e2, verdict="relevant")  # matching artefacts in the preview
    Job.objects.create(project=p, kind=Job.Kind.VOCABULARY_INDEX, status=Job.Status.DONE, report={"artefacts": 3})
    client.get(page(p))  # warm up the session
    limit = 13  # + the notifications bell's count
    with django_assert_max_num_queries(limit) as small:
        assert client.get(page(p)).status_code == 200
    grow(p, 40, 0)
    flag_some()
    term_flag(term_id=term(p, "train").id, user=e2, verdict="relevant")
    with django_assert_max_num_queries(limit) as large:
        response = client.get(page(p))
    content = response.content.decode()
    assert response.status_code == 200 and content.count('class="term-row"') == 50
    assert '<strong class="num" id="vocab-matching-count">42</strong>' in content
    assert len(large.captured_queries) == len(small.captured_queries)
    for fragment in ("vocab-terms", "vocab-job"):
        with django_assert_max_num_queries(6):
            client.get(page(p, "page=2"), HTTP_HX_REQUEST="true", HTTP_HX_TARGET=fragment)
    gpu = term(p, "gpu")
    with django_assert_max_num_queries(12):
        client.post(page(p), {"action": "flag", "term_id": gpu.id, "verdict": "relevant"}, HTTP_HX_REQUEST="true")


# --- admin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["vocabularyterm", "termflag", "artefactterm", "artefactindexstate"])
def test_admin_lists_the_vocabulary_models(indexed, client, model):
    from tests.factories import UserFactory

    term_flag(term_id=term(indexed.project, "gpu").id, user=indexed.lead, verdict="relevant")
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.get(reverse(f"admin:collection_{model}_changelist"))
    assert response.status_code == 200
    if model == "vocabularyterm":
        change = client.get(reverse("admin:collection_vocabularyterm_change", args=[term(indexed.project, "gpu").id]))
        assert change.status_code == 200 and "relevant" in change.content.decode()
