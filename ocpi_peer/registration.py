"""The credentials handshake in both directions (checklist C-03 to C-07): a CPO registers with us
using the token A we minted (`accept_registration`), or we register with a CPO using the token A
it gave us (`register_with_cpo`); either side can later rotate tokens or switch version (PUT) and
unregister (DELETE). No half-registered partner survives a failure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from ocpi_peer import crypto, parties, versions
from ocpi_peer.client import Caller, PeerError, told_to_partner
from ocpi_peer.models import Partner, PartnerEndpoint, PartnerParty, PartnerToken
from ocpi_peer.transport import OcpiError, Status, describe
from ocpi_peer.versions.fields import Credentials, Endpoint, Party, VersionSerializer

# C-06 [policy]: a replaced token keeps working this long, so requests in flight still land.
REPLACED_TOKEN_GRACE = timedelta(minutes=10)


class RegistrationError(OcpiError):
    """Registration cannot go on; `message` is meant for the operator or the peer."""


def our_versions_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/ocpi/versions"


def our_parties(version: str) -> list[Party]:
    """Our one party, in each role it plays in `version` (eMSP; PTP too from 2.3.0)."""
    return [
        Party(
            role=role,
            country_code=settings.OCPI_COUNTRY_CODE.upper(),
            party_id=settings.OCPI_PARTY_ID.upper(),
            name=settings.OCPI_BUSINESS_NAME,
            website=settings.PUBLIC_BASE_URL,
        )
        for role in versions.get(version).our_roles
    ]


def our_credentials(*, version: str, token: str) -> dict[str, Any]:
    return versions.get(version).write_credentials(
        token=token, url=our_versions_url(), parties=our_parties(version)
    )


# --- discovery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovery:
    version: str
    endpoints: list[Endpoint]
    missing: list[str]

    def url(self, module: str) -> str | None:
        return next((e.url for e in self.endpoints if e.module == module), None)


def _discover(caller: Caller, versions_url: str, *, version: str | None) -> Discovery:
    """Their versions, the version to use (`version`, or the best common one) and its details.
    Raises RegistrationError with 3001 (unusable), 3002 (no common version) or 3003."""
    try:
        listing = caller.call("GET", versions_url)
        if not listing.ok or not isinstance(listing.data, list):
            raise PeerError(f"their versions endpoint answered OCPI {listing.status_code}")
        offered: dict[str, str] = {}
        for item in listing.data:
            checked = VersionSerializer(data=item)
            if checked.is_valid():
                offered[checked.validated_data["version"]] = checked.validated_data["url"]
        number = version if version is not None else versions.best_common(list(offered))
        if number is None or number not in offered:
            raise RegistrationError(
                Status.UNSUPPORTED_VERSION,
                f"no common OCPI version: they offer {', '.join(offered) or 'none'}, "
                f"we speak {', '.join(versions.SUPPORTED)}",
            )
        spec = versions.get(number)
        details = caller.call("GET", offered[number])
        if not details.ok:
            raise PeerError(f"their {number} details answered OCPI {details.status_code}")
        endpoints = spec.read_endpoints(details.data)
    except PeerError as exc:
        raise RegistrationError(
            Status.UNABLE_TO_USE_CLIENT_API, f"cannot use their API: {exc}"
        ) from exc
    except ValidationError as exc:
        raise RegistrationError(
            Status.UNABLE_TO_USE_CLIENT_API,
            f"cannot read their version details: {describe(exc.detail)}",
        ) from exc
    offered_modules = {(e.module, e.role) for e in endpoints}
    missing = [
        module
        for module, role in spec.uses.items()
        if (module, role) not in offered_modules and (module, "") not in offered_modules
    ]
    if len(missing) == len(spec.uses):
        raise RegistrationError(
            Status.NO_MATCHING_ENDPOINTS,
            f"they offer none of the modules we use ({', '.join(spec.uses)})",
        )
    return Discovery(version=number, endpoints=endpoints, missing=missing)


def _form_to_remember(caller: Caller, version: str) -> bool | None:
    """Remember the token form only where it differs from the version's rule (T-02)."""
    return None if caller.base64_form == versions.get(version).token_base64 else caller.base64_form


def _read_credentials(version: str, data: Any) -> Credentials:
    spec = versions.get(version)
    credentials: Credentials = spec.read(spec.credentials, data)
    return credentials


