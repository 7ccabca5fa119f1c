"""The Lithops engine: the engine (executor, runs, rows) and the functions its calls run."""
