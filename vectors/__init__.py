"""The shipped test vectors (YAML) and their JSON Schema, as package data."""
