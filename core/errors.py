"""Domain errors raised by services and mapped to 4xx by pages and the API."""


class DomainError(Exception):
    """A rule was broken; nothing was written. `field` names the input at fault, if any."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self) -> dict:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message}


class InvalidInput(DomainError):
    status_code = 400


class NotAllowed(DomainError):
    status_code = 403

    def __init__(self, message: str = "You do not have permission to do this.", **kwargs):
        kwargs.setdefault("code", "permission_denied")
        super().__init__(message, **kwargs)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Not found.", **kwargs):
        kwargs.setdefault("code", "not_found")
        super().__init__(message, **kwargs)


class Conflict(DomainError):
    """The request is valid but the object's state forbids it (e.g. already decided)."""

    status_code = 409

    def __init__(self, message: str, **kwargs):
        kwargs.setdefault("code", "conflict")
        super().__init__(message, **kwargs)


def error_naming_file(error: DomainError, filename: str) -> DomainError:
    """The error of an upload read in a job, its message naming the file (the job's page shows only the message)."""
    if filename and not error.message.startswith(filename):
        error.message = f"{filename}: {error.message}"
        error.args = (error.message,)
    return error
