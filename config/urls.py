from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.views import healthz
from payments.urls import driver_api, pages

urlpatterns = [
    path("ocpi/", include("ocpi_peer.urls")),
    path("api/v1/", include(driver_api)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    *pages,
]
