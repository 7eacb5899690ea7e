"""Page tests with the Django test client: permissions per role, blindness, bad input
(4xx, nothing written) and the evaluator/lead/moderator flows through the pages."""

import pytest
from django.urls import reverse

from labelling import services
from labelling.models import Annotation, Assignment, Label, Round, RoundItem
from tests.factories import ArtefactFactory, LabelFactory, MembershipFactory, ProjectFactory, member, team_round

# --- helpers (also used by test_views_queries.py) -------------------------------------------


def url(name, project=None, **kwargs):
    if project is not None:
        kwargs = {"slug": project.slug, **kwargs}
    return reverse(name if ":" in name else ("core:home" if name == "home" else f"labelling:{name}"), kwargs=kwargs)


def first_two(item):
    return list(item.assignments.order_by("order"))


def make_conflict(item, labels=("A", "B", "C")):
    """Three different labels on an item (two evaluators, then the escalated third): a conflict."""
    a1, a2 = first_two(item)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label=f"{labels[0]} {item.id}")
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label=f"{labels[1]} {item.id}")
    services.item_escalate(item_id=item.id)
    third = item.assignments.get(order=3)
    services.annotation_submit(assignment_id=third.id, user=third.evaluator, label=f"{labels[2]} {item.id}")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    return item


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Users are created by the dozen here; a fast hasher keeps the suite quick (login is forced anyway)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login_as(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


# --- access ---------------------------------------------------------------------------------

PROJECT_PAGES = [
    ("project", {}),
    ("queue", {}),
    ("my_annotations", {}),
    ("label_suggestions", {}),
    ("rounds", {}),
    ("round", {"number": 1}),
    ("conflicts", {}),
    ("labels", {}),
    ("artefacts", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PROJECT_PAGES)
def test_non_members_get_404_on_every_project_page(team, login_as, name, kwargs):
    team_round(team, n=4)
    outsider = member(ProjectFactory(), lead=True, moderator=True, evaluator=True)
    response = login_as(outsider).get(url(name, team.project, **kwargs))
    assert response.status_code == 404
    assert team.project.name not in response.content.decode()


def test_non_members_get_404_on_assignment_and_conflict_pages(team, login_as):
    rnd = team_round(team, n=4, evaluators=team.evaluators)
    item = make_conflict(rnd.items.first())
    outsider = member(ProjectFactory(), lead=True, moderator=True, evaluator=True)
    client = login_as(outsider)
    assignment = item.assignments.first()
    assert client.get(url("assignment", team.project, assignment_id=assignment.id)).status_code == 404
    assert client.get(url("conflict", team.project, item_id=item.id)).status_code == 404
    response = client.post(url("assignment", team.project, assignment_id=assignment.id), {"label": "x"})
    assert response.status_code == 404


def test_inactive_members_are_outsiders(team, login_as):
    gone = member(team.project, evaluator=True, active=False)
    assert login_as(gone).get(url("project", team.project)).status_code == 404


@pytest.mark.parametrize(("name", "kwargs"), [*PROJECT_PAGES, ("home", {})])
def test_anonymous_visitors_are_sent_to_login(team, client, name, kwargs):
    target = url(name, team.project if name != "home" else None, **kwargs)
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


ROLE_MATRIX = {
    # page: roles allowed (others members get 403)
    "project": {"lead", "moderator", "evaluator"},
    "artefacts": {"lead", "moderator", "evaluator"},
    "label_suggestions": {"lead", "moderator", "evaluator"},
    "queue": {"evaluator"},
    "my_annotations": {"evaluator"},
    "rounds": {"lead", "moderator"},
    "round": {"lead", "moderator"},
    "conflicts": {"lead", "moderator"},
    "labels": {"lead"},
}


@pytest.mark.parametrize("role", ["lead", "moderator", "evaluator"])
@pytest.mark.parametrize("name", sorted(ROLE_MATRIX))
def test_role_matrix(team, login_as, role, name):
    team_round(team, n=4)
    user = {"lead": team.lead, "moderator": team.moderator, "evaluator": team.evaluators[0]}[role]
    kwargs = {"number": 1} if name == "round" else {}
    response = login_as(user).get(url(name, team.project, **kwargs))
    assert response.status_code == (200 if role in ROLE_MATRIX[name] else 403)


def test_home_lists_only_my_projects(team, login_as):
    other = ProjectFactory(name="Secret other project")
    member(other, lead=True)
    response = login_as(team.evaluators[0]).get(url("home"))
    assert response.status_code == 200
    content = response.content.decode()
    assert team.project.name in content
    assert "Secret other project" not in content


def test_navigation_follows_roles(team, login_as):
    response = login_as(team.evaluators[0]).get(url("project", team.project))
    content = response.content.decode()
    assert url("queue", team.project) in content
    assert url("labels", team.project) not in content
    content = login_as(team.lead).get(url("project", team.project)).content.decode()
    assert url("labels", team.project) in content and url("rounds", team.project) in content
    assert url("queue", team.project) not in content


# --- evaluators -----------------------------------------------------------------------------


def test_queue_shows_open_assignments_with_progress(team, login_as):
    rnd = team_round(team, n=4)
    eva = team.evaluators[0]
    mine = list(Assignment.objects.filter(round=rnd, evaluator=eva).order_by("id"))
    services.annotation_submit(assignment_id=mine[0].id, user=eva, label="one")
    response = login_as(eva).get(url("queue", team.project))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'aria-valuenow="1"' in content and f'aria-valuemax="{len(mine)}"' in content
    for a in mine[1:]:
        assert url("assignment", team.project, assignment_id=a.id) in content
    assert url("assignment", team.project, assignment_id=mine[0].id) not in content


def test_queue_fragment_for_htmx(team, login_as):
    team_round(team, n=4)
    response = login_as(team.evaluators[0]).get(url("queue", team.project), HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="queue-list"')
    assert "<html" not in content


def test_history_restore_gets_the_whole_page(team, login_as):
    team_round(team, n=4)
    client = login_as(team.evaluators[0])
    response = client.get(url("queue", team.project), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_queue_empty_state(team, login_as):
    response = login_as(team.evaluators[2]).get(url("queue", team.project))
    assert response.status_code == 200
    assert "Nothing waits for your label" in response.content.decode()


def test_queue_bad_round_filter_is_400(team, login_as):
    response = login_as(team.evaluators[0]).get(url("queue", team.project) + "?round=abc")
    assert response.status_code == 400
    assert "round" in response.content.decode()


def test_artefact_view_renders_body_sanitised(team, login_as):
    artefact = ArtefactFactory(
        project=team.project,
        title="<b>Title</b> with markup",
        body=(
            '<p onclick="steal()">Loss is <code>nan</code></p>'
            '<script>alert("x")</script><a href="javascript:evil()">l</a>'
        ),
    )
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators[:2]],
        artefact_ids=[artefact.id],
    )
    assignment = rnd.assignments.get(order=1)
    response = login_as(assignment.evaluator).get(url("assignment", team.project, assignment_id=assignment.id))
    content = response.content.decode()
    assert response.status_code == 200
    assert "<code>nan</code>" in content
    assert "<script>alert" not in content and "steal()" not in content and "javascript:evil" not in content
    assert "&lt;b&gt;Title&lt;/b&gt; with markup" in content  # titles are escaped
    assert artefact.get_kind_display() in content and "keras" in content and artefact.url in content


def test_submit_label_goes_to_next_open_assignment(team, login_as):
    rnd = team_round(team, n=4)
    eva = team.evaluators[0]
    mine = list(Assignment.objects.filter(round=rnd, evaluator=eva).order_by("id"))
    client = login_as(eva)
    response = client.post(
        url("assignment", team.project, assignment_id=mine[0].id), {"label": "  Wrong   loss ", "note": "see line 3"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("assignment", team.project, assignment_id=mine[1].id)
    annotation = Annotation.objects.get(assignment=mine[0])
    assert annotation.label.name == "Wrong loss" and annotation.note == "see line 3"
    # the last one sends the evaluator back to the queue
    for a in mine[1:-1]:
        client.post(url("assignment", team.project, assignment_id=a.id), {"verdict": "generic"})
    response = client.post(url("assignment", team.project, assignment_id=mine[-1].id), {"verdict": "unclear"})
    assert response["Location"] == url("queue", team.project)


def test_next_wraps_round_to_skipped_assignments(team, login_as):
    rnd = team_round(team, n=4)
    eva = team.evaluators[0]
    mine = list(Assignment.objects.filter(round=rnd, evaluator=eva).order_by("id"))
    response = login_as(eva).post(url("assignment", team.project, assignment_id=mine[-1].id), {"label": "x"})
    assert response["Location"] == url("assignment", team.project, assignment_id=mine[0].id)


def test_verdict_button_wins_over_a_half_typed_label(team, login_as):
    rnd = team_round(team, n=4)
    a = rnd.assignments.get(item=rnd.items.first(), order=1)
    login_as(a.evaluator).post(
        url("assignment", team.project, assignment_id=a.id), {"label": "half typ", "verdict": "false_positive"}
    )
    annotation = Annotation.objects.get(assignment=a)
    assert annotation.verdict == "false_positive" and annotation.label is None
    assert not Label.objects.filter(project=team.project, normalised="half typ").exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"label": ""}, "label"),
        ({"label": "   "}, "label"),
        ({"label": "x" * 201}, "label"),
        ({"verdict": "maybe"}, "verdict"),
        ({"label": "ok", "note": "n" * 20_001}, "note"),
    ],
)
def test_bad_annotation_input_is_400_and_writes_nothing(team, login_as, data, field):
    rnd = team_round(team, n=4)
    a = rnd.assignments.get(item=rnd.items.first(), order=1)
    labels_before = Label.objects.count()
    response = login_as(a.evaluator).post(url("assignment", team.project, assignment_id=a.id), data)
    assert response.status_code == 400
    content = response.content.decode()
    assert 'role="alert"' in content
    if field == "label" and data["label"].strip():
        assert "200 characters" in content
    if field == "note":
        assert "note" in content.lower()
    assert not Annotation.objects.filter(assignment=a).exists()
    assert Label.objects.count() == labels_before
    a.refresh_from_db()
    assert a.completed_at is None


