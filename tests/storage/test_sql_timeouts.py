"""PostgreSQL connections carry server-side limits: a statement cannot run, nor a
transaction sit idle holding a collection's write lock, for more than a minute; a
storage URL's own ``options`` replace them."""

from __future__ import annotations

import pytest

from taxii_server.storage import sql
from taxii_server.storage.sql_dialect import Mode


def _settings(url: str) -> tuple[str, str]:
    database = sql.open_database(url, create=False)
    try:
        with database.transaction(Mode.READ) as tx:
            statement = tx.row("SHOW statement_timeout")
            idle = tx.row("SHOW idle_in_transaction_session_timeout")
    finally:
        database.close()
    assert statement is not None and idle is not None
    return str(statement[0]), str(idle[0])


@pytest.mark.postgres
def test_pooled_connections_have_timeouts(backend: str, store_url: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    assert _settings(store_url) == ("1min", "1min")


@pytest.mark.postgres
def test_the_url_may_set_its_own(backend: str, store_url: str) -> None:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    own = f"{store_url}&options=-c%20statement_timeout%3D0"
    assert _settings(own) == ("0", "0")
