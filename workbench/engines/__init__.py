"""Engines the work runs on besides embedded DuckDB (the default, in :mod:`workbench.profiles` and friends).

:mod:`workbench.engines.spark`: profiles and segment rules in Spark SQL and the
send plan per partition of customers, with the results of the DuckDB engine.
The application layer (:class:`workbench.application.Workspace`) is the one
place an engine is chosen.
"""
