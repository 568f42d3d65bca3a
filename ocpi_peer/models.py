"""A connected OCPI platform (usually a CPO's backend, or a hub), what it offers, and the traffic
we exchange with it. Tokens are kept encrypted and found by hash (`ocpi_peer.crypto`)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from django.db import connections, models
from django.db.models import Q
from django.utils import timezone

from ocpi_peer import crypto


class Partner(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "invited (token A issued)"
        REGISTERING = "registering", "registering"
        REGISTERED = "registered", "registered"
        UNREGISTERED = "unregistered", "unregistered"

    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INVITED)
    version = models.CharField(max_length=8, blank=True, help_text="OCPI version agreed")
    versions_url = models.URLField(max_length=255, blank=True, help_text="their versions endpoint")
    token_encrypted = models.TextField(blank=True, editable=False)  # theirs: we call them with it
    inbound_token_base64 = models.BooleanField(
        null=True, editable=False, help_text="the form of token they last sent us (T-02)"
    )
    missing_modules = models.JSONField(
        default=list, blank=True, help_text="modules we use that they do not offer (C-04)"
    )
    # "CC*PID" of its parties, kept with the partner so the check on every pushed object's URL
    # (T-17) costs no query; written with the parties at each handshake.
    party_keys = models.JSONField(default=list, blank=True, editable=False)
    last_contact_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # The compatibility profile: each switch relaxes one point of the spec for a CPMS that bends it.
    send_token_base64 = models.BooleanField(
        "T-02: send our token Base64-encoded",
        null=True,
        blank=True,
        help_text="Unknown: the version's rule (2.2.1 encodes, 2.1.1 does not); learned on a 401.",
    )
    add_trailing_slash = models.BooleanField(
        "T-23: add a trailing slash to URLs we call", default=False
    )
    max_page_size = models.PositiveIntegerField(
        "T-20: largest page (limit) we ask for",
        null=True,
        blank=True,
        help_text="Empty: as many as their X-Limit allows.",
    )
    send_routing_headers = models.BooleanField(
        "T-16: send OCPI-to/from routing headers", default=True
    )
    # What "check connection" (`ocpi_peer.compatibility`) last found their CPMS doing: each
    # finding a name, what was seen and whether it bends the spec. The switches above are set
    # from it where it showed one is needed.
    compatibility_checked_at = models.DateTimeField(
        "compatibility last checked", null=True, blank=True, editable=False
    )
    compatibility_findings = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        # Jobs that are not a row edit: the handshake and its undoing talk to the partner and
        # mint or end tokens; a pull writes what the partner offers.
        permissions = [
            ("manage_registration", "Can invite, register with, rotate and unregister partners"),
            ("pull_partner", "Can pull a partner's locations and tariffs now"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def token(self) -> str:
        """Their token, which we call them with. Never log it."""
        return crypto.decrypt(self.token_encrypted) if self.token_encrypted else ""

    @token.setter
    def token(self, plain: str) -> None:
        self.token_encrypted = crypto.encrypt(plain) if plain else ""

    @property
    def is_registered(self) -> bool:
        return self.status == self.Status.REGISTERED

    def endpoint(self, module: str, role: str = "") -> str | None:
        """URL of a module they offer; with 2.2.1 roles, the interface we call (their SENDER to
        pull, their RECEIVER to push)."""
        for endpoint in self.endpoints.all():
            if endpoint.module == module and (not role or endpoint.role in ("", role)):
                return endpoint.url
        return None


class PartnerParty(models.Model):
    """One role a connection carries (2.2.1 roles list; one CPO party in 2.1.1)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="parties")
    role = models.CharField(max_length=8)
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    business_name = models.CharField(max_length=100, blank=True)
    website = models.URLField(max_length=255, blank=True)

    class Meta:
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "role", "country_code", "party_id"], name="unique_party_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} ({self.role})"


class PartyOwnership(models.Model):
    """Which connection a `country_code`/`party_id` belongs to: exactly one (directly, or behind
    a hub). Written when a handshake first claims the party; a claim of a party another live
    connection holds is refused, and only an operator moves a party (`ocpi_peer.parties.
    move_party`). Parties a connection stops listing stay its own; a connection that unregistered
    holds none, so the CPO's next connection takes them over."""

    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="owned_parties")
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country_code", "party_id"]
        verbose_name = "party owner"
        verbose_name_plural = "party owners"
        # Changing the owner moves the party with its locations, tariffs and open checkouts.
        permissions = [("move_party", "Can move a party to another connection")]
        constraints = [
            models.UniqueConstraint(fields=["country_code", "party_id"], name="one_owner_a_party")
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id}"

    @property
    def key(self) -> str:
        return f"{self.country_code}*{self.party_id}"


