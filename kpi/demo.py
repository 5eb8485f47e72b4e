"""The embedded demo council: a deterministic, synthetic extract of every table in schemas/extracts.yaml.

Case histories run from April 2014 to 31 March 2018, sized and timed so that September 2017 resembles the
seed scorecard. Every child is invented; this module computes no indicator and reads no real data.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from kpi.atomic import write_atomically
from kpi.calendar import bank_holidays
from kpi.config import bundled_root
from kpi.extracts import table_definitions

# --- Dates ---------------------------------------------------------------------------------------------

EXTRACT_DATE = date(2018, 3, 31)     # the extract's date: nothing is dated after it
HISTORY_START = date(2014, 4, 1)     # contacts, visits, reviews... are kept from this date
DEFAULT_SEED = 20170930

# The simulation starts earlier so that what is open in April 2014 (a plan, a period of care begun years
# before, a care leaver aged 21) is there with its true start. Nothing starts before 2000: the engine's
# working-day calendar begins then.
_CIN_SIM_START = date(2012, 4, 1)
_EH_SIM_START = date(2013, 4, 1)
_CLA_SIM_START = date(2000, 4, 1)
_OLDEST_DOB = date(1992, 4, 1)       # aged 21 in April 2014: the oldest care leaver the extract shows
_FAMILY_START = date(1984, 1, 1)     # first births of families (their younger children are born later)

# --- Volumes at scale 1, per month unless said (seed/q2_2017_report.csv, September 2017) ----------------

CHILDREN_0_17 = 22_627               # "Sept - Den" of every rate: the mid-2017 0-17 population
POPULATION_BY_YEAR = {               # mid-year estimates for ref_population; 2017 is the seed's
    2013: 22_910, 2014: 22_860, 2015: 22_800, 2016: 22_710, 2017: 22_627, 2018: 22_570,
}
COMMUNICATIONS_PER_MONTH = 425       # CSC 004 Sept (2,542 FYTD / 6 = 424)
SIBLINGS_WANTED = (0.35, 0.30, 0.20, 0.15)   # 0-3 more children named on a communication, as the family allows:
                                     # CSC 004i/004: 698 rows for 425 communications
REPEAT_CONTACT_SHARE = 0.25          # about a child contacted in the last 3 weeks: CSC 004k, 587 children in 698 rows
REFERRALS_PER_MONTH = 100            # CSC 014: 577 referrals FYTD, 96 a month with the August dip (CSC 013 Sept: 77)
RE_REFERRAL_RATE = 0.18              # a closed referral is followed by another: CSC 032, 133/577 = 23% within 12 months
RE_REFERRAL_WITHIN_YEAR = 0.80       # share of those that come within 12 months of the close
REFERRALS_KEPT = 0.93                # share of drawn referrals left once chains stop at 18 or would overlap (measured)
EH_EPISODES_PER_MONTH = 140          # CSC 001: 783 early help assessments FYTD / 6
CLA_ENTRIES_PER_MONTH = 6.0          # periods of care begun outside the CP route; tuned to CSC 201's 216 at month end
SHORT_BREAK_STARTS_PER_MONTH = 0.45  # V3/V4 short-break periods, about 8 open at a month end (excluded by CSC 201)
PROFESSIONALS = {                    # staff at scale 1: (team prefix, teams, per team, job title, qualified)
    "assessment": ("Assessment Team", 3, 6, "Social Worker", True),
    "safeguarding": ("Safeguarding Team", 4, 6, "Social Worker", True),
    "looked_after": ("Looked After Team", 3, 7, "Social Worker", True),
    "managers": ("Management", 1, 10, "Team Manager", True),
    "assistants": ("Family Support Team", 1, 6, "Social Work Assistant", False),
    "leaving_care": ("Leaving Care Team", 1, 6, "Personal Adviser", False),
}

# --- Rates and timings of the journey (INDICATORS.md, September 2017 figures) ---------------------------

# Referral outcomes: assessment / straight to strategy (CSC 015: 71/77, CSC 018: 23/577) / no further
# action / transfer-in conference (about 1 in 15 ICPCs).
REFERRAL_PATHS = {"assessment": 0.902, "strategy": 0.035, "nfa": 0.052, "transfer_in": 0.011}
# Hours from referral to its completion (CSC 022: 96% within 24h; CSC 026: 0-5% over 72h).
COMPLETION_HOURS = ((0.2, 24.0, 0.955), (24.0, 72.0, 0.03), (72.0, 240.0, 0.015))
# Working days from assessment start to authorisation, as (low, high, share): CSC 098/078/058/038 give
# 33% <= 10, 43% <= 15, 64% <= 25, 94% <= 45.
ASSESSMENT_WD = ((0, 10, 0.33), (11, 15, 0.10), (16, 25, 0.21), (26, 45, 0.30), (46, 90, 0.06))
SECOND_ASSESSMENT_RATE = 0.18        # of long CIN cases: a re-assessment (CSC 035: 576 authorised FYTD)
MID_ASSESSMENT_STRATEGY = 0.40       # strategy discussions during assessment: about 40 a month (CSC 161: 239 FYTD)
STRATEGY_TO_S47 = 0.66               # CSC 165: 172 S47s started FYTD
S47_TO_ICPC = 0.53                   # CSC 173: 83 ICPCs FYTD
ICPC_IN_15_WD = 0.98                 # CSC 176: 74/75
ICPC_TO_PLAN = 0.86                  # CSC 187: 70 plans begun FYTD
# Lengths of child protection plans in days, as (low, high, share): mostly 3-18 months, a few 2 years
# or more (CSC 186; England 3.7%). About 90 open at a month end (CSC 182).
CP_PLAN_DAYS = ((20, 90, 0.20), (90, 300, 0.58), (300, 540, 0.17), (540, 730, 0.042), (730, 850, 0.008))
CP_PLAN_TO_CARE = 0.15               # plans that end with the child looked after
ON_PLAN_STRATEGY = 0.25              # plans with a later strategy discussion (those CSC 161 leaves out)
CP_REVIEW_LATE = 0.015               # CSC 191: 100% in the seed, near it here
CP_VISIT_LATE = 0.105                # visits more than 10 working days after the last: 88% in time (CSC 252a)
UNSTABLE_CARE = 0.12                 # children whose placements keep breaking down (CSC 228: 26/216 with 3+ in a year)
PLACEMENT_MEAN_DAYS = 1200           # settled placements (CSC 229: 34/61 in the same placement 2 years; CSC 228: 12%)
CLA_REVIEW_LATE = 0.012              # CSC 218: 100% in the seed
CLA_VISIT_LATE = 0.045               # CSC 260a: 196/208 in time
IHA_IN_20_WD = 0.90                  # CSC 247: 82% in June
HEALTH_CHECK_DONE = {"HEALTH": 0.85, "DENTAL": 0.70}   # CSC 250/251: 42%/34% FYTD by September
MISSING_FROM_CARE_PER_MONTH = 40     # CSC 246: 'M' episodes of looked-after children (10+), 2014-18 average;
                                     # more children of that age are in care by September 2017, when it gives ~43
MISSING_ON_PLAN_PER_MONTH = 4        # episodes of children on a CP plan, not looked after (CSC 246 leaves them out)
MISSING_AWAY_SHARE = 0.22            # 'A' (away) among missing-from-care episodes
CARE_LEAVER_SUITABLE = 0.96          # CSC 286: 46/48
CARE_LEAVER_NEET = 0.29              # CSC 294: 14/48
UNQUALIFIED_ALLOCATION = 0.004       # CSC 183/227: 100% in the seed, near it here

# Seasonality of contacts, referrals and early help by calendar month, January first (the August dip of
# CSC 004: 299 in August against 425-513).
SEASON = np.array([1.0, 1.0, 1.05, 0.95, 1.05, 1.0, 1.0, 0.78, 1.0, 1.1, 1.05, 0.9])

# --- Codes ---------------------------------------------------------------------------------------------

SOURCES = (("1A", 4), ("1B", 3), ("1C", 1), ("2A", 16), ("2B", 2), ("3A", 5), ("3B", 3), ("3C", 2),
           ("3D", 2), ("3E", 2), ("4", 3), ("5A", 5), ("5B", 3), ("5C", 2), ("5D", 4), ("6", 28), ("7", 2),
           ("8", 6), ("9", 2), ("10", 6))          # CIN census referral sources; 6 = police
NEEDS = (("N1", 50), ("N2", 4), ("N3", 4), ("N4", 10), ("N5", 16), ("N6", 3), ("N7", 1), ("N8", 4), ("N9", 8))
ETHNICITIES = (("WBRI", 860), ("WIRI", 4), ("WOTH", 22), ("MWBC", 15), ("MWBA", 8), ("MWAS", 8), ("MOTH", 10),
               ("AIND", 10), ("APKN", 14), ("ABAN", 10), ("AOTH", 6), ("BAFR", 12), ("BCRB", 4), ("BOTH", 2),
               ("CHNE", 5), ("OOTH", 6), ("REFU", 2), ("NOBT", 2))
CP_CATEGORIES = (("NEG", 48), ("EMO", 36), ("PHY", 8), ("SAB", 4), ("MUL", 4))
EH_REASONS = ("Parenting", "Domestic abuse", "School attendance", "Emotional wellbeing", "Behaviour",
              "Parental mental health", "Substance misuse", "Housing")
EH_END_REASONS = (("Outcomes achieved", 60), ("Stepped up to social care", 12), ("Family disengaged", 15),
                  ("Moved out of area", 5), ("Stepped down to universal services", 8))
CARE_START_REASON = ("S", "P")       # SSDA903 RNE: new period / change of placement
PLACE_CHANGE_REASONS = (("CARPL", 40), ("CLOSE", 8), ("ALLEG", 3), ("STAND", 10), ("CREQB", 6),
                        ("CREQO", 4), ("CHILD", 6), ("LAREQ", 8), ("PLACE", 6), ("OTHER", 9))
ACCOMMODATION_SUITABLE = ("U", "Z", "E", "D", "B", "K", "T", "C")   # SSDA903 ACCOM
ACCOMMODATION_UNSUITABLE = ("S", "W", "V", "X")
ACTIVITY_EET = (("F1", 8), ("F2", 20), ("P1", 2), ("P2", 6), ("F4", 10), ("P4", 4), ("F5", 12), ("P5", 8))
ACTIVITY_NEET = (("G4", 25), ("G5", 60), ("G6", 15))

# --- Internals -----------------------------------------------------------------------------------------

_CIN_CLOSE = ("RC8", "RC7", "RC8", "RC9", "RC3", "RC4", "RC5")   # CIN census close reasons (see _referral_stage)
_EPOCH = date(1970, 1, 1)
_DAY = 86_400                        # seconds
_FAMILY_SIZES = np.array([0.40, 0.32, 0.17, 0.08, 0.03])    # children per family: 1..5
_FAMILY_WEIGHT_SHAPE = 0.6          # gamma shape of a family's propensity to come to notice (mean 1)
_OPEN = 10**7                        # an end far beyond any date: "still open"
_TYPES = {"text": pl.String, "date": pl.Date, "timestamp": pl.Datetime("us"), "boolean": pl.Boolean,
          "integer": pl.Int64, "double": pl.Float64}


def _day(d: date) -> int:
    """Days since 1970-01-01: every date is an int64 day number inside this module."""
    return (d - _EPOCH).days


EXTRACT = _day(EXTRACT_DATE)
START = _day(HISTORY_START)


# --- Public API ----------------------------------------------------------------------------------------

def generate(scale: int = 1, seed: int = DEFAULT_SEED) -> dict[str, pl.DataFrame]:
    """Every table of schemas/extracts.yaml for the demo council, `scale` times its size; same seed, same data."""
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a whole number of at least 1, not {scale!r}")
    ctx = _Ctx(np.random.default_rng(seed), int(scale), _calendar())
    people = _people(ctx)
    staff = _professionals(ctx)
    refs = _referral_journeys(ctx, people)
    tables: dict[str, dict] = {}
    tables["ssd_contacts"], contact_numbers = _contacts(ctx, people, refs)
    tables["ssd_cin_episodes"] = _cin_episodes(ctx, refs, contact_numbers, staff)
    tables["ssd_cin_assessments"] = _assessments(ctx, refs)
    plans = _cp_plans(ctx, refs)
    tables["ssd_strategy_discussions"], tables["ssd_s47_enquiry"], s47_numbers = _strategy_and_s47(ctx, refs, plans)
    tables["ssd_initial_cp_conference"] = _icpcs(ctx, refs, plans, s47_numbers)
    tables["ssd_cp_plans"] = plans.table
    tables["ssd_cp_reviews"] = _cp_reviews(ctx, plans)
    tables["ssd_cp_visits"] = _cp_visits(ctx, plans)
    periods = _cla_periods(ctx, people, refs)
    placements = _placements(ctx, people, periods)
    tables["ssd_cla_episodes"] = _cla_episodes(ctx, periods, placements)
    tables["ssd_cla_placement"] = placements.table
    tables["ssd_legal_status"] = _legal_statuses(ctx, periods, placements)
    tables["ssd_cla_reviews"] = _cla_reviews(ctx, periods)
    tables["ssd_cla_visits"] = _cla_visits(ctx, placements)
    tables["ssd_cla_health"] = _cla_health(ctx, periods)
    tables["ssd_missing"] = _missing(ctx, people, placements, plans)
    leavers = _care_leavers(ctx, people, periods)
    tables["ssd_care_leavers"] = leavers.table
    tables["ssd_involvements"] = _involvements(ctx, plans, periods, leavers, staff)
    tables["ssd_professionals"] = staff.table
    tables["ssd_early_help_episodes"], tables["ssd_early_help_assessments"] = _early_help(ctx, people)
    tables["ssd_person"] = _persons(ctx, people)
    tables["ref_population"] = _population(ctx)
    frames = {name: _frame(name, columns) for name, columns in tables.items()}
    frames["ref_benchmarks"] = _benchmarks()
    return {name: frames[name] for name in table_schemas()}


def write_extracts(tables: dict[str, pl.DataFrame], out_dir: str | os.PathLike, fmt: str = "csv") -> list[Path]:
    """Write `<table>.csv` or `<table>.parquet` per table into out_dir; each file appears whole or not at all."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {fmt!r}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        target = folder / f"{name}.{fmt}"
        if fmt == "csv":
            write_atomically(target, lambda p, f=frame: f.write_csv(
                p, date_format="%Y-%m-%d", datetime_format="%Y-%m-%d %H:%M:%S", null_value=""))
        else:
            write_atomically(target, lambda p, f=frame: f.write_parquet(p))
        written.append(target)
    return written


