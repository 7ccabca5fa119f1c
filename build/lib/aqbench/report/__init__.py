"""Figures, tables and LaTeX macros: every picture and number of the paper, generated."""
