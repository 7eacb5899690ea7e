"""Factories and builders for interview tests (real services, generated transcripts)."""

import factory

from interviews import services
from interviews.models import Interview
from tests.factories import ProjectFactory

PARAGRAPHS = [
    ("Interviewer1", "What problems did you meet when training your models?"),
    ("Interviewee", "Mostly the learning rate was too high, so the loss exploded after a few epochs."),
    ("Interviewer2", "And the data?"),
    ("Interviewee", "We did not have enough training data, and the labels were noisy because of the tools."),
]


class InterviewFactory(factory.django.DjangoModelFactory):
    """A bare interview record (no transcript), as a coding-sheet import creates."""

    class Meta:
        model = Interview

    project = factory.SubFactory(ProjectFactory)
    number = factory.Sequence(lambda n: n + 1)
    coding_source = Interview.Source.IMPORT


def transcript_txt(paragraphs=PARAGRAPHS) -> bytes:
    return "\n\n".join(f"{speaker}: {text}" for speaker, text in paragraphs).encode()


def upload(project, lead, *, number=1, paragraphs=PARAGRAPHS, **details) -> Interview:
    return services.interview_create(
        project=project, user=lead, filename=f"interview{number}.txt", data=transcript_txt(paragraphs), **details
    )


def span(interview, words: str) -> tuple[int, int]:
    """[start, end) of `words` in the interview's text."""
    start = interview.text.index(words)
    return start, start + len(words)


def tag(interview, user, words: str, label: str, **kwargs):
    start, end = span(interview, words)
    return services.fragment_create(interview_id=interview.id, user=user, start=start, end=end, tag=label, **kwargs)
