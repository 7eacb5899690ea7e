"""Factories for the validation survey (kept apart from tests/factories.py)."""

import factory
from django.utils import timezone

from tests.factories import LeafFactory, NodeFactory, ProjectFactory
from validation.models import Answer, Response, ResponseFramework, Survey, SurveyCategory, numeric_scale


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    project = factory.SubFactory(ProjectFactory)
    title = factory.Sequence(lambda n: f"Survey {n}")
    intro = "Tell us about the faults you have met."
    status = Survey.Status.OPEN
    # The tests written for the 1–5 ratings keep them; the study's scales are asked for by name.
    severity_scale = factory.LazyFunction(numeric_scale)
    effort_scale = factory.LazyFunction(numeric_scale)


class SurveyCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SurveyCategory

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = SurveyCategory.Kind.NODE
    code = factory.Sequence(lambda n: str(n + 1))
    name = factory.Sequence(lambda n: f"Fault category {n}")
    path = factory.LazyAttribute(lambda c: [c.name])
    level = 1


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    survey = factory.SubFactory(SurveyFactory)


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    response = factory.SubFactory(ResponseFactory)
    category = factory.SubFactory(SurveyCategoryFactory, survey=factory.SelfAttribute("..response.survey"))
    encountered = True
    severity = 3
    effort = 3


def survey_with_categories(project=None, n=3, **kwargs):
    """An open survey with `n` top-level categories; returns (survey, categories in order)."""
    survey = SurveyFactory(**({"project": project} if project else {}), **kwargs)
    categories = [SurveyCategoryFactory(survey=survey, position=i + 1, code=str(i + 1)) for i in range(n)]
    return survey, categories


def respond(survey, answers, *, submitted=True, role="", years=None, frameworks=(), missing=""):
    """A response with `answers` = {category: (encountered, severity, effort[, comment])}."""
    response = ResponseFactory(
        survey=survey,
        role=role,
        experience_years=years,
        missing_faults=missing,
        submitted_at=timezone.now() if submitted else None,
    )
    Answer.objects.bulk_create(
        Answer(
            response=response,
            category=category,
            encountered=values[0],
            severity=values[1],
            effort=values[2],
            comment=values[3] if len(values) > 3 else "",
        )
        for category, values in answers.items()
    )
    ResponseFramework.objects.bulk_create(ResponseFramework(response=response, name=f) for f in frameworks)
    return response


def small_taxonomy(project):
    """Model (1) › Layers (1.1) › [leaf "wrong activation"], Model › Hyperparameters (1.2), Training (2).

    Returns the nodes and the leaf as a dict."""
    model = NodeFactory(project=project, name="Model", code="1", description="Faults in the model", position=0)
    layers = NodeFactory(project=project, name="Layers", code="1.1", parent=model, position=0)
    hyper = NodeFactory(project=project, name="Hyperparameters", code="1.2", parent=model, position=1)
    training = NodeFactory(project=project, name="Training", code="2", description="Faults in training", position=1)
    leaf = LeafFactory(node=layers, label__name="wrong activation", label__description="e.g. softmax for regression")
    return {"model": model, "layers": layers, "hyper": hyper, "training": training, "leaf": leaf}
