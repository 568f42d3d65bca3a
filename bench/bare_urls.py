"""URLs of `bench.settings_bare`: the bare PATCH view, and /healthz to know it is up."""

from django.urls import path

from bench import bare
from config.views import healthz

urlpatterns = [
    path(
        "bench/bare/locations/<str:country_code>/<str:party_id>/<str:location_id>/<str:evse_uid>",
        bare.evse_status,
    ),
    path("healthz", healthz),
]
