"""kpi: a declarative indicator engine for children's social care scorecards.

The pipeline runs one way: load → validate → plan → run → assess → render; `cli` only wires it.
"""

__version__ = "0.1.0"