class PartyEvent(models.Model):
    """The audit trail of party ownership: first claims, refused claims and operators' moves."""

    class Kind(models.TextChoices):
        CLAIMED = "claimed", "claimed"
        REFUSED = "refused", "claim refused"
        MOVED = "moved", "moved by an operator"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    # The connection that claimed the party or received it; empty once that connection is gone
    # (a refused registration of ours is removed), its name stays in `partner_name`.
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="party_events"
    )
    partner_name = models.CharField(max_length=255, blank=True)
    # The owner before: the holder a refused claim ran into, or the connection a move took from.
    owner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by = models.CharField(max_length=150, blank=True, help_text="the operator, or how it came")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.get_kind_display()}"


class ClientInfo(models.Model):
    """What a hub (or a CPMS) last told us about one of its parties' connection to it
    (hubclientinfo, 2.2.1 only): while it is not CONNECTED, the party cannot take a checkout.
    One row a party, written only by the connection that owns the party; after an operator moves
    the party, the old connection's row no longer counts (readers match on the owner)."""

    class Status(models.TextChoices):
        CONNECTED = "CONNECTED", "connected"
        OFFLINE = "OFFLINE", "offline"
        PLANNED = "PLANNED", "planned"
        SUSPENDED = "SUSPENDED", "suspended"

    country_code = models.CharField(max_length=2)
    party_id = models.CharField(max_length=3)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="client_infos")
    role = models.CharField(max_length=40)
    # An open enum (L-10): a value we do not know is kept, and counts as not connected.
    status = models.CharField(max_length=40)
    last_updated = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country_code", "party_id"]
        verbose_name = "client info"
        verbose_name_plural = "client info"
        constraints = [
            models.UniqueConstraint(fields=["country_code", "party_id"], name="one_client_info")
        ]

    def __str__(self) -> str:
        return f"{self.country_code}*{self.party_id} {self.status}"

    @property
    def connected(self) -> bool:
        return self.status == self.Status.CONNECTED


class PartnerEndpoint(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="endpoints")
    module = models.CharField(max_length=32)
    role = models.CharField(max_length=8, blank=True)  # empty in 2.1.1
    url = models.URLField(max_length=255)

    class Meta:
        ordering = ["module", "role"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "module", "role"], name="unique_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.module} {self.role}".strip()


class PartnerTokenQuerySet(models.QuerySet["PartnerToken"]):
    def usable(self) -> PartnerTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at=None).filter(Q(expires_at=None) | Q(expires_at__gt=now))

    def find(self, candidates: list[str]) -> tuple[PartnerToken, str] | None:
        """The usable token equal to one of the candidates, and which candidate matched. Found by
        hash, then confirmed against the decrypted value in constant time.

        Every request we serve starts here, so this is one hand-written statement: the ORM took
        0.7 ms to build and load it, this 0.3. The token comes with its partner loaded in full (as
        `select_related` would) and only the fields checked here; the rest load when read."""
        if self.query.has_filters():  # the statement below would not honour them
            raise TypeError("find() searches every token: call it on PartnerToken.objects")
        by_hash = {crypto.token_hash(c): c for c in candidates}
        if not by_hash:
            return None
        db = self.db
        now = connections[db].ops.adapt_datetimefield_value(timezone.now())
        sql = _FIND_TOKEN.format(hashes=", ".join(["%s"] * len(by_hash)))
        for partner in Partner.objects.db_manager(db).raw(sql, [*by_hash, now]):
            extra = [vars(partner).pop(name) for name in _TOKEN_COLUMNS]  # not the partner's
            extra[-1] = _aware(extra[-1])  # a raw column: SQLite gives the text it holds
            token = PartnerToken.from_db(db, _TOKEN_FIELDS, [extra[0], partner.pk, *extra[1:]])
            PartnerToken.partner.field.set_cached_value(token, partner)
            presented = by_hash[token.token_hash]
            if crypto.same(token.plain, presented):
                return token, presented
        return None


def _aware(value: datetime | str | None) -> datetime | None:
    if isinstance(value, str):  # SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS[.ffffff]"
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class PartnerToken(models.Model):
    """A token we issued: the partner calls us with it. Token A only registers (T-03)."""

    class Kind(models.TextChoices):
        REGISTRATION = "A", "registration (token A)"
        ACCESS = "C", "access"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=1, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_encrypted = models.TextField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = PartnerTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {crypto.mask(self.plain)}"

    @property
    def plain(self) -> str:
        return crypto.decrypt(self.token_encrypted)

    @property
    def is_registration(self) -> bool:
        return self.kind == self.Kind.REGISTRATION


