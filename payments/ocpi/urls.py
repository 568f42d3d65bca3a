from django.urls import re_path

from ocpi_peer.urls import PARTY, VERSION
from payments.ocpi.cdrs import CdrsReceiverView
from payments.ocpi.commands import CommandsSenderView
from payments.ocpi.sessions import SessionsReceiverView
from payments.ocpi.tokens import TokenAuthorizeView, TokenSenderView, TokensSenderView

urlpatterns = [
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
    # CDRs are POSTed to the module's URL and read back at the Location we answer with.
    re_path(
        rf"^{VERSION}/cdrs/?$",
        CdrsReceiverView.as_view(http_method_names=["post", "options"]),
        name="ocpi-cdrs",
    ),
    re_path(
        rf"^{VERSION}/cdrs/{PARTY}/(?P<cdr_id>[^/]+)/?$",
        CdrsReceiverView.as_view(http_method_names=["get", "options"]),
        name="ocpi-cdr",
    ),
    re_path(rf"^{VERSION}/tokens/?$", TokensSenderView.as_view(), name="ocpi-tokens"),
    re_path(
        rf"^{VERSION}/tokens/(?P<token_uid>[^/]+)/authorize/?$",
        TokenAuthorizeView.as_view(),
        name="ocpi-token-authorize",
    ),
    re_path(rf"^{VERSION}/tokens/(?P<token_uid>[^/]+)/?$", TokenSenderView.as_view()),
]
