"""Children looked after: periods of care and their placements, ssd_cla_episodes, ssd_cla_placement,
ssd_legal_status, ssd_cla_reviews, ssd_cla_visits and ssd_cla_health. Missing episodes and care leavers
have their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from kpi.demo.arrays import add_years, chain, expand, no_overlap, seg_cumsum
from kpi.demo.columns import as_dates, codes_at, masked, weights_of
from kpi.demo.context import Context
from kpi.demo.people import People, Pool
from kpi.demo.timeline import CLA_SIM_START, EXTRACT, OPEN, START


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
CLA_ENTRIES_PER_MONTH = 6.0          # periods of care begun outside the CP route; tuned to CSC 201's 216 at month end
SHORT_BREAK_STARTS_PER_MONTH = 0.45  # V3/V4 short-break periods, about 8 open at a month end (excluded by CSC 201)
UNSTABLE_CARE = 0.12                 # children whose placements keep breaking down (CSC 228: 26/216 with 3+ in a year)
PLACEMENT_MEAN_DAYS = 1200           # settled placements (CSC 229: 34/61 in the same placement 2 years; CSC 228: 12%)
CLA_REVIEW_LATE = 0.012              # CSC 218: 100% in the seed
CLA_VISIT_LATE = 0.045               # CSC 260a: 196/208 in time
IHA_IN_20_WD = 0.90                  # CSC 247: 82% in June
HEALTH_CHECK_DONE = {"HEALTH": 0.85, "DENTAL": 0.70}   # CSC 250/251: 42%/34% FYTD by September
CARE_START_REASON = ("S", "P")       # SSDA903 RNE: new period / change of placement
PLACE_CHANGE_REASONS = (("CARPL", 40), ("CLOSE", 8), ("ALLEG", 3), ("STAND", 10), ("CREQB", 6),
                        ("CREQO", 4), ("CHILD", 6), ("LAREQ", 8), ("PLACE", 6), ("OTHER", 9))
# Kinds of period of care: how it ends.
HOME, ADOPTED, ORDER, LONG, SHORT_BREAK = 0, 1, 2, 3, 4


def care_paths(ctx: Context, people: People, person: np.ndarray, entry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How each period of care ends, by age at entry, and when (at 18 at the latest)."""
    rng, n = ctx.rng, len(person)
    age = (entry - people.dob[person]) / 365.25
    u = rng.random(n)
    kind = np.select(
        [age < 5, age < 13],
        [np.select([u < 0.30, u < 0.63, u < 0.88], [ADOPTED, HOME, ORDER], LONG),
         np.select([u < 0.50, u < 0.70], [HOME, ORDER], LONG)],
        np.where(u < 0.60, HOME, LONG),
    )
    length = np.select(
        [kind == HOME, kind == ADOPTED, kind == ORDER],
        [np.minimum(1 + rng.exponential(150, n), 900).astype(np.int64), rng.integers(420, 900, n),
         rng.integers(250, 1100, n)],
        OPEN,
    )
    end = np.minimum(entry + length, people.adult[person])
    return kind, end


@dataclass
class Periods:
    """Periods of care (ssd_cla_episodes' clae_cla_id): child, entry, end (OPEN if open), how it ends."""

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


