"""Engines: Lithops and Dask schedule the same kernel calls; each run is checked and measured alike."""
