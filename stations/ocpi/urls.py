from django.urls import re_path

from ocpi_peer.urls import PARTY, VERSION
from stations.ocpi.locations import LocationsReceiverView
from stations.ocpi.tariffs import TariffsReceiverView

urlpatterns = [
    re_path(
        rf"^{VERSION}/locations/{PARTY}/(?P<location_id>[^/]+)"
        r"(?:/(?P<evse_uid>[^/]+)(?:/(?P<connector_id>[^/]+))?)?/?$",
        LocationsReceiverView.as_view(),
        name="ocpi-locations",
    ),
    re_path(
        rf"^{VERSION}/tariffs/{PARTY}/(?P<tariff_id>[^/]+)/?$",
        TariffsReceiverView.as_view(),
        name="ocpi-tariffs",
    ),
]
