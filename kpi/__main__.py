"""`python -m kpi`: the same command line as the `kpi` script."""

from kpi.cli import main

main()
