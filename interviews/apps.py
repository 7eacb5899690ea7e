from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    label = "interviews"
    verbose_name = "Interviews"
    default_auto_field = "django.db.models.BigAutoField"
