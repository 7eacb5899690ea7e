"""The interviews row of Table 1, for `reports.table1` (which looks up `interview_row`)."""

from interviews.models import Interview
from interviews.selectors import interview_stats_row


def interview_row(project) -> dict | None:
    """`selectors.interview_stats_row(project)`, or None while the project has no interviews."""
    if not Interview.objects.filter(project=project).exists():
        return None
    return interview_stats_row(project)
