"""Published numbers travel as package data, with a source on every row."""

from __future__ import annotations

from sampleaudio.reporting import published_results


def test_published_results_are_package_data_with_sources():
    table = published_results()
    assert len(table) > 10 and {"source"} <= set(table.columns)
    assert table["source"].notna().all() and (table["source"].str.len() > 0).all()
