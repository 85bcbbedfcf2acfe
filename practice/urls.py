from django.urls import path

from practice import views

app_name = "practice"

urlpatterns = [
    path("between/caring/", views.caring_page, name="caring"),
    path("between/caring/items/", views.caring_item_add, name="caring_add"),
    path(
        "between/caring/items/<str:public_id>/remove/",
        views.caring_item_remove,
        name="caring_remove",
    ),
    path("between/caring/items/<str:public_id>/given/", views.caring_give, name="caring_give"),
    path("between/caring/share/", views.caring_share, name="caring_share"),
    path(
        "between/caring/given/<str:public_id>/acknowledge/",
        views.caring_acknowledge,
        name="caring_acknowledge",
    ),
    path("between/agreements/<str:public_id>/done/", views.agreement_done, name="agreement_done"),
    path(
        "between/agreements/<str:public_id>/thanks/",
        views.agreement_thanks,
        name="agreement_thanks",
    ),
    path("between/agreements/<str:public_id>/days/", views.agreement_days, name="agreement_days"),
    path("between/progress/", views.progress_page, name="progress"),
    path("between/questionnaire/<str:code>/", views.measure_page, name="measure"),
    path("between/questionnaire/<str:code>/skip/", views.measure_skip, name="measure_skip"),
    path("between/questionnaire-sharing/", views.measure_share, name="measure_share"),
    path("between/reflection/", views.reflection_page, name="reflection"),
    path("between/exits/", views.exits_page, name="exits"),
    path("between/exits/add/", views.exit_add, name="exit_add"),
    path("between/exits/<str:public_id>/remove/", views.exit_remove, name="exit_remove"),
    path("between/exits/<str:public_id>/close/", views.exit_close, name="exit_close"),
    path("between/reflection/share/", views.reflection_share, name="reflection_share"),
]
