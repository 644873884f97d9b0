"""Use cases: each takes a session, flushes, and leaves the commit to the request or job step."""
