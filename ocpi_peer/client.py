"""Outbound OCPI calls: the token in the partner's form, ids, routing headers, the traffic log,
and a page iterator that follows `Link` on the endpoint's host. Every call goes through the
guarded network of `outbound` (no private addresses, one deadline, a size cap, no redirects).
Raises `PeerError` with a sentence an operator can act on (`told_to_partner` is what a partner
may read of it); never logs a token."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, partial
from typing import Any
from urllib.parse import urljoin

import certifi
import httpx
from django.conf import settings

from ocpi_peer import traffic, versions
from ocpi_peer.models import Partner
from ocpi_peer.outbound import GuardedTransport, OutboundRefused, ResponseTooLarge, read_capped
from ocpi_peer.transport import authorization_header, dumps, loads, new_request_id


class PeerError(Exception):
    """A partner's answer we cannot use (down, refused, garbage, or an OCPI error). `transient`
    says whether the same call may work later (no connection, timeout, 5xx, garbage) rather
    than being refused for a reason that a retry does not change (a 2xxx answer, a 401)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        transient: bool = False,
        reached: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.transient = transient
        # Whether the request can have reached them: False when no connection was made, so a
        # non-idempotent call (a command) may be sent again; None when nobody can tell.
        self.reached = reached


@dataclass
class Reply:
    http_status: int
    status_code: int
    message: str
    data: Any
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return 1000 <= self.status_code < 2000