def draw_periods_of_care(ctx: Context, people: People, refs: dict) -> Periods:
    """Periods of care: those that followed a CP plan, others begun from 2000 (children never referred in
    the extract's years) and short-break agreements; kept when open on or after April 2014."""
    rng = ctx.rng
    never_referred = np.ones(len(people.dob), dtype=bool)
    never_referred[refs["person"]] = False
    pool = Pool(ctx, people, np.flatnonzero(never_referred), np.ones(int(never_referred.sum())))

    # From the CP route: entry on the day the plan ended (already drawn with the referral).
    chained = refs["to_care"]
    c_person, c_start = refs["person"][chained], refs["plan_end"][chained]
    c_kind = refs["care_kind"][chained]
    c_end = refs["close"][chained]

    # Other entries: age at entry as in the DfE's figures (a fifth under one, a third 10-15).
    days = ctx.monthly_days(CLA_SIM_START, CLA_ENTRIES_PER_MONTH, seasonal=False, working_share=0.8)
    age_band = ctx.pick([20, 14, 19, 37, 10], len(days))
    low = np.array([0, 1, 5, 10, 16]) * 365
    high = np.array([1, 5, 10, 16, 17.6]) * 365
    age = (low[age_band] + rng.random(len(days)) * (high[age_band] - low[age_band])).astype(np.int64)
    o_person = pool.aged(days, age)
    found = o_person >= 0
    o_person, o_start = o_person[found], days[found]
    o_kind, o_end = care_paths(ctx, people, o_person, o_start)

    # Short breaks for disabled children: agreements of months (V3/V4), counted apart by the indicators.
    s_days = ctx.monthly_days(date(2008, 4, 1), SHORT_BREAK_STARTS_PER_MONTH, seasonal=False)
    s_person = pool.aged(s_days, rng.integers(5 * 365, 15 * 365, len(s_days)))
    found = s_person >= 0
    s_person, s_start = s_person[found], s_days[found]
    s_end = np.minimum(s_start + rng.integers(120, 720, len(s_start)), people.adult[s_person])
    s_kind = np.full(len(s_person), SHORT_BREAK)

    person = np.r_[c_person, o_person, s_person]
    start = np.r_[c_start, o_start, s_start]
    end = np.r_[c_end, o_end, s_end]
    kind = np.r_[c_kind, o_kind, s_kind]
    keep = no_overlap(person, start, end) & (start <= EXTRACT)
    person, start, end, kind = person[keep], start[keep], end[keep], kind[keep]
    # Care leavers come from every period that ended at 16 or later, including those before the history.
    at_18 = end >= people.adult[person]
    left = (end >= add_years(people.dob[person], 16)) & (end <= EXTRACT) & (kind != SHORT_BREAK)
    leavers = (person[left], start[left], end[left])
    keep = end >= START
    person, start, end, kind, at_18 = person[keep], start[keep], end[keep], kind[keep], at_18[keep]
    n = len(person)
    reason = np.select(
        [kind == SHORT_BREAK, at_18, kind == HOME, kind == ADOPTED, kind == ORDER],
        [np.full(n, 10), 6 + rng.integers(0, 4, n), rng.integers(0, 2, n), 2 + rng.integers(0, 2, n),
         4 + rng.integers(0, 2, n)],
        10,
    )
    end = np.where(end <= EXTRACT, end, OPEN)
    order = np.lexsort((person, start))
    return Periods(person=person[order], start=start[order], end=end[order], kind=kind[order],
                    reason=reason[order], number=np.arange(1, n + 1), leavers=leavers)


@dataclass
class Placements:
    """Placements (ssd_cla_placement), each within one period of care."""

    table: dict
    period: np.ndarray
    person: np.ndarray
    start: np.ndarray
    end: np.ndarray           # OPEN when open at the extract date
    adoption: np.ndarray
    frequency: np.ndarray
    number: np.ndarray


_PLACEMENT_TYPES = ("U1", "U3", "U4", "U5", "U6", "K2", "P1", "H5", "S1", "R1", "A3", "A4", "A5", "A6")


