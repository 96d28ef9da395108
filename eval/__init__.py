"""Evaluation harness: datasets, metrics and reports. Drives matcher/ through its public API."""
