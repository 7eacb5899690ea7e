from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Projects and members"

    def ready(self):
        from core import signals  # noqa: F401, PLC0415  (connects the audit receivers)
