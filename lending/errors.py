"""Domain exceptions; lending.web.errors maps each to one HTTP status."""


class LendingError(Exception):
    """Base of every error the platform raises on purpose."""

    status = 400
    code = "error"

    def __init__(self, message: str = "", **detail):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()
        self.detail = detail


class NotFound(LendingError):
    """Not found."""

    status = 404
    code = "not_found"


class Conflict(LendingError):
    """The request conflicts with the current state."""

    status = 409
    code = "conflict"


class Unauthorized(LendingError):
    """Authentication is required."""

    status = 401
    code = "unauthorized"


class Forbidden(LendingError):
    """Your role may not do this."""

    status = 403
    code = "forbidden"


class InvalidInput(LendingError):
    """The input is not valid; `errors` maps fields to messages."""

    status = 422
    code = "invalid"

    def __init__(self, errors: dict, message: str = "The input is not valid."):
        super().__init__(message)
        self.errors = errors


class OfferExpired(Conflict):
    """The offer has expired: submit the application again for a fresh offer."""

    code = "offer_expired"


class NightRefused(Conflict):
    """The night would move the book back, or there is nothing to replay."""

    code = "night_refused"
