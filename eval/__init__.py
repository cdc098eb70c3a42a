"""Retrieval evaluation: question files with evidence quotes, metrics that do not depend on chunking."""
