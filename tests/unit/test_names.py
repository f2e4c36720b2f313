import pytest

from vmpool.domain.names import is_valid_name, validate_name
from vmpool.errors import InvalidInput


@pytest.mark.parametrize("name", ["a", "web-1", "db01", "x" * 63, "1abc"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "-a", "a-", "A", "web_1", "a.b", "a/b", "../etc", "a b", "<x>", "a'b", 'a"b', "a&b",
     "ünï", "x" * 64, "x" * 10_000, "a\nb", "a\x00b"],
)  # fmt: skip
def test_invalid_names_are_refused(name: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(InvalidInput) as err:
        validate_name(name, "vm name")
    assert err.value.status == 422
    assert len(err.value.message) < 300  # a 10,000-character name is not echoed back whole
