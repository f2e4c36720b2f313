import math

from vmpool.domain.metrics import cpu_fraction, ewma


def test_cpu_fraction_from_counters() -> None:
    assert cpu_fraction(0, 2_000_000_000, 2.0, 1) == 1.0
    assert cpu_fraction(0, 1_000_000_000, 2.0, 2) == 0.25
    assert cpu_fraction(5, 4, 1.0, 1) is None  # a counter that went back (domain restarted)
    assert cpu_fraction(0, 10, 0.0, 1) is None


def test_ewma_weights_by_elapsed_time() -> None:
    assert ewma(None, 0.8, 5, 60) == 0.8
    one_long = ewma(0.0, 1.0, 60, 60)
    assert math.isclose(one_long, 1 - math.exp(-1))
    # Two half-steps reach the same value as one full step: sampling rate does not bias it.
    two_short = ewma(ewma(0.0, 1.0, 30, 60), 1.0, 30, 60)
    assert math.isclose(one_long, two_short)
