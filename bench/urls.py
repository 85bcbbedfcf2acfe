"""The site's URLs plus POST /bench/echo/, through the same middleware as every request."""

from django.urls import path

from bench import echo
from imago_site.urls import urlpatterns as site_urlpatterns

urlpatterns = [*site_urlpatterns, path("bench/echo/", echo.echo_send, name="bench_echo")]
