"""``python -m sim``: the omnitrust command line."""

from .cli import console

console()
