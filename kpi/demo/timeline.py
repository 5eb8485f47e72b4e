"""The demo council's dates: the extract's date, when its history and its simulation start, and the
day numbers (days since 1970) every generator module works in. Needs no numpy, so that the rest of the
engine can read EXTRACT_DATE without the generator.
"""

from __future__ import annotations

from datetime import date


EXTRACT_DATE = date(2018, 3, 31)     # the extract's date: nothing is dated after it
HISTORY_START = date(2014, 4, 1)     # contacts, visits, reviews... are kept from this date
DEFAULT_SEED = 20170930
# The simulation starts earlier so that what is open in April 2014 (a plan, a period of care begun years
# before, a care leaver aged 21) is there with its true start. Nothing starts before 2000: the engine's
# working-day calendar begins then.
CIN_SIM_START = date(2012, 4, 1)
EH_SIM_START = date(2013, 4, 1)
CLA_SIM_START = date(2000, 4, 1)
_EPOCH = date(1970, 1, 1)
DAY = 86_400                        # seconds
OPEN = 10**7                        # an end far beyond any date: "still open"


def day_number(d: date) -> int:
    """Days since 1970-01-01: every date is an int64 day number inside the demo package."""
    return (d - _EPOCH).days


EXTRACT = day_number(EXTRACT_DATE)
START = day_number(HISTORY_START)
