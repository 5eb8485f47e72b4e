"""Care leavers: ssd_care_leavers, young people who left care at 16 or later, with their accommodation,
activity and contact until their service ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from kpi.demo.arrays import add_years, chain
from kpi.demo.columns import as_dates, codes_at, weights_of
from kpi.demo.context import Context
from kpi.demo.looked_after import Periods
from kpi.demo.people import People
from kpi.demo.timeline import EXTRACT, OPEN, START


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
CARE_LEAVER_SUITABLE = 0.96          # CSC 286: 46/48
CARE_LEAVER_NEET = 0.29              # CSC 294: 14/48
ACCOMMODATION_SUITABLE = ("U", "Z", "E", "D", "B", "K", "T", "C")   # SSDA903 ACCOM
ACCOMMODATION_UNSUITABLE = ("S", "W", "V", "X")
ACTIVITY_EET = (("F1", 8), ("F2", 20), ("P1", 2), ("P2", 6), ("F4", 10), ("P4", 4), ("F5", 12), ("P5", 8))
ACTIVITY_NEET = (("G4", 25), ("G5", 60), ("G6", 15))


@dataclass
class Leavers:
    """Care leavers: ssd_care_leavers, and each young person's service interval (for personal advisers)."""

    table: dict
    person: np.ndarray
    start: np.ndarray
    end: np.ndarray


def draw_care_leavers(ctx: Context, people: People, periods: Periods) -> Leavers:
    """ssd_care_leavers: young people who left care at 16 or later after 13 weeks or more in care since 14
    (relevant, then former relevant at 18); a dated row at leaving and at each change of status until the
    service ends (after 21 mostly; earlier for some, 25 for students)."""
    rng = ctx.rng
    person, entry, start = periods.leavers
    eligible = start - np.maximum(entry, add_years(people.dob[person], 14)) >= 91
    person, start = person[eligible], start[eligible]
    n = len(person)
    u = rng.random(n)
    # Served through age 21 (to the 22nd birthday), to 25 for those in education, a few stop earlier.
    service_end = np.select([u < 0.35, u < 0.88],
                            [add_years(people.dob[person], 19) + rng.integers(0, 1000, n),
                             add_years(people.dob[person], 22)],
                            add_years(people.dob[person], 25))
    keep = service_end >= START
    person, start, service_end = person[keep], start[keep], service_end[keep]
    served_to = np.where(service_end <= EXTRACT, service_end, OPEN)
    owner, day, _, _ = chain(start, np.minimum(service_end, EXTRACT + 1), lambda o, position: np.where(
        position == 0, 0, rng.integers(90, 260, len(o))), 90)
    m = len(owner)
    suitable = rng.random(m) < CARE_LEAVER_SUITABLE
    accommodation = np.where(suitable, codes_at(ACCOMMODATION_SUITABLE, rng.integers(0, 8, m)).to_numpy(),
                             codes_at(ACCOMMODATION_UNSUITABLE, rng.integers(0, 4, m)).to_numpy())
    neet = rng.random(m) < CARE_LEAVER_NEET
    activity = np.where(neet, codes_at(ACTIVITY_NEET, ctx.pick(weights_of(ACTIVITY_NEET), m)).to_numpy(),
                        codes_at(ACTIVITY_EET, ctx.pick(weights_of(ACTIVITY_EET), m)).to_numpy())
    in_touch = codes_at(("YES", "NO", "REFU"), ctx.pick([93, 5, 2], m))
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    table = {
        "clea_table_id": ctx.ids("CL", np.arange(1, m + 1)),
        "clea_person_id": ctx.ids("P", person[owner] + 1),
        "clea_care_leaver_latest_contact": as_dates(day),
        "clea_care_leaver_eligibility": codes_at(("Relevant", "Former relevant"),
                                               (day >= people.adult[person[owner]]).astype(np.int64)),
        "clea_care_leaver_in_touch": in_touch.gather(order),
        "clea_care_leaver_accommodation": pl.Series(accommodation[order], dtype=pl.String),
        "clea_care_leaver_accom_suitable": pl.Series(np.where(suitable, "1", "2")[order], dtype=pl.String),
        "clea_care_leaver_activity": pl.Series(activity[order], dtype=pl.String),
        "clea_service_end_date": as_dates(service_end[owner], served_to[owner] != OPEN),
    }
    return Leavers(table=table, person=person, start=start, end=served_to)
