"""Missing episodes: ssd_missing, for children aged 10 or more while looked after or on a CP plan.
"""

from __future__ import annotations

import numpy as np

from kpi.demo.arrays import add_years, expand
from kpi.demo.child_protection import Plans
from kpi.demo.columns import as_timestamps, codes_at
from kpi.demo.context import Context
from kpi.demo.looked_after import Placements
from kpi.demo.people import People
from kpi.demo.timeline import DAY, EXTRACT, START


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
MISSING_FROM_CARE_PER_MONTH = 40     # CSC 246: 'M' episodes of looked-after children (10+), 2014-18 average;
                                     # more children of that age are in care by September 2017, when it gives ~43
MISSING_ON_PLAN_PER_MONTH = 4        # episodes of children on a CP plan, not looked after (CSC 246 leaves them out)
MISSING_AWAY_SHARE = 0.22            # 'A' (away) among missing-from-care episodes


def missing_table(ctx: Context, people: People, placements: Placements, plans: Plans) -> dict:
    """ssd_missing: episodes of children aged 10+ while looked after (mostly 'M', some 'A'), and a few of
    children on a plan; a handful of children account for most, as in practice."""
    rng = ctx.rng
    # Intervals in which a child can go missing: placements, and CP plans (less often).
    pl_person = placements.person
    owner_person = np.r_[pl_person, plans.person]
    start = np.r_[placements.start, plans.start]
    end = np.minimum(np.r_[placements.end, plans.end], EXTRACT + 1)
    looked_after = np.r_[np.ones(len(pl_person), bool), np.zeros(len(plans.person), bool)]
    start = np.maximum.reduce([start, np.full(len(start), START), add_years(people.dob[owner_person], 10)])
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
    owner, _ = expand(count)
    seconds = (start[owner] + np.floor(rng.random(len(owner)) * length[owner]).astype(np.int64)) * DAY
    seconds += ctx.times(len(owner), office_share=0.3)
    away = looked_after[owner] & (rng.random(len(owner)) < MISSING_AWAY_SHARE)
    hours = np.exp(np.log(9) + 1.1 * rng.standard_normal(len(owner)))
    back = seconds + (hours * 3600).astype(np.int64) // 60 * 60
    returned = back <= (EXTRACT + 1) * DAY - 1
    police = np.where(away, rng.random(len(owner)) < 0.2, rng.random(len(owner)) < 0.97)
    order = np.argsort(seconds, kind="stable")
    owner, seconds, back, returned, away, police = (a[order] for a in (owner, seconds, back, returned, away, police))
    return {
        "miss_table_id": ctx.ids("MI", np.arange(1, len(owner) + 1)),
        "miss_person_id": ctx.ids("P", owner_person[owner] + 1),
        "miss_missing_episode_start_date": as_timestamps(seconds),
        "miss_missing_episode_end_date": as_timestamps(back, returned),
        "miss_missing_episode_type": codes_at(("M", "A"), away.astype(np.int64)),
        "miss_reported_to_police": police,
    }
