"""aqbench: serverless (Lithops) versus cluster (Dask) analysis of OpenAQ data, reproducibly."""

__version__ = "0.1.0"
