"""What drivers buy: a checkout (one charging session paid by card), its money movements in an
append-only ledger, the Stripe events we received, and the deadlines that watch it."""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone

from ocpi_peer.models import Partner
from stations.models import Connector, Evse, Tariff
from stations.money import Money


def new_public_id() -> str:
    """The secret in the driver's status link: 192 random bits, not the authorization_reference."""
    return secrets.token_urlsafe(24)


class Checkout(models.Model):
    class Status(models.TextChoices):
        CREATED = "created"
        AUTHORIZED = "authorized"
        STARTING = "starting"
        CHARGING = "charging"
        STOPPING = "stopping"
        FINISHED = "finished"
        SETTLED = "settled"
        FAILED = "failed"
        EXPIRED = "expired"

    class PaymentStatus(models.TextChoices):
        NONE = "none", "no payment yet"
        HELD = "held"
        CAPTURED = "captured"
        PARTIALLY_REFUNDED = "partially_refunded", "partially refunded"
        REFUNDED = "refunded"
        RELEASED = "released"
        DISPUTED = "disputed"

    public_id = models.CharField(max_length=64, unique=True, default=new_public_id, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.NONE
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="checkouts")
    evse = models.ForeignKey(Evse, on_delete=models.PROTECT, related_name="checkouts")
    connector = models.ForeignKey(Connector, on_delete=models.PROTECT, related_name="checkouts")
    # One driver per EVSE at a time (ARCHITECTURE: a unique constraint, not a Python lock): set
    # while the checkout holds the EVSE, cleared when it lets go.
    evse_claim = models.OneToOneField(
        Evse, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email = models.EmailField(blank=True)
    # The driver's invoice details (`payments.invoice_details`), all optional: who the receipt
    # is made out to. Personal data, erased with the e-mail address after EMAIL_RETENTION.
    invoice_name = models.CharField(max_length=100, blank=True)
    invoice_street = models.CharField(max_length=100, blank=True)
    invoice_postal_code = models.CharField(max_length=10, blank=True)
    invoice_city = models.CharField(max_length=60, blank=True)
    invoice_country = models.CharField(max_length=60, blank=True)
    invoice_vat_id = models.CharField(max_length=20, blank=True)
    locale = models.CharField(max_length=2, default="en")
    # The driver's address (through the proxies we trust, ocpi_peer.clients), and what the
    # checkout rate limit counts it as: the address, or an IPv6 address's /64.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    client_net = models.CharField(max_length=64, blank=True)
    # The price the driver was shown, kept as shown: the tariff as OCPI JSON and the lines read.
    tariff = models.ForeignKey(
        Tariff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tariff_snapshot = models.JSONField(default=dict)
    currency = models.CharField(max_length=3)
    hold_amount = models.DecimalField(max_digits=12, decimal_places=4)  # incl. VAT
    stripe_setup_intent = models.CharField(max_length=255, blank=True)
    stripe_payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    merchant = models.CharField(max_length=64, default="platform")  # whose Stripe account
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    # 2.2.1: minted with the token when the hold is confirmed; the CPO copies it into the
    # Session and CDR (checklist §10). Printed on receipts, so never the link's secret.
    authorization_reference = models.CharField(max_length=36, unique=True, null=True, blank=True)
    declines = models.PositiveSmallIntegerField(default=0)
    start_unconfirmed = models.BooleanField(
        default=False, help_text="the CPO did not confirm the start in time; the hold still stands"
    )
    stop_requested_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=100, blank=True)
    flag = models.TextField(blank=True, help_text="why an operator should look at this checkout")
    price_notes = models.TextField(
        blank=True,
        help_text="differences between the CPO's figures and the price shown within the CPO "
        "party's tolerance: recorded here, not opened as cases",
    )
    # A hold being placed: set (with the attempt's number, which keys Stripe's idempotency)
    # before we call Stripe, cleared once its outcome is recorded, so a doubled or retried
    # `pay` can never place a second hold.
    pay_attempt = models.PositiveSmallIntegerField(default=0)
    pay_pending_since = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    # Stripe's last moment to capture the hold (about 7 days); we act a day earlier.
    capture_before = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["client_net", "created_at"], name="checkout_client_net_created"),
            models.Index(fields=["evse", "created_at"], name="checkout_evse_created"),
            # A Session or CDR finds its checkout by this id, case-insensitively (CiString).
            models.Index(Upper("authorization_reference"), name="checkout_auth_ref_upper"),
            # The admin's search finds a checkout by these, each an indexed equality.
            models.Index(fields=["card_last4"], name="checkout_card_last4"),
            models.Index(Lower("email"), name="checkout_email_lower"),
        ]
        permissions = [("unlock_connector", "Can unlock a checkout's connector")]

    def __str__(self) -> str:
        return f"checkout {self.pk} ({self.status})"


