from vmpool.services.sync import backoff_seconds


def test_backoff_doubles_up_to_the_cap() -> None:
    got = [backoff_seconds(n, 3.0, 60.0) for n in range(1, 8)]
    assert got == [3.0, 6.0, 12.0, 24.0, 48.0, 60.0, 60.0]