@lru_cache(maxsize=1)
def table_schemas() -> dict[str, dict[str, pl.DataType]]:
    """Column names and polars types of every extract table, in schemas/extracts.yaml's order."""
    tables = table_definitions(bundled_root() / "schemas")
    return {name: {c.name: _TYPES[c.type] for c in table.columns} for name, table in tables.items()}


# --- Machinery -----------------------------------------------------------------------------------------

class _Calendar:
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
def _calendar() -> _Calendar:
    """One calendar per process: building the holiday list is the slowest step at scale 1."""
    return _Calendar()


@dataclass
class _Ctx:
    """What every stage needs: the one random generator (so one seed fixes everything), the scale, the calendar."""

    rng: np.random.Generator
    scale: int
    cal: _Calendar

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


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: each element's group and its position within the group."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - offsets[owner]


def _seg_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group (owner sorted ascending)."""
    total = np.cumsum(values)
    first = np.r_[True, owner[1:] != owner[:-1]]
    base = (total - values)[first]
    return total - base[np.cumsum(first) - 1]


def _no_overlap(person: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Keep-mask of episodes that begin after every earlier episode of the same person has ended.

    Conservative (an episode dropped for overlapping still blocks later ones) but vectorised: a running
    maximum of earlier ends per person, made per-person by offsetting each person's ends.
    """
    order = np.lexsort((start, person))
    p, s, e = person[order], start[order], np.minimum(end[order], _OPEN)
    first = np.r_[True, p[1:] != p[:-1]]
    rank = np.cumsum(first)
    shifted = np.maximum.accumulate(e + rank * (2 * _OPEN))
    previous = np.r_[-1, shifted[:-1]] - rank * (2 * _OPEN)
    keep_sorted = first | (s > previous)
    keep = np.empty(len(person), dtype=bool)
    keep[order] = keep_sorted
    return keep


def _add_years(days: np.ndarray, years) -> np.ndarray:
    """The same day and month `years` later; 29 February falls on 1 March in a common year (as age_in_years)."""
    d = np.asarray(days, dtype=np.int64).astype("M8[D]")
    month = d.astype("M8[M]")
    day_of_month = (d - month.astype("M8[D]")).astype(np.int64)
    return (month + np.asarray(years, dtype=np.int64) * 12).astype("M8[D]").astype(np.int64) + day_of_month


def _add_months(days: np.ndarray, months: int) -> np.ndarray:
    """`months` calendar months later, clamped to the month's last day (as SQL's date + INTERVAL)."""
    d = np.asarray(days, dtype=np.int64).astype("M8[D]")
    month = d.astype("M8[M]")
    day_of_month = (d - month.astype("M8[D]")).astype(np.int64)
    target = month + months
    last = (target + 1).astype("M8[D]").astype(np.int64) - 1
    return np.minimum(target.astype("M8[D]").astype(np.int64) + day_of_month, last)


def _codes(values, index: np.ndarray) -> pl.Series:
    """The code at each index: a gather on a small polars Series (faster than numpy strings at scale)."""
    return pl.Series([v[0] if isinstance(v, tuple) else v for v in values], dtype=pl.String).gather(
        np.asarray(index, dtype=np.int64))


def _weights(values) -> list[float]:
    """The weights of (code, weight) pairs."""
    return [v[1] for v in values]


