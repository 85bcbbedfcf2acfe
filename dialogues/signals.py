"""Close a browser's sockets when it logs out (only that login session, not other devices)."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from dialogues.consumers import auth_session_group


@receiver(user_logged_out)
def close_sockets_on_logout(sender, request, user, **kwargs) -> None:
    group = auth_session_group(getattr(getattr(request, "session", None), "session_key", None))
    layer = get_channel_layer()
    if group and layer is not None:
        async_to_sync(layer.group_send)(group, {"type": "auth.revoked"})
