from django.apps import AppConfig


class CouplesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "couples"
    verbose_name = "People and couples"

    def ready(self) -> None:
        from couples import mfa, push, signals  # noqa: F401 (receivers, the push sweep)
        from couples.selectors import two_factor_missing_at_connect, two_factor_required
        from live import i18n, session_limits
        from live.consumer import connect_check_register

        i18n.install()  # every app's templates translate through it
        # Sockets refuse what pages refuse: therapists and staff without their second factor.
        connect_check_register(two_factor_missing_at_connect)
        # The same people get the short idle limit (live/session_limits.py).
        session_limits.strict_rule_register(lambda user: two_factor_required(user=user))
