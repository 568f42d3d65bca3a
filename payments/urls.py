from django.urls import path, re_path

from payments import api, views, webhooks

# The EVSE id in a URL may contain `*` (eMI3) and is matched however it is written.
EVSE = rf"(?P<evse_id>{views.EVSE_IN_URL.pattern})"

pages = [
    path("charge/", views.charge_lookup, name="charge-lookup"),
    re_path(rf"^charge/{EVSE}/$", views.charge_page, name="charge-page"),
    path("checkout/<str:public_id>/", views.checkout_page, name="checkout-page"),
    path("checkout/<str:public_id>/link", views.checkout_link_mail, name="checkout-link-mail"),
    path("legal/<str:kind>/", views.legal_page, name="legal-page"),
    path("checkout/<str:public_id>/receipt/", views.receipt_page, name="receipt-page"),
    path(
        "checkout/<str:public_id>/receipt/invoice-details",
        views.receipt_invoice_details,
        name="receipt-invoice-details",
    ),
    path("checkout/<str:public_id>/receipt.pdf", views.receipt_pdf_download, name="receipt-pdf"),
    path(
        "checkout/<str:public_id>/credit-notes/<str:number>/",
        views.credit_note_page,
        name="credit-note-page",
    ),
    path(
        "checkout/<str:public_id>/credit-notes/<str:number>.pdf",
        views.credit_note_pdf_download,
        name="credit-note-pdf",
    ),
    path(
        "checkout/<str:public_id>/signed-data.ocmf",
        views.receipt_signed_data,
        name="receipt-signed-data",
    ),
    path(
        "checkout/<str:public_id>/signed-data.xml",
        views.receipt_signed_data_xml,
        name="receipt-signed-data-xml",
    ),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe-webhook"),
]

driver_api = [
    re_path(rf"^evses/{EVSE}$", api.EvseView.as_view(), name="api-evse"),
    path("locations", api.LocationsView.as_view(), name="api-locations"),
    path("checkouts", api.CheckoutsView.as_view(), name="api-checkouts"),
    path("checkouts/<str:public_id>", api.CheckoutView.as_view(), name="api-checkout"),
    path("checkouts/<str:public_id>/pay", api.PayView.as_view(), name="api-pay"),
    path("checkouts/<str:public_id>/confirm", api.ConfirmView.as_view(), name="api-confirm"),
    path("checkouts/<str:public_id>/stop", api.StopView.as_view(), name="api-stop"),
    re_path(r"^", api.UnknownPath.as_view()),  # last: a JSON 404 for every other path
]
