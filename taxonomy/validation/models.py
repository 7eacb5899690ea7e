"""The validation survey of a taxonomy (the paper's Table 2)."""
