from django.apps import AppConfig


class LabellingConfig(AppConfig):
    name = "labelling"
    verbose_name = "Labelling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Django's idiom: receivers are connected once the models are loaded (hence the late import).
        from core.signals import membership_deactivated  # noqa: PLC0415
        from labelling.services import on_membership_deactivated  # noqa: PLC0415

        membership_deactivated.connect(on_membership_deactivated, dispatch_uid="labelling-move-open-work")