def draw_placements(ctx: Context, people: People, periods: Periods) -> Placements:
    """Placements filling each period: a first, often short, placement; then long ones for most children,
    a run of short ones for the few whose care is unstable; adoption placements end the adopted's periods."""
    rng, n = ctx.rng, len(periods.person)
    slots = 12
    end = np.minimum(periods.end, EXTRACT + 1)
    adopted = periods.kind == ADOPTED
    adopt_start = np.maximum(end - rng.integers(150, 300, n), periods.start + 30)
    adopted &= adopt_start < end
    ordinary_end = np.where(adopted, adopt_start, end)
    unstable = rng.random(n) < UNSTABLE_CARE
    owner, position = expand(np.full(n, slots))
    length = np.where(unstable[owner], 7 + rng.exponential(70, len(owner)),
                      np.where(position == 0,
                               np.where(rng.random(len(owner)) < 0.45, rng.integers(2, 60, len(owner)),
                                        30 + rng.exponential(PLACEMENT_MEAN_DAYS, len(owner))),
                               30 + rng.exponential(PLACEMENT_MEAN_DAYS, len(owner)))).astype(np.int64)
    p_start = periods.start[owner] + seg_cumsum(length, owner) - length
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
    open_ = (p_end > EXTRACT) & (periods.end[owner] == OPEN)
    p_end = np.where(open_, OPEN, p_end)
    m = len(owner)

    age = (p_start - people.dob[periods.person[owner]]) / 365.25
    kind = periods.kind[owner]
    type_index = np.select(
        [is_adoption, kind == SHORT_BREAK, age >= 16, age >= 10],
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
        "clap_cla_placement_start_date": as_dates(p_start),
        "clap_cla_placement_end_date": as_dates(p_end, p_end != OPEN),
        "clap_cla_placement_type": codes_at(_PLACEMENT_TYPES, type_index),
        "clap_cla_placement_provider": codes_at(("PR0", "PR1", "PR2", "PR3", "PR4", "PR5"), provider),
        "clap_cla_placement_postcode": postcode,
        "clap_cla_placement_distance": distance,
        "clap_cla_placement_change_reason": masked(codes_at(PLACE_CHANGE_REASONS,
                                                           ctx.pick(weights_of(PLACE_CHANGE_REASONS), m)), moved),
        "clap_visit_frequency_days": frequency,
    }
    keep_rows = (p_end >= START)                    # placements that ended before the history are left out
    table = {k: (v.filter(pl.Series(keep_rows)) if isinstance(v, pl.Series) else v[keep_rows])
             for k, v in table.items()}
    owner = owner[keep_rows]
    return Placements(table=table, period=owner, person=periods.person[owner], start=p_start[keep_rows],
                       end=p_end[keep_rows], adoption=is_adoption[keep_rows], frequency=frequency[keep_rows],
                       number=number[keep_rows])


def cla_episode_table(ctx: Context, periods: Periods, placements: Placements) -> dict:
    """ssd_cla_episodes: one episode per placement, carrying its period of care and the date care began."""
    owner = placements.period
    first = placements.start == periods.start[owner]
    last = placements.end == periods.end[owner]
    ended = placements.end != OPEN
    reason = np.where(last, periods.reason[owner], -1)
    ceased = masked(codes_at(_CEASED + ("X1",), np.where(reason < 0, len(_CEASED), reason)), ended)
    n = len(owner)
    return {
        "clae_cla_episode_id": ctx.ids("CE", np.arange(1, n + 1)),
        "clae_person_id": ctx.ids("P", periods.person[owner] + 1),
        "clae_cla_id": ctx.ids("LA", periods.number[owner]),
        "clae_cla_episode_start_date": as_dates(placements.start),
        "clae_cla_episode_start_reason": codes_at(CARE_START_REASON, np.where(first, 0, 1)),
        "clae_cla_episode_ceased_date": as_dates(placements.end, ended),
        "clae_cla_episode_ceased_reason": ceased,
        "clae_entered_care_date": as_dates(periods.start[owner]),
        "clae_cla_placement_id": ctx.ids("PL", placements.number),
    }


