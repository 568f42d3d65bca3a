"""The network under every outbound OCPI call, so that a URL a partner hands us cannot turn our
platform against our own network or tie up a worker.

A partner's host name is resolved once; every address it resolves to is checked, and we connect
to a checked address (a second resolution could answer otherwise: DNS rebinding). TLS still
verifies, and SNI still names, the host of the URL, and the Host header is the URL's. Refused:
loopback, private, link-local, multicast, unspecified, reserved and every other non-public
address; `OCPI_ALLOW_PRIVATE_URLS` (a lab) lets loopback and private addresses through, never
link-local (cloud metadata lives there), multicast or unspecified ones. With `DEBUG` off, plain
`http` is only for such lab addresses: a public address needs `https`.

Each call has one overall deadline (`OCPI_CALL_DEADLINE`): resolving, connecting, sending and
every read get what is left of it, so a server dribbling a byte at a time cannot hold us past
it, and a host name whose resolution hangs cannot hold up other calls (`resolve`). Bodies are
read up to `OCPI_MAX_RESPONSE_BYTES`. Redirects are never followed (the caller refuses them)."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as ResolutionTimeout
from typing import Any

import httpcore
import httpx
from django.conf import settings


class OutboundRefused(Exception):
    """We will not call this URL: the sentence says why (for the operator, not the partner)."""


class ResponseTooLarge(Exception):
    """The answer is longer than we read."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolved = list[tuple[Any, ...]]

# At most this many host names resolving at once in this process, hanging ones included.
LOOKUPS_AT_ONCE = 32
_lookups = threading.BoundedSemaphore(LOOKUPS_AT_ONCE)


def resolve(host: str, port: int, *, seconds: float) -> Resolved:
    """`socket.getaddrinfo` for `host`, waited for at most `seconds`.

    getaddrinfo has no timeout of its own and cannot be interrupted, so each lookup runs in a
    thread of its own that we stop waiting for at the deadline. Not a pool: a pool's threads are
    shared, so a few names that hang (a partner's dead DNS server) would hold all of them and
    every later call would queue behind them until its own deadline, to healthy hosts too. A
    thread per lookup holds only its own call; the thread ends when the system resolver gives up
    (its own timeouts, seconds to a minute), and is a daemon so it never delays our exit. The
    threads a hanging resolver leaves behind are bounded (`LOOKUPS_AT_ONCE`): past that a call
    is refused at once, a transient failure, rather than adding a thread or waiting.

    Raises httpcore.ConnectTimeout at the deadline, httpcore.ConnectError when the name does not
    resolve or too many lookups are still running."""
    slots = _lookups  # the lookup gives back the slot it took
    if not slots.acquire(blocking=False):
        raise httpcore.ConnectError(
            f"{host} not resolved: too many other host names are still resolving"
        )
    found: Future[Resolved] = Future()

    def lookup() -> None:
        try:
            found.set_result(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the caller, who is waiting for it
            found.set_exception(exc)
        finally:
            slots.release()

    try:
        threading.Thread(target=lookup, name=f"ocpi-dns {host}", daemon=True).start()
    except RuntimeError as exc:  # no thread to be had
        slots.release()
        raise httpcore.ConnectError(f"{host} not resolved: {exc}") from exc
    try:
        return found.result(timeout=max(seconds, 0))
    except ResolutionTimeout as exc:
        raise httpcore.ConnectTimeout(f"{host} did not resolve in time") from exc
    except (OSError, UnicodeError) as exc:
        raise httpcore.ConnectError(f"{host} does not resolve") from exc


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why we do not connect to `address`, or None when we may."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("multicast", address.is_multicast),
        ("link-local", address.is_link_local),
    ):
        if flag:
            return f"a {kind} address"
    if address.is_loopback or address.is_private or not address.is_global:
        if allow_private and not address.is_reserved:
            return None
        return "a loopback address" if address.is_loopback else "a private or reserved address"
    return None


def _is_lab(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write gets at most what is left of the call's time."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: float, seconds: float) -> None:
        self._stream, self._deadline, self._seconds = stream, deadline, seconds

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise error(f"the call's deadline of {self._seconds:g} s passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        secured = self._stream.start_tls(ssl_context, server_hostname, left)
        return _DeadlineStream(secured, self._deadline, self._seconds)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves once, checks every address, connects to a checked one, and keeps the deadline."""

    def __init__(self, *, plain_http: bool, seconds: float) -> None:
        self.plain_http, self.seconds = plain_http, seconds
        self.deadline = time.monotonic() + seconds
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._checked(host, port)
        error: Exception | None = None
        for address in addresses:
            left = self.deadline - time.monotonic()
            if left <= 0:
                break
            try:
                stream = self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=left if timeout is None else min(timeout, left),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream, self.deadline, self.seconds)
        if error is not None:
            raise error
        raise httpcore.ConnectTimeout(f"could not connect within {self.seconds:g} s")

    def _checked(self, host: str, port: int) -> list[Address]:
        found = resolve(host, port, seconds=self.deadline - time.monotonic())
        addresses: list[Address] = []
        for *_, sockaddr in found:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        allow_private = settings.OCPI_ALLOW_PRIVATE_URLS
        for address in addresses:  # all of them: any one may be the one we would reach
            why = refusal(address, allow_private=allow_private)
            if why is not None:
                raise OutboundRefused(f"{host} resolves to {address}, {why}")
            if self.plain_http and not settings.DEBUG and not _is_lab(address):
                raise OutboundRefused(f"{host} is a public address: use https")
        if not addresses:
            raise httpcore.ConnectError(f"{host} does not resolve")
        return addresses

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("we do not call Unix sockets")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over `GuardedBackend`. httpx has no public way to pass httpcore a
    network backend, so the connection pool it builds is replaced by one that has ours."""

    def __init__(self, *, url: str, ssl_context: ssl.SSLContext) -> None:
        super().__init__(verify=ssl_context, trust_env=False)
        parsed = httpx.URL(url)  # httpx.InvalidURL: the caller refuses it too
        scheme = parsed.scheme
        if scheme not in ("http", "https"):
            raise OutboundRefused(f"we only call http(s) URLs, not {scheme or 'this'}")
        if not parsed.host:
            raise OutboundRefused("the URL names no host")
        self.backend = GuardedBackend(
            plain_http=scheme == "http", seconds=settings.OCPI_CALL_DEADLINE
        )
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=1, network_backend=self.backend
        )


def read_capped(response: httpx.Response) -> bytes:
    """The (decoded) body of a streamed response, refused past `OCPI_MAX_RESPONSE_BYTES`."""
    cap = settings.OCPI_MAX_RESPONSE_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > cap:
        raise ResponseTooLarge(f"the answer is {int(declared)} bytes, more than our {cap}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise ResponseTooLarge(f"the answer is longer than our {cap} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
