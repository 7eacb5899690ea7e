"""Interview transcripts and their fragment coding (see the interviews issue)."""
