"""Template helpers for Concord's pages: sanitised bodies, progress percentages, the viewer's roles."""

from django import template
from django.utils.safestring import mark_safe

from core.markdown import render_markdown
from core.models import Membership, Notification
from core.text import sanitise_html

register = template.Library()


@register.filter
def sanitised(body: str) -> str:
    """Untrusted artefact HTML, cleaned by nh3 and only then marked safe."""
    return mark_safe(sanitise_html(body))  # noqa: S308 - sanitised just above


@register.filter
def percent(done, total) -> int:
    """Whole percent of done/total for progress bars (0 when total is 0)."""
    try:
        done, total = int(done or 0), int(total or 0)
    except (TypeError, ValueError):
        return 0
    if total <= 0:
        return 0
    return max(0, min(100, round(100 * done / total)))


@register.inclusion_tag("core/_progress.html")
def progress(done, total, label=""):
    return {"done": done or 0, "total": total or 0, "pct": percent(done, total), "label": label}


@register.simple_tag(takes_context=True)
def project_membership(context, project):
    """The viewer's active membership of `project` (None if none), cached per request.

    Pages of every area include the project navigation; views that already know
    the membership put it in `request.concord_memberships` to spare the query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if project is None or user is None or not user.is_authenticated:
        return None
    cache = getattr(request, "concord_memberships", None)
    if cache is None:
        cache = request.concord_memberships = {}
    if project.pk not in cache:
        cache[project.pk] = Membership.objects.filter(project=project, user=user, is_active=True).first()
    return cache[project.pk]


@register.filter
def markdown(text: str) -> str:
    """Markdown (guidelines, instructions, descriptions) as sanitised HTML."""
    return mark_safe(render_markdown(text))  # noqa: S308 - sanitised by render_markdown


@register.simple_tag(takes_context=True)
def unread_notifications(context) -> int:
    """The signed-in viewer's unread notifications (the bell's count), once per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    if not hasattr(request, "concord_unread"):
        request.concord_unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return request.concord_unread
