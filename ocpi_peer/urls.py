from django.urls import re_path

from ocpi_peer.transport import UnknownOcpiPath
from ocpi_peer.views.cdrs import CdrsReceiverView
from ocpi_peer.views.commands import CommandsSenderView
from ocpi_peer.views.credentials import CredentialsView
from ocpi_peer.views.locations import LocationsReceiverView
from ocpi_peer.views.sessions import SessionsReceiverView
from ocpi_peer.views.tariffs import TariffsReceiverView
from ocpi_peer.views.tokens import TokenAuthorizeView, TokensSenderView
from ocpi_peer.views.versions import VersionDetailsView, VersionsView

# Trailing slashes are optional everywhere: CPMS disagree, and a redirect would lose a POST body.
VERSION = r"(?P<version>2\.2\.1|2\.1\.1)"
PARTY = r"(?P<country_code>[^/]+)/(?P<party_id>[^/]+)"

urlpatterns = [
    re_path(r"^versions/?$", VersionsView.as_view(), name="ocpi-versions"),
    re_path(rf"^{VERSION}/?$", VersionDetailsView.as_view(), name="ocpi-version-details"),
    re_path(rf"^{VERSION}/credentials/?$", CredentialsView.as_view(), name="ocpi-credentials"),
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
    re_path(
        rf"^{VERSION}/sessions/{PARTY}/(?P<session_id>[^/]+)/?$",
        SessionsReceiverView.as_view(),
        name="ocpi-sessions",
    ),
    re_path(
        rf"^{VERSION}/commands/(?P<command>[A-Z_]+)/(?P<callback_id>[A-Za-z0-9_-]+)/?$",
        CommandsSenderView.as_view(),
        name="ocpi-command-result",
    ),
    re_path(rf"^{VERSION}/cdrs/?$", CdrsReceiverView.as_view(), name="ocpi-cdrs"),
    re_path(
        rf"^{VERSION}/cdrs/{PARTY}/(?P<cdr_id>[^/]+)/?$",
        CdrsReceiverView.as_view(),
        name="ocpi-cdr",
    ),
    re_path(rf"^{VERSION}/tokens/?$", TokensSenderView.as_view(), name="ocpi-tokens"),
    re_path(
        rf"^{VERSION}/tokens/(?P<token_uid>[^/]+)/authorize/?$",
        TokenAuthorizeView.as_view(),
        name="ocpi-token-authorize",
    ),
    re_path(rf"^{VERSION}/tokens/(?P<token_uid>[^/]+)/?$", TokensSenderView.as_view()),
    re_path(r"^", UnknownOcpiPath.as_view()),
]
