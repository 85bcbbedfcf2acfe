from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PracticeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "practice"
    verbose_name = _("Practice between dialogues")

    def ready(self) -> None:
        # Lower apps never import this one: they tell us through signals and a registry.
        from couples import signals
        from dialogues import push
        from dialogues import services as dialogue_services
        from practice import services, views

        dialogue_services.gift_given.connect(services.agreement_from_gift, dispatch_uid="practice")
        signals.account_deleting.connect(services.on_account_deleting, dispatch_uid="practice")
        signals.account_exporting.connect(services.on_account_exporting, dispatch_uid="practice")
        signals.couple_purging.connect(services.on_couple_purging, dispatch_uid="practice")
        push.home_part_register(views.render_home_part)
