"""Where the data come from: the synthetic generator, the legacy import and the OpenAQ archive fetch."""
