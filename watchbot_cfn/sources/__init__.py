"""Reading what a user writes (TOML, YAML, JSON or Python sources, rendered templates) within safe bounds,
and writing rendered templates out."""
