"""Applies a checked :class:`~converters.spec.Mapping` to a checked package.

The engine knows no package item and no STIX type by name: what becomes what is
the mapping's business.  It adds what every mapping needs and none may get wrong
(research-package.md): deterministic ids (:mod:`converters.ids`), ``created`` /
``modified`` from the package (a fixed epoch for shared objects), the producer as
``created_by_ref``, TLP markings (an item's, the package's, or for a relationship
the most restrictive of its ends and its item), the ``new-sco`` extension on
community SCO types, and the list of marking and extension definitions used.

Rules run in file order — object rules, then extension rules, then relationship
rules — each over its elements in package order, so the output is deterministic.
It is plain dictionaries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import tlp
from .documents import line_of
from .errors import MappingError, SourceProblem, TransformError
from .evaluation import ALL_OBJECTS, Getter, Test, compile_conditions, compile_value
from .extensions import ATLAS_EXTENSION_ID, new_sco_definitions
from .ids import SCO_ID_PROPERTIES, object_id, relationship_id, sco_id
from .package import Package
from .paths import Element
from .relationships import defined_by_stix
from .scope import Draft, Registry
from .selection import Selection
from .spec import (
    Endpoint,
    ExtensionRule,
    Mapping,
    ObjectRule,
    RelationshipRule,
    ValueSpec,
)
from .timestamps import PROJECT_EPOCH
from .transforms import TransformContext

__all__ = ["Conversion", "apply_mapping"]

#: Called after each mapping rule: (rules done, rules in all).
RuleProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Conversion:
    """The objects a package produced, and the definitions they rely on."""

    objects: list[dict[str, Any]]
    marking_levels: frozenset[str]  # TLP levels used
    extension_ids: frozenset[str]  # extension definitions used (community, project, TLP)


def apply_mapping(
    package: Package, mapping: Mapping, progress: RuleProgress | None = None
) -> Conversion:
    """Convert ``package`` with ``mapping``; raises :class:`MappingError` on a mapping defect."""
    return _Engine(package, mapping).run(progress)


class _Engine:
    def __init__(self, package: Package, mapping: Mapping) -> None:
        self.package, self.mapping = package, mapping
        self.root = package.root
        self.context = TransformContext(package, mapping.tables)
        self.registry = Registry()
        self.selection = Selection(package)
        self.drafts: list[Draft] = []
        # properties filled last (objects: all), by the position of their draft
        self.deferred: list[tuple[int, str]] = []
        self.problems: list[SourceProblem] = []
        self.package_rank = tlp.rank_of_level(package.tlp)
        self._rank = _ranker(self.package_rank)
        self.item_paths = {
            ref: (section, index)
            for section, items in package.sections.items()
            for index, item in enumerate(items)
            for ref in item.refs
        }

    def run(self, progress: RuleProgress | None) -> Conversion:
        mapping = self.mapping
        steps: list[tuple[Any, Callable[[Element], None]]] = [
            *((rule, self._object_step(rule)) for rule in mapping.objects),
            *((rule, self._extension_step(rule)) for rule in mapping.extension_properties),
            *((rule, self._relationship_step(rule)) for rule in mapping.relationships),
        ]
        for done, (rule, step) in enumerate(steps, 1):
            for element in self.selection.candidates(rule.selector, rule.when):
                try:
                    step(element)
                except TransformError as exc:
                    self._fail(rule.where, element, exc)
            if progress is not None:
                progress(done, len(steps))
        if self.problems:
            raise MappingError(
                f"{mapping.path}: the mapping failed on {self.package.path} "
                f"({len(self.problems)} problems)",
                self.problems,
            )
        return self._emit()

    def _fail(self, where: str, element: Element, exc: TransformError) -> None:
        base = element.item.location if element.item is not None else "$"
        nested = element.path[2:] if element.item is not None else element.path
        steps = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in nested)
        message = f"{exc.summary} (mapping {self.mapping.path.name} {where})"
        if base.startswith("$"):
            path = base + steps
            line = line_of(self.package.path, path)
            self.problems.append(SourceProblem(path, message, str(self.package.path), line))
        else:  # a row of the CSV side file, which names its file
            path = f"{base} ({steps.lstrip('.')})" if steps else base
            self.problems.append(SourceProblem(path, message))

    def _when(self, rule: ObjectRule | ExtensionRule | RelationshipRule) -> Test | None:
        return compile_conditions(rule.when, self.root, self.registry)

    def _values(self, specs: tuple[tuple[str, ValueSpec], ...]) -> list[tuple[str, Getter]]:
        return [
            (name, compile_value(spec, self.root, self.registry, self.context))
            for name, spec in specs
        ]

    # --- objects ---------------------------------------------------------------------

    def _object_step(self, rule: ObjectRule) -> Callable[[Element], None]:
        when, values, kind, spec = (
            self._when(rule),
            self._values(rule.properties),
            rule.type,
            rule.id,
        )
        deferred = [name for name, value in rule.properties if value.source == "objects"]
        community = new_sco_definitions().get(kind)
        new_sco = {community["id"]: {"extension_type": "new-sco"}} if community else None
        rank_of = self._rank_rule(rule)
        owned = spec.kind in ("item", "package")
        registry, package_id, root = self.registry, self.package.id, self.root
        by_id, drafts, id_kind, tag, where = (
            registry.by_id,
            self.drafts,
            spec.kind,
            rule.tag,
            rule.where,
        )

        def step(element: Element) -> None:
            if when is not None and not when(element):
                return
            props = _properties(values, element)
            if id_kind == "sco":
                if new_sco is not None:
                    props["extensions"] = new_sco
                try:
                    new_id = sco_id({"type": kind, **props})
                except ValueError as exc:
                    raise TransformError(str(exc)) from None
            elif id_kind == "item":
                assert element.item is not None  # checked when the mapping was loaded
                new_id = object_id(kind, package_id, element.item.ref)
            elif id_kind == "package":
                new_id = object_id(kind, package_id)
            else:
                assert spec.key is not None
                key = spec.key.get(element, root)
                if key is None:
                    raise TransformError(f"no value at {spec.key.text} for the shared id of {kind}")
                new_id = object_id(kind, *((spec.key_kind,) if spec.key_kind else ()), key)
            rank = rank_of(element)
            draft = by_id.get(new_id)
            if draft is None:
                draft = Draft(kind, new_id, props, rank, owned, where)
                by_id[new_id] = draft
                drafts.append(draft)
                if deferred:
                    self.deferred += [(len(drafts) - 1, name) for name in deferred]
            elif draft.props != props or draft.rank != rank:
                raise TransformError(
                    f"{new_id} is made twice with different content (by {draft.where} and {where})"
                )
            registry.file(draft, tag, element)

        return step

    def _rank_rule(self, rule: ObjectRule) -> Callable[[Element], int]:
        if rule.tlp == "item":
            return self._rank
        if rule.tlp is not None and rule.tlp != "package":
            fixed = tlp.rank_of_level(rule.tlp)
            return lambda element: fixed
        # research-package.md: an item's objects carry its TLP; package-level objects
        # carry the package's.  Shared objects (author and sector identities,
        # locations, attack patterns) must be identical in every package that uses
        # them -- otherwise two packages of different TLP give one id and version two
        # contents, and a TAXII server refuses the second as a conflict (STIX 2.1
        # §3.6) -- so they carry TLP:CLEAR: an organisation's name, a country or an
        # ATT&CK technique is public; the package's own objects that point at them
        # keep the package's marking.
        if rule.tlp is None and rule.id.kind in ("sco", "item"):
            return self._rank
        if rule.tlp is None and rule.id.kind == "shared":
            return lambda element: 0
        package = self.package_rank
        return lambda element: package

    # --- the project's property extension ----------------------------------------------

    def _extension_step(self, rule: ExtensionRule) -> Callable[[Element], None]:
        when, values, find = self._when(rule), self._values(rule.properties), self.registry.find
        on = rule.on

        def step(element: Element) -> None:
            if when is not None and not when(element):
                return
            for tag in on:  # the first of the tags present
                target = find(tag, element)
                if target is not None:
                    break
            else:
                return
            props = _properties(values, element)
            if rule.copy_custom and isinstance(element.value, dict):
                value = element.value
                custom = [k for k in value if k.startswith("x_")]  # usually none
                if custom:
                    props.update((k, value[k]) for k in custom)
            if not props:
                return
            if "extensions" in SCO_ID_PROPERTIES.get(target.type, ()):
                raise TransformError(
                    f"the property extension cannot go on {target.id}: a {target.type}'s "
                    "extensions contribute to its id"
                )
            if target.extension is None:
                target.extension = {"extension_type": "property-extension"}
            target.extension.update(props)

        return step

    # --- relationships -----------------------------------------------------------------

    def _ends(self, endpoint: Endpoint) -> Callable[[Element], list[Draft]]:
        """The objects an endpoint names for an element (decided once per rule)."""
        registry, tags = self.registry, endpoint.tags
        if endpoint.kind == "each":
            return lambda element: [d for tag in tags for d in registry.everywhere(tag)]
        if endpoint.kind == "tag":
            find = registry.find

            def by_tag(element: Element) -> list[Draft]:
                for tag in tags:
                    found = find(tag, element)
                    if found is not None:
                        return [found]
                return []

            return by_tag
        assert endpoint.via is not None
        get, text, root, item_paths, at = (
            endpoint.via.get,
            endpoint.via.text,
            self.root,
            self.item_paths,
            registry.at,
        )

        def by_ref(element: Element) -> list[Draft]:
            ref = get(element, root)
            path = item_paths.get(ref) if isinstance(ref, str) else None
            if path is None:
                raise TransformError(f"{text} = {ref!r} is not the ref of an item")
            for tag in tags:
                filed = at(path, tag)
                if filed:
                    return [filed[0]]
            raise TransformError(f"item {ref!r} has no object tagged {', '.join(tags)}")

        return by_ref

    def _relationship_step(self, rule: RelationshipRule) -> Callable[[Element], None]:
        when, sources, targets = self._when(rule), self._ends(rule.source), self._ends(rule.target)
        on_ends = [c for c in rule.when if c.endpoint is not None]
        kind, otherwise, where, rank_of, link = (
            rule.type,
            rule.otherwise,
            rule.where,
            self._rank,
            self._link,
        )

        def step(element: Element) -> None:
            if when is not None and not when(element):
                return
            for source in sources(element):
                for target in targets(element):
                    if on_ends and any(
                        ((source if c.endpoint == "source" else target).type in c.values)
                        != (c.test == "type_in")
                        for c in on_ends
                    ):
                        continue
                    named = kind
                    if otherwise and not defined_by_stix(source.type, kind, target.type):
                        named = otherwise
                    link(source, named, target, rank_of(element), where)

        return step

    def _link(self, source: Draft, kind: str, target: Draft, rank: int, where: str) -> None:
        new_id = relationship_id(source.id, kind, target.id)
        rank = max(rank, source.rank, target.rank)
        by_id = self.registry.by_id
        existing = by_id.get(new_id)
        if existing is not None:  # the same fact from two elements
            existing.rank = max(existing.rank, rank)
            return
        props = {"relationship_type": kind, "source_ref": source.id, "target_ref": target.id}
        draft = Draft("relationship", new_id, props, rank, True, where)
        by_id[new_id] = draft
        self.drafts.append(draft)

    # --- output ------------------------------------------------------------------------

    def _emit(self) -> Conversion:
        producers = list(self.registry.everywhere(self.mapping.created_by))
        if len(producers) != 1:
            raise MappingError(
                f"{self.mapping.path}: created_by tag {self.mapping.created_by!r} names "
                f"{len(producers)} objects in {self.package.path}; it must name exactly one"
            )
        creator = producers[0].id
        created, modified = self.package.created, self.package.modified
        markings = [tlp.MARKING_IDS[level] for level in tlp.LEVELS]
        ranks: set[int] = set()
        extensions: set[str] = set()
        objects: list[dict[str, Any]] = []
        append = objects.append
        # What follows the id: nothing for an SCO; the epoch for shared objects; the
        # package's times for owned ones, and the creator for all but the creator.
        sco_head: dict[str, str] = {}
        shared_head = {"created": PROJECT_EPOCH, "modified": PROJECT_EPOCH}
        creator_head = {"created": created, "modified": modified}
        owned_head = {"created_by_ref": creator, **creator_head}
        for draft in self.drafts:
            rank, props, kind = draft.rank, draft.props, draft.type
            ranks.add(rank)
            if kind in SCO_ID_PROPERTIES:
                head = sco_head
            elif not draft.owned:
                head = shared_head
            else:
                head = owned_head if draft.id != creator else creator_head
            obj: dict[str, Any] = {
                "type": kind,
                "spec_version": "2.1",
                "id": draft.id,
                **head,
                **props,
                "object_marking_refs": [markings[rank]],
            }
            # an SCO's new-sco extension, moved after the marking
            merged = obj.pop("extensions", None) if "extensions" in props else None
            if draft.extension is not None:
                merged = {**(merged or {}), ATLAS_EXTENSION_ID: draft.extension}
            if merged:
                obj["extensions"] = merged
                extensions.update(merged)
            append(obj)
        if self.deferred:  # objects: all (one object per draft, in the same order)
            ids = [draft.id for draft in self.drafts]
            for position, name in self.deferred:
                assert objects[position][name] is ALL_OBJECTS
                objects[position][name] = ids[:position] + ids[position + 1 :]
        if ranks:
            extensions.add(tlp.TLP_EXTENSION_ID)
        levels = frozenset(tlp.level_of_rank(rank) for rank in ranks)
        return Conversion(objects, levels, frozenset(extensions))


def _ranker(package_rank: int) -> Callable[[Element], int]:
    """An element's TLP rank: its item's, or the package's for package-level elements."""
    ranks = {level: tlp.rank_of_level(level) for level in tlp.LEVELS}

    def rank(element: Element) -> int:
        item = element.item
        if item is None:
            return package_rank
        try:
            return ranks[item.tlp]
        except (KeyError, TypeError):
            return tlp.rank_of_level(item.tlp)  # raises, naming the level

    return rank


def _properties(values: list[tuple[str, Getter]], element: Element) -> dict[str, Any]:
    """The present properties of an element, in rule order."""
    props = {}
    for name, get in values:
        value = get(element)
        if value is not None:
            props[name] = value
    return props