def test_someone_elses_assignment_is_403_and_not_rendered(team, login_as):
    rnd = team_round(team, n=4)
    item = rnd.items.first()
    a1, a2 = first_two(item)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="Private label of one")
    client = login_as(a2.evaluator)
    response = client.get(url("assignment", team.project, assignment_id=a1.id))
    assert response.status_code == 403
    assert "Private label of one" not in response.content.decode()
    response = client.post(url("assignment", team.project, assignment_id=a1.id), {"label": "hijack"})
    assert response.status_code == 403
    assert Annotation.objects.get(assignment=a1).label.name == "Private label of one"
    assert not Label.objects.filter(normalised="hijack").exists()


def test_lead_without_evaluator_role_cannot_annotate(team, login_as):
    rnd = team_round(team, n=4)
    a = rnd.assignments.first()
    response = login_as(team.lead).post(url("assignment", team.project, assignment_id=a.id), {"label": "x"})
    assert response.status_code == 403
    assert not Annotation.objects.exists()


def test_editing_until_decided_then_409(team, login_as):
    rnd = team_round(team, n=4)
    item = rnd.items.first()
    a1, a2 = first_two(item)
    client = login_as(a1.evaluator)
    client.post(url("assignment", team.project, assignment_id=a1.id), {"label": "first try"})
    page = client.get(url("assignment", team.project, assignment_id=a1.id)).content.decode()
    assert 'value="first try"' in page and "editable until decided" in page
    client.post(url("assignment", team.project, assignment_id=a1.id), {"label": "second thought"})
    annotation = Annotation.objects.get(assignment=a1)
    assert annotation.label.name == "second thought"
    assert annotation.history[-1]["value"] == "first try"
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="Second Thought.")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.AGREED
    response = client.post(url("assignment", team.project, assignment_id=a1.id), {"label": "third"})
    assert response.status_code == 409
    assert "decided already" in response.content.decode()
    assert Annotation.objects.get(assignment=a1).label.name == "second thought"


