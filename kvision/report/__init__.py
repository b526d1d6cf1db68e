"""Evaluation summaries and pictures."""
