"""URLs of `bench.settings_bare`: the bare PATCH view, the bare landing page, and /healthz to
know it is up."""

from django.urls import include, path, re_path

from bench import bare
from config.views import healthz
from payments import views

urlpatterns = [
    path(
        "bench/bare/locations/<str:country_code>/<str:party_id>/<str:location_id>/<str:evse_uid>",
        bare.evse_status,
    ),
    re_path(r"^bench/bare/charge/(?P<evse_id>[A-Za-z0-9*\-_ .%]{1,64})/$", bare.charge_page),
    path("i18n/", include("django.conf.urls.i18n")),  # the page's language switch links here
    path("legal/<str:kind>/", views.legal_page, name="legal-page"),  # and its footer here
    path("healthz", healthz),
]
