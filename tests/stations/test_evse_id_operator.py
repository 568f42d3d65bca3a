"""Which operator an EVSE ID names (eMI3 / ISO 15118-2: `CC*OPR*E…`), however it is written."""

import pytest

from stations.evse_ids import Operator, operator_of, parse_operator


@pytest.mark.parametrize(
    "written",
    ["DE*ABC*E123*1", "de*abc*e123*1", "DEABCE1231", "DE-ABC-E123-1", "De*Abc*E1"],
)
def test_the_country_and_operator_id_are_read_with_or_without_separators(written: str) -> None:
    assert operator_of(written) == Operator("DE", "ABC")


def test_operator_ids_may_hold_digits() -> None:
    assert str(operator_of("NL*1A2*E9")) == "NL*1A2"


@pytest.mark.parametrize(
    "written",
    ["", "DE*ABC", "DE*ABC*E", "DE*AB*E1", "D1*ABC*E1", "DE*ABC*X1", "1234", "DE*ABC*E" + "1" * 31],
)
def test_an_id_that_is_not_emi3_names_no_operator(written: str) -> None:
    assert operator_of(written) is None


def test_an_operator_is_read_as_people_write_it() -> None:
    assert parse_operator("nl*xyz") == parse_operator("NLXYZ") == Operator("NL", "XYZ")
    assert parse_operator("NL*XY") is None and parse_operator("N1*XYZ") is None
