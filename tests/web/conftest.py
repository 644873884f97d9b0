"""Web tests share the root fixtures (the `setup` shop lives in tests/conftest.py)."""
