"""The demo council put together: every stage in a fixed order (they share one random generator, so the
order is part of the data) and the tables in schemas/extracts.yaml's order. Computes no indicator.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from kpi.demo.assessments import assessment_table, early_help_tables
from kpi.demo.care_leavers import draw_care_leavers
from kpi.demo.child_protection import (
    cp_review_table, cp_visit_table, draw_cp_plans, icpc_table, strategy_and_s47_tables
)
from kpi.demo.columns import as_frame, table_schemas
from kpi.demo.context import Context, shared_calendar
from kpi.demo.looked_after import (
    cla_episode_table, cla_health_table, cla_review_table, cla_visit_table, draw_periods_of_care, draw_placements,
    legal_status_table
)
from kpi.demo.missing import missing_table
from kpi.demo.people import draw_people, person_table
from kpi.demo.reference import benchmark_table, population_table
from kpi.demo.referrals import cin_episode_table, contact_table, draw_referral_journeys
from kpi.demo.timeline import DEFAULT_SEED
from kpi.demo.workforce import draw_staff, involvement_table


def generate(scale: int = 1, seed: int = DEFAULT_SEED) -> dict[str, pl.DataFrame]:
    """Every table of schemas/extracts.yaml for the demo council, `scale` times its size; same seed, same data."""
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a whole number of at least 1, not {scale!r}")
    ctx = Context(np.random.default_rng(seed), int(scale), shared_calendar())
    people = draw_people(ctx)
    staff = draw_staff(ctx)
    refs = draw_referral_journeys(ctx, people)
    tables: dict[str, dict] = {}
    tables["ssd_contacts"], contact_numbers = contact_table(ctx, people, refs)
    tables["ssd_cin_episodes"] = cin_episode_table(ctx, refs, contact_numbers, staff)
    tables["ssd_cin_assessments"] = assessment_table(ctx, refs)
    plans = draw_cp_plans(ctx, refs)
    tables["ssd_strategy_discussions"], tables["ssd_s47_enquiry"], s47_numbers = strategy_and_s47_tables(ctx, refs, plans)
    tables["ssd_initial_cp_conference"] = icpc_table(ctx, refs, plans, s47_numbers)
    tables["ssd_cp_plans"] = plans.table
    tables["ssd_cp_reviews"] = cp_review_table(ctx, plans)
    tables["ssd_cp_visits"] = cp_visit_table(ctx, plans)
    periods = draw_periods_of_care(ctx, people, refs)
    placements = draw_placements(ctx, people, periods)
    tables["ssd_cla_episodes"] = cla_episode_table(ctx, periods, placements)
    tables["ssd_cla_placement"] = placements.table
    tables["ssd_legal_status"] = legal_status_table(ctx, periods, placements)
    tables["ssd_cla_reviews"] = cla_review_table(ctx, periods)
    tables["ssd_cla_visits"] = cla_visit_table(ctx, placements)
    tables["ssd_cla_health"] = cla_health_table(ctx, periods)
    tables["ssd_missing"] = missing_table(ctx, people, placements, plans)
    leavers = draw_care_leavers(ctx, people, periods)
    tables["ssd_care_leavers"] = leavers.table
    tables["ssd_involvements"] = involvement_table(ctx, plans, periods, leavers, staff)
    tables["ssd_professionals"] = staff.table
    tables["ssd_early_help_episodes"], tables["ssd_early_help_assessments"] = early_help_tables(ctx, people)
    tables["ssd_person"] = person_table(ctx, people)
    tables["ref_population"] = population_table(ctx)
    frames = {name: as_frame(name, columns) for name, columns in tables.items()}
    frames["ref_benchmarks"] = benchmark_table()
    return {name: frames[name] for name in table_schemas()}
