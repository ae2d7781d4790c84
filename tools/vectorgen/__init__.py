"""The case definitions behind ``vectors/*.yaml`` and the writer that renders them (run tools/make_vectors.py)."""
