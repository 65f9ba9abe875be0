"""The public API is exactly ``__all__``: everything listed exists, nothing public is left unlisted."""

from __future__ import annotations

import workbench


def test_all_names_exist():
    for name in workbench.__all__:
        assert hasattr(workbench, name), name


def test_no_unlisted_public_members():
    import types

    for name in workbench.__all__:
        getattr(workbench, name)  # names load when first used
    public = {
        name
        for name, value in vars(workbench).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} == set(workbench.__all__) - {"__version__"}
    assert set(workbench.__all__) <= set(dir(workbench))


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'profile'"):
        workbench.profile  # noqa: B018


def test_error_tree():
    for cls in (
        workbench.DataContractError,
        workbench.StrategyError,
        workbench.TemplateError,
        workbench.JourneyError,
        workbench.ExportError,
        workbench.RunError,
        workbench.MeasurementError,
        workbench.SimulationError,
        workbench.FileError,
    ):
        assert issubclass(cls, workbench.WorkbenchError)
