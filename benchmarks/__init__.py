"""Benchmarks of the workbench against the peers named in its issues (`make bench`)."""
