"""marshmallow schemas: the one place input is validated and output is shaped."""


def flatten_errors(messages: dict | list, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into {"applicant.cnic": [...]}: one key per field."""
    if isinstance(messages, list):
        return {prefix or "_schema": [str(m) for m in messages]}
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = str(key) if not prefix else f"{prefix}.{key}"
        if key == "_schema" and prefix:
            name = prefix
        flat.update(flatten_errors(value, name))
    return flat
