from django.urls import path

from security import csp

app_name = "security"

urlpatterns = [
    path("csp-report/", csp.csp_report, name="csp_report"),
]
