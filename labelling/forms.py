"""Page forms. They check the shape of the input; the rules live in services, whose
DomainErrors are attached back to the form's fields by the views."""

import re

from django import forms

from collection.models import Artefact
from core.errors import DomainError
from labelling.models import Verdict

VERDICT_CHOICES = [("", "—"), *Verdict.choices]
MAX_ID = 2**63 - 1  # ids beyond a 64-bit integer are refused before they reach the database

# Field names used by services mapped to the forms' own field names.
SERVICE_FIELDS = {"evaluator_ids": "evaluators", "target_id": "target", "source_id": "label_id"}


def attach_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's DomainError on the field it names (or on the whole form)."""
    field = SERVICE_FIELDS.get(error.field, error.field) if error.field else None
    form.add_error(field if field in form.fields else None, error.message)


class AnnotationForm(forms.Form):
    label = forms.CharField(required=False, strip=True)
    verdict = forms.ChoiceField(choices=VERDICT_CHOICES, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("label") and not data.get("verdict"):
            self.add_error("label", "Type a label or choose a verdict.")
        return data


class IdListWidget(forms.Textarea):
    """Accepts repeated values (checkboxes) or one text with ids separated by commas or spaces."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name) or ""]
        return ", ".join(v for v in values if v)


class IdListField(forms.CharField):
    widget = IdListWidget

    def to_python(self, value):
        text = super().to_python(value)
        parts = [p for p in re.split(r"[\s,;]+", text or "") if p]
        bad = [p for p in parts if not p.isdecimal()]
        if bad:
            raise forms.ValidationError(f"Not artefact ids: {', '.join(bad[:5])}.")
        too_big = [p for p in parts if int(p) > MAX_ID]
        if too_big:
            raise forms.ValidationError(f"No such artefact ids: {', '.join(too_big[:5])}.")
        return list(dict.fromkeys(int(p) for p in parts))


class UserChoiceField(forms.ModelMultipleChoiceField):
    """Refuses ids that are not integers within range before querying (SQLite overflows otherwise)."""

    def _check_values(self, value):
        for pk in value:
            text = str(pk).strip()
            if not text.isdecimal() or int(text) > MAX_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


class RoundCreateForm(forms.Form):
    MODES = [("sample", "Random sample of the unlabelled pool"), ("selection", "Explicit selection")]

    mode = forms.ChoiceField(choices=MODES, initial="sample", widget=forms.RadioSelect)
    name = forms.CharField(required=False, max_length=200)
    evaluators = UserChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    sample_size = forms.IntegerField(required=False, min_value=1, max_value=1_000_000)
    seed = forms.IntegerField(required=False, min_value=0, max_value=2**62, help_text="Empty: a random seed.")
    kinds = forms.MultipleChoiceField(
        choices=Artefact.Kind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    frameworks = forms.MultipleChoiceField(choices=[], required=False, widget=forms.CheckboxSelectMultiple)
    vocabulary_only = forms.BooleanField(
        required=False,
        label="Only artefacts matching the relevance vocabulary",
        help_text="Sample among artefacts with at least one term flagged relevant.",
    )
    artefact_ids = IdListField(required=False, label="Artefact ids", widget=IdListWidget(attrs={"rows": 2}))

    def __init__(self, *args, evaluators, frameworks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluators"].queryset = evaluators
        self.fields["evaluators"].label_from_instance = lambda u: u.get_full_name() or u.username
        self.fields["frameworks"].choices = [(f, f) for f in frameworks]

    def clean(self):
        data = super().clean()
        if data.get("mode") == "sample" and not data.get("sample_size") and "sample_size" not in self.errors:
            self.add_error("sample_size", "How many artefacts should the sample hold?")
        if data.get("mode") == "selection" and not data.get("artefact_ids") and "artefact_ids" not in self.errors:
            self.add_error("artefact_ids", "Select at least one artefact.")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"evaluator_ids": [u.id for u in data["evaluators"]], "name": data.get("name") or ""}
        if data["mode"] == "selection":
            kwargs["artefact_ids"] = data["artefact_ids"]
        else:
            kwargs.update(
                sample_size=data["sample_size"],
                seed=data.get("seed"),
                kinds=data.get("kinds") or None,
                frameworks=data.get("frameworks") or None,
                vocabulary_only=bool(data.get("vocabulary_only")),
            )
        return kwargs


class ResolveForm(forms.Form):
    annotation_id = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    label = forms.CharField(required=False, strip=True)
    verdict = forms.ChoiceField(choices=VERDICT_CHOICES, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        data = super().clean()
        given = [k for k in ("annotation_id", "label", "verdict") if data.get(k)]
        if not self.errors and len(given) != 1:
            self.add_error(None, "Pick one annotation, or type one final label, or choose one verdict.")
        return data


class SendBackForm(forms.Form):
    """Send a conflict back to some of its evaluators (the service checks who may be chosen)."""

    evaluator_ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    reason = forms.CharField(required=False, strip=True, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, evaluators=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluator_ids"].choices = [(user.id, user.username) for user in evaluators]


class LabelIdForm(forms.Form):
    label_id = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class LabelRenameForm(LabelIdForm):
    name = forms.CharField(strip=True)


class LabelMergeForm(LabelIdForm):
    target = forms.CharField(strip=True, label="Merge into")


class CatalogueAddForm(forms.Form):
    name = forms.CharField(strip=True)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ArtefactFilterForm(forms.Form):
    POOL = [("", "All artefacts"), ("pool", "Unlabelled pool"), ("rounds", "In a round")]

    q = forms.CharField(required=False, strip=True, label="Search")
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Artefact.Kind.choices], required=False)
    framework = forms.ChoiceField(choices=[], required=False)
    pool = forms.ChoiceField(choices=POOL, required=False)
    vocabulary = forms.BooleanField(required=False, label="Matching the vocabulary")

    def __init__(self, *args, frameworks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["framework"].choices = [("", "Any framework"), *((f, f) for f in frameworks)]
