"""Bigtent's data layer: read, normalise, validate and write Wikibase-style records.

Nothing in this package imports Flask; the web app (``webapp``) builds on it.
"""