def test_closed_round_is_read_only(team, login_as):
    rnd = team_round(team, n=4)
    a = rnd.assignments.first()
    services.round_close(round=rnd, user=team.lead)
    client = login_as(a.evaluator)
    page = client.get(url("assignment", team.project, assignment_id=a.id)).content.decode()
    assert "The round is closed." in page and 'id="annotation-form"' not in page
    assert client.post(url("assignment", team.project, assignment_id=a.id), {"label": "late"}).status_code == 409
    assert not Annotation.objects.exists()
    assert "Nothing waits for your label" in client.get(url("queue", team.project)).content.decode()


# --- blindness -----------------------------------------------------------------------------------


def test_blind_until_decided_in_pages_and_suggestions(team, login_as, django_capture_on_commit_callbacks):
    rnd = team_round(team, n=2)
    item = rnd.items.first()
    a1, a2 = first_two(item)
    eva1, eva2 = a1.evaluator, a2.evaluator
    third_user = next(e for e in team.evaluators if e not in (eva1, eva2))

    services.annotation_submit(assignment_id=a1.id, user=eva1, label="Zebra gradient", note="note of one")
    client = login_as(eva2)
    page = client.get(url("assignment", team.project, assignment_id=a2.id)).content.decode()
    assert "Zebra gradient" not in page and "note of one" not in page
    hints = client.get(url("label_suggestions", team.project) + "?q=zeb", HTTP_HX_REQUEST="true").content.decode()
    assert "Zebra" not in hints
    # not leaked through the other pages an evaluator can open either
    for name in ("project", "queue", "my_annotations", "artefacts"):
        assert "Zebra gradient" not in client.get(url(name, team.project)).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("assignment", team.project, assignment_id=a2.id), {"label": "Zorro weights"})
    third = Assignment.objects.get(item=item, order=3)
    assert third.evaluator == third_user
    client = login_as(third_user)
    queue = client.get(url("queue", team.project)).content.decode()
    assert url("assignment", team.project, assignment_id=third.id) in queue
    page = client.get(url("assignment", team.project, assignment_id=third.id)).content.decode()
    assert "Zebra gradient" not in page and "Zorro weights" not in page
    hints = client.get(url("label_suggestions", team.project) + "?q=z", HTTP_HX_REQUEST="true").content.decode()
    assert "Zebra" not in hints and "Zorro" not in hints

    # eva2's own label is suggested to eva2 (their own annotation), not the first one's
    hints = login_as(eva2).get(url("label_suggestions", team.project) + "?q=z").content.decode()
    assert "Zorro weights" in hints and "Zebra" not in hints

    login_as(third_user).post(url("assignment", team.project, assignment_id=third.id), {"label": "zebra gradient!"})
    item.refresh_from_db()
    assert item.status == RoundItem.Status.MAJORITY
    # decided: now everyone on the item sees all annotations, and the label is suggested to all
    page = login_as(eva2).get(url("assignment", team.project, assignment_id=a2.id)).content.decode()
    assert "Zebra gradient" in page and "Zorro weights" in page and "note of one" in page
    hints = login_as(team.evaluators[0]).get(url("label_suggestions", team.project) + "?q=zeb").content.decode()
    assert "Zebra gradient" in hints and "1 decided" in hints


