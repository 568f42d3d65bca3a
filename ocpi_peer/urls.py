"""The configuration modules (versions, credentials) and the pieces every OCPI route shares.

The functional modules' routes live with their views in the domain apps (`stations.ocpi.urls`,
`payments.ocpi.urls`); `config/urls.py` mounts them all under `ocpi/` and `unknown_path` last."""

import re

from django.urls import re_path

from ocpi_peer.transport import UnknownOcpiPath
from ocpi_peer.versions import SUPPORTED
from ocpi_peer.views.credentials import CredentialsView
from ocpi_peer.views.hubclientinfo import HubClientInfoReceiverView
from ocpi_peer.views.versions import VersionDetailsView, VersionsView

# Trailing slashes are optional everywhere: CPMS disagree, and a redirect would lose a POST body.
VERSION = rf"(?P<version>{'|'.join(map(re.escape, SUPPORTED))})"
# The versions with a hubclientinfo module (2.2 on).
WITH_CLIENT_INFO = "|".join(re.escape(n) for n, spec in SUPPORTED.items() if spec.client_info)
PARTY = r"(?P<country_code>[^/]+)/(?P<party_id>[^/]+)"

urlpatterns = [
    re_path(r"^versions/?$", VersionsView.as_view(), name="ocpi-versions"),
    re_path(rf"^{VERSION}/?$", VersionDetailsView.as_view(), name="ocpi-version-details"),
    re_path(rf"^{VERSION}/credentials/?$", CredentialsView.as_view(), name="ocpi-credentials"),
    # 2.2+ only: under 2.1.1 the path is unknown (404).
    re_path(
        rf"^(?P<version>{WITH_CLIENT_INFO})/hubclientinfo/{PARTY}/?$",
        HubClientInfoReceiverView.as_view(),
        name="ocpi-hubclientinfo",
    ),
]

# Anything else under ocpi/: included after every app's routes.
unknown_path = [re_path(r"^", UnknownOcpiPath.as_view())]
