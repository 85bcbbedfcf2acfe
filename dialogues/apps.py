from django.apps import AppConfig


class DialoguesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dialogues"
    verbose_name = "Dialogues"

    def ready(self) -> None:
        from dialogues import signals  # noqa: F401
