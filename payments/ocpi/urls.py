import re

from django.urls import re_path

from ocpi_peer.urls import PARTY, VERSION
from payments.ocpi.cdrs import CdrsReceiverView
from payments.ocpi.commands import CommandsSenderView
from payments.ocpi.payments import (
    PAYMENTS_VERSIONS,
    AdviceSenderView,
    AdvicesSenderView,
    TerminalActivateView,
    TerminalDeactivateView,
    TerminalSenderView,
    TerminalsSenderView,
)
from payments.ocpi.sessions import SessionsReceiverView
from payments.ocpi.tokens import TokenAuthorizeView, TokenSenderView, TokensSenderView

# The Payments module (2.3.0 on): two collections under the module's URL (checklist B-22).
PAYMENTS = rf"(?P<version>{'|'.join(map(re.escape, PAYMENTS_VERSIONS))})/payments"
TERMINAL = r"(?P<terminal_id>[^/]+)"

urlpatterns = [
    re_path(rf"^{PAYMENTS}/terminals/?$", TerminalsSenderView.as_view(), name="ocpi-terminals"),
    re_path(rf"^{PAYMENTS}/terminals/activate/?$", TerminalActivateView.as_view()),
    re_path(rf"^{PAYMENTS}/terminals/{TERMINAL}/deactivate/?$", TerminalDeactivateView.as_view()),
    re_path(rf"^{PAYMENTS}/terminals/{TERMINAL}/?$", TerminalSenderView.as_view()),
    re_path(
        rf"^{PAYMENTS}/financial-advice-confirmations/?$",
        AdvicesSenderView.as_view(),
        name="ocpi-advices",
    ),
    re_path(
        rf"^{PAYMENTS}/financial-advice-confirmations/(?P<advice_id>[^/]+)/?$",
        AdviceSenderView.as_view(),
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
