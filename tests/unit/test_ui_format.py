"""The dashboard's number formats (api/ui_format.py)."""

from datetime import UTC, datetime, timedelta

from vmpool.api.ui_format import NONE, ago, gib, heat, mib, number, percent, share, size


def test_figures_read_as_people_write_them() -> None:
    assert (number(4.0), number(2.5), number(0.25), number(None)) == ("4", "2.5", "0.2", NONE)
    assert (mib(64), mib(1023), mib(1024), mib(1536), mib(15872)) == (
        "64 MiB", "1023 MiB", "1 GiB", "1.5 GiB", "15.5 GiB",
    )  # fmt: skip
    assert (gib(0), gib(200.0), gib(2.25)) == ("0 GiB", "200 GiB", "2.2 GiB")
    assert (size(512), size(2048), size(3 * 2**20), size(5 * 2**30 // 2)) == (
        "512 B", "2 KiB", "3 MiB", "2.5 GiB",
    )  # fmt: skip
    assert size(None) == NONE


def test_shares_and_heat() -> None:
    assert percent(1, 3) == "33%" and percent(5, 0) == NONE and percent(None, 4) == NONE
    assert share(6, 4) == 1.5 and share(1, 0) == 0.0
    assert [heat(f) for f in (0.0, 0.05, 0.55, 0.99, 1.0, 3.0)] == [
        "heat-0", "heat-0", "heat-5", "heat-9", "heat-10", "heat-10",
    ]  # fmt: skip
    assert heat(None) == "heat-none"


def test_ages() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert ago(None, now) == "never"
    assert ago(now - timedelta(seconds=5), now) == "5 s ago"
    assert ago(now - timedelta(minutes=30), now) == "30 min ago"
    assert ago(now - timedelta(hours=5), now) == "5 h ago"
    assert ago(now - timedelta(days=3), now) == "3 d ago"
    assert ago(now + timedelta(seconds=3), now) == "0 s ago"  # a clock a little ahead
