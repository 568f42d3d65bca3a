from django.urls import re_path

from ocpi_peer.transport import UnknownOcpiPath
from ocpi_peer.views.credentials import CredentialsView
from ocpi_peer.views.versions import VersionDetailsView, VersionsView

# Trailing slashes are optional everywhere: CPMS disagree, and a redirect would lose a POST body.
VERSION = r"(?P<version>2\.2\.1|2\.1\.1)"

urlpatterns = [
    re_path(r"^versions/?$", VersionsView.as_view(), name="ocpi-versions"),
    re_path(rf"^{VERSION}/?$", VersionDetailsView.as_view(), name="ocpi-version-details"),
    re_path(rf"^{VERSION}/credentials/?$", CredentialsView.as_view(), name="ocpi-credentials"),
    re_path(r"^", UnknownOcpiPath.as_view()),
]
