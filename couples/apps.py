from django.apps import AppConfig


class CouplesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "couples"
    verbose_name = "People and couples"

    def ready(self) -> None:
        from couples import signals  # noqa: F401
        from imago_site import translation_memo

        translation_memo.install()  # every app's templates translate through it
