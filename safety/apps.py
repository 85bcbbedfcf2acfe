from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "safety"
    verbose_name = _("Safety")

    def ready(self) -> None:
        # Couples never imports this app: it tells us through its signals.
        from couples import signals
        from safety import services

        signals.account_deleting.connect(services.on_account_deleting, dispatch_uid="safety")
        signals.couple_purging.connect(services.on_couple_purging, dispatch_uid="safety")