def _dates(days: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Day numbers as numpy dates; NaT (null) where not valid.

    A date not yet reached at the extract date (a due date after it, an end still to come) is passed with
    valid False: the extract holds nothing dated after its own date."""
    out = np.asarray(days, dtype=np.int64).astype("M8[D]")
    if valid is not None:
        out = np.where(valid, out, np.datetime64("NaT", "D"))
    return out


def _stamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Seconds since 1970 as microsecond timestamps; NaT (null) where not valid."""
    out = (np.asarray(seconds, dtype=np.int64) * 1_000_000).astype("M8[us]")
    if valid is not None:
        out = np.where(valid, out, np.datetime64("NaT", "us"))
    return out


def _masked(series, valid: np.ndarray) -> pl.Series:
    """A series with nulls where not valid (for text, boolean and number columns)."""
    series = series if isinstance(series, pl.Series) else pl.Series(series)
    frame = pl.DataFrame({"value": series, "valid": np.asarray(valid, dtype=bool)})
    return frame.select(pl.when(pl.col("valid")).then(pl.col("value"))).to_series()


def _frame(name: str, columns: dict) -> pl.DataFrame:
    """A table in its schema's column order and types; columns not generated are null."""
    schema = table_schemas()[name]
    unknown = set(columns) - set(schema)
    if unknown:
        raise KeyError(f"{name}: columns not in schemas/extracts.yaml: {sorted(unknown)}")
    height = len(next(iter(columns.values())))
    series = []
    for column, dtype in schema.items():
        values = columns.get(column)
        if values is None:
            series.append(pl.Series(column, [None] * height, dtype=dtype))
        else:
            s = values if isinstance(values, pl.Series) else pl.Series(values)
            series.append(s.alias(column).cast(dtype))
    return pl.DataFrame(series)


# --- People --------------------------------------------------------------------------------------------

@dataclass
class _People:
    """Everyone in ssd_person, families contiguous: dates of birth, 18th birthdays, family propensity."""

    dob: np.ndarray
    adult: np.ndarray          # 18th birthday: a child until the day before
    family_first: np.ndarray   # index of the first person of each person's family
    family_size: np.ndarray
    weight: np.ndarray         # the family's propensity to come to notice (mean about 1)
    sex: np.ndarray
    ethnicity: np.ndarray


class _Pool:
    """Persons to draw children from, sorted by date of birth so that those aged 0-17 on a day are a range."""

    def __init__(self, ctx: _Ctx, people: _People, members: np.ndarray, weights: np.ndarray) -> None:
        order = np.argsort(people.dob[members], kind="stable")
        self.ctx = ctx
        self.members = members[order]
        self.dob = people.dob[self.members]
        self.adult = people.adult[self.members]   # non-decreasing with dob, so searchsorted works on it too
        self.cum = np.r_[0.0, np.cumsum(weights[order])]

    def sample(self, days: np.ndarray) -> np.ndarray:
        """A child aged 0-17 on each day, in proportion to weight; -1 when there is none."""
        lo = np.searchsorted(self.adult, days, side="right")
        hi = np.searchsorted(self.dob, days, side="right")
        u = self.cum[lo] + self.ctx.rng.random(len(days)) * (self.cum[hi] - self.cum[lo])
        k = np.clip(np.searchsorted(self.cum, u, side="right") - 1, lo, np.maximum(hi - 1, lo))
        found = (hi > lo) & (k < len(self.members))
        return np.where(found, self.members[np.minimum(k, len(self.members) - 1)], -1)

    def aged(self, days: np.ndarray, age_days: np.ndarray) -> np.ndarray:
        """A child born about `age_days` before each day (up to 60 days earlier); -1 when none is 0-17 then."""
        lo = np.searchsorted(self.dob, days - age_days - 60)
        hi = np.searchsorted(self.dob, days - age_days, side="right")
        k = lo + np.floor(self.ctx.rng.random(len(days)) * (hi - lo)).astype(np.int64)
        k = np.clip(k, 0, len(self.members) - 1)
        ok = (self.dob[k] <= days) & (self.adult[k] > days)
        return np.where(ok, self.members[k], -1)


def _people(ctx: _Ctx) -> _People:
    """Families of 1-5 children born 1984-2018, as many as give ~22,627 × scale aged 0-17 in September 2017."""
    rng = ctx.rng
    span = EXTRACT - _day(_FAMILY_START)
    mean_size = float(np.dot(_FAMILY_SIZES, np.arange(1, 6)))
    n_families = round(CHILDREN_0_17 * ctx.scale / (18 * 365.25) * span / mean_size)
    size = ctx.pick(_FAMILY_SIZES, n_families) + 1
    first_birth = _day(_FAMILY_START) + rng.integers(0, span, n_families)
    owner, order = _expand(size)
    gaps = np.where(order == 0, 0, (365.25 * (1.0 + rng.gamma(2.0, 0.6, len(owner)))).astype(np.int64))
    dob = first_birth[owner] + _seg_cumsum(gaps, owner)
    keep = (dob >= _day(_OLDEST_DOB)) & (dob <= EXTRACT)
    dob, family = dob[keep], owner[keep]
    _, first_index, counts = np.unique(family, return_index=True, return_counts=True)
    weight = rng.gamma(_FAMILY_WEIGHT_SHAPE, 1 / _FAMILY_WEIGHT_SHAPE, n_families)[family]
    return _People(
        dob=dob,
        adult=_add_years(dob, 18),
        family_first=np.repeat(first_index, counts),
        family_size=np.repeat(counts, counts),
        weight=weight,
        sex=np.where(rng.random(len(dob)) < 0.51, 1, 2),
        ethnicity=ctx.pick(_weights(ETHNICITIES), len(dob)),
    )


def _persons(ctx: _Ctx, people: _People) -> dict:
    """ssd_person: everyone, children and the young adults who were children during the extract's years."""
    n = len(people.dob)
    return {
        "pers_person_id": ctx.ids("P", np.arange(1, n + 1)),
        "pers_sex": _codes(("M", "F"), people.sex - 1),
        "pers_ethnicity": _codes(ETHNICITIES, people.ethnicity),
        "pers_dob": _dates(people.dob),
    }


def _population(ctx: _Ctx) -> dict:
    """ref_population: the 0-17 mid-year estimates, 2013-2018."""
    years = sorted(POPULATION_BY_YEAR)
    return {
        "year": np.array(years, dtype=np.int64),
        "age_band": ["0-17"] * len(years),
        "population": np.array([POPULATION_BY_YEAR[y] * ctx.scale for y in years], dtype=np.int64),
    }


def _benchmarks() -> pl.DataFrame:
    """ref_benchmarks: the seed's England, North East and statistical-neighbour values (package data)."""
    data = (resources.files(__package__) / "data" / "demo_benchmarks.csv").read_bytes()
    frame = pl.read_csv(io.BytesIO(data), schema_overrides={"indicator_id": pl.String, "value": pl.Float64})
    return frame.select([pl.col(c).cast(t) for c, t in table_schemas()["ref_benchmarks"].items()])


# --- Staff ---------------------------------------------------------------------------------------------

@dataclass
class _Staff:
    """ssd_professionals, each role's range of worker indexes (for allocating them), and their teams."""

    table: dict
    ranges: dict[str, tuple[int, int]]
    team: np.ndarray           # index into team_names per worker
    team_names: tuple[str, ...]


def _professionals(ctx: _Ctx) -> _Staff:
    """Social workers in assessment, safeguarding and looked-after teams; managers, assistants, personal advisers."""
    rng = ctx.rng
    team_names, team_sizes, titles, qualified, ranges, first = [], [], [], [], {}, 0
    for role, (team_name, n_teams, per_team, title, is_qualified) in PROFESSIONALS.items():
        for t in range(n_teams):
            team_names.append(f"{team_name} {t + 1}" if n_teams > 1 else team_name)
            team_sizes.append(per_team * ctx.scale)
            titles.append(title)
            qualified.append(is_qualified)
        ranges[role] = (first, first + n_teams * per_team * ctx.scale)
        first = ranges[role][1]
    team = np.repeat(np.arange(len(team_names)), team_sizes)
    n = len(team)
    is_qualified = np.array(qualified)[team]
    title_names = sorted(set(titles)) + ["Senior Social Worker", "Advanced Practitioner"]
    title = np.array([title_names.index(t) for t in titles])[team]
    # Some social workers are seniors or advanced practitioners: same qualification, other titles.
    grade = rng.random(n)
    social_worker = title == title_names.index("Social Worker")
    title = np.where(social_worker & (grade < 0.25), len(title_names) - 2, title)
    title = np.where(social_worker & (grade >= 0.25) & (grade < 0.35), len(title_names) - 1, title)
    registration = pl.Series(10_000 + rng.choice(90_000 * ctx.scale, n, replace=False)).cast(pl.String)
    table = {
        "prof_professional_id": ctx.ids("W", np.arange(1, n + 1)),
        "prof_social_worker_registration_no": _masked("SW" + registration, is_qualified),
        "prof_professional_job_title": _codes(title_names, title),
        "prof_is_qualified_sw": is_qualified,
    }
    return _Staff(table=table, ranges=ranges, team=team, team_names=tuple(team_names))


def _workers(ctx: _Ctx, staff: _Staff, role: str, n: int) -> np.ndarray:
    """n workers of a role, at random; a few allocations go to an unqualified assistant (a real extract's flaw)."""
    lo, hi = staff.ranges[role]
    chosen = ctx.rng.integers(lo, hi, n)
    if role in ("safeguarding", "looked_after"):
        a_lo, a_hi = staff.ranges["assistants"]
        stray = ctx.rng.random(n) < UNQUALIFIED_ALLOCATION
        chosen = np.where(stray, ctx.rng.integers(a_lo, a_hi, n), chosen)
    return chosen


# --- Referral journeys ---------------------------------------------------------------------------------

def _referral_journeys(ctx: _Ctx, people: _People) -> dict[str, np.ndarray]:
    """Every referral and what followed it, one array per attribute (one element per referral).

    First referrals arrive from April 2012; each closed referral may be followed by a re-referral of the
    same child. A loop over generations (not over children) builds the chains; referrals of a child that
    would overlap an earlier one are then dropped, and only those still open in April 2014 or later kept.
    """
    pool = _Pool(ctx, people, np.arange(len(people.dob)), people.weight)
    first_per_month = REFERRALS_PER_MONTH * (1 - RE_REFERRAL_RATE) / REFERRALS_KEPT
    days = ctx.monthly_days(_CIN_SIM_START, first_per_month)
    person = pool.sample(days)
    found = person >= 0
    person, seconds = person[found], days[found] * _DAY + ctx.times(int(found.sum()))
    parts = []
    for generation in range(12):
        if len(person) == 0:
            break
        part = _referral_stage(ctx, people, person, seconds)
        part["generation"] = np.full(len(person), generation)
        parts.append(part)
        person, seconds = _re_referrals(ctx, people, part)
    refs = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    keep = _no_overlap(refs["person"], refs["day"], refs["close"])
    keep &= refs["close"] >= START
    order = np.argsort(refs["seconds"][keep], kind="stable")
    return {key: value[keep][order] for key, value in refs.items()}


def _referral_stage(ctx: _Ctx, people: _People, person: np.ndarray, seconds: np.ndarray) -> dict[str, np.ndarray]:
    """One generation of referrals: outcome, assessment, strategy, S47, ICPC, plan, care, and the close date."""
    rng, cal, n = ctx.rng, ctx.cal, len(person)
    day = seconds // _DAY
    adult = people.adult[person]
    contact_seconds = seconds - rng.integers(5, 240, n) * 60      # the contact came in shortly before
    hours = ctx.banded([(int(lo * 60), int(hi * 60), p) for lo, hi, p in COMPLETION_HOURS], n)
    completed = seconds + hours * 60
    path = ctx.pick(list(REFERRAL_PATHS.values()), n)             # 0 assessment, 1 strategy, 2 nfa, 3 transfer-in
    assessed, straight, nfa, transfer = path == 0, path == 1, path == 2, path == 3

    # Work starts once the referral is completed: a strategy discussion straight away, or an assessment
    # (with, for some, a strategy discussion during it).
    decided = completed // _DAY
    assess_start = cal.add(decided, rng.integers(0, 4, n))
    wd = ctx.banded(ASSESSMENT_WD, n)
    mid = assessed & (rng.random(n) < MID_ASSESSMENT_STRATEGY)
    strategy_day = np.where(straight, cal.add(decided, rng.integers(0, 2, n)),
                            cal.add(assess_start, np.floor(rng.random(n) * np.clip(wd, 0, 10)).astype(np.int64)))
    has_strategy = straight | mid
    assess_start = np.where(straight, strategy_day, assess_start)  # the assessment runs alongside the S47
    has_assessment = ~nfa
    assess_auth = cal.add(assess_start, wd)

    has_s47 = has_strategy & (rng.random(n) < STRATEGY_TO_S47)
    to_icpc = has_s47 & (rng.random(n) < S47_TO_ICPC)
    icpc_wd = np.where(rng.random(n) < ICPC_IN_15_WD, rng.integers(4, 16, n), rng.integers(16, 26, n))
    icpc_day = np.where(transfer, cal.add(day, rng.integers(3, 16, n)), cal.add(strategy_day, icpc_wd))
    icpc_target = np.where(transfer, cal.add(day, 15), cal.add(strategy_day, 15))
    s47_end = np.where(to_icpc, np.maximum(strategy_day, icpc_day - rng.integers(0, 3, n)),
                       cal.add(strategy_day, rng.integers(3, 31, n)))
    has_icpc = to_icpc | transfer
    has_plan = has_icpc & (rng.random(n) < np.where(transfer, 0.97, ICPC_TO_PLAN)) & (icpc_day < adult)
    plan_end = np.minimum(icpc_day + ctx.banded(CP_PLAN_DAYS, n), adult)
    age_at_end = (plan_end - people.dob[person]) / 365.25
    to_care = has_plan & (rng.random(n) < CP_PLAN_TO_CARE) & (age_at_end < 17) & (plan_end <= EXTRACT)
    care_kind, care_end = _care_paths(ctx, people, person, plan_end)

    # The CIN episode closes after its last piece of work (while a child is looked after it stays open).
    long_cin = rng.random(n) >= 0.55
    close = np.where(nfa, day + rng.integers(0, 3, n),
                     assess_auth + np.where(long_cin, rng.integers(30, 366, n), rng.integers(0, 15, n)))
    close = np.where(has_s47, np.maximum(close, s47_end + rng.integers(0, 61, n)), close)
    close = np.where(has_icpc, np.maximum(close, icpc_day + rng.integers(7, 121, n)), close)
    close = np.where(has_plan, np.maximum(close, plan_end + rng.integers(0, 91, n)), close)
    second = assessed & long_cin & ~has_icpc & (close - assess_auth > 120) & (rng.random(n) < SECOND_ASSESSMENT_RATE)
    room = np.maximum(close - assess_auth - 110, 1)
    second_start = assess_auth + 30 + np.floor(rng.random(n) * room).astype(np.int64)
    second_auth = cal.add(second_start, ctx.banded(ASSESSMENT_WD, n))
    close = np.where(second, np.maximum(close, second_auth + rng.integers(0, 15, n)), close)
    last_work = np.maximum.reduce([np.where(nfa, day, assess_auth), np.where(second, second_auth, day),
                                   np.where(has_s47, s47_end, day), np.where(has_icpc, icpc_day, day),
                                   np.where(has_plan, plan_end, day)])
    close = np.maximum(np.minimum(close, adult), last_work)   # CIN cases close at 18, once work is done
    close = np.where(to_care, care_end, close)
    # CIN census close reasons, by index into _CIN_CLOSE: NFA, ceased, after assessment, EH, orders, moved.
    close_reason = np.where(nfa, 0, np.where(to_care, 1, 1 + ctx.pick([55, 20, 12, 4, 4, 5], n)))
    return {
        "person": person, "seconds": seconds, "day": day, "contact_seconds": contact_seconds,
        "completed": completed, "path": path, "has_assessment": has_assessment,
        "assess_start": assess_start, "assess_auth": assess_auth,
        "second": second, "second_start": second_start, "second_auth": second_auth,
        "has_strategy": has_strategy, "strategy_day": strategy_day, "has_s47": has_s47, "s47_end": s47_end,
        "s47_nfa": has_s47 & ~to_icpc & (rng.random(n) < 0.6),
        "has_icpc": has_icpc, "transfer": transfer, "icpc_day": icpc_day, "icpc_target": icpc_target,
        "has_plan": has_plan, "plan_end": plan_end, "to_care": to_care, "care_kind": care_kind,
        "close": close, "close_reason": close_reason,
        "source": ctx.pick(_weights(SOURCES), n), "need": ctx.pick(_weights(NEEDS), n),
    }


def _re_referrals(ctx: _Ctx, people: _People, part: dict) -> tuple[np.ndarray, np.ndarray]:
    """The next generation: some closed referrals are followed by another for the same child."""
    rng, n = ctx.rng, len(part["person"])
    again = (part["close"] <= EXTRACT) & ~part["to_care"] & (rng.random(n) < RE_REFERRAL_RATE)
    gap = np.where(rng.random(n) < RE_REFERRAL_WITHIN_YEAR, rng.integers(1, 366, n), rng.integers(366, 1100, n))
    day = ctx.cal.next_working(part["close"] + gap)
    again &= (day <= EXTRACT) & (day < people.adult[part["person"]])
    seconds = day[again] * _DAY + ctx.times(int(again.sum()))
    return part["person"][again], seconds


# --- Contacts and CIN episodes -------------------------------------------------------------------------

def _contacts(ctx: _Ctx, people: _People, refs: dict) -> tuple[dict, np.ndarray]:
    """ssd_contacts: one row per child per communication, and the contact id number of each referral.

    A referral's communication names the referred child first. Communications that led to no referral
    arrive from April 2014, some about a child contacted shortly before; siblings (members of the same
    family aged 0-17 that day) are added to some communications.
    """
    rng = ctx.rng
    pool = _Pool(ctx, people, np.arange(len(people.dob)), people.weight)
    other_days = ctx.monthly_days(HISTORY_START, COMMUNICATIONS_PER_MONTH - REFERRALS_PER_MONTH)
    other_child = pool.sample(other_days)
    found = other_child >= 0
    other_seconds = other_days[found] * _DAY + ctx.times(int(found.sum()))
    n_ref = len(refs["person"])
    anchor = np.r_[refs["person"], other_child[found]]
    comm_seconds = np.r_[refs["contact_seconds"], other_seconds]
    n_comm = len(anchor)
    source = np.r_[refs["source"], ctx.pick(_weights(SOURCES), n_comm - n_ref)]

    # Some communications are about a child contacted in the three weeks before (a repeat contact).
    by_time = np.argsort(comm_seconds, kind="stable")
    sorted_seconds = comm_seconds[by_time]
    lo = np.searchsorted(sorted_seconds, comm_seconds - 21 * _DAY)
    hi = np.searchsorted(sorted_seconds, comm_seconds)
    earlier = anchor[by_time][np.minimum(lo + np.floor(rng.random(n_comm) * (hi - lo)).astype(np.int64), n_comm - 1)]
    repeat = (np.arange(n_comm) >= n_ref) & (hi > lo) & (rng.random(n_comm) < REPEAT_CONTACT_SHARE)
    repeat &= people.adult[earlier] > comm_seconds // _DAY
    anchor = np.where(repeat, earlier, anchor)

    # Siblings: expand each communication over its family, keep members aged 0-17 that day, up to `wanted`.
    wanted = ctx.pick(SIBLINGS_WANTED, n_comm)
    size = np.where(wanted > 0, people.family_size[anchor], 0)
    comm, position = _expand(size)
    member = people.family_first[anchor[comm]] + position
    day = comm_seconds[comm] // _DAY
    eligible = (member != anchor[comm]) & (people.dob[member] <= day) & (people.adult[member] > day)
    comm, member = comm[eligible], member[eligible]
    _, rank = _expand(np.bincount(comm, minlength=n_comm))
    chosen = rank < wanted[comm]
    comm, member = comm[chosen], member[chosen]

    row_comm = np.r_[np.arange(n_comm), comm]
    row_person = np.r_[anchor, member]
    referred = np.r_[np.arange(n_comm) < n_ref, np.zeros(len(comm), dtype=bool)]
    row_seconds = comm_seconds[row_comm]
    order = np.lexsort((~referred, row_comm, row_seconds))
    comm_number = np.empty(n_comm, dtype=np.int64)
    comm_number[np.argsort(comm_seconds, kind="stable")] = np.arange(1, n_comm + 1)
    row_number = np.empty(len(order), dtype=np.int64)
    row_number[order] = np.arange(1, len(order) + 1)
    table = {
        "cont_contact_id": ctx.ids("C", row_number[order]),
        "cont_person_id": ctx.ids("P", row_person[order] + 1),
        "cont_contact_date": _stamps(row_seconds[order]),
        "cont_contact_source_code": _codes(SOURCES, source[row_comm[order]]),
        "cont_communication_id": ctx.ids("M", comm_number[row_comm[order]]),
        "cont_outcome_new_referral": referred[order],
    }
    return table, row_number[:n_ref]                   # a referral's own row is among the first n_ref


def _cin_episodes(ctx: _Ctx, refs: dict, contact_numbers: np.ndarray, staff: _Staff) -> dict:
    """ssd_cin_episodes: each referral with its contact, completion, outcome flags and close."""
    n = len(refs["person"])
    completed = refs["completed"] <= (EXTRACT + 1) * _DAY - 1
    closed = refs["close"] <= EXTRACT
    path = refs["path"]
    worker = ctx.rng.integers(*staff.ranges["assessment"], n)
    return {
        "cine_referral_id": ctx.ids("R", np.arange(1, n + 1)),
        "cine_person_id": ctx.ids("P", refs["person"] + 1),
        "cine_referral_date": _stamps(refs["seconds"]),
        "cine_referral_source_code": _codes(SOURCES, refs["source"]),
        "cine_cin_primary_need_code": _codes(NEEDS, refs["need"]),
        "cine_referral_nfa": _masked(pl.Series(path == 2), completed),
        "cine_close_date": _dates(refs["close"], closed),
        "cine_close_reason": _masked(_codes(_CIN_CLOSE, refs["close_reason"]), closed),
        "cine_referral_team": _codes(staff.team_names, staff.team[worker]),
        "cine_referral_worker_id": ctx.ids("W", worker + 1),
        "cine_contact_id": ctx.ids("C", contact_numbers),
        "cine_referral_completed_datetime": _stamps(refs["completed"], completed),
        "cine_outcome_assessment": _masked(pl.Series((path == 0) | (path == 3)), completed),
        "cine_outcome_strategy": _masked(pl.Series(path == 1), completed),
    }


def _assessments(ctx: _Ctx, refs: dict) -> dict:
    """ssd_cin_assessments: the referral's assessment, and a re-assessment for some long CIN cases."""
    index = np.arange(len(refs["person"]))
    first = refs["has_assessment"] & (refs["assess_start"] <= EXTRACT)
    second = refs["second"] & (refs["second_start"] <= EXTRACT)
    ref = np.r_[index[first], index[second]]
    start = np.r_[refs["assess_start"][first], refs["second_start"][second]]
    auth = np.r_[refs["assess_auth"][first], refs["second_auth"][second]]
    order = np.lexsort((ref, start))
    ref, start, auth = ref[order], start[order], auth[order]
    done = auth <= EXTRACT
    seen = ctx.rng.random(len(ref)) >= 0.03          # a few assessments record the child as not seen
    outcome_nfa = ~refs["has_s47"][ref] & (refs["close"][ref] - auth < 30)
    return {
        "cina_assessment_id": ctx.ids("A", np.arange(1, len(ref) + 1)),
        "cina_person_id": ctx.ids("P", refs["person"][ref] + 1),
        "cina_referral_id": ctx.ids("R", ref + 1),
        "cina_assessment_start_date": _dates(start),
        "cina_assessment_auth_date": _dates(auth, done),
        "cina_assessment_child_seen": _masked(pl.Series(seen), done),
        "cina_assessment_outcome_nfa": _masked(pl.Series(outcome_nfa), done),
    }


# --- Child protection ----------------------------------------------------------------------------------

@dataclass
class _Plans:
    """Child protection plans: ssd_cp_plans, and the arrays later stages build on."""

    table: dict
    ref: np.ndarray            # index of the referral the plan belongs to
    person: np.ndarray
    start: np.ndarray
    end: np.ndarray            # _OPEN when still open at the extract date
    number: np.ndarray         # the plan's id number


def _cp_plans(ctx: _Ctx, refs: dict) -> _Plans:
    """ssd_cp_plans: one per ICPC that decided on a plan."""
    ref = np.flatnonzero(refs["has_plan"] & (refs["icpc_day"] <= EXTRACT))
    start = refs["icpc_day"][ref]
    end = np.where(refs["plan_end"][ref] <= EXTRACT, refs["plan_end"][ref], _OPEN)
    order = np.lexsort((ref, start))
    ref, start, end = ref[order], start[order], end[order]
    n = len(ref)
    number = np.arange(1, n + 1)
    icpc_number = _icpc_numbers(refs)[ref]
    table = {
        "cppl_cp_plan_id": ctx.ids("CP", number),
        "cppl_person_id": ctx.ids("P", refs["person"][ref] + 1),
        "cppl_icpc_id": ctx.ids("IC", icpc_number),
        "cppl_cp_plan_start_date": _dates(start),
        "cppl_cp_plan_end_date": _dates(end, end != _OPEN),
        "cppl_cp_plan_initial_category": _codes(CP_CATEGORIES, ctx.pick(_weights(CP_CATEGORIES), n)),
        "cppl_cp_plan_ola": ctx.rng.random(n) < 0.02,
    }
    return _Plans(table=table, ref=ref, person=refs["person"][ref], start=start, end=end, number=number)


def _icpc_numbers(refs: dict) -> np.ndarray:
    """The id number of each referral's ICPC (in date order), 0 where it has none."""
    held = refs["has_icpc"] & (refs["icpc_day"] <= EXTRACT)
    index = np.flatnonzero(held)
    order = index[np.lexsort((index, refs["icpc_day"][index]))]
    numbers = np.zeros(len(held), dtype=np.int64)
    numbers[order] = np.arange(1, len(order) + 1)
    return numbers


def _strategy_and_s47(ctx: _Ctx, refs: dict, plans: _Plans) -> tuple[dict, dict, np.ndarray]:
    """ssd_strategy_discussions and ssd_s47_enquiry (from referrals, and some for children already on a
    plan), and the id number of the S47 that each referral led to (0 for none)."""
    rng = ctx.rng
    from_ref = np.flatnonzero(refs["has_strategy"] & (refs["strategy_day"] <= EXTRACT))
    # A new concern while a plan is open: a strategy discussion, sometimes an S47, no new conference.
    length = np.minimum(plans.end, EXTRACT) - plans.start
    during = (rng.random(len(plans.ref)) < ON_PLAN_STRATEGY) & (length > 20)
    on_plan_day = plans.start + 10 + np.floor(rng.random(len(plans.ref)) * np.maximum(length - 20, 1)).astype(np.int64)
    on_plan_day = ctx.cal.next_working(on_plan_day)
    during &= on_plan_day < np.minimum(plans.end, EXTRACT + 1)
    ref = np.r_[from_ref, plans.ref[during]]
    day = np.r_[refs["strategy_day"][from_ref], on_plan_day[during]]
    s47 = np.r_[refs["has_s47"][from_ref], rng.random(int(during.sum())) < 0.55]
    s47_end = np.r_[refs["s47_end"][from_ref], ctx.cal.add(on_plan_day[during], rng.integers(3, 21, int(during.sum())))]
    nfa = np.r_[refs["s47_nfa"][from_ref], rng.random(int(during.sum())) < 0.7]
    is_referral_s47 = np.r_[np.ones(len(from_ref), bool), np.zeros(int(during.sum()), bool)]
    order = np.lexsort((ref, day))
    ref, day, s47, s47_end, nfa, is_referral_s47 = (a[order] for a in (ref, day, s47, s47_end, nfa, is_referral_s47))
    n = len(ref)
    strategy = {
        "strd_strategy_id": ctx.ids("SD", np.arange(1, n + 1)),
        "strd_person_id": ctx.ids("P", refs["person"][ref] + 1),
        "strd_referral_id": ctx.ids("R", ref + 1),
        "strd_strategy_date": _dates(day),
        "strd_outcome_s47": s47,
    }
    k = np.flatnonzero(s47)
    ended = s47_end[k] <= EXTRACT
    # The S47 that led to each referral's ICPC gets a known number, for icpc_s47_enquiry_id.
    s47_numbers = np.zeros(len(refs["person"]), dtype=np.int64)
    s47_numbers[ref[k[is_referral_s47[k]]]] = np.flatnonzero(is_referral_s47[k]) + 1
    enquiry = {
        "s47e_s47_enquiry_id": ctx.ids("S", np.arange(1, len(k) + 1)),
        "s47e_person_id": ctx.ids("P", refs["person"][ref[k]] + 1),
        "s47e_referral_id": ctx.ids("R", ref[k] + 1),
        "s47e_strategy_id": ctx.ids("SD", k + 1),
        "s47e_s47_start_date": _dates(day[k]),
        "s47e_s47_end_date": _dates(s47_end[k], ended),
        "s47e_s47_nfa": _masked(pl.Series(nfa[k]), ended),
    }
    return strategy, enquiry, s47_numbers


def _icpcs(ctx: _Ctx, refs: dict, plans: _Plans, s47_numbers: np.ndarray) -> dict:
    """ssd_initial_cp_conference: target 15 working days after the S47 began; transfer-ins have no S47."""
    numbers = _icpc_numbers(refs)
    ref = np.flatnonzero(numbers)
    ref = ref[np.argsort(numbers[ref])]
    plan_number = np.zeros(len(refs["person"]), dtype=np.int64)
    plan_number[plans.ref] = plans.number
    has_plan = plan_number[ref] > 0
    has_s47 = ~refs["transfer"][ref]
    return {
        "icpc_icpc_id": ctx.ids("IC", numbers[ref]),
        "icpc_person_id": ctx.ids("P", refs["person"][ref] + 1),
        "icpc_s47_enquiry_id": _masked(ctx.ids("S", np.maximum(s47_numbers[ref], 1)), has_s47),
        "icpc_icpc_transfer_in": refs["transfer"][ref],
        "icpc_icpc_target_date": _dates(refs["icpc_target"][ref], refs["icpc_target"][ref] <= EXTRACT),
        "icpc_icpc_date": _dates(refs["icpc_day"][ref]),
        "icpc_icpc_outcome_cp_flag": has_plan,
        "icpc_cp_plan_id": _masked(ctx.ids("CP", np.maximum(plan_number[ref], 1)), has_plan),
    }


def _chain(start: np.ndarray, end: np.ndarray, gap, min_gap: int, extra: int = 2):
    """Events chained from each owner's start (event k = event k-1 + a drawn gap) up to its end (exclusive).

    gap(owner, position) draws the gaps of a batch of slots. Each owner gets length // min_gap + extra
    slots, enough when every gap after the first `extra - 1` is at least min_gap; slots past the end are
    cut. Returns the owner, day, previous event's day (or the start) and position of each event.
    """
    length = np.maximum(end - start, 0)
    owner, position = _expand(length // min_gap + extra)
    gaps = gap(owner, position)
    day = start[owner] + _seg_cumsum(gaps, owner)
    keep = day < end[owner]
    return owner[keep], day[keep], (day - gaps)[keep], position[keep]


def _cp_reviews(ctx: _Ctx, plans: _Plans) -> dict:
    """ssd_cp_reviews: first within 3 months of the plan's start, then every 6 months; a few late."""
    rng = ctx.rng

    def gap(owner, position):
        k = len(owner)
        late = rng.random(k) < CP_REVIEW_LATE
        first = np.where(late, rng.integers(93, 115, k), rng.integers(50, 89, k))
        later = np.where(late, rng.integers(185, 215, k), rng.integers(140, 180, k))
        return np.where(position == 0, first, later)

    owner, day, previous, position = _chain(plans.start, np.minimum(plans.end, EXTRACT + 1), gap, 140)
    due = np.where(position == 0, _add_months(previous, 3), _add_months(previous, 6))
    keep = day >= START
    owner, day, due = owner[keep], day[keep], due[keep]
    return {
        "cppr_cp_review_id": ctx.ids("CR", np.arange(1, len(owner) + 1)),
        "cppr_person_id": ctx.ids("P", plans.person[owner] + 1),
        "cppr_cp_plan_id": ctx.ids("CP", plans.number[owner]),
        "cppr_cp_review_due": _dates(due, due <= EXTRACT),
        "cppr_cp_review_date": _dates(day),
    }


def _cp_visits(ctx: _Ctx, plans: _Plans) -> dict:
    """ssd_cp_visits: every 10 working days or sooner, about one in ten late."""
    rng, cal = ctx.rng, ctx.cal
    n = len(plans.ref)
    # Plans open before the history starts chain from a notional visit just before it (not in the extract).
    origin = np.where(plans.start >= START, plans.start, cal.add(START - 15, rng.integers(0, 10, n)))
    # Chained in working-day numbers (working days since the last day of 1999), then turned into dates.
    origin_wd = cal.count(np.full(n, _day(date(1999, 12, 31))), origin)
    end_wd = cal.count(np.full(n, _day(date(1999, 12, 31))), np.minimum(plans.end, EXTRACT + 1))

    def gap(owner, position):
        late = rng.random(len(owner)) < CP_VISIT_LATE
        return np.where(late, rng.integers(11, 21, len(owner)), rng.integers(6, 11, len(owner)))

    owner, wd_index, _, _ = _chain(origin_wd, end_wd, gap, 6)
    day = cal.add(np.full(len(owner), _day(date(1999, 12, 31))), wd_index)
    keep = (day >= START) & (day >= plans.start[owner]) & (day < np.minimum(plans.end, EXTRACT + 1)[owner])
    owner, day = owner[keep], day[keep]
    return {
        "cppv_cp_visit_id": ctx.ids("CV", np.arange(1, len(owner) + 1)),
        "cppv_person_id": ctx.ids("P", plans.person[owner] + 1),
        "cppv_cp_plan_id": ctx.ids("CP", plans.number[owner]),
        "cppv_cp_visit_date": _dates(day),
        "cppv_cp_visit_seen": rng.random(len(owner)) < 0.96,
    }


# --- Children looked after -----------------------------------------------------------------------------

# Kinds of period of care: how it ends.
_HOME, _ADOPTED, _ORDER, _LONG, _SHORT_BREAK = 0, 1, 2, 3, 4


def _care_paths(ctx: _Ctx, people: _People, person: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How each period of care ends, by age at entry, and when (at 18 at the latest)."""
    rng, n = ctx.rng, len(person)
    age = (entry - people.dob[person]) / 365.25
    u = rng.random(n)
    kind = np.select(
        [age < 5, age < 13],
        [np.select([u < 0.30, u < 0.63, u < 0.88], [_ADOPTED, _HOME, _ORDER], _LONG),
         np.select([u < 0.50, u < 0.70], [_HOME, _ORDER], _LONG)],
        np.where(u < 0.60, _HOME, _LONG),
    )
    length = np.select(
        [kind == _HOME, kind == _ADOPTED, kind == _ORDER],
        [np.minimum(1 + rng.exponential(150, n), 900).astype(np.int64), rng.integers(420, 900, n),
         rng.integers(250, 1100, n)],
        _OPEN,
    )
    end = np.minimum(entry + length, people.adult[person])
    return kind, end


@dataclass
class _Periods:
    """Periods of care (ssd_cla_episodes' clae_cla_id): child, entry, end (_OPEN if open), how it ends."""

    person: np.ndarray
    start: np.ndarray
    end: np.ndarray
    kind: np.ndarray
    reason: np.ndarray        # SSDA903 reason the period ended (index into _CEASED)
    number: np.ndarray
    leavers: tuple[np.ndarray, np.ndarray, np.ndarray]   # (person, entry, leaving day) of all who left at 16+


# SSDA903 reasons a period of care ceased: home (E4A, E4B), adopted (E11, E12), special guardianship or
# child arrangements order (E45, E41), at 18 (E5, E6, E17, E7), other (E8).
_CEASED = ("E4A", "E4B", "E11", "E12", "E45", "E41", "E5", "E6", "E17", "E7", "E8")


def _cla_periods(ctx: _Ctx, people: _People, refs: dict) -> _Periods:
    """Periods of care: those that followed a CP plan, others begun from 2000 (children never referred in
    the extract's years) and short-break agreements; kept when open on or after April 2014."""
    rng = ctx.rng
    never_referred = np.ones(len(people.dob), dtype=bool)
    never_referred[refs["person"]] = False
    pool = _Pool(ctx, people, np.flatnonzero(never_referred), np.ones(int(never_referred.sum())))

    # From the CP route: entry on the day the plan ended (already drawn with the referral).
    chained = refs["to_care"]
    c_person, c_start = refs["person"][chained], refs["plan_end"][chained]
    c_kind = refs["care_kind"][chained]
    c_end = refs["close"][chained]

    # Other entries: age at entry as in the DfE's figures (a fifth under one, a third 10-15).
    days = ctx.monthly_days(_CLA_SIM_START, CLA_ENTRIES_PER_MONTH, seasonal=False, working_share=0.8)
    age_band = ctx.pick([20, 14, 19, 37, 10], len(days))
    low = np.array([0, 1, 5, 10, 16]) * 365
    high = np.array([1, 5, 10, 16, 17.6]) * 365
    age = (low[age_band] + rng.random(len(days)) * (high[age_band] - low[age_band])).astype(np.int64)
    o_person = pool.aged(days, age)
    found = o_person >= 0
    o_person, o_start = o_person[found], days[found]
    o_kind, o_end = _care_paths(ctx, people, o_person, o_start)

    # Short breaks for disabled children: agreements of months (V3/V4), counted apart by the indicators.
    s_days = ctx.monthly_days(date(2008, 4, 1), SHORT_BREAK_STARTS_PER_MONTH, seasonal=False)
    s_person = pool.aged(s_days, rng.integers(5 * 365, 15 * 365, len(s_days)))
    found = s_person >= 0
    s_person, s_start = s_person[found], s_days[found]
    s_end = np.minimum(s_start + rng.integers(120, 720, len(s_start)), people.adult[s_person])
    s_kind = np.full(len(s_person), _SHORT_BREAK)

    person = np.r_[c_person, o_person, s_person]
    start = np.r_[c_start, o_start, s_start]
    end = np.r_[c_end, o_end, s_end]
    kind = np.r_[c_kind, o_kind, s_kind]
    keep = _no_overlap(person, start, end) & (start <= EXTRACT)
    person, start, end, kind = person[keep], start[keep], end[keep], kind[keep]
    # Care leavers come from every period that ended at 16 or later, including those before the history.
    at_18 = end >= people.adult[person]
    left = (end >= _add_years(people.dob[person], 16)) & (end <= EXTRACT) & (kind != _SHORT_BREAK)
    leavers = (person[left], start[left], end[left])
    keep = end >= START
    person, start, end, kind, at_18 = person[keep], start[keep], end[keep], kind[keep], at_18[keep]
    n = len(person)
    reason = np.select(
        [kind == _SHORT_BREAK, at_18, kind == _HOME, kind == _ADOPTED, kind == _ORDER],
        [np.full(n, 10), 6 + rng.integers(0, 4, n), rng.integers(0, 2, n), 2 + rng.integers(0, 2, n),
         4 + rng.integers(0, 2, n)],
        10,
    )
    end = np.where(end <= EXTRACT, end, _OPEN)
    order = np.lexsort((person, start))
    return _Periods(person=person[order], start=start[order], end=end[order], kind=kind[order],
                    reason=reason[order], number=np.arange(1, n + 1), leavers=leavers)


@dataclass
class _Placements:
    """Placements (ssd_cla_placement), each within one period of care."""

    table: dict
    period: np.ndarray
    person: np.ndarray
    start: np.ndarray
    end: np.ndarray           # _OPEN when open at the extract date
    adoption: np.ndarray
    frequency: np.ndarray
    number: np.ndarray


_PLACEMENT_TYPES = ("U1", "U3", "U4", "U5", "U6", "K2", "P1", "H5", "S1", "R1", "A3", "A4", "A5", "A6")


def _placements(ctx: _Ctx, people: _People, periods: _Periods) -> _Placements:
    """Placements filling each period: a first, often short, placement; then long ones for most children,
    a run of short ones for the few whose care is unstable; adoption placements end the adopted's periods."""
    rng, n = ctx.rng, len(periods.person)
    slots = 12
    end = np.minimum(periods.end, EXTRACT + 1)
    adopted = periods.kind == _ADOPTED
    adopt_start = np.maximum(end - rng.integers(150, 300, n), periods.start + 30)
    adopted &= adopt_start < end
    ordinary_end = np.where(adopted, adopt_start, end)
    unstable = rng.random(n) < UNSTABLE_CARE
    owner, position = _expand(np.full(n, slots))
    length = np.where(unstable[owner], 7 + rng.exponential(70, len(owner)),
                      np.where(position == 0,
                               np.where(rng.random(len(owner)) < 0.45, rng.integers(2, 60, len(owner)),
                                        30 + rng.exponential(PLACEMENT_MEAN_DAYS, len(owner))),
                               30 + rng.exponential(PLACEMENT_MEAN_DAYS, len(owner)))).astype(np.int64)
    p_start = periods.start[owner] + _seg_cumsum(length, owner) - length
    keep = p_start < ordinary_end[owner]
    owner, position, p_start = owner[keep], position[keep], p_start[keep]
    p_end = np.r_[p_start[1:], 0]
    last = np.r_[owner[1:] != owner[:-1], True]
    p_end = np.where(last, ordinary_end[owner], p_end)
    is_adoption = np.zeros(len(owner), dtype=bool)
    # The adoption placement follows the ordinary ones.
    a_owner = np.flatnonzero(adopted)
    owner = np.r_[owner, a_owner]
    p_start = np.r_[p_start, adopt_start[a_owner]]
    p_end = np.r_[p_end, end[a_owner]]
    is_adoption = np.r_[is_adoption, np.ones(len(a_owner), dtype=bool)]
    order = np.lexsort((p_start, owner))
    owner, p_start, p_end, is_adoption = owner[order], p_start[order], p_end[order], is_adoption[order]
    open_ = (p_end > EXTRACT) & (periods.end[owner] == _OPEN)
    p_end = np.where(open_, _OPEN, p_end)
    m = len(owner)

    age = (p_start - people.dob[periods.person[owner]]) / 365.25
    kind = periods.kind[owner]
    type_index = np.select(
        [is_adoption, kind == _SHORT_BREAK, age >= 16, age >= 10],
        [10 + ctx.pick([10, 45, 10, 35], m), np.where(rng.random(m) < 0.5, 4, 5),
         ctx.pick([4, 1, 10, 2, 25, 14, 3, 38, 1, 2], m), ctx.pick([5, 2, 22, 6, 45, 13, 3, 0, 3, 1], m)],
        ctx.pick([8, 4, 25, 8, 48, 1, 6, 0, 0, 0], m),
    )
    far = np.isin(type_index, (5, 8, 9))            # residential placements are more often far away
    distance = np.round(np.exp(np.log(5.0) + 1.0 * rng.standard_normal(m)) * np.where(far, 2.2, 1.0), 1)
    frequency = np.array([7, 28, 42, 91])[ctx.pick([3, 37, 45, 15], m)]
    provider = np.select([type_index == 6, is_adoption, np.isin(type_index, (5, 7, 8, 9))],
                         [np.zeros(m, np.int64), np.ones(m, np.int64), np.where(rng.random(m) < 0.6, 4, 1)],
                         np.where(rng.random(m) < 0.7, 1, 4))
    moved = np.r_[owner[1:] == owner[:-1], False]   # a placement that ended with a move within the period
    district = rng.integers(1, 66, m)
    sector = rng.integers(1, 10, m)
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))
    unit = pl.Series(letters[rng.integers(0, 20, m)]) + pl.Series(letters[rng.integers(0, 20, m)])
    postcode = ("NE" + pl.Series(district).cast(pl.String) + " " + pl.Series(sector).cast(pl.String) + unit)
    number = np.arange(1, m + 1)
    table = {
        "clap_cla_placement_id": ctx.ids("PL", number),
        "clap_person_id": ctx.ids("P", periods.person[owner] + 1),
        "clap_cla_id": ctx.ids("LA", periods.number[owner]),
        "clap_cla_placement_start_date": _dates(p_start),
        "clap_cla_placement_end_date": _dates(p_end, p_end != _OPEN),
        "clap_cla_placement_type": _codes(_PLACEMENT_TYPES, type_index),
        "clap_cla_placement_provider": _codes(("PR0", "PR1", "PR2", "PR3", "PR4", "PR5"), provider),
        "clap_cla_placement_postcode": postcode,
        "clap_cla_placement_distance": distance,
        "clap_cla_placement_change_reason": _masked(_codes(PLACE_CHANGE_REASONS,
                                                           ctx.pick(_weights(PLACE_CHANGE_REASONS), m)), moved),
        "clap_visit_frequency_days": frequency,
    }
    keep_rows = (p_end >= START)                    # placements that ended before the history are left out
    table = {k: (v.filter(pl.Series(keep_rows)) if isinstance(v, pl.Series) else v[keep_rows])
             for k, v in table.items()}
    owner = owner[keep_rows]
    return _Placements(table=table, period=owner, person=periods.person[owner], start=p_start[keep_rows],
                       end=p_end[keep_rows], adoption=is_adoption[keep_rows], frequency=frequency[keep_rows],
                       number=number[keep_rows])


def _cla_episodes(ctx: _Ctx, periods: _Periods, placements: _Placements) -> dict:
    """ssd_cla_episodes: one episode per placement, carrying its period of care and the date care began."""
    owner = placements.period
    first = placements.start == periods.start[owner]
    last = placements.end == periods.end[owner]
    ended = placements.end != _OPEN
    reason = np.where(last, periods.reason[owner], -1)
    ceased = _masked(_codes(_CEASED + ("X1",), np.where(reason < 0, len(_CEASED), reason)), ended)
    n = len(owner)
    return {
        "clae_cla_episode_id": ctx.ids("CE", np.arange(1, n + 1)),
        "clae_person_id": ctx.ids("P", periods.person[owner] + 1),
        "clae_cla_id": ctx.ids("LA", periods.number[owner]),
        "clae_cla_episode_start_date": _dates(placements.start),
        "clae_cla_episode_start_reason": _codes(CARE_START_REASON, np.where(first, 0, 1)),
        "clae_cla_episode_ceased_date": _dates(placements.end, ended),
        "clae_cla_episode_ceased_reason": ceased,
        "clae_entered_care_date": _dates(periods.start[owner]),
        "clae_cla_placement_id": ctx.ids("PL", placements.number),
    }


def _legal_statuses(ctx: _Ctx, periods: _Periods, placements: _Placements) -> dict:
    """ssd_legal_status: consecutive statuses per period (police protection, interim and full care orders,
    section 20, placement orders for the adopted, V3/V4 short breaks)."""
    rng, n = ctx.rng, len(periods.person)
    end = periods.end
    adoption_start = np.full(n, _OPEN)
    np.minimum.at(adoption_start, placements.period[placements.adoption], placements.start[placements.adoption])
    kind = periods.kind
    u = rng.random(n)
    voluntary = np.select([kind == _HOME, kind == _LONG, kind == _ORDER], [u < 0.7, u < 0.4, u < 0.3], False)
    police = ~voluntary & (kind != _SHORT_BREAK) & (rng.random(n) < 0.2)
    protect_end = np.minimum(periods.start + np.where(police, rng.integers(1, 8, n), 0), end)
    interim_end = np.minimum(periods.start + rng.integers(90, 300, n), np.minimum(adoption_start, end))
    full_order = ~voluntary & (kind != _SHORT_BREAK) & (kind != _ORDER)
    # (status, start, end, present); the last status of a period ends with it (null while open).
    stages = [
        (np.where(rng.random(n) < 0.7, "V4", "V3"), periods.start, end, kind == _SHORT_BREAK),
        (np.full(n, "V2"), periods.start, end, voluntary),
        (np.full(n, "L2"), periods.start, protect_end, police),
        (np.full(n, "C1"), protect_end, np.where(full_order, interim_end, end), ~voluntary & (kind != _SHORT_BREAK)),
        (np.full(n, "C2"), interim_end, np.minimum(adoption_start, end), full_order),
        (np.full(n, "E1"), adoption_start, end, adoption_start < _OPEN),
    ]
    code = np.concatenate([s[0][s[3]] for s in stages])
    owner = np.concatenate([np.flatnonzero(s[3]) for s in stages])
    start = np.concatenate([s[1][s[3]] for s in stages])
    stop = np.concatenate([s[2][s[3]] for s in stages])
    keep = (stop > start) & (stop >= START) & (start <= EXTRACT)
    stop = np.where(stop <= EXTRACT, stop, _OPEN)
    code, owner, start, stop = code[keep], owner[keep], start[keep], stop[keep]
    order = np.lexsort((start, owner))
    code, owner, start, stop = code[order], owner[order], start[order], stop[order]
    return {
        "lega_legal_status_id": ctx.ids("LS", np.arange(1, len(owner) + 1)),
        "lega_person_id": ctx.ids("P", periods.person[owner] + 1),
        "lega_legal_status": pl.Series(code, dtype=pl.String),
        "lega_legal_status_start_date": _dates(start),
        "lega_legal_status_end_date": _dates(stop, stop != _OPEN),
    }


def _cla_reviews(ctx: _Ctx, periods: _Periods) -> dict:
    """ssd_cla_reviews: first within 20 working days of entering care, the second within 91 days, then every
    183 days; a few late, and a few cancelled meetings recorded beside the one that took place."""
    rng, cal = ctx.rng, ctx.cal

    def gap(owner, position):
        k = len(owner)
        late = rng.random(k) < CLA_REVIEW_LATE
        first_wd = np.where(late, rng.integers(21, 30, k), rng.integers(8, 21, k))
        first = cal.add(periods.start[owner], first_wd) - periods.start[owner]
        second = np.where(late, rng.integers(92, 110, k), rng.integers(60, 92, k))
        later = np.where(late, rng.integers(184, 215, k), rng.integers(120, 184, k))
        return np.select([position == 0, position == 1], [first, second], later)

    owner, day, previous, position = _chain(periods.start, np.minimum(periods.end, EXTRACT + 1), gap, 120, 3)
    due = np.select([position == 0, position == 1], [cal.add(periods.start[owner], 20), previous + 91],
                    previous + 183)
    cancelled = rng.random(len(owner)) < 0.02
    cancelled_day = np.maximum(day - rng.integers(3, 12, len(owner)), periods.start[owner])
    all_owner = np.r_[owner, owner[cancelled]]
    all_day = np.r_[day, cancelled_day[cancelled]]
    all_due = np.r_[due, due[cancelled]]
    is_cancelled = np.r_[np.zeros(len(owner), bool), np.ones(int(cancelled.sum()), bool)]
    keep = all_day >= START
    order = np.lexsort((~is_cancelled[keep], all_day[keep]))
    o, d, du, c = (a[keep][order] for a in (all_owner, all_day, all_due, is_cancelled))
    return {
        "clar_cla_review_id": ctx.ids("LR", np.arange(1, len(o) + 1)),
        "clar_cla_id": ctx.ids("LA", periods.number[o]),
        "clar_person_id": ctx.ids("P", periods.person[o] + 1),
        "clar_cla_review_due_date": _dates(du, du <= EXTRACT),
        "clar_cla_review_date": _dates(d),
        "clar_cla_review_cancelled": c,
    }


def _cla_visits(ctx: _Ctx, placements: _Placements) -> dict:
    """ssd_cla_visits: within a week of each new placement, then at the placement's frequency; ~6% late."""
    rng, n = ctx.rng, len(placements.period)
    f = placements.frequency
    # Placements begun before the history chain from a notional visit just before it (not in the extract).
    origin = np.where(placements.start >= START, placements.start,
                      START - np.floor(rng.random(n) * f).astype(np.int64))
    fresh = placements.start >= START

    def gap(owner, position):
        ff = f[owner]
        late = rng.random(len(owner)) < CLA_VISIT_LATE
        on_time = ff - np.floor(rng.random(len(owner)) * ff * 0.45).astype(np.int64)
        usual = np.where(late, ff + 1 + np.floor(rng.random(len(owner)) * ff * 0.4).astype(np.int64), on_time)
        return np.where((position == 0) & fresh[owner], rng.integers(1, 8, len(owner)), usual)

    owner, day, _, _ = _chain(origin, np.minimum(placements.end, EXTRACT + 1), gap, 4)
    keep = (day >= START) & (day >= placements.start[owner])
    owner, day = owner[keep], day[keep]
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    person_ids = placements.table["clap_person_id"].gather(owner)
    return {
        "clav_cla_visit_id": ctx.ids("LV", np.arange(1, len(owner) + 1)),
        "clav_person_id": person_ids,
        "clav_cla_id": placements.table["clap_cla_id"].gather(owner),
        "clav_cla_visit_date": _dates(day),
        "clav_cla_visit_seen": rng.random(len(owner)) < 0.97,
    }


def _cla_health(ctx: _Ctx, periods: _Periods) -> dict:
    """ssd_cla_health: initial health assessments (IHA), and yearly health and dental checks, some missed."""
    rng, cal, n = ctx.rng, ctx.cal, len(periods.person)
    end = np.minimum(periods.end, EXTRACT + 1)
    short = periods.kind == _SHORT_BREAK
    iha_wd = np.where(rng.random(n) < IHA_IN_20_WD, rng.integers(5, 21, n), rng.integers(21, 61, n))
    iha_day = cal.add(periods.start, iha_wd)
    has_iha = (iha_day < end) & (iha_day >= START) & ~short & (rng.random(n) < 0.97)
    owners, days, kinds = [np.flatnonzero(has_iha)], [iha_day[has_iha]], [np.zeros(int(has_iha.sum()), np.int64)]
    for k, done in enumerate(HEALTH_CHECK_DONE.values(), start=1):   # HEALTH, DENTAL: about yearly
        owner, day, _, _ = _chain(periods.start, end, lambda o, position: np.where(
            position == 0, rng.integers(60, 200, len(o)), rng.integers(300, 420, len(o))), 300)
        keep = (day >= START) & ~short[owner] & (rng.random(len(owner)) < done)
        owners.append(owner[keep])
        days.append(day[keep])
        kinds.append(np.full(int(keep.sum()), k))
    owner, day, kind = np.concatenate(owners), np.concatenate(days), np.concatenate(kinds)
    order = np.lexsort((owner, day))
    owner, day, kind = owner[order], day[order], kind[order]
    status = np.where(rng.random(len(owner)) < 0.98, 0, 1)
    return {
        "clah_health_check_id": ctx.ids("HC", np.arange(1, len(owner) + 1)),
        "clah_person_id": ctx.ids("P", periods.person[owner] + 1),
        "clah_health_check_type": _codes(("IHA", "HEALTH", "DENTAL"), kind),
        "clah_health_check_date": _dates(day),
        "clah_health_check_status": _codes(("Completed", "Refused"), status),
    }


def _missing(ctx: _Ctx, people: _People, placements: _Placements, plans: _Plans) -> dict:
    """ssd_missing: episodes of children aged 10+ while looked after (mostly 'M', some 'A'), and a few of
    children on a plan; a handful of children account for most, as in practice."""
    rng = ctx.rng
    # Intervals in which a child can go missing: placements, and CP plans (less often).
    pl_person = placements.person
    owner_person = np.r_[pl_person, plans.person]
    start = np.r_[placements.start, plans.start]
    end = np.minimum(np.r_[placements.end, plans.end], EXTRACT + 1)
    looked_after = np.r_[np.ones(len(pl_person), bool), np.zeros(len(plans.person), bool)]
    start = np.maximum.reduce([start, np.full(len(start), START), _add_years(people.dob[owner_person], 10)])
    length = np.maximum(end - start, 0)
    propensity = rng.gamma(1.0, 1.0, len(people.dob))[owner_person]   # per child: some go missing often
    # Spread the month's expected episodes over the children who could go missing, in proportion to
    # propensity and time at risk: the volume then does not swing with the mix of ages in care.
    months = (EXTRACT + 1 - START) / 30.44
    expected = np.zeros(len(start))
    for group, per_month in ((looked_after, MISSING_FROM_CARE_PER_MONTH / (1 - MISSING_AWAY_SHARE)),
                             (~looked_after, MISSING_ON_PLAN_PER_MONTH)):
        exposure = np.where(group, propensity * length, 0.0)
        expected += per_month * ctx.scale * months * exposure / max(exposure.sum(), 1.0)
    count = rng.poisson(expected)
    owner, _ = _expand(count)
    seconds = (start[owner] + np.floor(rng.random(len(owner)) * length[owner]).astype(np.int64)) * _DAY
    seconds += ctx.times(len(owner), office_share=0.3)
    away = looked_after[owner] & (rng.random(len(owner)) < MISSING_AWAY_SHARE)
    hours = np.exp(np.log(9) + 1.1 * rng.standard_normal(len(owner)))
    back = seconds + (hours * 3600).astype(np.int64) // 60 * 60
    returned = back <= (EXTRACT + 1) * _DAY - 1
    police = np.where(away, rng.random(len(owner)) < 0.2, rng.random(len(owner)) < 0.97)
    order = np.argsort(seconds, kind="stable")
    owner, seconds, back, returned, away, police = (a[order] for a in (owner, seconds, back, returned, away, police))
    return {
        "miss_table_id": ctx.ids("MI", np.arange(1, len(owner) + 1)),
        "miss_person_id": ctx.ids("P", owner_person[owner] + 1),
        "miss_missing_episode_start_date": _stamps(seconds),
        "miss_missing_episode_end_date": _stamps(back, returned),
        "miss_missing_episode_type": _codes(("M", "A"), away.astype(np.int64)),
        "miss_reported_to_police": police,
    }


# --- Care leavers and allocations ----------------------------------------------------------------------

@dataclass
class _Leavers:
    """Care leavers: ssd_care_leavers, and each young person's service interval (for personal advisers)."""

    table: dict
    person: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _care_leavers(ctx: _Ctx, people: _People, periods: _Periods) -> _Leavers:
    """ssd_care_leavers: young people who left care at 16 or later after 13 weeks or more in care since 14
    (relevant, then former relevant at 18); a dated row at leaving and at each change of status until the
    service ends (after 21 mostly; earlier for some, 25 for students)."""
    rng = ctx.rng
    person, entry, start = periods.leavers
    eligible = start - np.maximum(entry, _add_years(people.dob[person], 14)) >= 91
    person, start = person[eligible], start[eligible]
    n = len(person)
    u = rng.random(n)
    # Served through age 21 (to the 22nd birthday), to 25 for those in education, a few stop earlier.
    service_end = np.select([u < 0.35, u < 0.88],
                            [_add_years(people.dob[person], 19) + rng.integers(0, 1000, n),
                             _add_years(people.dob[person], 22)],
                            _add_years(people.dob[person], 25))
    keep = service_end >= START
    person, start, service_end = person[keep], start[keep], service_end[keep]
    served_to = np.where(service_end <= EXTRACT, service_end, _OPEN)
    owner, day, _, _ = _chain(start, np.minimum(service_end, EXTRACT + 1), lambda o, position: np.where(
        position == 0, 0, rng.integers(90, 260, len(o))), 90)
    m = len(owner)
    suitable = rng.random(m) < CARE_LEAVER_SUITABLE
    accommodation = np.where(suitable, _codes(ACCOMMODATION_SUITABLE, rng.integers(0, 8, m)).to_numpy(),
                             _codes(ACCOMMODATION_UNSUITABLE, rng.integers(0, 4, m)).to_numpy())
    neet = rng.random(m) < CARE_LEAVER_NEET
    activity = np.where(neet, _codes(ACTIVITY_NEET, ctx.pick(_weights(ACTIVITY_NEET), m)).to_numpy(),
                        _codes(ACTIVITY_EET, ctx.pick(_weights(ACTIVITY_EET), m)).to_numpy())
    in_touch = _codes(("YES", "NO", "REFU"), ctx.pick([93, 5, 2], m))
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    table = {
        "clea_table_id": ctx.ids("CL", np.arange(1, m + 1)),
        "clea_person_id": ctx.ids("P", person[owner] + 1),
        "clea_care_leaver_latest_contact": _dates(day),
        "clea_care_leaver_eligibility": _codes(("Relevant", "Former relevant"),
                                               (day >= people.adult[person[owner]]).astype(np.int64)),
        "clea_care_leaver_in_touch": in_touch.gather(order),
        "clea_care_leaver_accommodation": pl.Series(accommodation[order], dtype=pl.String),
        "clea_care_leaver_accom_suitable": pl.Series(np.where(suitable, "1", "2")[order], dtype=pl.String),
        "clea_care_leaver_activity": pl.Series(activity[order], dtype=pl.String),
        "clea_service_end_date": _dates(service_end[owner], served_to[owner] != _OPEN),
    }
    return _Leavers(table=table, person=person, start=start, end=served_to)


def _split(ctx: _Ctx, start: np.ndarray, end: np.ndarray, parts: np.ndarray):
    """Cut each interval [start, end) into `parts` consecutive pieces at random points (end may be _OPEN)."""
    owner, position = _expand(parts)
    cut = np.where(position == 0, 0.0, ctx.rng.random(len(owner)))   # the first piece starts at the start
    order = np.lexsort((cut, owner))
    owner, cut = owner[order], cut[order]
    length = np.minimum(end, EXTRACT + 1)[owner] - start[owner]
    piece_start = start[owner] + (cut * length).astype(np.int64)
    last = np.r_[owner[1:] != owner[:-1], True]
    piece_end = np.where(last, end[owner], np.r_[piece_start[1:], 0])
    return owner, piece_start, piece_end


def _involvements(ctx: _Ctx, plans: _Plans, periods: _Periods, leavers: _Leavers, staff: _Staff) -> dict:
    """ssd_involvements: an allocated social worker over every CP plan and period of care (changing now and
    then), and a personal adviser for each care leaver."""
    rng = ctx.rng
    cp_parts = 1 + (rng.random(len(plans.ref)) < 0.3) + (rng.random(len(plans.ref)) < 0.08)
    c_owner, c_start, c_end = _split(ctx, plans.start, plans.end, cp_parts)
    la_length = np.minimum(periods.end, EXTRACT + 1) - periods.start
    la_parts = 1 + np.minimum(la_length // 500, 8) + (rng.random(len(periods.person)) < 0.3)
    l_owner, l_start, l_end = _split(ctx, periods.start, periods.end, la_parts)
    person = np.r_[plans.person[c_owner], periods.person[l_owner], leavers.person]
    start = np.r_[c_start, l_start, leavers.start]
    end = np.r_[c_end, l_end, leavers.end]
    worker = np.r_[_workers(ctx, staff, "safeguarding", len(c_owner)),
                   _workers(ctx, staff, "looked_after", len(l_owner)),
                   _workers(ctx, staff, "leaving_care", len(leavers.person))]
    role = np.r_[np.zeros(len(c_owner) + len(l_owner), np.int64), np.ones(len(leavers.person), np.int64)]
    keep = (end >= START) & (end > start)
    person, start, end, worker, role = (a[keep] for a in (person, start, end, worker, role))
    order = np.lexsort((person, start))
    person, start, end, worker, role = (a[order] for a in (person, start, end, worker, role))
    return {
        "invo_involvements_id": ctx.ids("IN", np.arange(1, len(person) + 1)),
        "invo_person_id": ctx.ids("P", person + 1),
        "invo_professional_id": ctx.ids("W", worker + 1),
        "invo_professional_role_id": _codes(("SW", "PA"), role),
        "invo_professional_team": _codes(staff.team_names, staff.team[worker]),
        "invo_involvement_start_date": _dates(start),
        "invo_involvement_end_date": _dates(end, end != _OPEN),
    }


# --- Early help ----------------------------------------------------------------------------------------

def _early_help(ctx: _Ctx, people: _People) -> tuple[dict, dict]:
    """ssd_early_help_episodes and ssd_early_help_assessments: an assessment opens each episode of 1½-11 months."""
    rng = ctx.rng
    # Early help reaches families social care does not know as much as those it does: no family weighting.
    pool = _Pool(ctx, people, np.arange(len(people.dob)), np.ones(len(people.dob)))
    days = ctx.monthly_days(_EH_SIM_START, EH_EPISODES_PER_MONTH)
    person = pool.sample(days)
    found = person >= 0
    person, start = person[found], days[found]
    n = len(person)
    end = np.minimum(start + rng.integers(45, 330, n), people.adult[person])
    keep = _no_overlap(person, start, end) & (end >= START)
    person, start, end = person[keep], start[keep], end[keep]
    n = len(person)
    closed = end <= EXTRACT
    number = np.arange(1, n + 1)
    episodes = {
        "earl_episode_id": ctx.ids("EH", number),
        "earl_person_id": ctx.ids("P", person + 1),
        "earl_episode_start_date": _dates(start),
        "earl_episode_end_date": _dates(end, closed),
        "earl_episode_reason": _codes(EH_REASONS, rng.integers(0, len(EH_REASONS), n)),
        "earl_episode_end_reason": _masked(_codes(EH_END_REASONS, ctx.pick(_weights(EH_END_REASONS), n)), closed),
    }
    completed = start + rng.integers(5, 46, n)
    has = start >= START
    done = completed[has] <= np.minimum(end[has], EXTRACT)
    assessments = {
        "eha_assessment_id": ctx.ids("EA", np.arange(1, int(has.sum()) + 1)),
        "eha_person_id": ctx.ids("P", person[has] + 1),
        "eha_episode_id": ctx.ids("EH", number[has]),
        "eha_start_date": _dates(start[has]),
        "eha_completed_date": _dates(completed[has], done),
    }
    return episodes, assessments
