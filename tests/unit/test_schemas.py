"""Frame helpers of the schemas module."""

from __future__ import annotations

import polars as pl
import pytest
from capgap.core.schemas import frame_of


def test_frame_of_equals_a_frame_built_from_the_same_series() -> None:
    columns = [
        pl.Series("a", [1.0, None, 3.0]),
        pl.Series("b", ["x", "y", None]),
        pl.Series("c", [True, False, None]),
    ]
    assert frame_of(columns).equals(pl.DataFrame(columns))
    assert frame_of(columns[:1]).columns == ["a"]
    with pytest.raises(pl.exceptions.ShapeError):
        frame_of([columns[0], pl.Series("d", [1.0])])
