"""The rules of the market, one module per mechanism, each with its compiled kernels and the
equations in its docstring (docs/ODD.md, section 7 "Submodels"):

* `trust`      evidence-weighted trust and forgetting (T1-T2);
* `journey`    needs, research and purchase across channels (J1-J4);
* `consent`    touches, data capture, consent requests, personalisation (C1-C4);
* `outreach`   e-mail that lands as relevant or as spam (O1-O3);
* `incidents`  breaches, leaks and media stories: disclosure, harm, costs (I1-I7);
* `social`     word of mouth on the network (W1);
* `churn`      leaving, revoking, deleting accounts (L1-L4);
* `metrics`    event counters, the daily tally and the `Recorder` that holds them.

Mechanisms import `sim.core`, `sim.scenario` and `sim.state` only, never the model above them.
"""
