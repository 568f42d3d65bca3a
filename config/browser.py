"""The middleware only people's browsers need (sessions, language, slashes, login, messages),
passed by for OCPI requests: a CPO's status push carries no cookie, reads no page and speaks
English, and these five cost it about a seventh of its CPU. Subclasses rather than a wrapper
around them, so that Django's own checks (the admin's) still find them in MIDDLEWARE.
(X-Frame-Options stays Django's own: the deploy check looks for it by name, and it is cheap.)

What an OCPI answer still needs of them is done by `ocpi_peer.middleware.OcpiTrafficMiddleware`:
English messages whatever language a thread last served, and a Content-Length."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest
from django.middleware import common, locale

from config.csp import OCPI_PREFIX


class BrowserOnly:
    """Mixin for a MiddlewareMixin subclass: OCPI requests go straight to the next one."""

    get_response: Any

    def __call__(self, request: HttpRequest) -> Any:
        if request.path_info.startswith(OCPI_PREFIX):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]


class SessionMiddleware(BrowserOnly, sessions.SessionMiddleware):
    pass


class LocaleMiddleware(BrowserOnly, locale.LocaleMiddleware):
    pass


class CommonMiddleware(BrowserOnly, common.CommonMiddleware):
    pass


class AuthenticationMiddleware(BrowserOnly, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(BrowserOnly, messages.MessageMiddleware):
    pass
