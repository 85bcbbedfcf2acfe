from django.apps import AppConfig


class CouplesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "couples"
    verbose_name = "People and couples"

    def ready(self) -> None:
        from couples import signals  # noqa: F401
        from imago_site import i18n

        i18n.install()  # every app's templates translate through it
