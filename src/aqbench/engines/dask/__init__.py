"""The Dask engine: the engine (cluster, runs, rows) and its tasks."""