# The token's fields that `find` loads, in the model's order, and the names _FIND_TOKEN gives them.
_TOKEN_FIELDS = ["id", "partner_id", "kind", "token_hash", "token_encrypted", "expires_at"]
_TOKEN_COLUMNS = ["token_pk", "token_kind", "token_hash_", "token_cipher", "token_expires"]
# Each candidate's hash, then now: a usable token is neither revoked nor expired (as `usable()`).
# Table names come from the models and every value is a parameter, hence the noqa.
_FIND_TOKEN = (
    "SELECT p.*, t.id AS token_pk, t.kind AS token_kind, t.token_hash AS token_hash_,"  # noqa: S608
    " t.token_encrypted AS token_cipher, t.expires_at AS token_expires"
    f" FROM {PartnerToken._meta.db_table} t JOIN {Partner._meta.db_table} p ON p.id = t.partner_id"
    " WHERE t.token_hash IN ({hashes}) AND t.revoked_at IS NULL"
    " AND (t.expires_at IS NULL OR t.expires_at > %s)"
)


class TrafficLog(models.Model):
    """Every OCPI request in and out. Bodies are truncated and scrubbed of tokens; headers other
    than the request and correlation ids are not kept."""

    class Direction(models.TextChoices):
        IN = "in", "in (they called us)"
        OUT = "out", "out (we called them)"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="traffic"
    )
    direction = models.CharField(max_length=3, choices=Direction.choices)
    method = models.CharField(max_length=8)
    url = models.CharField(max_length=500)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    ocpi_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    request_id = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    request_body = models.TextField(blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "traffic log"
        # A partner's health reads its last day of traffic each way; the viewer finds one
        # exchange by its correlation id.
        indexes = [
            models.Index(
                fields=["partner", "direction", "created_at"], name="traffic_partner_dir_at"
            ),
            models.Index(fields=["correlation_id"], name="traffic_correlation"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.method} {self.url} → {self.http_status}"


def new_callback_id() -> str:
    return secrets.token_urlsafe(24)


class CommandRequest(models.Model):
    """One command sent to a CPO (START_SESSION, STOP_SESSION, UNLOCK_CONNECTOR): what we sent,
    its CommandResponse, and the CommandResult that arrives later on our unguessable
    `response_url` (checklist §9)."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="commands")
    checkout = models.ForeignKey(
        "payments.Checkout",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commands",
    )
    command = models.CharField(max_length=20)
    # The party the command is for (the owner of the EVSE's location): its OCPI-to-* headers.
    # Empty on commands from before parties were named: the connection's own party then.
    to_country_code = models.CharField(max_length=2, blank=True)
    to_party_id = models.CharField(max_length=3, blank=True)
    callback_id = models.CharField(
        max_length=64, unique=True, default=new_callback_id, editable=False
    )
    request_body = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    # False when we know the last attempt never reached the CPO (no connection, HTTP 503): only
    # then may a command be sent again, since a second START can start a second session.
    reached = models.BooleanField(null=True, blank=True)
    response_result = models.CharField(max_length=40, blank=True)  # CommandResponse.result
    response_timeout = models.PositiveIntegerField(null=True, blank=True)  # seconds
    result = models.CharField(max_length=40, blank=True)  # CommandResult.result
    message = models.TextField(blank=True)
    error = models.TextField(blank=True)
    late = models.BooleanField(default=False, help_text="the result came after we stopped waiting")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.command} {self.response_result or 'unsent'}/{self.result or '…'}"


class SyncState(models.Model):
    """Where the pull of one module (locations, tariffs, CDRs) from one partner stands (T-08,
    T-20)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="sync_states")
    module = models.CharField(max_length=16)
    last_success_started_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.TextField(blank=True)
    last_ok = models.BooleanField(null=True)
    received = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "module"], name="unique_sync_state")
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.module}"


class AuthFailure(models.Model):
    """One OCPI request refused for its token, by client (`clients.rate_bucket`): what the limit
    on failed authentication counts (OCPI_AUTH_FAILURE_LIMIT). In the database, not in a
    process, so every web process and machine counts the same failures; rows older than the
    window are deleted as new ones come, and at most the limit's count stand per client."""

    client = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["client", "at"], name="ocpi_authfail_client_at")]

    def __str__(self) -> str:
        return f"{self.client} at {self.at:%Y-%m-%d %H:%M:%S}"


class Generation(models.Model):
    """A counter that database triggers raise whenever a table behind one kind of cached data
    changes (`ocpi_peer.generations`): a web process compares it with the value it cached at, so
    that a change made anywhere (another process, the admin, a migration, a plain UPDATE) is
    seen at its next request. One row a kind, written by the triggers only."""

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name} {self.value}"
