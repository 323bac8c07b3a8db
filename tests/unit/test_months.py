from __future__ import annotations

from datetime import UTC, datetime

from domain.months import month_start, next_month


def test_a_month_runs_from_its_first_to_the_next_first_across_the_year_end() -> None:
    mid_june = datetime(2026, 6, 17, 9, 30, tzinfo=UTC)
    new_years_eve = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)

    assert month_start(mid_june) == datetime(2026, 6, 1, tzinfo=UTC)
    assert next_month(mid_june) == datetime(2026, 7, 1, tzinfo=UTC)
    assert month_start(new_years_eve) == datetime(2026, 12, 1, tzinfo=UTC)
    assert next_month(new_years_eve) == datetime(2027, 1, 1, tzinfo=UTC)
