"""Scheduled jobs and the command line; jobs open an app context, never create one at import."""
