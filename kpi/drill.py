"""The rows behind a number (SPEC §9): the numerator's or denominator's rows for one month, or the
denominator rows missing from the numerator (the late assessments, the overdue visits).

Runs the indicator's own queries, unchanged, so the count of rows is the number on the scorecard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from kpi.database import columns_of, install_period, wrap
from kpi.extracts import quote
from kpi.issues import KpiError
from kpi.plan import IndicatorPlan

PARTS = ("numerator", "denominator", "excluded")


@dataclass(frozen=True)
class Drill:
    """The rows of one part of one indicator in one month."""

    indicator_id: str
    month: date
    part: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


def drill(con: duckdb.DuckDBPyConnection, plan: IndicatorPlan, month: date, part: str) -> Drill:
    """The rows of `part` for `month`; `excluded` needs a denominator."""
    if part not in PARTS:
        raise KpiError(f"--part must be one of {', '.join(PARTS)}, not {part!r}")
    install_period(con, [row for row in plan.period if row["month"] == month])
    numerator = f"({wrap(plan.numerator.text)})"
    if part == "numerator":
        sql = f"SELECT * FROM {numerator} WHERE month = ?"
    else:
        if plan.denominator is None:
            raise KpiError(f"{plan.indicator.id} is a {plan.indicator.unit} with no denominator: drill its numerator")
        denominator = f"({wrap(plan.denominator.text)})"
        sql = f"SELECT * FROM {denominator} d WHERE month = ?"
        if part == "excluded":
            shared = sorted(set(columns_of(con, plan.numerator.text)) & set(columns_of(con, plan.denominator.text)))
            if set(shared) <= {"month", "value"}:
                raise KpiError(
                    f"the numerator and denominator of {plan.indicator.id} share no column but `month`: they count "
                    "different things, so there are no denominator rows missing from the numerator to list"
                )
            match = " AND ".join(f"n.{quote(c)} IS NOT DISTINCT FROM d.{quote(c)}" for c in shared)
            sql += f" AND NOT EXISTS (SELECT 1 FROM {numerator} n WHERE {match})"
    relation = con.execute(sql + " ORDER BY ALL", [month])
    columns = tuple(d[0] for d in relation.description)
    return Drill(plan.indicator.id, month, part, columns, tuple(relation.fetchall()))
