"""The model: `TrustModel`, the market as a ``mesa.Model`` (`sim.model.market`), and its brands
as ``mesa.Agent``s (`sim.model.brand`). The day's phases are calls into `sim.mechanisms`.

``from sim.model import TrustModel`` is the public path."""

from .brand import BrandAgent
from .market import TrustModel

__all__ = ["BrandAgent", "TrustModel"]
