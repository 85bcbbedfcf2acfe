from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TherapistsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "therapists"
    verbose_name = _("Therapists")

    def ready(self) -> None:
        # Lower apps never import this one: they tell us through signals and a registry.
        from couples import signals
        from dialogues import calls
        from dialogues import selectors as dialogue_selectors
        from dialogues import services as dialogue_services
        from practice import services as practice_services
        from therapists import services

        signals.couple_ending.connect(services.on_couple_ending, dispatch_uid="therapists")
        signals.access_ending.connect(services.on_access_ending, dispatch_uid="therapists")
        signals.account_deleting.connect(services.on_account_deleting, dispatch_uid="therapists")
        signals.account_exporting.connect(services.on_account_exporting, dispatch_uid="therapists")
        signals.couple_purging.connect(services.on_couple_purging, dispatch_uid="therapists")
        dialogue_services.dialogue_completed.connect(
            services.homework_complete_with, dispatch_uid="therapists"
        )
        practice_services.practice_recorded.connect(
            services.homework_complete_with_practice, dispatch_uid="therapists"
        )
        dialogue_selectors.facilitator_check_register(services.may_facilitate)
        calls.waiting_room_register(services.call_must_wait)
        dialogue_selectors.admitted_register(services.call_admitted_partners)
        self._workshops_ready()

    def _workshops_ready(self) -> None:
        from couples import signals
        from dialogues import selectors as dialogue_selectors
        from dialogues.models import title_namer_register
        from live.consumer import person_gone_register
        from therapists.workshops import selectors as workshop_selectors
        from therapists.workshops import services as workshop_services

        # A presenter steps into a couple's practice only if both partners allow reading.
        dialogue_selectors.facilitator_check_register(workshop_selectors.presenter_may_read)
        # A practice is called after its workshop, wherever its title shows.
        title_namer_register(workshop_selectors.practice_title)
        # A partner who left the app (no page open anywhere) shows absent on the boards.
        person_gone_register(workshop_services.on_person_gone)
        signals.account_exporting.connect(
            workshop_services.on_account_exporting, dispatch_uid="therapists.workshops"
        )
        signals.account_deleting.connect(
            workshop_services.on_account_deleting, dispatch_uid="therapists.workshops"
        )
