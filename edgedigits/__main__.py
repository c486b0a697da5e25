"""python -m edgedigits: the command line (edgedigits.cli)."""
import sys

from .cli import main

sys.exit(main())