def legal_status_table(ctx: Context, periods: Periods, placements: Placements) -> dict:
    """ssd_legal_status: consecutive statuses per period (police protection, interim and full care orders,
    section 20, placement orders for the adopted, V3/V4 short breaks)."""
    rng, n = ctx.rng, len(periods.person)
    end = periods.end
    adoption_start = np.full(n, OPEN)
    np.minimum.at(adoption_start, placements.period[placements.adoption], placements.start[placements.adoption])
    kind = periods.kind
    u = rng.random(n)
    voluntary = np.select([kind == HOME, kind == LONG, kind == ORDER], [u < 0.7, u < 0.4, u < 0.3], False)
    police = ~voluntary & (kind != SHORT_BREAK) & (rng.random(n) < 0.2)
    protect_end = np.minimum(periods.start + np.where(police, rng.integers(1, 8, n), 0), end)
    interim_end = np.minimum(periods.start + rng.integers(90, 300, n), np.minimum(adoption_start, end))
    full_order = ~voluntary & (kind != SHORT_BREAK) & (kind != ORDER)
    # (status, start, end, present); the last status of a period ends with it (null while open).
    stages = [
        (np.where(rng.random(n) < 0.7, "V4", "V3"), periods.start, end, kind == SHORT_BREAK),
        (np.full(n, "V2"), periods.start, end, voluntary),
        (np.full(n, "L2"), periods.start, protect_end, police),
        (np.full(n, "C1"), protect_end, np.where(full_order, interim_end, end), ~voluntary & (kind != SHORT_BREAK)),
        (np.full(n, "C2"), interim_end, np.minimum(adoption_start, end), full_order),
        (np.full(n, "E1"), adoption_start, end, adoption_start < OPEN),
    ]
    code = np.concatenate([s[0][s[3]] for s in stages])
    owner = np.concatenate([np.flatnonzero(s[3]) for s in stages])
    start = np.concatenate([s[1][s[3]] for s in stages])
    stop = np.concatenate([s[2][s[3]] for s in stages])
    keep = (stop > start) & (stop >= START) & (start <= EXTRACT)
    stop = np.where(stop <= EXTRACT, stop, OPEN)
    code, owner, start, stop = code[keep], owner[keep], start[keep], stop[keep]
    order = np.lexsort((start, owner))
    code, owner, start, stop = code[order], owner[order], start[order], stop[order]
    return {
        "lega_legal_status_id": ctx.ids("LS", np.arange(1, len(owner) + 1)),
        "lega_person_id": ctx.ids("P", periods.person[owner] + 1),
        "lega_legal_status": pl.Series(code, dtype=pl.String),
        "lega_legal_status_start_date": as_dates(start),
        "lega_legal_status_end_date": as_dates(stop, stop != OPEN),
    }


def cla_review_table(ctx: Context, periods: Periods) -> dict:
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

    owner, day, previous, position = chain(periods.start, np.minimum(periods.end, EXTRACT + 1), gap, 120, 3)
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
        "clar_cla_review_due_date": as_dates(du, du <= EXTRACT),
        "clar_cla_review_date": as_dates(d),
        "clar_cla_review_cancelled": c,
    }


def cla_visit_table(ctx: Context, placements: Placements) -> dict:
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

    owner, day, _, _ = chain(origin, np.minimum(placements.end, EXTRACT + 1), gap, 4)
    keep = (day >= START) & (day >= placements.start[owner])
    owner, day = owner[keep], day[keep]
    order = np.lexsort((owner, day))
    owner, day = owner[order], day[order]
    person_ids = placements.table["clap_person_id"].gather(owner)
    return {
        "clav_cla_visit_id": ctx.ids("LV", np.arange(1, len(owner) + 1)),
        "clav_person_id": person_ids,
        "clav_cla_id": placements.table["clap_cla_id"].gather(owner),
        "clav_cla_visit_date": as_dates(day),
        "clav_cla_visit_seen": rng.random(len(owner)) < 0.97,
    }


def cla_health_table(ctx: Context, periods: Periods) -> dict:
    """ssd_cla_health: initial health assessments (IHA), and yearly health and dental checks, some missed."""
    rng, cal, n = ctx.rng, ctx.cal, len(periods.person)
    end = np.minimum(periods.end, EXTRACT + 1)
    short = periods.kind == SHORT_BREAK
    iha_wd = np.where(rng.random(n) < IHA_IN_20_WD, rng.integers(5, 21, n), rng.integers(21, 61, n))
    iha_day = cal.add(periods.start, iha_wd)
    has_iha = (iha_day < end) & (iha_day >= START) & ~short & (rng.random(n) < 0.97)
    owners, days, kinds = [np.flatnonzero(has_iha)], [iha_day[has_iha]], [np.zeros(int(has_iha.sum()), np.int64)]
    for k, done in enumerate(HEALTH_CHECK_DONE.values(), start=1):   # HEALTH, DENTAL: about yearly
        owner, day, _, _ = chain(periods.start, end, lambda o, position: np.where(
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
        "clah_health_check_type": codes_at(("IHA", "HEALTH", "DENTAL"), kind),
        "clah_health_check_date": as_dates(day),
        "clah_health_check_status": codes_at(("Completed", "Refused"), status),
    }
