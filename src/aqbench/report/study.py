"""What the original study reported: the facts the paper sets beside this build's numbers.

They are the study's published figures, not measurements of this build, so they are
constants here (one place) and reach the paper as macros like every other number.
Sources: the study itself and the platform documentation summarised in DESIGN.md.
"""

DATA_GB = 50
"""The study's dataset: about 50 GB of OpenAQ realtime measurements."""

OBJECT_MB = 25
"""...split into objects of about 25 MB (df0 ... dfN)."""

WARMUP_CALLS = 1979
"""The study's warm-up: 1979 calls..."""

WARMUP_OBJECTS_PER_CALL = 2
"""...of two objects each..."""

WARMUP_MEMORY_MB = 1024
"""...at 1024 MB..."""

WARMUP_WALL_S = 67
"""...over the whole dataset in about 67 s (about a minute)."""

MEMORY_SIZES_MB = (1024, 2048, 3538)
"""The memory sizes the study measured."""

TIMEOUT_S = 900
"""Lambda's limit, which the study's all-objects-in-one-call run hit."""

VISIBLE_CORES_2048 = 2
"""At 2048 MB the study's functions saw two cores..."""

SCALED_CORES_2048 = 1.15
"""...and it scaled their utilisation to 2048/1769 = 1.15 vCPUs."""
