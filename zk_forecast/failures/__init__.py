"""Failure-rate engine: life models, repairable-system trends, before/after comparisons, installed-base forecasts."""
