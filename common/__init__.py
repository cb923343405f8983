"""Shared foundations: settings, record types, topic and table names, Delta helpers.

Everything else in codemill imports from here; nothing here imports from the other packages.
"""
