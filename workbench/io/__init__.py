"""The file edge: read datasets and documents, write outputs atomically.

Only this package (and the other edges: the command line, reports, widgets)
touches the file system. Reading never modifies the input; every write goes
through :mod:`workbench.io.writer`.
"""

from __future__ import annotations

from .adapters import HILLSTROM_ARMS, READOUT_DATASETS, load_hillstrom, load_online_retail, load_readout_data
from .files import diff_files, dump_json_schema, load_journeys, load_strategy, read_text, validate_file
from .outputs import (
    output_folder,
    write_audiences,
    write_exports,
    write_gallery,
    write_journeys,
    write_plan,
    write_preview,
)
from .resources import (
    default_output_root,
    notebooks_dir,
    resolve_output_dir,
    sample_data,
    sample_strategy,
    templates_dir,
)
from .spark import is_spark_source, read_spark_tables, reads_with_spark, write_spark_plan, write_spark_profiles
from .tables import is_postgres_url, load_dataset, profiles_in_postgres, shown_url, write_dataset
from .workspace import load_templates, open_workspace
from .writer import (
    OutputFolder,
    atomic_write,
    defuse_formulas,
    file_sha256,
    files_table,
    new_run_dir,
    refuse_inputs,
    safe_name,
    staged_output,
    write_table,
    write_text,
)

__all__ = [
    "HILLSTROM_ARMS",
    "READOUT_DATASETS",
    "OutputFolder",
    "atomic_write",
    "default_output_root",
    "defuse_formulas",
    "diff_files",
    "dump_json_schema",
    "file_sha256",
    "files_table",
    "is_postgres_url",
    "is_spark_source",
    "load_dataset",
    "load_hillstrom",
    "load_journeys",
    "load_online_retail",
    "load_readout_data",
    "load_strategy",
    "load_templates",
    "new_run_dir",
    "notebooks_dir",
    "open_workspace",
    "output_folder",
    "profiles_in_postgres",
    "read_spark_tables",
    "read_text",
    "reads_with_spark",
    "refuse_inputs",
    "resolve_output_dir",
    "safe_name",
    "sample_data",
    "sample_strategy",
    "shown_url",
    "staged_output",
    "templates_dir",
    "validate_file",
    "write_audiences",
    "write_dataset",
    "write_exports",
    "write_gallery",
    "write_journeys",
    "write_plan",
    "write_preview",
    "write_spark_plan",
    "write_spark_profiles",
    "write_table",
    "write_text",
]
