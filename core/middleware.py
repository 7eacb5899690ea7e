"""Domain errors raised in page views become 4xx pages (or fragments for htmx) naming the reason;
a request body larger than any upload is refused before it is read."""

from django.http import JsonResponse
from django.shortcuts import render

from core.errors import DomainError, InvalidInput
from core.uploads import UploadRejected, check_request_size


def error_response(request, error: DomainError):
    """The answer to a domain error: JSON under /api/, else the error page (a fragment for htmx)."""
    if request.path.startswith("/api/"):
        return JsonResponse(error.as_dict(), status=error.status_code)
    template = "partials/error.html" if request.headers.get("HX-Request") else "error.html"
    return render(request, template, {"error": error}, status=error.status_code)


class RequestSizeMiddleware:
    """413 for a body whose Content-Length exceeds the largest upload (core.uploads.request_size_limit),
    answered before anything reads the body: Django would otherwise spool all of it to memory or disk
    before any view could check a file's size. (Django reads no body without a Content-Length.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        try:
            check_request_size(length)
        except UploadRejected as error:
            response = error_response(request, error)
            response["Connection"] = "close"  # the unread body is not for the next request to parse
            return response
        return self.get_response(request)


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """A NUL character in a query or form value is a 400 before any view reads it: PostgreSQL cannot
        store or even compare text holding one (psycopg raises ValueError, a 500), and no form of
        Concord's takes one. Uploaded files are not form values and are not looked at here."""
        for params in (request.GET, request.POST if request.method == "POST" else None):
            if params is None:
                continue
            for key, values in params.lists():
                if "\x00" in key or any("\x00" in value for value in values):
                    error = InvalidInput("A NUL character (\\x00) is not allowed here.", field=key.replace("\x00", ""))
                    return error_response(request, error)
        return None

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if request.path.startswith("/api/"):
            return None  # DRF's exception handler answers API requests
        return error_response(request, exception)
