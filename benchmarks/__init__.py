"""Benchmarks for atlas-taxii, each compared with a peer in the same run.

Run ``python -m benchmarks --help``; each subcommand is a module in this package
that exposes ``configure(parser)`` (setting ``run``), like the ``atlas-taxii`` CLI.
Results print as a table on stdout and are written as JSON under
``benchmarks/results/``.
"""
