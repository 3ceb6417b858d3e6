"""Demand engine: panel, classification, intermittent-demand methods, selection and lead-time distributions."""
