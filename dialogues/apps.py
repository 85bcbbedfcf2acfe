from django.apps import AppConfig


class DialoguesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dialogues"
    verbose_name = "Dialogues"

    def ready(self) -> None:
        from couples import signals

        # tasks: registers its periodic sweep, and itself as the queue reminders plan into
        from dialogues import services, tasks

        signals.couple_ending.connect(services.on_couple_ending, dispatch_uid="dialogues")
        signals.device_sharing_revoked.connect(
            services.on_device_sharing_revoked, dispatch_uid="dialogues"
        )
        signals.account_deleting.connect(services.on_account_deleting, dispatch_uid="dialogues")
        signals.account_exporting.connect(services.on_account_exporting, dispatch_uid="dialogues")
        signals.couple_purging.connect(services.on_couple_purging, dispatch_uid="dialogues")
        assert tasks.reminders_sweep is not None
