"""The rules of the market, one module per mechanism, each with its compiled kernels and the
equations in its docstring (docs/ODD.md, section 7 "Submodels"):

* `trust`      evidence-weighted trust and forgetting (T1-T2);
* `journey`    needs, research and purchase across channels (J1-J4);
* `consent`    touches, data capture, consent requests, personalisation, transparency (C1-C6);
* `outreach`   e-mail that lands as relevant or as spam, stale addresses, remembered mail (O0-O4);
* `incidents`  breaches, leaks and media stories: disclosure, harm, costs (I1-I7);
* `social`     word of mouth on the network (W1);
* `churn`      leaving, revoking, deleting accounts, consent rounds lapsing (L1-L5);
* `turnover`   consumers leave the market and newcomers take their rows (N1-N2);
* `metrics`    event counters, the daily tally and the `Recorder` that holds them.

Mechanisms import `sim.core`, `sim.scenario` and `sim.state` only, never the model above them.
"""
