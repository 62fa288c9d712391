"""What ``watchbot-cfn init`` writes: a commented source, a worker that follows the contract and a Dockerfile.

Kept as text here so the package needs no data files; every file is checked by the tests to render, lint
clean and run under ``watchbot-cfn local`` as written.
"""
