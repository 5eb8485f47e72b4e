"""Child protection: ssd_cp_plans, ssd_strategy_discussions, ssd_s47_enquiry,
ssd_initial_cp_conference, ssd_cp_reviews and ssd_cp_visits, from the referral journeys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from kpi.demo.arrays import add_months, chain
from kpi.demo.columns import as_dates, codes_at, masked, weights_of
from kpi.demo.context import Context
from kpi.demo.timeline import EXTRACT, OPEN, START, day_number


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
ON_PLAN_STRATEGY = 0.25              # plans with a later strategy discussion (those CSC 161 leaves out)
CP_REVIEW_LATE = 0.015               # CSC 191: 100% in the seed, near it here
CP_VISIT_LATE = 0.105                # visits more than 10 working days after the last: 88% in time (CSC 252a)
CP_CATEGORIES = (("NEG", 48), ("EMO", 36), ("PHY", 8), ("SAB", 4), ("MUL", 4))


@dataclass
class Plans:
    """Child protection plans: ssd_cp_plans, and the arrays later stages build on."""

    table: dict
    ref: np.ndarray            # index of the referral the plan belongs to
    person: np.ndarray
    start: np.ndarray
    end: np.ndarray            # OPEN when still open at the extract date
    number: np.ndarray         # the plan's id number


def draw_cp_plans(ctx: Context, refs: dict) -> Plans:
    """ssd_cp_plans: one per ICPC that decided on a plan."""
    ref = np.flatnonzero(refs["has_plan"] & (refs["icpc_day"] <= EXTRACT))
    start = refs["icpc_day"][ref]
    end = np.where(refs["plan_end"][ref] <= EXTRACT, refs["plan_end"][ref], OPEN)
    order = np.lexsort((ref, start))
    ref, start, end = ref[order], start[order], end[order]
    n = len(ref)
    number = np.arange(1, n + 1)
    icpc_number = _icpc_numbers(refs)[ref]
    table = {
        "cppl_cp_plan_id": ctx.ids("CP", number),
        "cppl_person_id": ctx.ids("P", refs["person"][ref] + 1),
        "cppl_icpc_id": ctx.ids("IC", icpc_number),
        "cppl_cp_plan_start_date": as_dates(start),
        "cppl_cp_plan_end_date": as_dates(end, end != OPEN),
        "cppl_cp_plan_initial_category": codes_at(CP_CATEGORIES, ctx.pick(weights_of(CP_CATEGORIES), n)),
        "cppl_cp_plan_ola": ctx.rng.random(n) < 0.02,
    }
    return Plans(table=table, ref=ref, person=refs["person"][ref], start=start, end=end, number=number)


def _icpc_numbers(refs: dict) -> np.ndarray:
    """The id number of each referral's ICPC (in date order), 0 where it has none."""
    held = refs["has_icpc"] & (refs["icpc_day"] <= EXTRACT)
    index = np.flatnonzero(held)
    order = index[np.lexsort((index, refs["icpc_day"][index]))]
    numbers = np.zeros(len(held), dtype=np.int64)
    numbers[order] = np.arange(1, len(order) + 1)
    return numbers


def strategy_and_s47_tables(ctx: Context, refs: dict, plans: Plans) -> tuple[dict, dict, np.ndarray]:
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
        "strd_strategy_date": as_dates(day),
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
        "s47e_s47_start_date": as_dates(day[k]),
        "s47e_s47_end_date": as_dates(s47_end[k], ended),
        "s47e_s47_nfa": masked(pl.Series(nfa[k]), ended),
    }
    return strategy, enquiry, s47_numbers


def icpc_table(ctx: Context, refs: dict, plans: Plans, s47_numbers: np.ndarray) -> dict:
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
        "icpc_s47_enquiry_id": masked(ctx.ids("S", np.maximum(s47_numbers[ref], 1)), has_s47),
        "icpc_icpc_transfer_in": refs["transfer"][ref],
        "icpc_icpc_target_date": as_dates(refs["icpc_target"][ref], refs["icpc_target"][ref] <= EXTRACT),
        "icpc_icpc_date": as_dates(refs["icpc_day"][ref]),
        "icpc_icpc_outcome_cp_flag": has_plan,
        "icpc_cp_plan_id": masked(ctx.ids("CP", np.maximum(plan_number[ref], 1)), has_plan),
    }


def cp_review_table(ctx: Context, plans: Plans) -> dict:
    """ssd_cp_reviews: first within 3 months of the plan's start, then every 6 months; a few late."""
    rng = ctx.rng

    def gap(owner, position):
        k = len(owner)
        late = rng.random(k) < CP_REVIEW_LATE
        first = np.where(late, rng.integers(93, 115, k), rng.integers(50, 89, k))
        later = np.where(late, rng.integers(185, 215, k), rng.integers(140, 180, k))
        return np.where(position == 0, first, later)

    owner, day, previous, position = chain(plans.start, np.minimum(plans.end, EXTRACT + 1), gap, 140)
    due = np.where(position == 0, add_months(previous, 3), add_months(previous, 6))
    keep = day >= START
    owner, day, due = owner[keep], day[keep], due[keep]
    return {
        "cppr_cp_review_id": ctx.ids("CR", np.arange(1, len(owner) + 1)),
        "cppr_person_id": ctx.ids("P", plans.person[owner] + 1),
        "cppr_cp_plan_id": ctx.ids("CP", plans.number[owner]),
        "cppr_cp_review_due": as_dates(due, due <= EXTRACT),
        "cppr_cp_review_date": as_dates(day),
    }


def cp_visit_table(ctx: Context, plans: Plans) -> dict:
    """ssd_cp_visits: every 10 working days or sooner, about one in ten late."""
    rng, cal = ctx.rng, ctx.cal
    n = len(plans.ref)
    # Plans open before the history starts chain from a notional visit just before it (not in the extract).
    origin = np.where(plans.start >= START, plans.start, cal.add(START - 15, rng.integers(0, 10, n)))
    # Chained in working-day numbers (working days since the last day of 1999), then turned into dates.
    origin_wd = cal.count(np.full(n, day_number(date(1999, 12, 31))), origin)
    end_wd = cal.count(np.full(n, day_number(date(1999, 12, 31))), np.minimum(plans.end, EXTRACT + 1))

    def gap(owner, position):
        late = rng.random(len(owner)) < CP_VISIT_LATE
        return np.where(late, rng.integers(11, 21, len(owner)), rng.integers(6, 11, len(owner)))

    owner, wd_index, _, _ = chain(origin_wd, end_wd, gap, 6)
    day = cal.add(np.full(len(owner), day_number(date(1999, 12, 31))), wd_index)
    keep = (day >= START) & (day >= plans.start[owner]) & (day < np.minimum(plans.end, EXTRACT + 1)[owner])
    owner, day = owner[keep], day[keep]
    return {
        "cppv_cp_visit_id": ctx.ids("CV", np.arange(1, len(owner) + 1)),
        "cppv_person_id": ctx.ids("P", plans.person[owner] + 1),
        "cppv_cp_plan_id": ctx.ids("CP", plans.number[owner]),
        "cppv_cp_visit_date": as_dates(day),
        "cppv_cp_visit_seen": rng.random(len(owner)) < 0.96,
    }