@transaction.atomic
def _connect(
    *,
    partner: Partner,
    theirs: Credentials,
    discovery: Discovery,
    send_token_base64: bool | None,
    keep_token: PartnerToken | None = None,
) -> None:
    """Store what a handshake learnt: their token, version, parties and endpoints. Our other
    access tokens end after a grace period; token A ends at once. Raises PartyTaken, having
    changed nothing, when another connection holds one of their parties."""
    party_keys = parties.claim_parties(
        partner=partner, parties=_claimed(theirs), by=f"credentials handshake, {discovery.version}"
    )
    now = timezone.now()
    partner.token = theirs.token
    partner.versions_url = theirs.url
    partner.version = discovery.version
    partner.missing_modules = discovery.missing
    partner.status = Partner.Status.REGISTERED
    partner.registered_at = partner.registered_at or now
    partner.last_contact_at = now
    partner.last_error = ""
    partner.send_token_base64 = send_token_base64  # the handshake has just found what works
    partner.party_keys = party_keys
    partner.save()
    partner.parties.all().delete()
    PartnerParty.objects.bulk_create(
        PartnerParty(
            partner=partner,
            role=p.role,
            country_code=p.country_code,
            party_id=p.party_id,
            business_name=p.name,
            website=p.website,
        )
        for p in theirs.parties
    )
    partner.endpoints.all().delete()
    PartnerEndpoint.objects.bulk_create(
        {
            (e.module, e.role): PartnerEndpoint(
                partner=partner, module=e.module, role=e.role, url=e.url
            )
            for e in discovery.endpoints
        }.values()
    )
    others = partner.tokens.usable()
    if keep_token is not None:
        others = others.exclude(pk=keep_token.pk)
    others.filter(kind=PartnerToken.Kind.REGISTRATION).update(revoked_at=now)
    others.filter(kind=PartnerToken.Kind.ACCESS, expires_at=None).update(
        expires_at=now + REPLACED_TOKEN_GRACE
    )


def _claimed(theirs: Credentials) -> list[tuple[str, str]]:
    return [(p.country_code, p.party_id) for p in theirs.parties]


def _refuse_claim(
    partner: Partner | None, name: str, refused: parties.PartyTaken, how: str
) -> NoReturn:
    """Record a refused claim for the operator (the handshake changed nothing) and end the
    handshake with 2001, naming the parties but not who holds them."""
    parties.record_refusal(partner=partner, name=name, refused=refused, by=how)
    if partner is not None:
        _note_error(partner, f"refused: {refused}")
    raise RegistrationError(Status.INVALID_PARAMETERS, refused.peer_message) from refused


def _issue_token(partner: Partner, kind: str) -> tuple[PartnerToken, str]:
    plain = crypto.new_token()
    token = PartnerToken.objects.create(
        partner=partner,
        kind=kind,
        token_hash=crypto.token_hash(plain),
        token_encrypted=crypto.encrypt(plain),
    )
    return token, plain


# --- they register with us (flow 2) -----------------------------------------------------------


@transaction.atomic(durable=True)
def invite_partner(*, name: str) -> tuple[Partner, str]:
    """A new partner and its token A, to be handed over offline with our versions URL."""
    partner = Partner.objects.create(name=name, status=Partner.Status.INVITED)
    _, token_a = _issue_token(partner, PartnerToken.Kind.REGISTRATION)
    return partner, token_a


def accept_registration(*, token: PartnerToken, version: str, body: Any) -> dict[str, Any]:
    """Credentials POST with token A: fetch their versions and details with their token, then
    answer with our token C. Already registered: 405 (C-03)."""
    if not token.is_registration or token.partner.is_registered:
        raise OcpiError(Status.CLIENT_ERROR, "already registered: use PUT", http_status=405)
    return _handshake(token=token, version=version, body=body)


def update_registration(*, token: PartnerToken, version: str, body: Any) -> dict[str, Any]:
    """Credentials PUT: a new token of theirs, moved endpoints, or a switch to this version.
    Their versions are read again even when nothing seems to change (C-03)."""
    if token.is_registration or not token.partner.is_registered:
        raise OcpiError(Status.CLIENT_ERROR, "not registered: use POST", http_status=405)
    return _handshake(token=token, version=version, body=body)


