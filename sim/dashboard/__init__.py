"""The dashboard behind ``omnitrust dashboard`` (the command is in `sim.cli.dashboard`).

`market.LeverMarket` (Mesa only) runs the market with one brand's levers moved next to the
unchanged market; `app` (needs the ``dashboard`` extra: solara, altair, networkx) is the page,
Mesa's SolaraViz on a `LeverMarket`.
"""
