""" "Check connection": a few harmless GETs against a registered partner (versions, version
details, credentials, two pages of locations) through the usual client and its outbound guard,
noting what their CPMS does that OCPI does not quite ask for: the token form it takes, trailing
slashes, whether it honours or caps the page size, the form of its `Link` header. What it finds
becomes the connection's compatibility profile (`record_compatibility`): the findings, and the
switches the calls showed are needed (token form, trailing slash).

Every call is in the traffic log under one correlation id, so an operator can read the check's
exchanges side by side."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from urllib.parse import urljoin

from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from ocpi_peer import versions
from ocpi_peer.client import Caller, PeerError, Reply, next_link
from ocpi_peer.models import Partner
from ocpi_peer.transport import describe

PROBE_LIMIT = 10  # the page size we ask for: small, so a CPMS that ignores it still answers fast


@dataclass
class Finding:
    check: str  # what was looked at
    seen: str  # what their CPMS did
    unusual: bool = False  # it bends the spec, or fails
    failed: bool = False  # the call did not work at all


@dataclass
class Check:
    findings: list[Finding] = field(default_factory=list)
    send_token_base64: bool | None = None  # what worked, if the check could tell
    form_known: bool = False
    add_trailing_slash: bool | None = None  # None: the check could not tell

    def note(self, check: str, seen: str, *, unusual: bool = False, failed: bool = False) -> None:
        self.findings.append(Finding(check, seen, unusual or failed, failed))

    @property
    def ok(self) -> bool:
        return not any(f.failed for f in self.findings)


def check_connection(*, partner_id: int) -> Partner:
    """Run the check and store what it found (see the module docstring). Calls out first, then
    writes in one transaction; a partner that is not registered is noted, not called."""
    partner = Partner.objects.get(pk=partner_id)
    check = Check()
    if not partner.is_registered or not partner.versions_url:
        check.note("registration", f"{partner.get_status_display()}: not called", failed=True)
    else:
        _run(partner, check)
    return record_compatibility(partner_id=partner.pk, check=check)


def _run(partner: Partner, check: Check) -> None:
    spec = versions.get(partner.version)
    caller = Caller.for_partner(partner)
    caller.discover_form = True  # a 401 is retried in the other form: we learn which works
    listing = _slash_probe(caller, partner.versions_url, check)
    if isinstance(listing, str):
        check.note("versions", listing, failed=True)
        return
    check.send_token_base64, check.form_known = caller.base64_form, True
    rule = "Base64" if spec.token_base64 else "raw"
    form = "Base64" if caller.base64_form else "raw"
    check.note(
        "token form",
        f"{form} token accepted (OCPI {partner.version} asks for {rule})",
        unusual=form != rule,
    )
    if not listing.ok:
        check.note("versions", f"GET answered OCPI {listing.status_code}", failed=True)
        return
    details_url = _details_url(listing, partner.version)
    if details_url is None:
        check.note("versions", f"OCPI {partner.version} is not in their versions list", failed=True)
        return
    check.note("versions", f"{len(listing.data)} version(s) offered, {partner.version} among them")
    try:
        details = caller.call("GET", details_url)
    except PeerError as exc:
        check.note("version details", str(exc), failed=True)
        return
    try:
        urls = [e.url for e in spec.read_endpoints(details.data)] if details.ok else []
    except ValidationError as exc:
        check.note("version details", f"unreadable: {describe(exc.detail)}", failed=True)
        return
    slashed = [url for url in urls if url.endswith("/")]
    check.note(
        "endpoint URLs",
        f"{len(slashed)} of {len(urls)} published with a trailing slash",
        unusual=bool(slashed),
    )
    _credentials(caller, partner, check)
    _locations(caller, partner, check)


def _details_url(listing: Reply, version: str) -> str | None:
    if not isinstance(listing.data, list):
        return None
    for item in listing.data:
        if isinstance(item, dict) and item.get("version") == version:
            url = item.get("url")
            return url if isinstance(url, str) else None
    return None


def _credentials(caller: Caller, partner: Partner, check: Check) -> None:
    url = partner.endpoint("credentials")
    if url is None:
        check.note("credentials", "no credentials endpoint published", failed=True)
        return
    try:
        reply = caller.call("GET", url)
    except PeerError as exc:
        check.note("credentials", str(exc), failed=True)
        return
    if not reply.ok:
        check.note("credentials", f"GET answered OCPI {reply.status_code}", failed=True)
        return
    check.note("credentials", "GET answered with their credentials")


def _locations(caller: Caller, partner: Partner, check: Check) -> None:
    """The first page with a small `limit`: the page size and `Link` seen; the next page
    followed once."""
    url = partner.endpoint("locations", "SENDER")
    if url is None:
        check.note("locations", "no Locations Sender published: paging not checked")
        return
    first = _get(caller, url, {"limit": PROBE_LIMIT}, functional=True)
    if isinstance(first, str):
        check.note("locations", first, failed=True)
        return
    if not first.ok or not isinstance(first.data, list):
        check.note("locations", f"GET answered OCPI {first.status_code}", failed=True)
        return
    _page_size(first, check)
    link = first.headers.get("Link", "")
    target = next_link(link)
    check.note("Link header", _link_form(link, target), unusual=_link_unusual(link, target))
    if target is None:
        return
    try:
        second = caller.call("GET", urljoin(url, target), functional=True)
    except PeerError as exc:
        check.note("next page", str(exc), failed=True)
        return
    if not second.ok or not isinstance(second.data, list):
        check.note("next page", f"GET answered OCPI {second.status_code}", failed=True)
        return
    check.note("next page", f"followed: {len(second.data)} more location(s)")


def _slash_probe(caller: Caller, url: str, check: Check) -> Reply | str:
    """The first call: as published, and if that fails, again with a trailing slash (some CPMS
    answer 404 without one); every later call goes the way that worked."""
    caller.trailing_slash = False
    plain = _get(caller, url)
    if not isinstance(plain, str) and plain.ok:
        check.add_trailing_slash = False
        check.note("trailing slash", "not needed: URLs work as published")
        return plain
    if url.endswith("/"):
        return plain
    caller.trailing_slash = True
    slashed = _get(caller, url)
    if not isinstance(slashed, str) and slashed.ok:
        check.add_trailing_slash = True
        check.note("trailing slash", "needed: the URL as published failed", unusual=True)
        return slashed
    caller.trailing_slash = False
    return plain


def _get(
    caller: Caller, url: str, params: dict[str, int] | None = None, *, functional: bool = False
) -> Reply | str:
    """The reply, or why there is none."""
    try:
        return caller.call("GET", url, params=params, functional=functional)
    except PeerError as exc:
        return str(exc)


def _page_size(reply: Reply, check: Check) -> None:
    got = len(reply.data)
    x_limit = reply.headers.get("X-Limit")
    total = reply.headers.get("X-Total-Count")
    if got > PROBE_LIMIT:
        seen, unusual = f"ignored: asked for {PROBE_LIMIT}, got {got}", True
    elif x_limit is not None and x_limit.isdigit() and int(x_limit) < PROBE_LIMIT:
        seen, unusual = f"capped at {x_limit} (asked for {PROBE_LIMIT}), got {got}", False
    else:
        seen, unusual = f"honoured: asked for {PROBE_LIMIT}, got {got}", False
    headers = f"X-Limit {x_limit or 'missing'}, X-Total-Count {total or 'missing'}"
    check.note("page size", f"{seen}; {headers}", unusual=unusual or x_limit is None)


def _link_form(header: str, target: str | None) -> str:
    if not header:
        return "none (a single page)"
    if target is None:
        return f"present without rel=next: {header[:200]}"
    where = "absolute URL" if "://" in target else "relative URL"
    rel = 'rel="next"' if 'rel="next"' in header.replace(" ", "").lower() else "rel=next, unquoted"
    return f"<{where}>; {rel}"


def _link_unusual(header: str, target: str | None) -> bool:
    """OCPI asks for the RFC 8288 form with the full URL of the next page."""
    if not header:
        return False
    return target is None or "://" not in target or 'rel="next"' not in header.replace(" ", "")


@transaction.atomic(durable=True)
def record_compatibility(*, partner_id: int, check: Check) -> Partner:
    """Store a check's findings as the connection's compatibility profile, and the switches it
    showed are needed: the token form that worked (kept only where it differs from the version's
    rule, as the handshake does) and the trailing slash."""
    partner = Partner.objects.select_for_update().get(pk=partner_id)
    partner.compatibility_checked_at = timezone.now()
    partner.compatibility_findings = [asdict(f) for f in check.findings]
    fields = ["compatibility_checked_at", "compatibility_findings"]
    if check.form_known and partner.version:
        rule = versions.get(partner.version).token_base64
        worked = check.send_token_base64
        partner.send_token_base64 = None if worked == rule else worked
        fields.append("send_token_base64")
    if check.add_trailing_slash is not None:
        partner.add_trailing_slash = check.add_trailing_slash
        fields.append("add_trailing_slash")
    if check.ok:
        partner.last_contact_at = partner.compatibility_checked_at
        fields.append("last_contact_at")
    partner.save(update_fields=fields)
    return partner
