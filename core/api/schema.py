"""The OpenAPI schema as the API answers: paginated lists for views that paginate by hand, and the
error answers every operation can give (drf-spectacular postprocessing hook)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import is_list_serializer
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

ERROR = {
    "type": "object",
    "description": 'One key per field at fault with its messages, or "detail" with one message.',
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: one key per field at fault (or `detail`).",
    "401": "Not authenticated (no, a wrong or an expired token).",
    "403": "Authenticated, but this role may not do this.",
    "404": "No such object (or not a member of its project).",
    "409": "The object's state forbids it (e.g. decided already, finished, closed).",
    "413": "An upload over its limit (size, unpacked size, entries, columns).",
    "429": "Too many requests (sign-in lockout or anonymous rate limit).",
}
WRITE = {"post", "put", "patch", "delete"}


def paginated(serializer_class, *, name: str | None = None):
    """The page object ApiPagination answers: {count, next, previous, results: [...]}."""
    base = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        name or f"Paginated{base}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def document_errors(result, generator, request, public):
    """Add the error answers (with the shared Error schema) each operation may give, unless it names them."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            codes = ["400", "404"]
            if operation.get("security", [{}]) != [] and {} not in operation.get("security", [{}]):
                codes += ["401", "403"]
            if method in WRITE:
                codes += ["409"]
            if method in WRITE and "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                codes += ["413"]
            if path.startswith(("/api/surveys/", "/api/responses/", "/api/token/")):
                codes += ["429"]
            for code in codes:
                operation["responses"].setdefault(code, {"description": ERRORS[code], **ref})
    return result


class ObjectListSchema(AutoSchema):
    """For a viewset whose `list` answers one object (the whole tree), not an array."""

    def _is_list_view(self, serializer=None) -> bool:
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict) and serializer:
            by_code = {str(code): s for code, s in serializer.items()}
            serializer = by_code[min(by_code)]
        return is_list_serializer(serializer)
