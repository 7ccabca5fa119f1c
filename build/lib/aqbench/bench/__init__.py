"""Benchmarks: each prints the project's figure beside its reference, measured in the same run."""
