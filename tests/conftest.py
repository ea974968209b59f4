"""Fixtures shared by every test directory.

``pg_cluster`` is defined here, once, so the whole session starts one throwaway
PostgreSQL cluster (see :mod:`tests.pg`) however many directories use it; a fixture
imported into several conftests would be a separate session fixture in each.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg import PgCluster, PgUnavailable


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster for the whole session (skips when unavailable)."""
    try:
        cluster = PgCluster.start_new()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()
