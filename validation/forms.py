"""Forms of the survey pages: the shape of the input only; every rule lives in services.py."""

from __future__ import annotations

from django import forms

from core.errors import DomainError
from validation.services import FRAMEWORK_CHOICES

DEFAULT_INTRO = (
    "We have built a taxonomy of faults in deep learning systems from real bugs and from interviews "
    "with practitioners. For each category below, please tell us whether you have ever encountered such "
    "a fault and, if you have, how severe it was and how much effort it took to diagnose and fix it. "
    "Answering takes about 15 minutes; you can save your progress and come back with the same link. "
    "Your answers are anonymous."
)

SCALE_CHOICES = [
    ("study", "The study's: severity Minor / Major / Critical, effort Low / Medium / High"),
    ("numeric", "Numeric: 1 (lowest) to 5 (highest) for both"),
]


def attach_error(form: forms.Form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class SurveyCreateForm(forms.Form):
    title = forms.CharField(max_length=200, help_text="Respondents see it, e.g. “Faults in deep learning systems”.")
    intro = forms.CharField(
        required=False,
        initial=DEFAULT_INTRO,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Introduction",
        help_text="Shown above the questions (plain text).",
    )
    ask_severity = forms.BooleanField(required=False, initial=True, label="Severity of each fault encountered")
    ask_effort = forms.BooleanField(
        required=False, initial=True, label="Effort to diagnose and fix each fault encountered"
    )
    scales = forms.ChoiceField(choices=SCALE_CHOICES, initial="study", label="Answer scales", required=False)
    ask_comment = forms.BooleanField(required=False, initial=True, label="An optional comment per category")
    ask_background = forms.BooleanField(
        required=False, initial=True, label="Background: role, years of experience, frameworks used"
    )
    ask_missing = forms.BooleanField(
        required=False, initial=True, label="Free text: faults the respondent misses in the taxonomy"
    )
    categories = forms.MultipleChoiceField(required=False, choices=())

    def __init__(self, *args, entries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["categories"].choices = [(e.key, e.name) for e in entries]

    def selection(self) -> tuple[list[int], list[int]]:
        """(node ids, leaf ids) of the ticked categories."""
        nodes, leaves = [], []
        for key in self.cleaned_data.get("categories") or []:
            kind, _, number = key.partition("-")
            (leaves if kind == "leaf" else nodes).append(int(number))
        return nodes, leaves


def preselection(params) -> tuple[set[int] | None, bool]:
    """Levels (None = all) and leaves from `?level=1&level=2&leaves=1` (bad values ignored: a preselection only)."""
    levels = set()
    for value in params.getlist("level"):
        if value.isdecimal() and 0 < int(value) <= 100:
            levels.add(int(value))
    return (levels or None), params.get("leaves") in ("1", "on", "true")


# --- the respondent's page -----------------------------------------------------------------------


def field_name(category_id: int, what: str) -> str:
    return f"c{category_id}-{what}"


def answers_from_post(post, categories) -> list[dict]:
    """Raw answers per category from the respondent's form (services validate them)."""
    answers = []
    for category in categories:
        answers.append(
            {
                "category": category.id,
                "encountered": post.get(field_name(category.id, "encountered"), ""),
                "severity": post.get(field_name(category.id, "severity"), ""),
                "effort": post.get(field_name(category.id, "effort"), ""),
                "comment": post.get(field_name(category.id, "comment"), ""),
            }
        )
    return answers


def background_from_post(post) -> dict:
    frameworks = [f for f in post.getlist("frameworks") if f]
    other = post.get("frameworks_other", "")
    frameworks += [part for part in other.split(",") if part.strip()]
    return {
        "role": post.get("role", ""),
        "experience_years": post.get("experience_years", ""),
        "frameworks": frameworks,
    }


def scale(labels: list[str]) -> list[tuple[int, str]]:
    """(position, label) of each level, lowest first: the radio buttons' values and texts."""
    return list(enumerate(labels, start=1))


FRAMEWORKS = FRAMEWORK_CHOICES
