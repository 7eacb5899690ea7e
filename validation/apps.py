from django.apps import AppConfig


class ValidationConfig(AppConfig):
    name = "validation"
    label = "validation"
    verbose_name = "Taxonomy validation survey"
    default_auto_field = "django.db.models.BigAutoField"
