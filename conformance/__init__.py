"""Cross-framework conformance kit for loss functions."""
__version__ = "0.1.0"