def test_suggestions_offer_catalogue_decided_and_own_labels_with_counts(team, login_as):
    rnd = team_round(team, n=3)
    services.label_create(project=team.project, user=team.lead, name="Missing activation")
    items = list(rnd.items.order_by("id"))
    for item in items[:2]:
        a1, a2 = first_two(item)
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="wrong input shape")
        services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="Wrong input shape")
    a1, _ = first_two(items[2])
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="wrong optimiser")
    LabelFactory(project=team.project, name="unused label")  # neither decided, nor catalogue, nor anyone's
    hints = login_as(a1.evaluator).get(url("label_suggestions", team.project) + "?q=", HTTP_HX_REQUEST="true")
    content = hints.content.decode()
    assert "Missing activation" in content and "catalogue" in content
    assert "wrong input shape" in content and "2 decided" in content
    assert "wrong optimiser" in content and "1 yours" in content
    assert "unused label" not in content
    # typing narrows; prefix matches first
    content = login_as(a1.evaluator).get(url("label_suggestions", team.project) + "?q=wrong").content.decode()
    assert "Missing activation" not in content
    assert content.index("wrong input shape") < content.index("wrong optimiser")
    # other evaluators do not see a1's undecided label
    other = next(e for e in team.evaluators if e != a1.evaluator)
    content = login_as(other).get(url("label_suggestions", team.project) + "?q=wrong").content.decode()
    assert "wrong optimiser" not in content


def test_label_box_is_wired_for_autocomplete(team, login_as):
    rnd = team_round(team, n=4)
    a = rnd.assignments.first()
    page = login_as(a.evaluator).get(url("assignment", team.project, assignment_id=a.id)).content.decode()
    assert f'hx-get="{url("label_suggestions", team.project)}"' in page
    assert 'hx-trigger="input changed delay:200ms' in page
    for key in ('data-key="f"', 'data-key="g"', 'data-key="u"', "data-ctrl-enter", "data-key-help-open"):
        assert key in page


