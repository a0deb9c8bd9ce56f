"""Run the operator command line as ``python -m maizeplus.cli``."""

from maizeplus.cli.main import main

main()
