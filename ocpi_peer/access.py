"""Who an OCPI request comes from, remembered per web process: every request of a pushing CPO
presents the same token, and looking it up (a join, a decryption, two models built) cost more
of our CPU than the status write it authorises.

Safe across processes through the `ACCESS` generation (`ocpi_peer.generations`): database
triggers raise it with every change to a partner (but its last-contact columns), its tokens and
its parties, in the transaction making the change. Each request reads it, in the statement
that counts its client's failed tokens anyway, and uses an entry only when it was cached at that
generation: a revoked or rotated token, an unregistered partner or a moved party is refused or
seen at the very next request, in every process. An entry past its token's expiry is not used.
Entries are found by the token's hash (never kept in plain) and give fresh model instances
each time, so no request sees another's changes to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.utils import timezone

from ocpi_peer import crypto
from ocpi_peer.generations import ACCESS
from ocpi_peer.generations import TABLE as GENERATIONS
from ocpi_peer.models import _TOKEN_FIELDS, AuthFailure, Partner, PartnerToken

MAX_ENTRIES = 10_000  # far more tokens than partners; past it, the cache starts over


@dataclass(frozen=True, slots=True)
class _Entry:
    generation: int
    token: tuple[Any, ...]  # _TOKEN_FIELDS' values
    partner: tuple[Any, ...]  # _PARTNER_FIELDS' values

    def usable(self, generation: int | None, now: datetime) -> bool:
        expires_at = self.token[-1]
        return generation == self.generation and (expires_at is None or expires_at > now)


_PARTNER_FIELDS = [field.attname for field in Partner._meta.concrete_fields]
_entries: dict[str, _Entry] = {}


def failures_and_generation(client: str, since: datetime) -> tuple[int, int | None]:
    """The client's failed tokens since `since` and the current ACCESS generation, in one
    statement: every request we serve asks both first."""
    connection = connections[router.db_for_read(AuthFailure)]
    since_value = connection.ops.adapt_datetimefield_value(since)
    with connection.cursor() as cursor:
        cursor.execute(_FAILURES_AND_GENERATION, [client, since_value, ACCESS])
        count, generation = cursor.fetchone()
    return int(count), None if generation is None else int(generation)


_FAILURES_AND_GENERATION = (
    f"SELECT (SELECT COUNT(*) FROM {AuthFailure._meta.db_table}"  # noqa: S608
    ' WHERE "client" = %s AND "at" >= %s),'
    f" (SELECT value FROM {GENERATIONS} WHERE name = %s)"
)


def find(candidates: list[str], *, generation: int | None) -> tuple[PartnerToken, str] | None:
    """As `PartnerToken.objects.find`, from this process's entries while `generation` (read
    before this call) is the one they were cached at."""
    now = timezone.now()
    hashes = [(crypto.token_hash(candidate), candidate) for candidate in candidates]
    for digest, candidate in hashes:
        entry = _entries.get(digest)
        if entry is not None and entry.usable(generation, now):
            return _token(entry), candidate
    found = PartnerToken.objects.find(candidates)
    if found is not None and generation is not None:
        token, presented = found
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        _entries[crypto.token_hash(presented)] = _Entry(
            generation,
            tuple(getattr(token, name) for name in _TOKEN_FIELDS),
            tuple(getattr(token.partner, name) for name in _PARTNER_FIELDS),
        )
    return found


def _token(entry: _Entry) -> PartnerToken:
    db = router.db_for_read(PartnerToken)
    # Lists and dicts (JSON columns) copied, so that no request changes the cached ones.
    values = [
        list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v
        for v in entry.partner
    ]
    partner = Partner.from_db(db, _PARTNER_FIELDS, values)
    token = PartnerToken.from_db(db, _TOKEN_FIELDS, list(entry.token))
    PartnerToken.partner.field.set_cached_value(token, partner)
    return token


def forget() -> None:
    """Empties this process's entries (tests; never needed for correctness)."""
    _entries.clear()