def test_my_annotations_lists_only_mine_with_edit_links(team, login_as):
    rnd = team_round(team, n=2)
    item1, item2 = rnd.items.order_by("id")
    a1, a2 = first_two(item1)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="label by me")
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="label by other")
    content = login_as(a1.evaluator).get(url("my_annotations", team.project)).content.decode()
    assert "label by me" in content and "label by other" not in content


# --- leads: rounds ------------------------------------------------------------------------------------


def test_lead_creates_round_by_sample(team, login_as):
    ArtefactFactory.create_batch(6, project=team.project, framework="keras")
    ArtefactFactory.create_batch(3, project=team.project, framework="pytorch")
    response = login_as(team.lead).post(
        url("rounds", team.project),
        {
            "mode": "sample",
            "sample_size": "4",
            "seed": "42",
            "frameworks": ["keras"],
            "evaluators": [e.id for e in team.evaluators],
            "name": "Pilot",
        },
    )
    assert response.status_code == 302
    rnd = Round.objects.get(project=team.project)
    assert response["Location"] == url("round", team.project, number=rnd.number)
    assert rnd.name == "Pilot" and rnd.seed == 42 and rnd.items.count() == 4
    assert set(rnd.items.values_list("artefact__framework", flat=True)) == {"keras"}
    assert rnd.assignments.count() == 8


def test_lead_samples_only_artefacts_matching_the_relevance_vocabulary(team, login_as):
    from collection.models import VocabularyTerm
    from collection.services import term_flag, vocabulary_index

    relevant = ArtefactFactory.create_batch(3, project=team.project, title="Gradient explodes", body="gradients")
    ArtefactFactory.create_batch(20, project=team.project, title="Install fails", body="pip wheel")
    vocabulary_index(project=team.project)
    term = VocabularyTerm.objects.get(project=team.project, stem="gradient")
    term_flag(term_id=term.id, user=team.lead, verdict="relevant")

    response = login_as(team.lead).post(
        url("rounds", team.project),
        {
            "mode": "sample",
            "sample_size": "3",
            "vocabulary_only": "on",
            "evaluators": [e.id for e in team.evaluators],
        },
    )
    assert response.status_code == 302
    rnd = Round.objects.get(project=team.project)
    assert set(rnd.items.values_list("artefact_id", flat=True)) == {a.id for a in relevant}


