"""Adapters for the frameworks the kit ships with, found through the conformance.adapters entry points."""
