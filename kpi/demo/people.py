"""People and population: the families the demo council's children are born into (dates of birth, sex,
ethnicity, a family's propensity to come to notice) and ssd_person. Pool draws a child of the right age
on a day for the other stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from kpi.demo.arrays import add_years, expand, seg_cumsum
from kpi.demo.columns import as_dates, codes_at, weights_of
from kpi.demo.context import Context
from kpi.demo.timeline import EXTRACT, day_number


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
_OLDEST_DOB = date(1992, 4, 1)       # aged 21 in April 2014: the oldest care leaver the extract shows
_FAMILY_START = date(1984, 1, 1)     # first births of families (their younger children are born later)
CHILDREN_0_17 = 22_627               # "Sept - Den" of every rate: the mid-2017 0-17 population
ETHNICITIES = (("WBRI", 860), ("WIRI", 4), ("WOTH", 22), ("MWBC", 15), ("MWBA", 8), ("MWAS", 8), ("MOTH", 10),
               ("AIND", 10), ("APKN", 14), ("ABAN", 10), ("AOTH", 6), ("BAFR", 12), ("BCRB", 4), ("BOTH", 2),
               ("CHNE", 5), ("OOTH", 6), ("REFU", 2), ("NOBT", 2))
_FAMILY_SIZES = np.array([0.40, 0.32, 0.17, 0.08, 0.03])    # children per family: 1..5
_FAMILY_WEIGHT_SHAPE = 0.6          # gamma shape of a family's propensity to come to notice (mean 1)


@dataclass
class People:
    """Everyone in ssd_person, families contiguous: dates of birth, 18th birthdays, family propensity."""

    dob: np.ndarray
    adult: np.ndarray          # 18th birthday: a child until the day before
    family_first: np.ndarray   # index of the first person of each person's family
    family_size: np.ndarray
    weight: np.ndarray         # the family's propensity to come to notice (mean about 1)
    sex: np.ndarray
    ethnicity: np.ndarray


class Pool:
    """Persons to draw children from, sorted by date of birth so that those aged 0-17 on a day are a range."""

    def __init__(self, ctx: Context, people: People, members: np.ndarray, weights: np.ndarray) -> None:
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


def draw_people(ctx: Context) -> People:
    """Families of 1-5 children born 1984-2018, as many as give ~22,627 × scale aged 0-17 in September 2017."""
    rng = ctx.rng
    span = EXTRACT - day_number(_FAMILY_START)
    mean_size = float(np.dot(_FAMILY_SIZES, np.arange(1, 6)))
    n_families = round(CHILDREN_0_17 * ctx.scale / (18 * 365.25) * span / mean_size)
    size = ctx.pick(_FAMILY_SIZES, n_families) + 1
    first_birth = day_number(_FAMILY_START) + rng.integers(0, span, n_families)
    owner, order = expand(size)
    gaps = np.where(order == 0, 0, (365.25 * (1.0 + rng.gamma(2.0, 0.6, len(owner)))).astype(np.int64))
    dob = first_birth[owner] + seg_cumsum(gaps, owner)
    keep = (dob >= day_number(_OLDEST_DOB)) & (dob <= EXTRACT)
    dob, family = dob[keep], owner[keep]
    _, first_index, counts = np.unique(family, return_index=True, return_counts=True)
    weight = rng.gamma(_FAMILY_WEIGHT_SHAPE, 1 / _FAMILY_WEIGHT_SHAPE, n_families)[family]
    return People(
        dob=dob,
        adult=add_years(dob, 18),
        family_first=np.repeat(first_index, counts),
        family_size=np.repeat(counts, counts),
        weight=weight,
        sex=np.where(rng.random(len(dob)) < 0.51, 1, 2),
        ethnicity=ctx.pick(weights_of(ETHNICITIES), len(dob)),
    )


def person_table(ctx: Context, people: People) -> dict:
    """ssd_person: everyone, children and the young adults who were children during the extract's years."""
    n = len(people.dob)
    return {
        "pers_person_id": ctx.ids("P", np.arange(1, n + 1)),
        "pers_sex": codes_at(("M", "F"), people.sex - 1),
        "pers_ethnicity": codes_at(ETHNICITIES, people.ethnicity),
        "pers_dob": as_dates(people.dob),
    }
