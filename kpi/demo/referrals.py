"""Contacts and referrals: every referral's journey (outcome, assessment, strategy, S47, conference,
plan, care, close) drawn at once, ssd_contacts (with siblings and repeat contacts) and ssd_cin_episodes.
The journey's rates live here; the later stages' tables are written by their own modules.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kpi.demo.arrays import expand, no_overlap
from kpi.demo.columns import as_dates, as_timestamps, codes_at, masked, weights_of
from kpi.demo.context import Context
from kpi.demo.looked_after import care_paths
from kpi.demo.people import People, Pool
from kpi.demo.timeline import CIN_SIM_START, DAY, EXTRACT, HISTORY_START, START
from kpi.demo.workforce import Staff


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
COMMUNICATIONS_PER_MONTH = 425       # CSC 004 Sept (2,542 FYTD / 6 = 424)
SIBLINGS_WANTED = (0.35, 0.30, 0.20, 0.15)   # 0-3 more children named on a communication, as the family allows:
                                     # CSC 004i/004: 698 rows for 425 communications
REPEAT_CONTACT_SHARE = 0.25          # about a child contacted in the last 3 weeks: CSC 004k, 587 children in 698 rows
REFERRALS_PER_MONTH = 100            # CSC 014: 577 referrals FYTD, 96 a month with the August dip (CSC 013 Sept: 77)
RE_REFERRAL_RATE = 0.18              # a closed referral is followed by another: CSC 032, 133/577 = 23% within 12 months
RE_REFERRAL_WITHIN_YEAR = 0.80       # share of those that come within 12 months of the close
REFERRALS_KEPT = 0.93                # share of drawn referrals left once chains stop at 18 or would overlap (measured)
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
SOURCES = (("1A", 4), ("1B", 3), ("1C", 1), ("2A", 16), ("2B", 2), ("3A", 5), ("3B", 3), ("3C", 2),
           ("3D", 2), ("3E", 2), ("4", 3), ("5A", 5), ("5B", 3), ("5C", 2), ("5D", 4), ("6", 28), ("7", 2),
           ("8", 6), ("9", 2), ("10", 6))          # CIN census referral sources; 6 = police
NEEDS = (("N1", 50), ("N2", 4), ("N3", 4), ("N4", 10), ("N5", 16), ("N6", 3), ("N7", 1), ("N8", 4), ("N9", 8))
_CIN_CLOSE = ("RC8", "RC7", "RC8", "RC9", "RC3", "RC4", "RC5")   # CIN census close reasons (see _referral_stage)


def draw_referral_journeys(ctx: Context, people: People) -> dict[str, np.ndarray]:
    """Every referral and what followed it, one array per attribute (one element per referral).

    First referrals arrive from April 2012; each closed referral may be followed by a re-referral of the
    same child. A loop over generations (not over children) builds the chains; referrals of a child that
    would overlap an earlier one are then dropped, and only those still open in April 2014 or later kept.
    """
    pool = Pool(ctx, people, np.arange(len(people.dob)), people.weight)
    first_per_month = REFERRALS_PER_MONTH * (1 - RE_REFERRAL_RATE) / REFERRALS_KEPT
    days = ctx.monthly_days(CIN_SIM_START, first_per_month)
    person = pool.sample(days)
    found = person >= 0
    person, seconds = person[found], days[found] * DAY + ctx.times(int(found.sum()))
    parts = []
    for generation in range(12):
        if len(person) == 0:
            break
        part = _referral_stage(ctx, people, person, seconds)
        part["generation"] = np.full(len(person), generation)
        parts.append(part)
        person, seconds = _re_referrals(ctx, people, part)
    refs = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    keep = no_overlap(refs["person"], refs["day"], refs["close"])
    keep &= refs["close"] >= START
    order = np.argsort(refs["seconds"][keep], kind="stable")
    return {key: value[keep][order] for key, value in refs.items()}


def _referral_stage(ctx: Context, people: People, person: np.ndarray, seconds: np.ndarray) -> dict[str, np.ndarray]:
    """One generation of referrals: outcome, assessment, strategy, S47, ICPC, plan, care, and the close date."""
    rng, cal, n = ctx.rng, ctx.cal, len(person)
    day = seconds // DAY
    adult = people.adult[person]
    contact_seconds = seconds - rng.integers(5, 240, n) * 60      # the contact came in shortly before
    hours = ctx.banded([(int(lo * 60), int(hi * 60), p) for lo, hi, p in COMPLETION_HOURS], n)
    completed = seconds + hours * 60
    path = ctx.pick(list(REFERRAL_PATHS.values()), n)             # 0 assessment, 1 strategy, 2 nfa, 3 transfer-in
    assessed, straight, nfa, transfer = path == 0, path == 1, path == 2, path == 3

    # Work starts once the referral is completed: a strategy discussion straight away, or an assessment
    # (with, for some, a strategy discussion during it).
    decided = completed // DAY
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
    care_kind, care_end = care_paths(ctx, people, person, plan_end)

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
        "source": ctx.pick(weights_of(SOURCES), n), "need": ctx.pick(weights_of(NEEDS), n),
    }


def _re_referrals(ctx: Context, people: People, part: dict) -> tuple[np.ndarray, np.ndarray]:
    """The next generation: some closed referrals are followed by another for the same child."""
    rng, n = ctx.rng, len(part["person"])
    again = (part["close"] <= EXTRACT) & ~part["to_care"] & (rng.random(n) < RE_REFERRAL_RATE)
    gap = np.where(rng.random(n) < RE_REFERRAL_WITHIN_YEAR, rng.integers(1, 366, n), rng.integers(366, 1100, n))
    day = ctx.cal.next_working(part["close"] + gap)
    again &= (day <= EXTRACT) & (day < people.adult[part["person"]])
    seconds = day[again] * DAY + ctx.times(int(again.sum()))
    return part["person"][again], seconds


def contact_table(ctx: Context, people: People, refs: dict) -> tuple[dict, np.ndarray]:
    """ssd_contacts: one row per child per communication, and the contact id number of each referral.

    A referral's communication names the referred child first. Communications that led to no referral
    arrive from April 2014, some about a child contacted shortly before; siblings (members of the same
    family aged 0-17 that day) are added to some communications.
    """
    rng = ctx.rng
    pool = Pool(ctx, people, np.arange(len(people.dob)), people.weight)
    other_days = ctx.monthly_days(HISTORY_START, COMMUNICATIONS_PER_MONTH - REFERRALS_PER_MONTH)
    other_child = pool.sample(other_days)
    found = other_child >= 0
    other_seconds = other_days[found] * DAY + ctx.times(int(found.sum()))
    n_ref = len(refs["person"])
    anchor = np.r_[refs["person"], other_child[found]]
    comm_seconds = np.r_[refs["contact_seconds"], other_seconds]
    n_comm = len(anchor)
    source = np.r_[refs["source"], ctx.pick(weights_of(SOURCES), n_comm - n_ref)]

    # Some communications are about a child contacted in the three weeks before (a repeat contact).
    by_time = np.argsort(comm_seconds, kind="stable")
    sorted_seconds = comm_seconds[by_time]
    lo = np.searchsorted(sorted_seconds, comm_seconds - 21 * DAY)
    hi = np.searchsorted(sorted_seconds, comm_seconds)
    earlier = anchor[by_time][np.minimum(lo + np.floor(rng.random(n_comm) * (hi - lo)).astype(np.int64), n_comm - 1)]
    repeat = (np.arange(n_comm) >= n_ref) & (hi > lo) & (rng.random(n_comm) < REPEAT_CONTACT_SHARE)
    repeat &= people.adult[earlier] > comm_seconds // DAY
    anchor = np.where(repeat, earlier, anchor)

    # Siblings: expand each communication over its family, keep members aged 0-17 that day, up to `wanted`.
    wanted = ctx.pick(SIBLINGS_WANTED, n_comm)
    size = np.where(wanted > 0, people.family_size[anchor], 0)
    comm, position = expand(size)
    member = people.family_first[anchor[comm]] + position
    day = comm_seconds[comm] // DAY
    eligible = (member != anchor[comm]) & (people.dob[member] <= day) & (people.adult[member] > day)
    comm, member = comm[eligible], member[eligible]
    _, rank = expand(np.bincount(comm, minlength=n_comm))
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
        "cont_contact_date": as_timestamps(row_seconds[order]),
        "cont_contact_source_code": codes_at(SOURCES, source[row_comm[order]]),
        "cont_communication_id": ctx.ids("M", comm_number[row_comm[order]]),
        "cont_outcome_new_referral": referred[order],
    }
    return table, row_number[:n_ref]                   # a referral's own row is among the first n_ref


def cin_episode_table(ctx: Context, refs: dict, contact_numbers: np.ndarray, staff: Staff) -> dict:
    """ssd_cin_episodes: each referral with its contact, completion, outcome flags and close."""
    n = len(refs["person"])
    completed = refs["completed"] <= (EXTRACT + 1) * DAY - 1
    closed = refs["close"] <= EXTRACT
    path = refs["path"]
    worker = ctx.rng.integers(*staff.ranges["assessment"], n)
    return {
        "cine_referral_id": ctx.ids("R", np.arange(1, n + 1)),
        "cine_person_id": ctx.ids("P", refs["person"] + 1),
        "cine_referral_date": as_timestamps(refs["seconds"]),
        "cine_referral_source_code": codes_at(SOURCES, refs["source"]),
        "cine_cin_primary_need_code": codes_at(NEEDS, refs["need"]),
        "cine_referral_nfa": masked(pl.Series(path == 2), completed),
        "cine_close_date": as_dates(refs["close"], closed),
        "cine_close_reason": masked(codes_at(_CIN_CLOSE, refs["close_reason"]), closed),
        "cine_referral_team": codes_at(staff.team_names, staff.team[worker]),
        "cine_referral_worker_id": ctx.ids("W", worker + 1),
        "cine_contact_id": ctx.ids("C", contact_numbers),
        "cine_referral_completed_datetime": as_timestamps(refs["completed"], completed),
        "cine_outcome_assessment": masked(pl.Series((path == 0) | (path == 3)), completed),
        "cine_outcome_strategy": masked(pl.Series(path == 1), completed),
    }
