"""Timestamps are read as CPMS write them and always written with `Z` (T-21)."""

from datetime import UTC, datetime

import pytest

from ocpi_peer.transport import format_datetime, parse_datetime

NOON = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-29T12:00:00Z",
        "2026-03-29T12:00:00+00:00",
        "2026-03-29T12:00:00",
        "2026-03-29T14:00:00+02:00",
    ],
)
def test_every_common_form_means_the_same_instant(text: str) -> None:
    assert parse_datetime(text) == NOON


def test_fractions_are_kept() -> None:
    assert parse_datetime("2026-03-29T12:00:00.1234Z").microsecond == 123400


@pytest.mark.parametrize("text", ["yesterday", "", "2026-13-01T00:00:00Z"])
def test_nonsense_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


def test_we_always_write_utc_with_z() -> None:
    assert format_datetime(NOON) == "2026-03-29T12:00:00Z"
    assert (
        format_datetime(datetime(2026, 3, 29, 12, 0, 0, 250000, tzinfo=UTC))
        == "2026-03-29T12:00:00.250Z"
    )