class Caller:
    """Calls one partner. With `discover_form`, a 401 is retried once with the other token form
    (Base64 or raw), and `base64_form` then says what worked so the partner can remember it."""

    def __init__(
        self,
        *,
        token: str,
        base64_form: bool,
        partner: Partner | None = None,
        discover_form: bool = False,
        trailing_slash: bool = False,
        routing: tuple[str, str] | None = None,
    ) -> None:
        self.token, self.base64_form, self.partner = token, base64_form, partner
        self.discover_form, self.trailing_slash, self.routing = (
            discover_form,
            trailing_slash,
            routing,
        )
        self.correlation = traffic.correlation_id.get() or new_request_id()
        self.form_learnt = False  # a 401 made us switch the token form

    def settle_form(self, version: str) -> None:
        """Once the version is known, call with its token form (raw in 2.1.1, Base64 in 2.2.1),
        unless a 401 has just taught us otherwise."""
        if not self.form_learnt:
            self.base64_form = versions.get(version).token_base64

    @classmethod
    def for_partner(cls, partner: Partner) -> Caller:
        """How we call a registered partner, by its compatibility profile."""
        base64_form = partner.send_token_base64
        if base64_form is None:
            base64_form = versions.get(partner.version).token_base64
        # GET-all and broadcasts go to the connection itself: a hub's own party, else its first
        # CPO party; a call about one party's object names that party instead (`call(to=…)`).
        own = (
            partner.parties.filter(role="HUB").first()
            or partner.parties.filter(role="CPO").first()
            or partner.parties.first()
        )
        routing = (own.country_code, own.party_id) if own and partner.send_routing_headers else None
        if routing is not None and not versions.get(partner.version).routing_headers:
            routing = None
        return cls(
            token=partner.token,
            base64_form=base64_form,
            partner=partner,
            trailing_slash=partner.add_trailing_slash,
            routing=routing,
        )

    def call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        functional: bool = False,
        to: tuple[str, str] | None = None,
    ) -> Reply:
        """One request and its envelope. `functional` modules carry routing headers (T-16): to
        `to`, the party that owns the object the call is about (a command's EVSE, a token's
        location), else to the connection (a hub, or its first CPO party)."""
        if self.trailing_slash and not url.endswith("/") and "?" not in url:
            url += "/"
        routing = (to or self.routing) if functional and self.routing else None
        response, parsed = self._send(method, url, json=json, params=params, routing=routing)
        if response.status_code == 401 and self.discover_form:
            self.base64_form = not self.base64_form
            response, parsed = self._send(method, url, json=json, params=params, routing=routing)
            if response.status_code == 401:
                self.base64_form = not self.base64_form
            else:
                self.form_learnt = True
        return self._read(method, url, response, parsed)

    def pages(
        self, url: str, *, params: dict[str, Any] | None = None, to: tuple[str, str] | None = None
    ) -> Iterator[list[Any]]:
        """Each page of a Sender's list, following `Link rel="next"` until it is absent (T-20);
        we never build page URLs ourselves, so a CPMS with odd paging still works. A next page
        must stay on the endpoint's scheme, host and port, and there are at most
        `OCPI_MAX_PAGES` of them: a partner cannot send us elsewhere or keep us forever. `to`
        names the party whose list it is, where a CPMS hosting several answers per party."""
        first: dict[str, Any] = dict(params or {})
        if self.partner is not None and self.partner.max_page_size:
            first.setdefault("limit", self.partner.max_page_size)
        next_url: str | None = url
        pages = 0
        while next_url:
            pages += 1
            if pages > settings.OCPI_MAX_PAGES:
                raise PeerError(f"{url}: more than {settings.OCPI_MAX_PAGES} pages, we stopped")
            # httpx replaces a URL's query with `params`, even an empty dict: pass None later.
            reply = self.call("GET", next_url, params=first or None, functional=True, to=to)
            if not reply.ok:
                raise PeerError(
                    f"{url} answered OCPI {reply.status_code}: {reply.message}",
                    status_code=reply.status_code,
                    transient=reply.http_status >= 500 or reply.status_code >= 3000,
                )
            if not isinstance(reply.data, list):
                raise PeerError(f"{next_url} did not answer with a list")
            yield reply.data
            link = next_link(reply.headers.get("Link", ""))
            next_url = urljoin(next_url, link) if link else None
            if next_url is not None and _origin(next_url) != _origin(url):
                raise PeerError(f"{url}: a next page on another host, not followed: {next_url}")
            first = {}  # the next URL repeats the filters itself

    def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any,
        params: dict[str, Any] | None,
        routing: tuple[str, str] | None,
    ) -> tuple[httpx.Response, Any]:
        """The response and its body as parsed JSON (None if it is not JSON)."""
        request_id = new_request_id()
        headers = {
            "Authorization": authorization_header(self.token, base64_encoded=self.base64_form),
            "X-Request-ID": request_id,
            "X-Correlation-ID": self.correlation,
        }
        if routing:
            headers |= {
                "OCPI-from-country-code": settings.OCPI_COUNTRY_CODE,
                "OCPI-from-party-id": settings.OCPI_PARTY_ID,
                "OCPI-to-country-code": routing[0].upper(),
                "OCPI-to-party-id": routing[1].upper(),
            }
        body = None
        if json is not None:
            body = dumps(json)
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        log = partial(
            traffic.record_traffic,
            direction="out",
            partner=self.partner,
            method=method,
            request_id=request_id,
            correlation=self.correlation,
            request_body=body,
        )

        def failed(reason: str, *, url: str = url, http_status: int | None = None) -> None:
            log(
                url=url,
                http_status=http_status,
                ocpi_status=None,
                duration_ms=int((time.monotonic() - started) * 1000),
                response_body=None,
                error=reason,
            )

        try:
            timeout = httpx.Timeout(
                settings.OCPI_READ_TIMEOUT, connect=settings.OCPI_CONNECT_TIMEOUT
            )
            transport = GuardedTransport(url=url, ssl_context=_tls())
            with httpx.Client(
                transport=transport, timeout=timeout, trust_env=False, follow_redirects=False
            ) as client:
                request = client.build_request(
                    method, url, content=body, params=params, headers=headers
                )
                response = client.send(request, stream=True)
                try:
                    content = read_capped(response)
                finally:
                    response.close()
        except (OutboundRefused, httpx.InvalidURL) as exc:
            failed(f"refused by our outbound rules: {exc}")
            raise PeerError(f"{method} {url}: we do not call it: {exc}", reached=False) from exc
        except ResponseTooLarge as exc:
            failed(str(exc), url=str(response.request.url), http_status=response.status_code)
            raise PeerError(f"{method} {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            reason = _describe_failure(exc)
            failed(reason)
            reached = False if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) else None
            raise PeerError(f"{method} {url}: {reason}", transient=True, reached=reached) from exc
        parsed = _parse(content)
        log(
            url=str(response.request.url),
            http_status=response.status_code,
            ocpi_status=traffic.status_code_of(parsed),
            duration_ms=int((time.monotonic() - started) * 1000),
            response_body=content,
        )
        return response, parsed

    def _read(self, method: str, url: str, response: httpx.Response, parsed: Any) -> Reply:
        status = traffic.status_code_of(parsed)
        if response.status_code == 503:  # not processed: the request may be sent again
            raise PeerError(
                f"{method} {url}: unavailable (HTTP 503)", transient=True, reached=False
            )
        if response.status_code == 401:
            raise PeerError(f"{method} {url}: our token was refused (HTTP 401)", status_code=status)
        if 300 <= response.status_code < 400:
            where = response.headers.get("Location", "nowhere")
            raise PeerError(
                f"{method} {url}: redirected to {where} (HTTP {response.status_code}); we do not "
                "follow redirects: the partner must give us the final URL"
            )
        if status is None:
            kind = response.headers.get("Content-Type", "no content type")
            raise PeerError(
                f"{method} {url}: the answer is not an OCPI envelope (HTTP {response.status_code}, "
                f"{kind})",
                transient=True,
            )
        return Reply(
            http_status=response.status_code,
            status_code=status,
            message=str(parsed.get("status_message") or ""),
            data=parsed.get("data"),
            headers=response.headers,
        )


@cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: building one reads the CA bundle again, about 16 ms, which
    was half the time from a confirmed hold to START_SESSION leaving."""
    return ssl.create_default_context(cafile=certifi.where())


def told_to_partner(reference: str) -> str:
    """What a partner may read about a failed call of ours: nothing of what we found (whether a
    port is open, what DNS said, what answered); the traffic log and the admin keep that."""
    return (
        "we could not use your OCPI API at the URLs you gave us; our operator has the details "
        f"(reference {reference})"
    )


def next_link(header: str) -> str | None:
    """The `rel="next"` URL of a Link header (RFC 8288), if any."""
    for link in header.split(","):
        target, _, attributes = link.partition(";")
        rels = attributes.replace(" ", "").lower()
        if 'rel="next"' in rels or "rel=next" in rels:
            return target.strip().strip("<>")
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the scheme's default when none is written)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "", url, None  # on no host of ours: not followed
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    return parsed.scheme, parsed.host, port


def _parse(content: bytes) -> Any:
    try:
        return loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        return None


def _describe_failure(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect in time ({exc})"
    if isinstance(exc, httpx.ConnectError):
        return f"could not connect ({exc or 'refused or unreachable'})"
    if isinstance(exc, httpx.TimeoutException):
        return f"no complete answer in time ({exc})"
    return f"the connection failed ({type(exc).__name__}: {exc})"
