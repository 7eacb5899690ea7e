"""Readers of other annotation tools' exports (Label Studio, doccano) and of REFI-QDA codebooks."""
