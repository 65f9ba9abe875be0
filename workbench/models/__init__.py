"""The bottom floor: plain data the rest of the package computes with, and the errors it raises.

Errors (:mod:`~workbench.models.errors`), the data contract's tables
(:mod:`~workbench.models.tables`) and the :class:`~workbench.models.dataset.Dataset`,
the strategy file (:mod:`~workbench.models.strategy`) with its contact policy,
segment names, journeys and measurement settings. Nothing here imports the
rest of the package.
"""