def test_lead_creates_round_from_artefact_selection(team, login_as):
    artefacts = ArtefactFactory.create_batch(5, project=team.project)
    client = login_as(team.lead)
    page = client.get(url("artefacts", team.project) + "?pool=pool").content.decode()
    assert 'name="artefact_ids"' in page and 'id="selection-form"' in page
    response = client.post(
        url("rounds", team.project),
        {
            "mode": "selection",
            "artefact_ids": [artefacts[0].id, artefacts[3].id],
            "evaluators": [e.id for e in team.evaluators[:2]],
        },
    )
    assert response.status_code == 302
    rnd = Round.objects.get(project=team.project)
    assert sorted(rnd.items.values_list("artefact_id", flat=True)) == [artefacts[0].id, artefacts[3].id]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "sample", "sample_size": "99"}, "cannot sample 99"),
        ({"mode": "sample", "sample_size": "0"}, "sample_size"),
        ({"mode": "sample"}, "How many artefacts"),
        ({"mode": "selection", "artefact_ids": "1, x2"}, "Not artefact ids"),
        ({"mode": "selection", "artefact_ids": "999999"}, "unlabelled pool"),
        ({"mode": "sample", "sample_size": "2", "one_evaluator": True}, "at least two evaluators"),
        ({"mode": "sample", "sample_size": "2", "evaluators": ["987654"]}, "evaluators"),
        ({"mode": "sample", "sample_size": "2", "evaluators": ["9" * 25]}, "evaluators"),
        ({"mode": "selection", "artefact_ids": "9" * 25}, "No such artefact ids"),
        ({"mode": "elsewhere", "sample_size": "2"}, "mode"),
    ],
)
def test_bad_round_input_is_400_and_creates_nothing(team, login_as, data, message):
    ArtefactFactory.create_batch(3, project=team.project)
    data = dict(data)
    if data.pop("one_evaluator", False):
        data["evaluators"] = [team.evaluators[0].id]
    data.setdefault("evaluators", [e.id for e in team.evaluators])
    response = login_as(team.lead).post(url("rounds", team.project), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Round.objects.exists() and not Assignment.objects.exists()


def test_only_leads_create_rounds(team, login_as):
    ArtefactFactory.create_batch(3, project=team.project)
    response = login_as(team.moderator).post(
        url("rounds", team.project),
        {"mode": "sample", "sample_size": "2", "evaluators": [e.id for e in team.evaluators]},
    )
    assert response.status_code == 403
    assert not Round.objects.exists()


def test_round_page_shows_progress_per_evaluator_and_agreement(team, login_as, django_capture_on_commit_callbacks):
    rnd = team_round(team, n=4)
    items = list(rnd.items.order_by("id"))
    for item in items[:2]:  # two agreements
        for a in first_two(item):
            services.annotation_submit(assignment_id=a.id, user=a.evaluator, label="same")
    a1, a2 = first_two(items[2])  # one disagreement → third evaluator
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="this")
    with django_capture_on_commit_callbacks(execute=True):
        services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="that")
    response = login_as(team.lead).get(url("round", team.project, number=rnd.number))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["agreed"] == 2 and summary["disagreements"] == 1 and summary["conflicts"] == 0
    assert summary["percent_agreement"] == pytest.approx(66.7)
    assert summary["open_disagreements"] == 1
    content = response.content.decode()
    assert "66.7%" in content
    progress = {e["evaluator__username"]: (e["done"], e["total"], e["extra"]) for e in response.context["evaluators"]}
    assert progress["eva3"] == (0, 1, 1)  # the third evaluator's tie-break
    assert sum(done for done, _, _ in progress.values()) == 6
    assert items[2].artefact.title in content  # listed as open disagreement …
    assert ">this<" not in content and ">that<" not in content  # … without its labels
    fragment = login_as(team.lead).get(url("round", team.project, number=rnd.number), HTTP_HX_REQUEST="true")
    assert 'id="round-progress"' in fragment.content.decode() and "<html" not in fragment.content.decode()


def test_round_page_unknown_round_is_404(team, login_as):
    assert login_as(team.lead).get(url("round", team.project, number=7)).status_code == 404


def test_lead_closes_round_moderator_cannot(team, login_as):
    rnd = team_round(team, n=4)
    response = login_as(team.moderator).post(url("round", team.project, number=rnd.number), {"action": "close"})
    assert response.status_code == 403
    rnd.refresh_from_db()
    assert rnd.status == Round.Status.OPEN
    response = login_as(team.lead).post(url("round", team.project, number=rnd.number), {"action": "nonsense"})
    assert response.status_code == 400
    response = login_as(team.lead).post(url("round", team.project, number=rnd.number), {"action": "close"})
    assert response.status_code == 302
    rnd.refresh_from_db()
    assert rnd.status == Round.Status.CLOSED and rnd.closed_at is not None


# --- moderators: conflicts ----------------------------------------------------------------------


