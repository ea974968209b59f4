"""Convert and publish: upload a research package (with its CSV side file), see
every problem at its line, preview what it would change in a collection, publish it
(:func:`taxii_server.user_publishing.publish_as`, the code of ``atlas-taxii
publish``), or download the bundle.

No state is kept between the steps: each form carries the sources (escaped in hidden
fields) and each step converts them again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Response, render_template, request

from ecosystem import build_map, rank
from taxii_server.app import current_caller, get_service
from taxii_server.errors import BadRequest
from taxii_server.service import CollectionAccess
from taxii_server.user_publishing import publish_as
from taxii_server.web import workbench
from taxii_server.web.conversion import Sources, bundle_bytes, convert_sources
from taxii_server.web.graphs import drawing

__all__: list[str] = []


def _writable() -> list[tuple[str, CollectionAccess]]:
    service = get_service()
    caller = current_caller()
    return [
        (root.name, access)
        for root in service.api_roots()
        for access in service.list_collections(caller, root.name)
        if access.can_write
    ]


def _text(field: str, upload: str) -> tuple[str, str]:
    """A source from a file input (``upload``) or, when none was chosen, a text field."""
    sent = request.files.get(upload)
    if sent is not None and sent.filename:
        raw = sent.read()
        try:
            return sent.filename, raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadRequest(f"{sent.filename}: not UTF-8 text") from None
    return request.form.get(f"{field}_name", ""), request.form.get(f"{field}_text", "")


def _sources() -> Sources:
    package_name, package_text = _text("package", "package_file")
    csv_name, csv_text = _text("csv", "csv_file")
    if not package_text.strip():
        raise BadRequest("choose a research package (YAML or JSON) to upload")
    return Sources(
        package_name,
        package_text,
        csv_name,
        csv_text.replace("\r\n", "\n"),
        allow_unverified=request.form.get("allow_unverified") == "on",
        lenient=request.form.get("lenient") == "on",
    )


def _target() -> tuple[str, str]:
    chosen = request.form.get("collection", "")
    root, slash, collection = chosen.partition("/")
    if not slash or not root or not collection:
        raise BadRequest("choose the collection to publish to")
    return root, collection


@workbench.route("/publish", methods=["GET"])
def upload() -> str:
    """The upload form."""
    return render_template(
        "upload.html",
        collections=_writable(),
        chosen=request.args.get("collection", ""),
        sources=None,
        problems=None,
    )


@workbench.route("/publish/preview", methods=["POST"])
def preview() -> tuple[str, int] | str:
    """Convert; on problems show them at their lines, else the preview."""
    sources = _sources()
    chosen = request.form.get("collection", "")
    document, problems = convert_sources(sources)
    objects = document["objects"]
    if problems is not None:
        page = render_template(
            "upload.html",
            collections=_writable(),
            chosen=chosen,
            sources=sources,
            problems=problems,
            package_lines=sources.package_text.splitlines(),
            csv_lines=sources.csv_text.splitlines(),
        )
        return page, 422
    root, collection = _target()
    service = get_service()
    report = publish_as(service, current_caller(), root, collection, objects, dry_run=True)
    access = service.collection(current_caller(), root, collection)
    emap = build_map(objects)
    graph = drawing(emap, rank(emap))
    per_type = sorted(Counter(str(o.get("type")) for o in objects).items())
    return render_template(
        "preview.html",
        sources=sources,
        chosen=chosen,
        access=access,
        root_name=root,
        report=report,
        per_type=per_type,
        total=len(objects),
        graph=graph,
        package=_package_of(objects),
    )


def _package_of(objects: list[Any]) -> dict[str, Any]:
    """The package's report object (its title and revision), when there is one."""
    return next((o for o in objects if o.get("type") == "report"), {})


@workbench.route("/publish/commit", methods=["POST"])
def commit() -> tuple[str, int] | str:
    """Publish to the chosen collection."""
    sources = _sources()
    document, problems = convert_sources(sources)
    objects = document["objects"]
    if problems is not None:
        raise BadRequest("the package no longer converts; upload it again to see why")
    root, collection = _target()
    service = get_service()
    report = publish_as(service, current_caller(), root, collection, objects)
    access = service.collection(current_caller(), root, collection)
    return render_template(
        "published.html",
        report=report,
        access=access,
        root_name=root,
        package=_package_of(objects),
        total=len(objects),
    )


@workbench.route("/publish/bundle", methods=["POST"])
def bundle() -> Response:
    """The converted bundle, as a download."""
    sources = _sources()
    document, problems = convert_sources(sources)
    if problems is not None:
        raise BadRequest("the package does not convert; upload it to see why")
    name = sources.package_file.rsplit(".", 1)[0] + ".stix.json"
    return Response(
        bundle_bytes(document),
        mimetype="application/stix+json;version=2.1",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