def receipt_number(checkout: Checkout) -> str:
    """The receipt's number: our party id and the checkout's, one receipt per checkout."""
    from django.conf import settings

    return f"{settings.OCPI_PARTY_ID}-{checkout.pk:08d}"


def credit_note_number(sequence: int) -> str:
    """A credit note's number: the receipts' scheme with its own prefix and sequence."""
    from django.conf import settings

    return f"{settings.OCPI_PARTY_ID}-CN-{sequence:08d}"


class DriverToken(models.Model):
    """The OCPI token of one checkout: single use, never reused (TK-05). 2.2.1 CPOs see it as
    AD_HOC_USER with its `uid`; 2.1.1 CPOs as OTHER, and their sessions and CDRs carry only the
    `auth_id`, so that is fresh per checkout too."""

    checkout = models.OneToOneField(Checkout, on_delete=models.PROTECT, related_name="token")
    uid = models.CharField(max_length=36, unique=True)
    auth_id = models.CharField(max_length=36, unique=True)
    contract_id = models.CharField(max_length=36)
    valid = models.BooleanField(default=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    last_updated = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        # A CPO asks by uid (real-time authorization, the Tokens module) and a 2.1.1 Session
        # or CDR names the auth_id, both CiStrings: matched case-insensitively.
        indexes = [
            models.Index(Upper("uid"), name="drivertoken_uid_upper"),
            models.Index(Upper("auth_id"), name="drivertoken_auth_id_upper"),
        ]

    def __str__(self) -> str:
        return self.uid


class ChargingSession(models.Model):
    """A CPO's Session as it pushes it (checklist §6), linked to the checkout it belongs to; a
    session we cannot link is kept and flagged, never dropped."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="sessions")
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    session_id = models.CharField(max_length=36)
    checkout = models.ForeignKey(
        Checkout, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    status = models.CharField(max_length=40)
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True)
    kwh = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    currency = models.CharField(max_length=3)
    total_cost_excl_vat = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    total_cost_incl_vat = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    charging_periods = models.JSONField(default=list, blank=True)
    authorization_reference = models.CharField(max_length=36, blank=True)
    token_uid = models.CharField(max_length=36, blank=True)
    auth_id = models.CharField(max_length=36, blank=True)
    location_id = models.CharField(max_length=39, blank=True)
    evse_uid = models.CharField(max_length=39, blank=True)
    connector_id = models.CharField(max_length=36, blank=True)
    last_updated = models.DateTimeField()
    flag = models.TextField(blank=True, help_text="why an operator should look at this session")
    # The whole Session as the CPO last stated it, in its OCPI version's shape (JSON text, so
    # numbers stay exact): what our Sessions Receiver GET answers. Empty for sessions stored
    # before it was kept.
    body = models.TextField(blank=True)
    pushed_at = models.DateTimeField(
        null=True, blank=True, help_text="when the CPO last pushed it (pulls leave it)"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "session_id"], name="unique_session"
            )
        ]

    def __str__(self) -> str:
        return f"session {self.session_id} ({self.status})"


class Cdr(models.Model):
    """A charge detail record as the CPO POSTed it: immutable (CDR-01), kept with its body as
    received so calibration-law signed data is never re-encoded (CDR-08), linked to the
    checkout it bills; one we cannot link is kept and flagged, never dropped."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="cdrs")
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    cdr_id = models.CharField(max_length=39)
    version = models.CharField(max_length=8)
    checkout = models.ForeignKey(
        Checkout, null=True, blank=True, on_delete=models.PROTECT, related_name="cdrs"
    )
    body = models.TextField(help_text="the CDR exactly as received")
    content_hash = models.CharField(max_length=64)
    start = models.DateTimeField()
    end = models.DateTimeField()
    currency = models.CharField(max_length=3)
    total_cost_excl_vat = models.DecimalField(max_digits=12, decimal_places=4)
    total_cost_incl_vat = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True
    )
    total_energy = models.DecimalField(max_digits=12, decimal_places=4)
    credit = models.BooleanField(default=False)
    credit_reference_id = models.CharField(max_length=39, blank=True)
    authorization_reference = models.CharField(max_length=36, blank=True)
    token_uid = models.CharField(max_length=36, blank=True)
    auth_id = models.CharField(max_length=36, blank=True)
    session_id = models.CharField(max_length=36, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    flag = models.TextField(blank=True, help_text="why an operator should look at this CDR")

    class Meta:
        verbose_name = "CDR"
        indexes = [models.Index(fields=["cdr_id"], name="cdr_cdr_id")]  # the admin's search
        constraints = [
            models.UniqueConstraint(
                fields=["country_code", "party_id", "cdr_id"], name="unique_cdr"
            )
        ]

    def __str__(self) -> str:
        return f"CDR {self.cdr_id}"


class LedgerEntry(models.Model):
    """Append-only: one row per money movement, in minor units, each with a unique key so that a
    retried or doubled operation can never book (or move) money twice."""

    class Kind(models.TextChoices):
        HOLD = "hold"
        CAPTURE = "capture"
        RELEASE = "release"
        REFUND = "refund"
        FAILED_REFUND = "failed_refund", "failed refund"
        DISPUTE = "dispute"
        PAYABLE = "payable", "payable to the CPO"

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=255, unique=True)
    stripe_id = models.CharField(max_length=255, blank=True)
    merchant = models.CharField(max_length=64, default="platform")
    note = models.TextField(blank=True, help_text="why: a refund's reason, a failure's message")
    refund = models.ForeignKey(
        "Refund",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        help_text="the refund a REFUND or FAILED_REFUND row books",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "ledger entries"
        permissions = [("export_settlement", "Can download the settlement export")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {Money.from_minor(self.amount_minor, self.currency)}"


class Refund(models.Model):
    """One refund asked for (by an operator, or by a credit CDR): recorded before Stripe is
    called, so what is pending counts against what may still be refunded, and a retried or
    doubled request (same `key`) refunds once. The ledger gets its REFUND (or FAILED_REFUND)
    row when Stripe has answered."""

    class Status(models.TextChoices):
        PENDING = "pending"
        REFUNDED = "refunded"
        FAILED = "failed"

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="refunds")
    cdr = models.ForeignKey(
        "Cdr", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    key = models.CharField(max_length=200, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    requested_by = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)

    class BorneBy(models.TextChoices):
        PLATFORM = "platform", "the platform (what we owe the CPO stays)"
        CPO = "cpo", "the CPO (deducted from what we owe it)"

    # Who pays for an operator's refund; blank for a refund a CDR caused (a credit or a
    # corrected CDR), where what we owe the CPO follows that CDR.
    borne_by = models.CharField(max_length=8, choices=BorneBy.choices, blank=True)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("issue_refund", "Can refund a driver")]

    def __str__(self) -> str:
        return f"refund {Money.from_minor(self.amount_minor, self.currency)} ({self.status})"


class DocumentCounter(models.Model):
    """The last number given out in one numbering sequence (credit notes): locked and raised in
    the transaction that issues the document, so numbers are gapless and never given twice."""

    name = models.CharField(max_length=32, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last}"


class CreditNote(models.Model):
    """The document a refund is to the driver: its own number, referring to the receipt's, so
    the receipt stays as it was sent. One per refund, issued when Stripe has refunded."""

    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="credit_note")
    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="credit_notes")
    sequence = models.PositiveIntegerField(unique=True)
    number = models.CharField(max_length=40, unique=True)
    receipt_number = models.CharField(max_length=40)
    amount_minor = models.BigIntegerField()  # incl. VAT
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    issued_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"credit note {self.number}"


