"""Blueprints, one per audience: api, auth, retailer, and the public pages."""
