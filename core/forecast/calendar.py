"""Future bar dates for a forecast: NYSE trading days for stocks, every calendar day for crypto.

`NYSEHolidayCalendar` is a pandas `AbstractHolidayCalendar` with the exchange's regular full-day
holidays. Observance follows the NYSE rules: a holiday on a Saturday is observed on the Friday before and
one on a Sunday on the Monday after (`nearest_workday`), except New Year's Day, which is NOT moved back to
Friday December 31 when January 1 is a Saturday (NYSE Rule 7.2; 2022 had no New Year holiday). Juneteenth
is a holiday from 2022 on. One-off closures (national days of mourning, hurricanes) are not predictable and
are not included; early closes are trading days.
"""

from __future__ import annotations

import pandas as pd
from pandas.tseries.holiday import (
    AbstractHolidayCalendar,
    GoodFriday,
    Holiday,
    USLaborDay,
    USMartinLutherKingJr,
    USMemorialDay,
    USPresidentsDay,
    USThanksgivingDay,
    nearest_workday,
    sunday_to_monday,
)
from pandas.tseries.offsets import CustomBusinessDay


class NYSEHolidayCalendar(AbstractHolidayCalendar):
    """Regular full-day NYSE holidays (see the module docstring for the observance rules)."""

    rules = [
        Holiday("New Year's Day", month=1, day=1, observance=sunday_to_monday),
        USMartinLutherKingJr,
        USPresidentsDay,
        GoodFriday,
        USMemorialDay,
        Holiday("Juneteenth", month=6, day=19, start_date="2022-01-01", observance=nearest_workday),
        Holiday("Independence Day", month=7, day=4, observance=nearest_workday),
        USLaborDay,
        USThanksgivingDay,
        Holiday("Christmas Day", month=12, day=25, observance=nearest_workday),
    ]


def nyse_holidays(start, end) -> pd.DatetimeIndex:
    """Weekdays between start and end (inclusive) on which the NYSE is closed for a regular holiday.

    (The calendar itself also lists a Saturday January 1, which it does not move; it is no weekday.)
    """
    days = NYSEHolidayCalendar().holidays(start=pd.Timestamp(start), end=pd.Timestamp(end))
    return days[days.day_of_week < 5].astype("datetime64[ns]")


def nyse_trading_day() -> CustomBusinessDay:
    """A pandas offset that steps over weekends and NYSE holidays."""
    return CustomBusinessDay(calendar=NYSEHolidayCalendar())


def future_dates(last_date, horizon: int, *, every_day: bool) -> pd.DatetimeIndex:
    """The `horizon` bar dates after `last_date`.

    Parameters
    ----------
    last_date: date of the last known bar.
    horizon: how many future bars.
    every_day: True for crypto (a bar every calendar day), False for stocks (NYSE trading days).
    """
    start = pd.Timestamp(last_date).normalize() + pd.Timedelta(days=1)
    freq = "D" if every_day else nyse_trading_day()
    return pd.date_range(start=start, periods=int(horizon), freq=freq).astype("datetime64[ns]")