def _handshake(*, token: PartnerToken, version: str, body: Any) -> dict[str, Any]:
    partner = token.partner
    theirs = _read_credentials(version, body)  # ValidationError: 2001
    how = f"their credentials {'PUT' if partner.is_registered else 'POST'}"
    try:  # before we call them: a claim on another connection's party goes no further
        parties.check_claims(partner=partner, parties=_claimed(theirs))
    except parties.PartyTaken as refused:
        _refuse_claim(partner, partner.name, refused, how)
    spec = versions.get(version)
    caller = Caller(
        token=theirs.token, base64_form=spec.token_base64, partner=partner, discover_form=True
    )
    try:
        discovery = _discover(caller, theirs.url, version=version)
    except RegistrationError as exc:
        _note_error(partner, exc.message)
        if isinstance(exc.__cause__, PeerError | ValidationError):  # what we found stays ours
            raise RegistrationError(exc.status, told_to_partner(caller.correlation)) from exc
        raise
    try:
        with transaction.atomic(durable=True):
            locked = Partner.objects.select_for_update().get(pk=partner.pk)
            if not PartnerToken.objects.usable().filter(pk=token.pk).exists():
                raise OcpiError(
                    Status.CLIENT_ERROR, "this token was replaced meanwhile", http_status=405
                )
            new_c, token_c = _issue_token(locked, PartnerToken.Kind.ACCESS)
            _connect(
                partner=locked,
                theirs=theirs,
                discovery=discovery,
                send_token_base64=_form_to_remember(caller, version),
                keep_token=new_c,
            )
    except parties.PartyTaken as refused:  # another connection claimed it meanwhile
        _refuse_claim(partner, partner.name, refused, how)
    return our_credentials(version=version, token=token_c)


@transaction.atomic(durable=True)
def remove_registration(*, token: PartnerToken) -> None:
    """Credentials DELETE: they leave. Our tokens end now and nothing more is sent to them."""
    partner = Partner.objects.select_for_update().get(pk=token.partner_id)
    if token.is_registration or not partner.is_registered:
        raise OcpiError(Status.CLIENT_ERROR, "not registered", http_status=405)
    _disconnect(partner, note="they unregistered")


def _disconnect(partner: Partner, *, note: str) -> None:
    now = timezone.now()
    partner.tokens.usable().update(revoked_at=now)
    partner.status = Partner.Status.UNREGISTERED
    partner.token = ""
    partner.last_error = note
    partner.save(update_fields=["status", "token_encrypted", "last_error"])


def _note_error(partner: Partner, message: str) -> None:
    Partner.objects.filter(pk=partner.pk).update(last_error=message[:2000])


# --- we register with a CPO (flow 1) ----------------------------------------------------------


def register_with_cpo(*, versions_url: str, token: str, name: str = "") -> Partner:
    """We use the CPO's token A: discover, store our token B first (the CPO calls us with it
    while our POST is pending), POST our credentials, keep its token C. On any failure the
    partner is removed again and RegistrationError says why."""
    token = token.strip()
    if not crypto.is_valid_token(token):
        raise RegistrationError(
            Status.INVALID_PARAMETERS, "token A must be 1–64 printable characters"
        )
    caller = Caller(token=token, base64_form=True, discover_form=True)
    discovery = _discover(caller, versions_url, version=None)
    credentials_url = discovery.url("credentials")
    if credentials_url is None:
        raise RegistrationError(Status.NO_MATCHING_ENDPOINTS, "they offer no credentials endpoint")
    with transaction.atomic(durable=True):
        partner = Partner.objects.create(
            name=name or versions_url, status=Partner.Status.REGISTERING, versions_url=versions_url
        )
        token_b, plain_b = _issue_token(partner, PartnerToken.Kind.ACCESS)
    caller.partner = partner
    caller.settle_form(discovery.version)  # their version's form from now on, unless a 401 said
    try:
        theirs = _offer_credentials(caller, "POST", credentials_url, discovery.version, plain_b)
        if not name:
            partner.name = theirs.parties[0].name
        _connect(
            partner=partner,
            theirs=theirs,
            discovery=discovery,
            send_token_base64=_form_to_remember(caller, discovery.version),
            keep_token=token_b,
        )
    except parties.PartyTaken as refused:
        name = partner.name
        partner.delete()  # nothing half-saved; the refusal is recorded under its name
        _refuse_claim(None, name, refused, "our credentials POST (we registered with them)")
    except (PeerError, ValidationError, RegistrationError) as exc:
        partner.delete()  # nothing half-saved: the traffic log keeps what happened
        if isinstance(exc, RegistrationError):
            raise
        detail = describe(exc.detail) if isinstance(exc, ValidationError) else str(exc)
        raise RegistrationError(
            Status.UNABLE_TO_USE_CLIENT_API, f"registration failed: {detail}"
        ) from exc
    return partner