def test_conflict_queue_and_resolution_by_picking(team, login_as):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    item = make_conflict(rnd.items.first())
    client = login_as(team.moderator)
    queue = client.get(url("conflicts", team.project)).content.decode()
    assert url("conflict", team.project, item_id=item.id) in queue
    page = client.get(url("conflict", team.project, item_id=item.id))
    content = page.content.decode()
    annotations = list(Annotation.objects.filter(assignment__item=item).select_related("assignment__evaluator"))
    assert len(annotations) == 3
    for an in annotations:  # every annotation with its author, side by side
        assert str(an) in content and an.assignment.evaluator.username in content
    picked = annotations[1]
    response = client.post(
        url("conflict", team.project, item_id=item.id), {"annotation_id": picked.id, "note": "agreed in the meeting"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == RoundItem.Status.RESOLVED and item.final_label_id == picked.label_id
    assert item.resolved_by == team.moderator and item.resolution_note == "agreed in the meeting"
    content = client.get(url("conflict", team.project, item_id=item.id)).content.decode()
    assert "Resolved by <strong>moderator</strong>" in content and "agreed in the meeting" in content
    resolved = client.get(url("conflicts", team.project) + "?show=resolved").content.decode()
    assert url("conflict", team.project, item_id=item.id) in resolved
    assert "No open conflicts" in client.get(url("conflicts", team.project)).content.decode()


def test_moderator_types_a_new_label_or_verdict(team, login_as):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    first, second = (make_conflict(i) for i in rnd.items.order_by("id"))
    client = login_as(team.moderator)
    response = client.post(url("conflict", team.project, item_id=first.id), {"label": "Brand new final"})
    assert response.status_code == 302
    assert response["Location"] == url("conflict", team.project, item_id=second.id)  # on to the next conflict
    first.refresh_from_db()
    assert first.final_label.name == "Brand new final"
    client.post(url("conflict", team.project, item_id=second.id), {"verdict": "unclear"})
    second.refresh_from_db()
    assert second.final_verdict == "unclear" and second.status == RoundItem.Status.RESOLVED


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"label": "x", "verdict": "generic"},
        {"verdict": "maybe"},
        {"label": "y" * 201},
        {"annotation_id": "abc"},
        {"annotation_id": "9" * 25},
    ],
)
def test_bad_resolution_is_400_and_writes_nothing(team, login_as, data):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    item = make_conflict(rnd.items.first())
    labels = Label.objects.count()
    response = login_as(team.moderator).post(url("conflict", team.project, item_id=item.id), data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.resolved_by is None
    assert Label.objects.count() == labels


def test_resolution_with_annotation_of_another_item_is_400(team, login_as):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    first, second = (make_conflict(i) for i in rnd.items.order_by("id"))
    foreign = Annotation.objects.filter(assignment__item=second).first()
    response = login_as(team.moderator).post(
        url("conflict", team.project, item_id=first.id), {"annotation_id": foreign.id}
    )
    assert response.status_code == 400
    first.refresh_from_db()
    assert first.status == RoundItem.Status.CONFLICT


def test_resolved_conflict_cannot_be_resolved_again(team, login_as):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    item = make_conflict(rnd.items.first())
    services.conflict_resolve(item_id=item.id, user=team.moderator, verdict="generic")
    response = login_as(team.moderator).post(url("conflict", team.project, item_id=item.id), {"verdict": "unclear"})
    assert response.status_code == 409
    item.refresh_from_db()
    assert item.final_verdict == "generic"


def test_only_moderators_resolve_and_only_conflicts_are_shown(team, login_as):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    conflict_item, other = rnd.items.order_by("id")
    make_conflict(conflict_item)
    a1, _ = first_two(other)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="undecided secret")
    response = login_as(team.lead).post(url("conflict", team.project, item_id=conflict_item.id), {"verdict": "generic"})
    assert response.status_code == 403
    conflict_item.refresh_from_db()
    assert conflict_item.status == RoundItem.Status.CONFLICT
    # an item that is not a conflict is not viewable here (it would show undecided labels)
    response = login_as(team.moderator).get(url("conflict", team.project, item_id=other.id))
    assert response.status_code == 404
    assert "undecided secret" not in response.content.decode()


# --- leads: label catalogue ------------------------------------------------------------------------


def test_catalogue_add_rename_merge(team, login_as):
    rnd = team_round(team, n=2)
    item1, item2 = rnd.items.order_by("id")
    for a in first_two(item1):
        services.annotation_submit(assignment_id=a.id, user=a.evaluator, label="loss nan")
    for a in first_two(item2):
        services.annotation_submit(assignment_id=a.id, user=a.evaluator, label="NaN loss")
    client = login_as(team.lead)
    response = client.post(url("labels", team.project), {"action": "add", "add-name": "Wrong optimiser"})
    assert response.status_code == 302
    assert Label.objects.get(project=team.project, normalised="wrong optimiser").in_catalogue

    source = Label.objects.get(normalised="loss nan")
    target = Label.objects.get(normalised="nan loss")
    page = client.get(url("labels", team.project))
    rows = {label.name: label for label in page.context["page"].object_list}
    assert rows["loss nan"].annotation_count == 2 and rows["loss nan"].decided_count == 1

    response = client.post(
        url("labels", team.project), {"action": "rename", "label_id": target.id, "name": "NaN in loss"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.name == "NaN in loss"
    response = client.post(
        url("labels", team.project), {"action": "merge", "label_id": source.id, "target": "nan in loss"}
    )
    assert response.status_code == 302
    assert not Label.objects.filter(id=source.id).exists()
    item1.refresh_from_db()
    assert item1.final_label_id == target.id
    assert Annotation.objects.filter(label=target).count() == 4


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"action": "add", "add-name": ""}, 400, "required"),
        ({"action": "add", "add-name": "z" * 201}, 400, "200 characters"),
        ({"action": "rename", "label_id": "LABEL", "name": ""}, 400, "required"),
        ({"action": "rename", "label_id": "LABEL", "name": "other label"}, 400, "merge the two"),
        ({"action": "merge", "label_id": "LABEL", "target": "no such label"}, 400, "No label"),
        ({"action": "merge", "label_id": "LABEL", "target": "first label"}, 400, "itself"),
        ({"action": "rename", "label_id": "999999", "name": "x"}, 404, "No such label"),
        ({"action": "explode"}, 400, "Unknown action"),
    ],
)
def test_bad_catalogue_input_is_4xx_and_writes_nothing(team, login_as, data, status, message):
    label = LabelFactory(project=team.project, name="first label")
    LabelFactory(project=team.project, name="other label")
    data = {k: (str(label.id) if v == "LABEL" else v) for k, v in data.items()}
    response = login_as(team.lead).post(url("labels", team.project), data)
    assert response.status_code == status
    assert message in response.content.decode()
    assert sorted(Label.objects.values_list("name", flat=True)) == ["first label", "other label"]
    assert not Label.objects.filter(in_catalogue=True).exists()