class StripeEvent(models.Model):
    """Each webhook event once: a replayed event finds its row and changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    intent_id = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Dispute(models.Model):
    """A Stripe dispute on a checkout's payment, as its latest webhook said (`payments.disputes`).
    The money is in the ledger (DISPUTE rows) and the operator's work in a Case; this row keeps
    Stripe's figures and says whether the dispute is still open."""

    dispute_id = models.CharField(max_length=255, unique=True)
    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="disputes")
    charge_id = models.CharField(max_length=255, blank=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=64)
    status = models.CharField(max_length=32)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.status}"


class Deadline(models.Model):
    """A wait with a due time (ARCHITECTURE: rows swept by beat, never ETA tasks)."""

    class Kind(models.TextChoices):
        UNPAID = "unpaid", "checkout not paid"
        COMMAND_TIMEOUT = "command_timeout", "no answer to START_SESSION"
        START_GRACE = "start_grace", "no session after the grace period"
        MISSING_CDR = "missing_cdr", "finished without a CDR"
        HOLD_EXPIRING = "hold_expiring", "hold near the card's capture deadline"
        CREDIT_WAIT = "credit_wait", "credit CDR waiting for its corrected CDR"
        SESSION_PULL = "session_pull", "pull the CPO's Sessions while none is pushed"
        ADVICE_PUSH = "advice_push", "a Financial Advice Confirmation the CPO has not taken"

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    due_at = models.DateTimeField(db_index=True)
    done_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} due {self.due_at:%Y-%m-%d %H:%M:%S}"


