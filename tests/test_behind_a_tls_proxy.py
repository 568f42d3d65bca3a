"""Behind a proxy that ends TLS, as deployed (DEBUG off): forms posted from PUBLIC_BASE_URL pass
the CSRF origin check whether or not the proxy says the request came over HTTPS; when it says so
in the header TRUSTED_PROXY_SSL_HEADER names, plain http is sent to HTTPS (but /healthz, which a
load balancer asks over http), and HTTPS answers carry HSTS, Secure cookies and the CSP."""

from typing import Any

from tests.support.production import HOST, answers, production_env

CSRF = "a" * 32  # a CSRF secret, given as the cookie and as the form's token


def set_language(origin: str, **headers: str) -> dict[str, Any]:
    """The language switch in every page's header: a CSRF-protected form post."""
    return {
        "method": "post",
        "path": "/i18n/setlang/",
        "data": {"language": "de", "next": "/charge/", "csrfmiddlewaretoken": CSRF},
        "cookies": {"csrftoken": CSRF},
        "headers": {"HTTP_ORIGIN": origin, **headers},
    }


def test_a_form_posted_from_the_public_origin_passes_when_the_proxy_does_not_say_https() -> None:
    # The proxy redirects to HTTPS itself and hands requests on as plain http.
    ours, foreign = answers(
        production_env(SECURE_SSL_REDIRECT="false"),
        [set_language(f"https://{HOST}"), set_language("https://attacker.example")],
    )
    assert ours["status"] == 302 and ours["headers"]["Location"] == "/charge/"
    assert foreign["status"] == 403


def test_plain_http_is_sent_to_https_but_the_health_check_is_answered() -> None:
    plain, health, over_tls, posted = answers(
        production_env(TRUSTED_PROXY_SSL_HEADER="X-Forwarded-Proto"),
        [
            {"method": "get", "path": "/charge/"},
            {"method": "get", "path": "/healthz"},
            {"method": "get", "path": "/charge/", "headers": {"HTTP_X_FORWARDED_PROTO": "https"}},
            set_language(f"https://{HOST}", HTTP_X_FORWARDED_PROTO="https"),
        ],
    )
    assert plain["status"] == 301
    assert plain["headers"]["Location"] == f"https://{HOST}/charge/"
    assert health["status"] == 200
    assert over_tls["status"] == 200
    headers = over_tls["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "https://js.stripe.com" in headers["Content-Security-Policy"]
    assert over_tls["secure_cookies"] == {"csrftoken": True}
    assert posted["status"] == 302
