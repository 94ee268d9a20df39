"""Figures and words: formatted tables, readings, charts and the HTML report."""
