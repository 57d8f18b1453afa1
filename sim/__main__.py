"""``python -m sim``: the omnitrust command line."""

from .cli import main

raise SystemExit(main())
