"""The arrays the mechanisms read and write, built from a validated scenario:

* `sim.state.population`  consumers as a structure of NumPy arrays (one row per consumer, one
                          column per brand), their flags and journey state;
* `sim.state.network`     the small-world acquaintance network word of mouth travels on;
* `sim.state.parameters`  the scenario flattened into the tables the compiled kernels read.
"""
