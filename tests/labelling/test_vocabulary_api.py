"""The vocabulary API: list with filters, flag, summary, index jobs, permissions, bad input."""

import pytest

from collection.models import TermFlag, VocabularyTerm
from collection.services import term_flag, vocabulary_index
from core.models import Job
from tests.factories import ArtefactFactory, ProjectFactory, member
from tests.labelling.test_api import client_for


@pytest.fixture
def indexed(team):
    ArtefactFactory(project=team.project, title="Training loss is NaN", body="<p>loss became nan</p>")
    ArtefactFactory(project=team.project, title="Model trains slowly on GPU", body="GPU memory")
    vocabulary_index(project=team.project)
    return team


def url(project, path=""):
    return f"/api/projects/{project.slug}/vocabulary/{path}"


def term(project, stem):
    return VocabularyTerm.objects.get(project=project, stem=stem)


def test_members_list_terms_with_tally_and_their_flag(indexed):
    p, (e1, e2, _) = indexed.project, indexed.evaluators
    term_flag(term_id=term(p, "train").id, user=e2, verdict="relevant")
    response = client_for(e1).get(url(p))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == VocabularyTerm.objects.filter(project=p).count()
    first = body["results"][0]
    assert first == {
        "id": term(p, "train").id,
        "stem": "train",
        "example": "trains",  # one "training", one "trains": a tie goes to the shorter word
        "artefact_count": 2,
        "status": "relevant",
        "relevant_count": 1,
        "irrelevant_count": 0,
        "my_verdict": "",
    }
    response = client_for(e2).get(url(p), {"mine": "flagged"})
    assert [t["stem"] for t in response.json()["results"]] == ["train"]
    response = client_for(e1).get(url(p), {"q": "GPUs", "status": "undecided"})
    assert [t["stem"] for t in response.json()["results"]] == []  # "gpus" is its own stem
    response = client_for(e1).get(url(p), {"q": "gpu"})
    assert [t["stem"] for t in response.json()["results"]] == ["gpu"]


def test_flag_through_the_api(indexed):
    p, eva = indexed.project, indexed.evaluators[0]
    gpu = term(p, "gpu")
    response = client_for(eva).post(url(p, f"{gpu.id}/flag/"), {"verdict": "irrelevant"}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["my_verdict"]) == ("irrelevant", "irrelevant")
    response = client_for(eva).post(url(p, f"{gpu.id}/flag/"), {"verdict": "clear"}, format="json")
    assert response.json()["my_verdict"] == "" and not TermFlag.objects.exists()


@pytest.mark.parametrize(
    ("query", "field"), [({"status": "maybe"}, "status"), ({"min_count": -1}, "min_count"), ({"sort": "x"}, "sort")]
)
def test_bad_list_parameters_are_400(indexed, query, field):
    response = client_for(indexed.lead).get(url(indexed.project), query)
    assert response.status_code == 400 and field in response.json()


def test_bad_flags_are_400_and_write_nothing(indexed):
    p, eva = indexed.project, indexed.evaluators[0]
    response = client_for(eva).post(url(p, f"{term(p, 'gpu').id}/flag/"), {"verdict": "maybe"}, format="json")
    assert response.status_code == 400 and "verdict" in response.json()
    assert client_for(eva).post(url(p, "999999/flag/"), {"verdict": "relevant"}, format="json").status_code == 404
    assert not TermFlag.objects.exists()


def test_outsiders_get_404_and_anonymous_401(indexed):
    p = indexed.project
    outsider = member(ProjectFactory(), lead=True, moderator=True, evaluator=True)
    gpu = term(p, "gpu")
    client = client_for(outsider)
    assert client.get(url(p)).status_code == 404
    assert client.get(url(p, f"{gpu.id}/")).status_code == 404
    assert client.get(url(p, "summary/")).status_code == 404
    assert client.post(url(p, f"{gpu.id}/flag/"), {"verdict": "relevant"}, format="json").status_code == 404
    assert client.post(url(p, "index/")).status_code == 404
    assert client_for().get(url(p)).status_code == 401
    # a term of another project is not found through this project
    other = ProjectFactory()
    ArtefactFactory(project=other, title="elsewhere")
    vocabulary_index(project=other)
    foreign = VocabularyTerm.objects.filter(project=other).first()
    eva = indexed.evaluators[0]
    assert client_for(eva).get(url(p, f"{foreign.id}/")).status_code == 404
    response = client_for(eva).post(url(p, f"{foreign.id}/flag/"), {"verdict": "relevant"}, format="json")
    assert response.status_code == 404
    assert not TermFlag.objects.exists() and not Job.objects.exists()


def test_index_is_for_leads_and_summary_follows_it(indexed):
    p = indexed.project
    for user in (indexed.moderator, indexed.evaluators[0]):
        assert client_for(user).post(url(p, "index/")).status_code == 403
    ArtefactFactory(project=p, title="Vanishing gradient")
    response = client_for(indexed.lead).post(url(p, "index/"))
    assert response.status_code == 202
    assert response.json()["status"] in ("pending", "done")  # the task is sent after commit
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "done" and job.report["artefacts"] == 3
    term_flag(term_id=term(p, "gradient").id, user=indexed.lead, verdict="relevant")
    summary = client_for(indexed.evaluators[0]).get(url(p, "summary/")).json()
    assert summary["matching"] == 1 and summary["relevant"] == 1 and summary["artefacts"] == 3
    assert summary["job"]["id"] == response.json()["id"]


def test_list_queries_are_flat(indexed, django_assert_max_num_queries):
    p, eva = indexed.project, indexed.evaluators[0]
    client = client_for(eva)
    with django_assert_max_num_queries(6) as small:
        client.get(url(p))
    for i in range(30):
        ArtefactFactory(project=p, title=f"word{i} layer{i}")
    vocabulary_index(project=p)
    for t in VocabularyTerm.objects.filter(project=p)[:20]:
        term_flag(term_id=t.id, user=eva, verdict="relevant")
    with django_assert_max_num_queries(6) as large:
        assert len(client.get(url(p)).json()["results"]) == 50
    assert len(large.captured_queries) == len(small.captured_queries)


ROLES = ["lead", "moderator", "evaluator", "stranger", "anonymous"]
ENDPOINTS = [
    # (method, path, body, expected code per role)
    ("get", "", None, [200, 200, 200, 404, 401]),
    ("get", "{term}/", None, [200, 200, 200, 404, 401]),
    ("post", "{term}/flag/", {"verdict": "relevant"}, [200, 200, 200, 404, 401]),
    ("get", "summary/", None, [200, 200, 200, 404, 401]),
    ("post", "index/", None, [202, 403, 403, 404, 401]),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "expected"), ENDPOINTS)
def test_role_matrix(indexed, role, method, path, body, expected):
    users = {
        "lead": indexed.lead,
        "moderator": indexed.moderator,
        "evaluator": indexed.evaluators[0],
        "stranger": member(ProjectFactory(), lead=True),
        "anonymous": None,
    }
    target = url(indexed.project, path.format(term=term(indexed.project, "gpu").id))
    response = getattr(client_for(users[role]), method)(target, body, format="json")
    assert response.status_code == expected[ROLES.index(role)], response.content
    assert TermFlag.objects.exists() == (path.endswith("flag/") and expected[ROLES.index(role)] == 200)
