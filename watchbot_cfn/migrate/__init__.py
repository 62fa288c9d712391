"""``watchbot-cfn migrate``: take over a stack built by another Watchbot (10's CDK construct, 9) in place.

Works on template dicts: :mod:`pseudo` resolves the stack's pseudo parameters,
:mod:`oldstack` reads what the old template holds, :mod:`pairing` pairs each of
its stateful resources with the render's, :mod:`adopted` writes the adoption
options into the source, and :mod:`checks` proves the result replaces nothing
stateful.
"""

__all__: list[str] = []
