"""The workforce: ssd_professionals (teams of social workers, managers, assistants and personal
advisers) and ssd_involvements (who is allocated to each CP plan, period of care and care leaver).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from kpi.demo.arrays import expand
from kpi.demo.care_leavers import Leavers
from kpi.demo.child_protection import Plans
from kpi.demo.columns import as_dates, codes_at, masked
from kpi.demo.context import Context
from kpi.demo.looked_after import Periods
from kpi.demo.timeline import EXTRACT, OPEN, START


# Volumes are at scale 1 and per month unless said; volumes and rates are calibrated to the seed's
# September 2017 figures (seed/q2_2017_report.csv, INDICATORS.md).
PROFESSIONALS = {                    # staff at scale 1: (team prefix, teams, per team, job title, qualified)
    "assessment": ("Assessment Team", 3, 6, "Social Worker", True),
    "safeguarding": ("Safeguarding Team", 4, 6, "Social Worker", True),
    "looked_after": ("Looked After Team", 3, 7, "Social Worker", True),
    "managers": ("Management", 1, 10, "Team Manager", True),
    "assistants": ("Family Support Team", 1, 6, "Social Work Assistant", False),
    "leaving_care": ("Leaving Care Team", 1, 6, "Personal Adviser", False),
}
UNQUALIFIED_ALLOCATION = 0.004       # CSC 183/227: 100% in the seed, near it here


@dataclass
class Staff:
    """ssd_professionals, each role's range of worker indexes (for allocating them), and their teams."""

    table: dict
    ranges: dict[str, tuple[int, int]]
    team: np.ndarray           # index into team_names per worker
    team_names: tuple[str, ...]


def draw_staff(ctx: Context) -> Staff:
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
        "prof_social_worker_registration_no": masked("SW" + registration, is_qualified),
        "prof_professional_job_title": codes_at(title_names, title),
        "prof_is_qualified_sw": is_qualified,
    }
    return Staff(table=table, ranges=ranges, team=team, team_names=tuple(team_names))


def _workers(ctx: Context, staff: Staff, role: str, n: int) -> np.ndarray:
    """n workers of a role, at random; a few allocations go to an unqualified assistant (a real extract's flaw)."""
    lo, hi = staff.ranges[role]
    chosen = ctx.rng.integers(lo, hi, n)
    if role in ("safeguarding", "looked_after"):
        a_lo, a_hi = staff.ranges["assistants"]
        stray = ctx.rng.random(n) < UNQUALIFIED_ALLOCATION
        chosen = np.where(stray, ctx.rng.integers(a_lo, a_hi, n), chosen)
    return chosen


def _split(ctx: Context, start: np.ndarray, end: np.ndarray, parts: np.ndarray):
    """Cut each interval [start, end) into `parts` consecutive pieces at random points (end may be OPEN)."""
    owner, position = expand(parts)
    cut = np.where(position == 0, 0.0, ctx.rng.random(len(owner)))   # the first piece starts at the start
    order = np.lexsort((cut, owner))
    owner, cut = owner[order], cut[order]
    length = np.minimum(end, EXTRACT + 1)[owner] - start[owner]
    piece_start = start[owner] + (cut * length).astype(np.int64)
    last = np.r_[owner[1:] != owner[:-1], True]
    piece_end = np.where(last, end[owner], np.r_[piece_start[1:], 0])
    return owner, piece_start, piece_end


def involvement_table(ctx: Context, plans: Plans, periods: Periods, leavers: Leavers, staff: Staff) -> dict:
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
        "invo_professional_role_id": codes_at(("SW", "PA"), role),
        "invo_professional_team": codes_at(staff.team_names, staff.team[worker]),
        "invo_involvement_start_date": as_dates(start),
        "invo_involvement_end_date": as_dates(end, end != OPEN),
    }
