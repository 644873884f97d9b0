"""marshmallow schemas: the one place input is validated and output is shaped."""
