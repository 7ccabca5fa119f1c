"""What the original study reported: the facts the paper sets beside this build's numbers.

They are the study's published figures, not measurements of this build, so they are
constants here (one place) and reach the paper as macros like every other number.
Sources: the study itself and the platform documentation summarised in DESIGN.md.
"""

DATA_GB = 50
"""The study's dataset: about 50 GB of OpenAQ realtime measurements."""

OBJECT_MB = 25
"""...split into objects of about 25 MB (df0 ... dfN)."""
