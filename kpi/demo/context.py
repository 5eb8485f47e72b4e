"""What every generating stage shares: the one random generator (so one seed fixes every table), the
scale, England's working days as numpy business-day arithmetic, and the seasonality of arrivals.
Generates no table itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
import polars as pl

from kpi.calendar import bank_holidays
from kpi.demo.timeline import EXTRACT, EXTRACT_DATE


# Seasonality of contacts, referrals and early help by calendar month, January first (the August dip of
# CSC 004: 299 in August against 425-513).
SEASON = np.array([1.0, 1.0, 1.05, 0.95, 1.05, 1.0, 1.0, 0.78, 1.0, 1.1, 1.05, 0.9])


class Calendar:
    """England and Wales working days (Monday-Friday less bank holidays) as numpy business-day arithmetic."""

    def __init__(self) -> None:
        closed = np.array(sorted(bank_holidays()), dtype="M8[D]")  # the engine's own calendar
        self.busdaycal = np.busdaycalendar(weekmask="1111100", holidays=closed)

    def add(self, days: np.ndarray, n) -> np.ndarray:
        """The n-th working day after each day (n = 0: the day itself), as add_working_days() does."""
        days, n = np.broadcast_arrays(np.asarray(days, dtype=np.int64), np.asarray(n, dtype=np.int64))
        # Rolling a non-working day back first makes the result the n-th working day strictly after it.
        moved = np.busday_offset(days.astype("M8[D]"), n, roll="backward", busdaycal=self.busdaycal)
        return np.where(n == 0, days, moved.astype(np.int64))

    def count(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working days d with a < d <= b, as working_days() does (for b >= a)."""
        a = np.asarray(a, dtype=np.int64) + 1
        b = np.asarray(b, dtype=np.int64) + 1
        return np.busday_count(a.astype("M8[D]"), b.astype("M8[D]"), busdaycal=self.busdaycal)

    def next_working(self, days: np.ndarray) -> np.ndarray:
        """Each day, or the working day after it when it is a weekend or bank holiday."""
        rolled = np.busday_offset(np.asarray(days, dtype=np.int64).astype("M8[D]"), 0, roll="forward",
                                  busdaycal=self.busdaycal)
        return rolled.astype(np.int64)


@lru_cache(maxsize=1)
def shared_calendar() -> Calendar:
    """One calendar per process: building the holiday list is the slowest step at scale 1."""
    return Calendar()


@dataclass
class Context:
    """What every stage needs: the one random generator (so one seed fixes everything), the scale, the calendar."""

    rng: np.random.Generator
    scale: int
    cal: Calendar

    def ids(self, prefix: str, numbers: np.ndarray) -> pl.Series:
        """Text ids such as P000123: a prefix and a number zero-padded to one width for the whole extract
        (6 digits at scale 1, more at larger scales), so that references match their keys."""
        width = max(6, len(str(100_000 * self.scale)))
        return prefix + pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)

    def pick(self, weights, n: int) -> np.ndarray:
        """n draws of an index into `weights` (relative weights, any scale)."""
        cum = np.cumsum(np.asarray(weights, dtype=float))
        return np.searchsorted(cum, self.rng.random(n) * cum[-1], side="right")

    def uniform_int(self, low, high) -> np.ndarray:
        """Integers in [low, high] (inclusive), element-wise."""
        low = np.asarray(low, dtype=np.int64)
        high = np.asarray(high, dtype=np.int64)
        shape = np.broadcast_shapes(low.shape, high.shape)
        return low + np.floor(self.rng.random(shape) * (high - low + 1)).astype(np.int64)

    def banded(self, bands, n: int) -> np.ndarray:
        """n integers drawn from (low, high, share) bands: a band by its share, then uniform within it."""
        lows = np.array([b[0] for b in bands])
        highs = np.array([b[1] for b in bands])
        band = self.pick([b[2] for b in bands], n)
        return self.uniform_int(lows[band], highs[band])

    def times(self, n: int, office_share: float = 0.85) -> np.ndarray:
        """Seconds after midnight, to the minute: mostly office hours, some out of hours."""
        office = self.rng.random(n) < office_share
        minutes = np.where(office, 510 + self.rng.random(n) * 540, self.rng.random(n) * 1440)
        return minutes.astype(np.int64) * 60

    def monthly_days(self, first: date, per_month: float, seasonal: bool = True,
                     working_share: float = 0.9) -> np.ndarray:
        """Days of events arriving at `per_month` × scale a month (Poisson), from `first` to the extract date."""
        months = np.arange(np.datetime64(first, "M"), np.datetime64(EXTRACT_DATE, "M") + 1)
        factor = SEASON[months.astype(np.int64) % 12] if seasonal else np.ones(len(months))
        counts = self.rng.poisson(per_month * self.scale * factor)
        starts = months.astype("M8[D]").astype(np.int64)
        lengths = (months + 1).astype("M8[D]").astype(np.int64) - starts
        owner = np.repeat(np.arange(len(months)), counts)
        days = starts[owner] + np.floor(self.rng.random(len(owner)) * lengths[owner]).astype(np.int64)
        # Most events happen on working days; the rest come through the out-of-hours service.
        on_working_day = self.rng.random(len(days)) < working_share
        days = np.where(on_working_day, self.cal.next_working(days), days)
        return np.sort(days[days <= EXTRACT])
