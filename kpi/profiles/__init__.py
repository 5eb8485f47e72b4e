"""Source profiles: how one source's files (the SSD as SystemC, Mosaic or Eclipse export it, or kpi's own
canonical tables) become exactly the canonical tables of schemas/extracts.yaml. A profile is data
(profiles/*.yaml); these modules apply any profile the same way and know no CMS and no indicator.

profile.py reads and checks profiles; apply.py turns staged tables into canonical ones; report.py
tells the user what could not be mapped; coverage.py says which indicators the extract can give.
"""

from kpi.profiles.apply import adapter, fill_lookups, flag_sql, map_sql
from kpi.profiles.coverage import Coverage, assumed_report, blocked_indicators, coverage, needs_message
from kpi.profiles.profile import CANONICAL, DEFAULT_SOURCE, Derived, Flag, Profile, available, load_profile, merge, normalise
from kpi.profiles.report import LoadReport, Note, Unmapped, findings, warnings

__all__ = [
    "CANONICAL", "DEFAULT_SOURCE", "Coverage", "Derived", "Flag", "LoadReport", "Note", "Profile", "Unmapped", "adapter",
    "assumed_report", "available", "blocked_indicators", "coverage", "fill_lookups", "findings", "flag_sql",
    "load_profile", "map_sql", "merge", "needs_message", "normalise", "warnings",
]