def _offer_credentials(
    caller: Caller, method: str, credentials_url: str, version: str, token: str
) -> Credentials:
    """Send our credentials with `token` for them to call us with; their credentials back.
    Raises RegistrationError when they refuse, ValidationError when their answer is unreadable."""
    reply = caller.call(method, credentials_url, json=our_credentials(version=version, token=token))
    if not reply.ok:
        raise RegistrationError(
            Status.UNABLE_TO_USE_CLIENT_API,
            f"they refused our credentials: OCPI {reply.status_code} {reply.message}".strip(),
        )
    return _read_credentials(version, reply.data)


def rotate_credentials(*, partner: Partner) -> Partner:
    """Credentials PUT to them (C-07): a new token B for them, their new token C for us, and the
    best common version, re-reading their versions and endpoints so a moved host is followed."""
    if not partner.is_registered:
        raise RegistrationError(Status.CLIENT_ERROR, f"{partner} is not registered")
    caller = Caller.for_partner(partner)
    caller.base64_form = versions.get(partner.version).token_base64  # learnt again from the rule
    caller.discover_form = True
    try:
        discovery = _discover(caller, partner.versions_url, version=None)
        caller.settle_form(discovery.version)
        credentials_url = discovery.url("credentials")
        if credentials_url is None:
            raise RegistrationError(
                Status.NO_MATCHING_ENDPOINTS, "they offer no credentials endpoint"
            )
        with transaction.atomic(durable=True):
            new_b, plain_b = _issue_token(partner, PartnerToken.Kind.ACCESS)
        theirs = _offer_credentials(caller, "PUT", credentials_url, discovery.version, plain_b)
    except (PeerError, ValidationError, RegistrationError) as exc:
        if "new_b" in locals():
            PartnerToken.objects.filter(pk=new_b.pk).update(revoked_at=timezone.now())
        message = exc.message if isinstance(exc, RegistrationError) else str(exc)
        _note_error(partner, message)
        if isinstance(exc, RegistrationError):
            raise
        raise RegistrationError(Status.UNABLE_TO_USE_CLIENT_API, message) from exc
    if theirs.url != partner.versions_url:  # they moved: read the new place with the new token
        mover = Caller(token=theirs.token, base64_form=caller.base64_form, partner=partner)
        discovery = _discover(mover, theirs.url, version=discovery.version)
    try:
        with transaction.atomic(durable=True):
            locked = Partner.objects.select_for_update().get(pk=partner.pk)
            _connect(
                partner=locked,
                theirs=theirs,
                discovery=discovery,
                send_token_base64=_form_to_remember(caller, discovery.version),
                keep_token=new_b,
            )
    except parties.PartyTaken as refused:  # nothing of theirs is stored; our new token B ends
        PartnerToken.objects.filter(pk=new_b.pk).update(revoked_at=timezone.now())
        _refuse_claim(partner, partner.name, refused, "our credentials PUT (we rotated)")
    return locked


def unregister_partner(*, partner: Partner) -> str:
    """Credentials DELETE to them, then stop all traffic both ways. We disconnect even when they
    cannot be reached: an operator who unregisters wants the link cut. Returns a note."""
    note = "we unregistered"
    url = partner.endpoint("credentials")
    if partner.is_registered and url:
        try:
            reply = Caller.for_partner(partner).call("DELETE", url)
            if not reply.ok:
                note += f"; they answered OCPI {reply.status_code} {reply.message}".rstrip()
        except PeerError as exc:
            note += f"; they could not be told: {exc}"
    with transaction.atomic(durable=True):
        _disconnect(Partner.objects.select_for_update().get(pk=partner.pk), note=note)
    return note
