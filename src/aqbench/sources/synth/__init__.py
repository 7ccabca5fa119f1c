"""Synthetic OpenAQ data in the exact legacy format, at any scale, byte-for-byte reproducible."""
