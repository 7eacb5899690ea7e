"""The one page-or-fragment helper: an htmx request gets the fragment, anything else the page.

`request.htmx` comes from django-htmx's middleware. A history restore (the Back button after
htmx swapped the page and the browser's cache missed) asks for the whole page, not a fragment.
Every response of a URL that can answer either way says `Vary: HX-Request`, so no cache serves
a fragment for the page or the page for a fragment."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

VARY = ("HX-Request",)


def wants_fragment(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_fragment(request, template: str, context: dict, *, partial: str | None = None, status: int = 200):
    """`template` (the page) or, for htmx, `partial` (its fragment); both with `Vary: HX-Request`."""
    chosen = partial if partial and wants_fragment(request) else template
    response = render(request, chosen, context, status=status)
    patch_vary_headers(response, VARY)
    return response


def poll_ends() -> HttpResponse:
    """The answer to an htmx poll whose wait is over: an empty body and `HX-Refresh`, so the browser loads
    the page again and shows what the wait was for (or the error that ended it)."""
    response = HttpResponse("")
    response["HX-Refresh"] = "true"
    return response


class VaryOnHtmxMiddleware:
    """Pages whose view picks a fragment by hand still vary on HX-Request (HTML responses only)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            patch_vary_headers(response, VARY)
        return response
