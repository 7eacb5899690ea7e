"""A project with one of everything (round, conflict, labels, taxonomy, interview, survey, job,
comparison), built through the services, for tests that sweep every URL."""

from django.contrib.auth import get_user_model

from collection.models import VocabularyTerm
from core.models import Job
from interviews import services as interview_services
from labelling import services
from labelling.models import RoundItem
from taxonomy.models import Comparison, ComparisonClass, Leaf, Node
from tests.factories import AnnotationFactory, ArtefactFactory, AssignmentFactory, LabelFactory, ProjectFactory, member
from tests.interviews.factories import span, upload
from tests.validation.factories import survey_with_categories
from validation.models import Response


class World:
    """Ids of one project's objects, keyed by the URL keyword that names them."""

    def __init__(self, prefix: str):
        self.project = project = ProjectFactory(slug=f"{prefix}-proj", name=f'Project <{prefix}> & "q"')
        self.lead = member(project, lead=True, username=f"{prefix}-lead")
        self.moderator = member(project, moderator=True, username=f"{prefix}-mod")
        self.evaluators = [member(project, evaluator=True, username=f"{prefix}-eva{i}") for i in (1, 2, 3)]
        eva1, eva2, eva3 = self.evaluators
        ArtefactFactory.create_batch(2, project=project)
        in_round = ArtefactFactory.create_batch(2, project=project)
        rnd = services.round_create(
            project=project, user=self.lead, evaluator_ids=[eva1.id, eva2.id], artefact_ids=[a.id for a in in_round]
        )
        first = rnd.items.order_by("id").first().assignments.get(evaluator=eva1)
        services.annotation_submit(assignment_id=first.id, user=eva1, label="seen <b>")
        conflict = RoundItem.objects.create(
            round=rnd, artefact=ArtefactFactory(project=project), status="conflict", is_conflict=True
        )
        for order, evaluator in enumerate([eva2, eva3], start=1):
            AnnotationFactory(
                assignment=AssignmentFactory(item=conflict, round=rnd, evaluator=evaluator, order=order),
                label=LabelFactory(project=project),
            )
        label = LabelFactory(project=project, in_catalogue=True)
        node = Node.objects.create(project=project, name="Model <script>", code="1")
        leaf = Leaf.objects.create(node=node, label=label)
        comparison = Comparison.objects.create(project=project, name="Other")
        klass = ComparisonClass.objects.create(comparison=comparison, name="cls")
        job = Job.objects.create(project=project, kind=Job.Kind.EXPORT_ANNOTATIONS, status="done", result_data=b"x")
        interview = upload(project, self.lead, number=1)
        interview_services.interview_coders_set(
            interview_id=interview.id,
            user=self.lead,
            moderator_id=self.moderator.id,
            evaluator1_id=eva1.id,
            evaluator2_id=eva2.id,
        )
        start, end = span(interview, "learning rate")
        fragment = interview_services.fragment_create(
            interview_id=interview.id, user=eva1, start=start, end=end, tag="lr"
        )
        # a second interview, coded by both, moderated: pieces and a final tag
        done = upload(project, self.lead, number=2)
        interview_services.interview_coders_set(
            interview_id=done.id,
            user=self.lead,
            moderator_id=self.moderator.id,
            evaluator1_id=eva1.id,
            evaluator2_id=eva2.id,
        )
        for evaluator in (eva1, eva2):
            start, end = span(done, "learning rate")
            interview_services.fragment_create(interview_id=done.id, user=evaluator, start=start, end=end, tag="lr")
            interview_services.coding_done(interview_id=done.id, user=evaluator)
        piece = done.pieces.first()
        interview_services.piece_keep(piece_id=piece.id, user=self.moderator, moderator_tag="learning rate")
        piece.refresh_from_db()
        term = VocabularyTerm.objects.create(project=project, stem="loss", example="loss", artefact_count=1)
        survey, _ = survey_with_categories(project)
        response = Response.objects.create(survey=survey)
        self.rnd, self.conflict, self.survey, self.response = rnd, conflict, survey, response
        self.interview, self.fragment, self.node, self.leaf, self.label = interview, fragment, node, leaf, label
        self.ids = {
            "slug": project.slug,
            "project_slug": project.slug,
            "assignment_id": first.id,
            "number": 1,
            "item_id": conflict.id,
            "job_id": job.id,
            "node_id": node.id,
            "leaf_id": leaf.id,
            "comparison_id": comparison.id,
            "class_id": klass.id,
            "survey_id": survey.id,
            "fragment_id": fragment.id,
            "paragraph_id": interview.paragraphs.first().id,
            "piece_id": piece.id,
            "final_tag_id": piece.final_tag.id,
            "label_id": label.id,
            "token": survey.token,
            "term_id": term.id,
        }

    def users(self):
        return {
            "lead": self.lead,
            "moderator": self.moderator,
            "evaluator": self.evaluators[0],
            "evaluator2": self.evaluators[1],
        }


def stranger():
    return get_user_model().objects.create_user("stranger", password="x")
