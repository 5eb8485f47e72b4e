"""Vectorised helpers on numpy arrays: groups and positions, running sums per group, non-overlapping
episodes, calendar arithmetic on day numbers, chains of events. Pure arithmetic: no table, no randomness
but what a caller passes in.
"""

from __future__ import annotations

import numpy as np

from kpi.demo.timeline import OPEN


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given sizes: each element's group and its position within the group."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    offsets = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - offsets[owner]


def seg_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group (owner sorted ascending)."""
    total = np.cumsum(values)
    first = np.r_[True, owner[1:] != owner[:-1]]
    base = (total - values)[first]
    return total - base[np.cumsum(first) - 1]


def no_overlap(person: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Keep-mask of episodes that begin after every earlier episode of the same person has ended.

    Conservative (an episode dropped for overlapping still blocks later ones) but vectorised: a running
    maximum of earlier ends per person, made per-person by offsetting each person's ends.
    """
    order = np.lexsort((start, person))
    p, s, e = person[order], start[order], np.minimum(end[order], OPEN)
    first = np.r_[True, p[1:] != p[:-1]]
    rank = np.cumsum(first)
    shifted = np.maximum.accumulate(e + rank * (2 * OPEN))
    previous = np.r_[-1, shifted[:-1]] - rank * (2 * OPEN)
    keep_sorted = first | (s > previous)
    keep = np.empty(len(person), dtype=bool)
    keep[order] = keep_sorted
    return keep


def add_years(days: np.ndarray, years) -> np.ndarray:
    """The same day and month `years` later; 29 February falls on 1 March in a common year (as age_in_years)."""
    d = np.asarray(days, dtype=np.int64).astype("M8[D]")
    month = d.astype("M8[M]")
    day_of_month = (d - month.astype("M8[D]")).astype(np.int64)
    return (month + np.asarray(years, dtype=np.int64) * 12).astype("M8[D]").astype(np.int64) + day_of_month


def add_months(days: np.ndarray, months: int) -> np.ndarray:
    """`months` calendar months later, clamped to the month's last day (as SQL's date + INTERVAL)."""
    d = np.asarray(days, dtype=np.int64).astype("M8[D]")
    month = d.astype("M8[M]")
    day_of_month = (d - month.astype("M8[D]")).astype(np.int64)
    target = month + months
    last = (target + 1).astype("M8[D]").astype(np.int64) - 1
    return np.minimum(target.astype("M8[D]").astype(np.int64) + day_of_month, last)


def chain(start: np.ndarray, end: np.ndarray, gap, min_gap: int, extra: int = 2):
    """Events chained from each owner's start (event k = event k-1 + a drawn gap) up to its end (exclusive).

    gap(owner, position) draws the gaps of a batch of slots. Each owner gets length // min_gap + extra
    slots, enough when every gap after the first `extra - 1` is at least min_gap; slots past the end are
    cut. Returns the owner, day, previous event's day (or the start) and position of each event.
    """
    length = np.maximum(end - start, 0)
    owner, position = expand(length // min_gap + extra)
    gaps = gap(owner, position)
    day = start[owner] + seg_cumsum(gaps, owner)
    keep = day < end[owner]
    return owner[keep], day[keep], (day - gaps)[keep], position[keep]
