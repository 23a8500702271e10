"""Falcon resources, one module per API area; each receives its collaborators."""