def test_label_of_another_project_cannot_be_renamed_through_this_one(team, login_as):
    other = ProjectFactory()
    foreign = LabelFactory(project=other, name="foreign")
    MembershipFactory(project=other, user=team.lead, is_lead=True)  # the same lead in both projects
    response = login_as(team.lead).post(
        url("labels", team.project), {"action": "rename", "label_id": foreign.id, "name": "renamed"}
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "foreign"


def test_catalogue_is_blind_for_a_lead_who_also_evaluates(team, login_as):
    lead_eva = member(team.project, lead=True, evaluator=True, username="leadeva")
    rnd = team_round(team, n=1)
    a1, _ = first_two(rnd.items.first())
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="hidden undecided")
    assert "hidden undecided" not in login_as(lead_eva).get(url("labels", team.project)).content.decode()
    assert "hidden undecided" in login_as(team.lead).get(url("labels", team.project)).content.decode()


# --- artefacts --------------------------------------------------------------------------------------


def test_artefact_list_search_filters_and_pagination(team, login_as):
    ArtefactFactory.create_batch(55, project=team.project, framework="keras", title="Keras thing")
    ArtefactFactory(project=team.project, framework="pytorch", title="Torch needle", body="<script>x()</script>hay")
    client = login_as(team.evaluators[0])
    page1 = client.get(url("artefacts", team.project))
    assert page1.status_code == 200
    assert page1.context["page"].paginator.count == 56 and len(page1.context["page"].object_list) == 50
    assert 'rel="next"' in page1.content.decode()
    last = client.get(url("artefacts", team.project) + "?page=2")
    assert len(last.context["page"].object_list) == 6
    assert client.get(url("artefacts", team.project) + "?page=999").status_code == 200  # clamps, no 404/500
    found = client.get(url("artefacts", team.project) + "?q=needle")
    content = found.content.decode()
    assert found.context["page"].paginator.count == 1 and "Torch needle" in content
    assert "<script>x()" not in content
    assert client.get(url("artefacts", team.project) + "?framework=pytorch").context["page"].paginator.count == 1
    assert client.get(url("artefacts", team.project) + "?kind=gh_issue").context["page"].paginator.count == 0
    # evaluators get no selection checkboxes
    assert 'name="artefact_ids"' not in content


def test_artefact_list_bad_filter_is_400(team, login_as):
    response = login_as(team.lead).get(url("artefacts", team.project) + "?kind=tweet")
    assert response.status_code == 400
    assert "kind" in response.content.decode()


def test_dashboard_by_role(team, login_as):
    rnd = team_round(team, n=2, evaluators=team.evaluators)
    make_conflict(rnd.items.first())
    content = login_as(team.evaluators[0]).get(url("project", team.project)).content.decode()
    assert 'id="evaluator-panel"' in content and 'id="lead-panel"' not in content
    content = login_as(team.moderator).get(url("project", team.project)).content.decode()
    assert 'id="moderator-panel"' in content and "1</strong> artefact" in content
    assert 'id="evaluator-panel"' not in content
    content = login_as(team.lead).get(url("project", team.project)).content.decode()
    assert 'id="lead-panel"' in content and str(rnd) in content
