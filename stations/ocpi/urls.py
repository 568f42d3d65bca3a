from django.urls import re_path

from ocpi_peer.urls import PARTY, VERSION
from stations.ocpi.locations import (
    ConnectorReceiverView,
    EvseReceiverView,
    LocationsReceiverView,
)
from stations.ocpi.tariffs import TariffsReceiverView

LOCATION = rf"^{VERSION}/locations/{PARTY}/(?P<location_id>[^/]+)"

urlpatterns = [
    # One view; a route per level, so that the schema names the object each one takes.
    re_path(rf"{LOCATION}/?$", LocationsReceiverView.as_view(), name="ocpi-locations"),
    re_path(rf"{LOCATION}/(?P<evse_uid>[^/]+)/?$", EvseReceiverView.as_view()),
    re_path(
        rf"{LOCATION}/(?P<evse_uid>[^/]+)/(?P<connector_id>[^/]+)/?$",
        ConnectorReceiverView.as_view(),
    ),
    re_path(
        rf"^{VERSION}/tariffs/{PARTY}/(?P<tariff_id>[^/]+)/?$",
        TariffsReceiverView.as_view(),
        name="ocpi-tariffs",
    ),
]
