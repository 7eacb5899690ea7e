"""Forms for the interview pages: input shape only; every rule lives in the services."""

from django import forms
from django.contrib.auth import get_user_model

from core.errors import DomainError


def attach_error(form: forms.Form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


class TranscriptUploadForm(forms.Form):
    file = forms.FileField(help_text=".docx, .txt, .md, .vtt or .srt")
    number = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="Blank: taken from the file name (interview3.docx → 3), else the next.",
    )
    title = forms.CharField(required=False, max_length=300)
    interviewee_profile = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    interviewers = forms.CharField(required=False, max_length=500)
    date = forms.CharField(required=False, help_text="YYYY-MM-DD")
    duration = forms.CharField(required=False, help_text="e.g. 45 min or 1:05:00")
    replace = forms.BooleanField(required=False, help_text="Replace an uploaded transcript (before any tagging).")


class DetailsForm(forms.Form):
    title = forms.CharField(required=False, max_length=300)
    interviewee_profile = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    interviewers = forms.CharField(required=False, max_length=500)
    date = forms.CharField(required=False)
    duration = forms.CharField(required=False)


class CodersForm(forms.Form):
    moderator = forms.ModelChoiceField(queryset=get_user_model().objects.none())
    evaluator1 = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Evaluator 1")
    evaluator2 = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Evaluator 2")

    def __init__(self, *args, moderators, evaluators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["moderator"].queryset = moderators
        self.fields["evaluator1"].queryset = evaluators
        self.fields["evaluator2"].queryset = evaluators


class FragmentForm(forms.Form):
    start = forms.IntegerField(min_value=0)
    end = forms.IntegerField(min_value=0)
    tag = forms.CharField(max_length=1000)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FragmentEditForm(forms.Form):
    tag = forms.CharField(max_length=1000)
    note = forms.CharField(required=False)


class KeepForm(forms.Form):
    moderator_tag = forms.CharField(max_length=1000)
    note = forms.CharField(required=False)


class FinalTagEditForm(forms.Form):
    text = forms.CharField(max_length=1000)


class SheetImportForm(forms.Form):
    file = forms.FileField(help_text="XLSX or CSV: Interview Num, Evaluator 1, Evaluator 2, Moderator Tag, Tag, Status")


class PlaceForm(forms.Form):
    ids = forms.CharField()
    leaf = forms.IntegerField(required=False)
    node = forms.IntegerField(required=False)

    def clean_ids(self):
        try:
            return [int(x) for x in self.cleaned_data["ids"].split(",") if x.strip()]
        except ValueError as exc:
            raise forms.ValidationError("Not a list of final tag ids.") from exc
