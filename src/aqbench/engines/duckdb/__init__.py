"""The single-node engine: one process on every core (DuckDB, and the idiomatic DuckDB and Polars queries)."""
