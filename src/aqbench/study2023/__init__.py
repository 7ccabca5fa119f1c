"""The study's own code in the study's own software: Python 3.8, pandas 1.5.2, numpy 1.24.1,
Lithops 2.7.1, as the package index stood on 2023-01-16 (``runtime/study2023/``).

:mod:`.environment` finds a Python 3.8 on the machine and builds the pinned environment from its
lock; :mod:`.activations` runs the slides' code verbatim in it, one activation at a time, held
to an emulated Lambda of each memory size, and records each activation's phases."""
