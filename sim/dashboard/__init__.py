"""The dashboard behind ``omnitrust dashboard`` (the command is in `sim.cli.dashboard`).

`market.LeverMarket` (Mesa only) runs the market with one brand's levers moved next to the
unchanged market; `app` (needs the ``dashboard`` extra: solara, altair, networkx) is the page,
a Solara page on a `LeverMarket`.
"""

import warnings

# solara checks the rules of hooks of every component when it is defined and warns (7-9 lines on
# stderr) about one of Mesa's own (mesa.visualization.solara_viz.ComponentsView): nothing the
# user can act on. Only that warning is silenced.
HOOKS_WARNING = (
    r".*mesa[/\\]visualization[/\\]solara_viz\.py:\d+: ComponentsView: `use_state` found "
    r"despite early return"
)


# solara's server warns (14 lines, at the first page request) that a samesite=none cookie needs
# https and that it falls back to samesite=lax: what a page served over plain http (the
# dashboard's only way) should use anyway; the warning is for a page embedded in another site's
# iframe, which the dashboard is not.
COOKIE_WARNING = r"Cookies with samesite=none require https"


def quiet_third_party_warnings() -> None:
    """Silence solara's rules-of-hooks warning about Mesa's ComponentsView (`HOOKS_WARNING`) and
    its cookie warning for a page served over http (`COOKIE_WARNING`)."""
    warnings.filterwarnings(
        "ignore", message=HOOKS_WARNING, category=UserWarning, module=r"solara\.validate_hooks"
    )
    warnings.filterwarnings(
        "ignore", message=COOKIE_WARNING, category=UserWarning, module=r"solara\.server\.starlette"
    )
