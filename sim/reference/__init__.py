"""Per-agent reference implementation: the same market, written the idiomatic Mesa 3 way.

`ReferenceModel` is a ``mesa.Model`` in which every consumer is a ``mesa.Agent``
(`ConsumerAgent`) holding its view of each brand in a small Python object (`Relation`), and every
brand is a ``mesa.Agent`` too (`ReferenceBrand`). A day is
``brands.shuffle_do("step")`` (breach hazard), the scheduled events,
``brands.shuffle_do("review")`` (disclosure), then ``consumers.shuffle_do("step")``: each
consumer lives its whole day in its own ``step()`` (needs, research, e-mail, purchase, incidents,
word of mouth, forgetting, leaving), in a random order of consumers.

It exists for two reasons (issue 5):

* an **oracle** for the compiled engine (`sim.model.TrustModel`): the rules are re-implemented
  from the equations in the module docstrings of the mechanisms, in plain Python, with Mesa's own
  ``self.random`` draws (not the counter-based streams of `sim.core.streams`, not the Numba
  kernels, not the bit-mask lookup tables of `sim.state.parameters`: data types here are sets of
  names). The package mirrors `sim.mechanisms` file by file: `journey`, `consent`, `outreach`,
  `incidents`, `social`, `trust`, `churn`, `turnover` and `metrics` each hold the twin of the engine module
  of the same name (a class of rules that `ConsumerAgent` or `ReferenceBrand` inherits), and
  `model` assembles them. Shared with the engine: the initial population
  (`sim.state.population.create_population`), so that engine and reference start from the same
  consumers for the same seed and can be compared pairwise, and constants (the catalogue's
  properties, the longest journey, the daily e-mail cap, the active-customer window, compensation
  shares and harm weights), never rules. `tests/test_reference_agreement.py` checks that the two
  agree statistically;
* the **peer** of the speed benchmark (`benchmarks/run.py`): what the model costs written as one
  Python object per consumer.

Coverage: every consumer-level rule (J1-J4, C1-C7, O0-O4, W1, T1-T2, L1-L5, N1-N2) and the incident
rules I1 (hazard), I2 (severity), I3 (notification and media discovery), I5 (exposure), I6
(disclosure shock scaled by candour, news whose reach and weight grow with the breach's size and
severity, contagion by data overlap and story framing), I7 (harm and attribution), I8 (wariness
of a breached channel), I9 (background fraud), the say/do outputs of the tally, the consumers
defrauded each day (``fraud_victims_any``), scheduled breaches, third-party leaks and media
stories (one that reveals covert data, C7), the lever costs (K1, `costs`), the margin from
personalization and the losses to spam (ODD 7.9), and the warm-up (``simulation.warmup_days``
days before day 0 with the same rules, no breaches, nothing recorded; journey shares count from
day 0). Not covered: the
money of incidents (I4: detection, notification, compensation and card costs, fines, security
spend) and the marketing cost of e-mail; the
10th-percentile trust and the trust histogram of `sim.mechanisms.metrics.tally`.

Differences that are deliberate (they do not change expectations): the phases of one consumer
are interleaved with other consumers' days (the engine runs each phase over everyone before the
next), so a friend's trust heard in word of mouth may be one day's evidence older or newer;
evidence is float64 here and float32 in the engine.
"""

from .metrics import engine_summary, summary_array
from .model import ConsumerAgent, ReferenceBrand, ReferenceModel

__all__ = ["ConsumerAgent", "ReferenceBrand", "ReferenceModel", "engine_summary", "summary_array"]
