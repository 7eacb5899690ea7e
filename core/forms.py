"""Forms of projects, members, invitations and tokens (shape only: the rules live in core.services)."""

from django import forms

from core.errors import DomainError

ROLE_CHOICES = [("lead", "Lead"), ("moderator", "Moderator"), ("evaluator", "Evaluator")]


def attach_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's DomainError on the field it names (or on the whole form)."""
    form.add_error(error.field if error.field in form.fields else None, error.message)


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="e.g. Faults in deep learning systems")
    slug = forms.SlugField(max_length=100, help_text="Lower-case letters, digits and dashes; in every address.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", ROLE_CHOICES)
        kwargs.setdefault("error_messages", {"required": "Choose at least one role."})
        super().__init__(**kwargs)


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=254, label="Username or e-mail")
    roles = RolesField(initial=["evaluator"])


class InvitationForm(forms.Form):
    email = forms.EmailField(required=False, label="E-mail (optional, for your records)")
    roles = RolesField(initial=["evaluator"])


class MemberRolesForm(forms.Form):
    roles = RolesField()


class SignUpForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    email = forms.EmailField(required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters, not only digits, not a common password, not like your username.",
    )
    password_again = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, label="Token name", help_text="Where it is used, e.g. “analysis script”.")


class DigestForm(forms.Form):
    digest = forms.BooleanField(required=False, label="E-mail me a digest of my unread notifications")


class GuidelinesForm(forms.Form):
    guidelines = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 14}), help_text="Markdown. Shown beside every artefact."
    )
