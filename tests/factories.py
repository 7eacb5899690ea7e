"""factory_boy factories for unit data. Tests build what they need from these."""

import factory
from django.contrib.auth import get_user_model

from collection.models import Artefact
from core.models import Membership, Project
from labelling.models import Annotation, Assignment, Label, Round, RoundItem
from taxonomy.models import Leaf, Node

PASSWORD = "concord-test-pw"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    is_evaluator = True


class ArtefactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Artefact

    project = factory.SubFactory(ProjectFactory)
    kind = Artefact.Kind.SO_QUESTION
    framework = "keras"
    url = factory.Sequence(lambda n: f"https://stackoverflow.com/questions/{1000000 + n}")
    title = factory.Sequence(lambda n: f"Why does my model {n} not converge?")
    body = "<p>My loss is <b>nan</b> after the first epoch.</p>"


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"wrong tensor shape {n}")


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.LazyAttribute(lambda r: f"Round {r.number}")


class RoundItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoundItem

    round = factory.SubFactory(RoundFactory)
    artefact = factory.SubFactory(ArtefactFactory, project=factory.SelfAttribute("..round.project"))


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    item = factory.SubFactory(RoundItemFactory)
    round = factory.SelfAttribute("item.round")
    evaluator = factory.SubFactory(UserFactory)
    order = factory.Sequence(lambda n: n + 1)


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Annotation

    assignment = factory.SubFactory(AssignmentFactory)
    label = factory.SubFactory(LabelFactory, project=factory.SelfAttribute("..assignment.round.project"))
    verdict = ""


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Category {n}")


class LeafFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Leaf

    node = factory.SubFactory(NodeFactory)
    label = factory.SubFactory(LabelFactory, project=factory.SelfAttribute("..node.project"))


def member(project, *, lead=False, moderator=False, evaluator=False, active=True, username=None):
    """A user with the given roles in `project`."""
    kwargs = {"username": username} if username else {}
    user = UserFactory(**kwargs)
    MembershipFactory(
        project=project, user=user, is_lead=lead, is_moderator=moderator, is_evaluator=evaluator, is_active=active
    )
    return user


def team_round(team, n=1, evaluators=None, **kwargs):
    """A round started by `team.lead` through the service: `n` new artefacts, each given to two of
    `evaluators` (default: the team's first two); other keyword arguments go to round_create."""
    from labelling import services

    evaluators = evaluators if evaluators is not None else team.evaluators[:2]
    artefacts = ArtefactFactory.create_batch(n, project=team.project)
    return services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in evaluators],
        artefact_ids=[a.id for a in artefacts],
        **kwargs,
    )