class CpoTerms(models.Model):
    """Commercial settings of one CPO party (not of a connection: a hub carries many)."""

    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)

    class HoldPolicy(models.TextChoices):
        CAPTURE = "capture", "capture what the last Session supports"
        RELEASE = "release", "release the hold"

    default_hold = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="pre-authorised amount incl. VAT"
    )

    class MerchantOfRecord(models.TextChoices):
        PLATFORM = "platform", "we sell the charge; the CPO bills us by CDR"
        CPO = "cpo", "the CPO sells; we collect as its payment service"

    # Who sells the charge to the driver, and so who the receipt names as seller.
    merchant_of_record = models.CharField(
        max_length=8,
        choices=MerchantOfRecord.choices,
        default=MerchantOfRecord.PLATFORM,
        help_text="platform: the receipt names us as seller and the CPO as operator; cpo: the "
        "CPO sells and we collect the payment for it",
    )
    # Printed on receipts (a German invoice needs the seller's name and address).
    legal_name = models.CharField(max_length=200, blank=True)
    legal_address = models.TextField(blank=True)
    vat_id = models.CharField("VAT id", max_length=20, blank=True)
    expiring_hold_policy = models.CharField(
        max_length=8,
        choices=HoldPolicy.choices,
        blank=True,
        help_text="a hold about to expire without a CDR; blank: the platform's "
        "EXPIRING_HOLD_POLICY",
    )
    # OCPI 2.2.1 reads a price component without `vat` as "no VAT applicable"; many CPOs leave
    # it out of prices that do carry VAT. Off, such a price has no gross we can state, so it is
    # not offered for payment; on, it carries the location country's rate (shown as such).
    price_tolerance = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.05"),
        help_text="how far a CDR may differ from the price shown (or from the CPO's last "
        "Session) before a case is opened, incl. VAT in the tariff's currency; smaller "
        "differences are noted on the checkout",
    )
    missing_vat_is_country_rate = models.BooleanField(
        "a component without VAT means the country's rate",
        default=False,
        help_text="on: a 2.2.1 price component without vat carries the location country's "
        "standard rate (price shown, settlement, receipt); off: its gross price is unknown and "
        "the charger is not payable",
    )

    class Meta:
        verbose_name = "CPO terms"
        verbose_name_plural = "CPO terms"
        constraints = [
            models.UniqueConstraint(fields=["country_code", "party_id"], name="unique_cpo_terms")
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"

    @property
    def missing(self) -> list[str]:
        """What a receipt needs of the party and the terms lack (name, address), and the
        seller's VAT id a full invoice (over €250) needs: the party's own when it sells, the
        platform's (PLATFORM_VAT_ID) when we do."""
        from django.conf import settings

        lacking = [] if self.legal_name.strip() else ["legal name"]
        lacking += [] if self.legal_address.strip() else ["address"]
        if self.merchant_of_record == self.MerchantOfRecord.CPO and not self.vat_id.strip():
            lacking.append("VAT id")
        elif self.merchant_of_record != self.MerchantOfRecord.CPO and not settings.PLATFORM_VAT_ID:
            lacking.append("VAT id of the seller (we sell: PLATFORM_VAT_ID is not set)")
        return lacking


class Case(models.Model):
    """Something an operator must look at (the exception queue): opened once per cause (`key`),
    closed by an operator with what they did."""

    class Kind(models.TextChoices):
        UNMATCHED_CDR = "unmatched_cdr", "CDR matches no checkout"
        CDR_CONFLICT = "cdr_conflict", "CDR sent again with other content"
        UNSETTLED_CDR = "unsettled_cdr", "CDR for a checkout without a hold"
        PRICE_DIFFERENCE = "price_difference", "price difference"
        SHORTFALL = "shortfall", "shortfall: the CDR asks more than was held"
        EXPIRING_HOLD = "expiring_hold", "hold settled before its CDR"
        MISSING_CDR = "missing_cdr", "no CDR"
        FAILED_CAPTURE = "failed_capture", "capture failed"
        FAILED_REFUND = "failed_refund", "refund failed"
        INVALID_SESSION = "invalid_session", "INVALID session"
        UNMATCHED_SESSION = "unmatched_session", "session matches no checkout"
        LATE_SESSION = "late_session", "session after the checkout ended"
        STOP_FAILED = "stop_failed", "STOP_SESSION failed"
        DISPUTE = "dispute", "card payment disputed"
        REFUSED_CLAIM = "refused_claim", "a connection claimed another's party (refused)"
        DUPLICATE_EVSE_ID = "duplicate_evse_id", "EVSE ID published for two chargers"
        METER_KEY_CHANGED = "meter_key_changed", "meter key differs from the charger's"
        SIGNED_DATA_MISMATCH = "signed_data_mismatch", "signed meter data names another session"

    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    key = models.CharField(max_length=255, unique=True)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checkout = models.ForeignKey(
        Checkout, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    cdr = models.ForeignKey(
        Cdr, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    session = models.ForeignKey(
        ChargingSession, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    summary = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        # Closing a case moves no money; linking its CDR or retrying its capture does.
        permissions = [
            ("resolve_case", "Can resolve a case with a note"),
            ("settle_cdr", "Can link an unmatched CDR to a checkout or retry a failed capture"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary[:60]}"


class MeterKey(models.Model):
    """The public key of an EVSE's calibrated meter, pinned (calibration law): taken from the
    first CDR whose signed data carries one, or entered by an operator from the charger's
    label. A later CDR signed under another key opens a case, and its receipt says so: a key
    that changes between sessions may be a replaced meter, or data signed by someone else."""

    evse = models.OneToOneField(Evse, on_delete=models.PROTECT, related_name="meter_key")
    public_key = models.TextField(
        help_text="as the meter's label or the CPO gives it: hex or base64 DER, or PEM"
    )
    pinned_at = models.DateTimeField(default=timezone.now)
    pinned_by = models.CharField(
        max_length=150, help_text="the operator who entered it, or the CDR it was first seen in"
    )
    cdr = models.ForeignKey(
        Cdr,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the CDR it was first seen in",
    )

    def __str__(self) -> str:
        return f"meter key of {self.evse}"


class SignedPage(models.Model):
    """A meter's page (OCMF `MS` or `GS`, and `PG`) as the signed data of a CDR billing a
    checkout named it: the replay check (`payments.eichrecht`) finds an earlier bill of the same
    page in one indexed read, however many CDRs the connection sent before, instead of parsing
    the CDRs of the EVSE's last sessions. Written as a linked CDR is checked; derived from the
    CDR's body, so it goes with it."""

    # Their indexes would repeat the first columns of the lookup index and the constraint's.
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    meter = models.CharField(max_length=64)
    page = models.CharField(max_length=64)
    cdr = models.ForeignKey(Cdr, on_delete=models.CASCADE, related_name="+", db_index=False)
    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["partner", "meter", "page"], name="signed_page_lookup")]
        constraints = [
            models.UniqueConstraint(fields=["cdr", "meter", "page"], name="unique_signed_page")
        ]

    def __str__(self) -> str:
        return f"page {self.page} of meter {self.meter}"


class LegalPage(models.Model):
    """A page every driver page links to (terms of use, imprint, privacy policy, support),
    its text as the operator writes it in the admin: plain text, paragraphs separated by an
    empty line, addresses and links made clickable; never HTML (it is escaped). German and
    English; a page written in one language only is shown in that one."""

    class Kind(models.TextChoices):
        TERMS = "terms", "Terms of use"
        IMPRINT = "imprint", "Imprint (Impressum)"
        PRIVACY = "privacy", "Privacy policy"
        SUPPORT = "support", "Support"

    kind = models.CharField(max_length=8, choices=Kind.choices, unique=True)
    text_en = models.TextField("text (English)", blank=True)
    text_de = models.TextField("text (German)", blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "legal page"

    def __str__(self) -> str:
        return str(self.get_kind_display())


class LinkMail(models.Model):
    """A driver asked for their checkout's link by e-mail. The address is kept only until the
    message is sent (then blanked); the rows count what the rate limit allows."""

    checkout = models.ForeignKey(Checkout, on_delete=models.CASCADE, related_name="link_mails")
    email = models.EmailField(blank=True)
    locale = models.CharField(max_length=2, default="en")
    client_net = models.CharField(max_length=64, blank=True, db_index=True)
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link of checkout {self.checkout_id} at {self.requested_at:%Y-%m-%d %H:%M:%S}"


def new_terminal_id() -> str:
    return str(uuid.uuid4())


class Terminal(models.Model):
    """Our web checkout as a 2.3.0 CPO sees it: a Payment Terminal (Payments module, checklist
    §14), owned by us (the PTP), one per CPO party by default or one per group of locations an
    operator defines. Only the EVSEs the CPO assigned to one of our terminals (`location_ids`,
    `evse_uids`, the union of both) are payable over a 2.3.0 connection."""

    class InvoiceCreator(models.TextChoices):
        CPO = "CPO", "the CPO invoices (at invoice_base_url + authorization_reference)"
        PTP = "PTP", "we issue the receipt"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="terminals")
    terminal_id = models.CharField(max_length=36, unique=True, default=new_terminal_id)
    # The CPO party it serves (its locations' owner); a group names its locations too.
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    label = models.CharField(
        max_length=100, blank=True, help_text="an operator's name for a group of locations"
    )
    reference = models.CharField(max_length=36, blank=True, help_text="our mapping value")
    customer_reference = models.CharField(max_length=36, blank=True)
    address = models.CharField(max_length=45, blank=True)
    city = models.CharField(max_length=45, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=3, blank=True)
    latitude = models.CharField(max_length=10, blank=True)
    longitude = models.CharField(max_length=11, blank=True)
    invoice_base_url = models.URLField(max_length=255, blank=True)
    invoice_creator = models.CharField(
        max_length=3, choices=InvoiceCreator.choices, default=InvoiceCreator.PTP
    )
    location_ids = models.JSONField(default=list, blank=True)
    evse_uids = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True, help_text="off once the CPO deactivated it")
    created_at = models.DateTimeField(default=timezone.now)
    last_updated = models.DateTimeField(default=timezone.now, db_index=True)
    # Created at the CPO's Payments Receiver (POST, retried until it takes it).
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_error = models.TextField(blank=True)

    class Meta:
        ordering = ["partner", "country_code", "party_id", "label"]

    def __str__(self) -> str:
        return f"terminal {self.terminal_id} ({self.country_code}*{self.party_id})"


class FinancialAdvice(models.Model):
    """One Financial Advice Confirmation (checklist §14.2): what we captured (or failed to, or
    refunded) for a checkout, POSTed to the CPO's Payments Receiver until it takes it, and
    served by our Payments Sender. One per money movement, under a unique key."""

    class Code(models.TextChoices):
        SUCCESS = "SUCCESS"
        PARTIAL_SUCCESS = "PARTIAL_SUCCESS"
        FAILED = "FAILED"

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="advices")
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="advices")
    advice_id = models.CharField(max_length=36, unique=True, default=new_terminal_id)
    key = models.CharField(max_length=200, unique=True, help_text="the movement it reports")
    authorization_reference = models.CharField(max_length=36)
    currency = models.CharField(max_length=3)
    total_excl_vat = models.DecimalField(max_digits=12, decimal_places=4)
    total_incl_vat = models.DecimalField(max_digits=12, decimal_places=4)
    vat_rate = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    eft_data = models.JSONField(default=list)
    capture_status_code = models.CharField(max_length=16, choices=Code.choices)
    capture_status_message = models.CharField(max_length=255, blank=True)
    last_updated = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-last_updated"]
        verbose_name = "financial advice confirmation"

    def __str__(self) -> str:
        return f"FAC {self.advice_id} {self.capture_status_code}"
