from django.apps import AppConfig


class TherapistsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "therapists"
    verbose_name = "Therapists"

    def ready(self) -> None:
        from couples.services import account_deleting
        from therapists import services

        account_deleting.connect(services.account_deleting, dispatch_uid="therapists.deleting")
