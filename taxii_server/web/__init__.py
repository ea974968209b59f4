"""The analyst workbench: web pages on the TAXII server, under ``/ui/``.

Server-rendered (Jinja templates, every value escaped), with two vendored scripts
where a page needs them (htmx for the object list's partial updates, cytoscape.js for
graphs; ``static/vendor/README.md`` says which versions, from where).  The pages call
the same :class:`~taxii_server.service.TaxiiService` as the TAXII endpoints, with the
same caller: what a user may read over TAXII is exactly what they see here, and every
read and publish is audited alike.  Nothing here touches a store.

Modules: :mod:`.session` (sign-in, the session cookie, CSRF), :mod:`.headers`
(Content-Security-Policy and friends), :mod:`.browse` (API roots, collections,
objects, one object), :mod:`.publish` (upload, preview, publish),
:mod:`.ecomap` (the ecosystem map), :mod:`.present` (STIX objects made readable).
"""

from __future__ import annotations

from flask import Blueprint, Flask

from taxii_server.storage.base import Storage

__all__ = ["register_workbench", "workbench"]

workbench = Blueprint(
    "workbench",
    __name__,
    url_prefix="/ui",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def register_workbench(app: Flask, storage: Storage) -> None:
    """Add the workbench's pages to the TAXII app ``app`` (whose store is ``storage``)."""
    # Imported here, not at the top: importing a module adds its views to the
    # blueprint, and they import the app's accessors.
    from taxii_server.web import browse, ecomap, errors, headers, publish, session  # noqa: F401

    session.configure(app, storage)
    app.register_blueprint(workbench)
