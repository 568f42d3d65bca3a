from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.views import healthz
from ocpi_peer.urls import unknown_path
from payments.urls import driver_api, pages

urlpatterns = [
    path("ocpi/", include("ocpi_peer.urls")),
    path("ocpi/", include("stations.ocpi.urls")),
    path("ocpi/", include("payments.ocpi.urls")),
    path("ocpi/", include(unknown_path)),  # last: an OCPI 404 for every other path
    path("api/v1/", include(driver_api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    *pages,
]
