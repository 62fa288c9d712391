"""Operator tools run from a laptop or a CI job against a deployed stack: ``watchbot-dead-letter``.

boto3 and the standard library only (plus the runtime's message helpers), so
the commands start quickly and never load the template side.
"""
