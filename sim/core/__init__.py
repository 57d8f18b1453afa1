"""What every layer shares and that knows nothing of the model's rules (bottom layer):

* `sim.core.catalogue`  channels and data types, their properties and bit layouts;
* `sim.core.streams`    named, counter-based random streams (common random numbers);
* `sim.core.blocks`     consumer blocks spread over threads, reduced in block order; prefetch;
* `sim.core.errors`     user errors with messages that name the file, field and value;
* `sim.core.storage`    atomic file writes and provenance (versions, model fingerprint).
"""
