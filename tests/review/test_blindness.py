"""Blind labelling for a lead who also evaluates: the label catalogue (page and API) must not reveal,
even as a count, which label another evaluator gave an artefact the lead still has to label."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from labelling import services
from labelling.models import Label
from tests.factories import ArtefactFactory, member


@pytest.fixture
def blind_lead(team):
    """team.lead also evaluates; a round of one artefact for the lead and eva1; eva1 has labelled it
    with a catalogue label, the lead has not labelled yet."""
    project = team.project
    lead_evaluator = member(project, lead=True, evaluator=True, username="lead-eva")
    eva1 = team.evaluators[0]
    services.label_create(project=project, user=team.lead, name="nan loss")
    artefact = ArtefactFactory(project=project)
    rnd = services.round_create(
        project=project, user=team.lead, evaluator_ids=[lead_evaluator.id, eva1.id], artefact_ids=[artefact.id]
    )
    item = rnd.items.get()
    services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva1).id, user=eva1, label="nan loss")
    team.lead_evaluator, team.item = lead_evaluator, item
    return team


def _counts(rows, name):
    row = next(r for r in rows if r["name"] == name)
    return row["annotation_count"], row["decided_count"]


def test_catalogue_counts_leave_out_others_annotations_on_undecided_items(blind_lead):
    t = blind_lead
    api = APIClient()
    api.force_authenticate(t.lead_evaluator)
    rows = api.get(f"/api/projects/{t.project.slug}/labels/").json()["results"]
    assert _counts(rows, "nan loss") == (0, 0)

    page = Client()
    page.force_login(t.lead_evaluator)
    html = page.get(f"/p/{t.project.slug}/labels/").content.decode()
    row = html[html.index("<strong>nan loss</strong>") :]
    assert '<td class="num">0</td>\n      <td class="num">0</td>' in row[:300]

    # a lead who does not evaluate sees every annotation counted
    api.force_authenticate(t.lead)
    assert _counts(api.get(f"/api/projects/{t.project.slug}/labels/").json()["results"], "nan loss") == (1, 0)

    # once the lead has labelled and the item is decided, the count includes everyone's annotations
    own = t.item.assignments.get(evaluator=t.lead_evaluator)
    services.annotation_submit(assignment_id=own.id, user=t.lead_evaluator, label="nan loss")
    api.force_authenticate(t.lead_evaluator)
    assert _counts(api.get(f"/api/projects/{t.project.slug}/labels/").json()["results"], "nan loss") == (2, 1)


def test_a_lead_who_evaluates_takes_a_label_out_of_the_catalogue_over_the_api(blind_lead):
    """The answer is the label as the lead may now see it (or a 404 when it vanished from their view),
    never a server error after the change was saved."""
    t = blind_lead
    label = Label.objects.get(project=t.project, name="nan loss")
    api = APIClient()
    api.force_authenticate(t.lead_evaluator)
    response = api.patch(f"/api/projects/{t.project.slug}/labels/{label.id}/", {"in_catalogue": False}, format="json")
    assert response.status_code == 200
    assert response.json()["in_catalogue"] is False
    label.refresh_from_db()
    assert label.in_catalogue is False


def test_a_lead_who_evaluates_cannot_export_others_labels_on_artefacts_still_being_labelled(
    team, django_capture_on_commit_callbacks
):
    """The lead labelled all their artefacts, but one of them is still undecided (the other evaluator
    disagreed, a third is on it): the lead's own annotation there stays editable, so an export showing
    the other evaluator's label would unblind them. Round export, annotations export and job download."""
    project = team.project
    lead_evaluator = member(project, lead=True, evaluator=True, username="lead-eva")
    eva1 = team.evaluators[0]
    artefact = ArtefactFactory(project=project)
    rnd = services.round_create(
        project=project, user=team.lead, evaluator_ids=[lead_evaluator.id, eva1.id], artefact_ids=[artefact.id]
    )
    item = rnd.items.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.annotation_submit(
            assignment_id=item.assignments.get(evaluator=lead_evaluator).id, user=lead_evaluator, label="nan loss"
        )
        services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva1).id, user=eva1, label="bad data")
    item.refresh_from_db()
    assert item.status == "labelling" and item.assignments.count() == 3  # a third evaluator breaks the tie
    assert not item.assignments.filter(evaluator=lead_evaluator, completed_at__isnull=True).exists()

    page = Client()
    page.force_login(lead_evaluator)
    slug = project.slug
    assert page.get(f"/p/{slug}/rounds/1/export/", {"format": "csv"}).status_code == 403
    assert page.get(f"/p/{slug}/export/annotations/").status_code == 403
    # a job made by a lead who does not evaluate is refused to the one who does
    lead = Client()
    lead.force_login(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        assert lead.post(f"/p/{slug}/export/annotations/").status_code == 302
    job = project.jobs.get()
    assert lead.get(f"/p/{slug}/jobs/{job.id}/download/").status_code == 200
    assert page.get(f"/p/{slug}/jobs/{job.id}/download/").status_code == 403

    # once the artefact is decided the exports open
    third = item.assignments.get(order=3)
    services.annotation_submit(assignment_id=third.id, user=third.evaluator, label="bad data")
    response = page.get(f"/p/{slug}/rounds/1/export/", {"format": "csv"})
    assert response.status_code == 200
    assert "bad data" in response.content.decode()
    assert page.get(f"/p/{slug}/export/annotations/").status_code == 200
