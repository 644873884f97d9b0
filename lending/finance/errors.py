"""Errors of the money maths; each carries field messages the API can answer with."""


class FinanceError(ValueError):
    """Base of every error raised by lending.finance."""


class TermsError(FinanceError):
    """Loan terms (or APR input) that cannot be priced; `errors` maps field -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = {field: list(messages) for field, messages in errors.items()}
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in self.errors.items())
        super().__init__(f"invalid terms: {detail}")


class AllocationError(FinanceError):
    """A payment that cannot be applied (negative amount, unknown instalment...)."""
