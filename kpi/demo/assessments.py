"""Assessments and early help: ssd_cin_assessments (a referral's assessment and some re-assessments),
ssd_early_help_episodes and ssd_early_help_assessments.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kpi.demo.arrays import no_overlap
from kpi.demo.columns import as_dates, codes_at, masked, weights_of
from kpi.demo.context import Context
from kpi.demo.people import People, Pool
from kpi.demo.timeline import EH_SIM_START, EXTRACT, START


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
EH_EPISODES_PER_MONTH = 140          # CSC 001: 783 early help assessments FYTD / 6
EH_REASONS = ("Parenting", "Domestic abuse", "School attendance", "Emotional wellbeing", "Behaviour",
              "Parental mental health", "Substance misuse", "Housing")
EH_END_REASONS = (("Outcomes achieved", 60), ("Stepped up to social care", 12), ("Family disengaged", 15),
                  ("Moved out of area", 5), ("Stepped down to universal services", 8))


def assessment_table(ctx: Context, refs: dict) -> dict:
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
        "cina_assessment_start_date": as_dates(start),
        "cina_assessment_auth_date": as_dates(auth, done),
        "cina_assessment_child_seen": masked(pl.Series(seen), done),
        "cina_assessment_outcome_nfa": masked(pl.Series(outcome_nfa), done),
    }


def early_help_tables(ctx: Context, people: People) -> tuple[dict, dict]:
    """ssd_early_help_episodes and ssd_early_help_assessments: an assessment opens each episode of 1½-11 months."""
    rng = ctx.rng
    # Early help reaches families social care does not know as much as those it does: no family weighting.
    pool = Pool(ctx, people, np.arange(len(people.dob)), np.ones(len(people.dob)))
    days = ctx.monthly_days(EH_SIM_START, EH_EPISODES_PER_MONTH)
    person = pool.sample(days)
    found = person >= 0
    person, start = person[found], days[found]
    n = len(person)
    end = np.minimum(start + rng.integers(45, 330, n), people.adult[person])
    keep = no_overlap(person, start, end) & (end >= START)
    person, start, end = person[keep], start[keep], end[keep]
    n = len(person)
    closed = end <= EXTRACT
    number = np.arange(1, n + 1)
    episodes = {
        "earl_episode_id": ctx.ids("EH", number),
        "earl_person_id": ctx.ids("P", person + 1),
        "earl_episode_start_date": as_dates(start),
        "earl_episode_end_date": as_dates(end, closed),
        "earl_episode_reason": codes_at(EH_REASONS, rng.integers(0, len(EH_REASONS), n)),
        "earl_episode_end_reason": masked(codes_at(EH_END_REASONS, ctx.pick(weights_of(EH_END_REASONS), n)), closed),
    }
    completed = start + rng.integers(5, 46, n)
    has = start >= START
    done = completed[has] <= np.minimum(end[has], EXTRACT)
    assessments = {
        "eha_assessment_id": ctx.ids("EA", np.arange(1, int(has.sum()) + 1)),
        "eha_person_id": ctx.ids("P", person[has] + 1),
        "eha_episode_id": ctx.ids("EH", number[has]),
        "eha_start_date": as_dates(start[has]),
        "eha_completed_date": as_dates(completed[has], done),
    }
    return episodes, assessments
