"""Applies a checked :class:`~converters.spec.Mapping` to a checked package.

The engine knows no package item and no STIX type by name: what becomes what is
the mapping's business.  It adds what every mapping needs and none may get wrong
(research-package.md): deterministic ids (:mod:`converters.ids`), ``created`` /
``modified`` from the package (a fixed epoch for shared objects), the producer as
``created_by_ref``, TLP markings (an item's, the package's, or for a relationship
the most restrictive of its ends and its item), the ``new-sco`` extension on
community SCO types, and the list of marking and extension definitions used.

The output is plain dictionaries, in a deterministic order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from . import tlp
from .errors import MappingError, SourceProblem, TransformError
from .extensions import ATLAS_EXTENSION_ID, new_sco_definitions
from .ids import SCO_ID_PROPERTIES, object_id, relationship_id, sco_id
from .package import Package
from .paths import Element
from .relationships import defined_by_stix
from .scope import Draft, Registry
from .spec import Condition, Endpoint, Mapping, ObjectRule, RelationshipRule, ValueSpec
from .timestamps import PROJECT_EPOCH
from .transforms import TransformContext

__all__ = ["Conversion", "apply_mapping"]

#: Called after each mapping rule: (rules done, rules in all).
Progress = Callable[[int, int], None]

_ALL_OBJECTS: Final = object()  # placeholder of ``objects: all`` until the end


@dataclass(frozen=True, slots=True)
class Conversion:
    """The objects a package produced, and the definitions they rely on."""

    objects: list[dict[str, Any]]
    marking_levels: frozenset[str]  # TLP levels used
    extension_ids: frozenset[str]  # extension definitions used (community, project, TLP)


def apply_mapping(
    package: Package, mapping: Mapping, progress: Progress | None = None
) -> Conversion:
    """Convert ``package`` with ``mapping``; raises :class:`MappingError` on a mapping defect."""
    return _Engine(package, mapping, progress).run()


class _Engine:
    def __init__(self, package: Package, mapping: Mapping, progress: Progress | None) -> None:
        self.package, self.mapping, self.progress = package, mapping, progress
        self.root = package.root
        self.context = TransformContext(package, mapping.tables)
        self.registry = Registry()
        self.drafts: list[Draft] = []
        self.problems: list[SourceProblem] = []
        self.package_rank = tlp.rank_of_level(package.tlp)
        self.item_paths = {
            ref: (section, index)
            for section, items in package.sections.items()
            for index, item in enumerate(items)
            for ref in item.refs
        }

    # --- orchestration -------------------------------------------------------------

    def run(self) -> Conversion:
        mapping = self.mapping
        total = (
            len(mapping.objects) + len(mapping.extension_properties) + len(mapping.relationships)
        )
        done = 0
        for rules, apply in (
            (mapping.objects, self._object),
            (mapping.extension_properties, self._extension),
            (mapping.relationships, self._relationship),
        ):
            for rule in rules:
                for element in rule.selector.elements(self.package):
                    self._guarded(rule.where, element, apply, rule)
                done += 1
                if self.progress is not None:
                    self.progress(done, total)
        if self.problems:
            count = len(self.problems)
            raise MappingError(
                f"{mapping.path}: the mapping failed on {self.package.path} ({count} problems)",
                self.problems,
            )
        return self._emit()

    def _guarded(
        self, where: str, element: Element, apply: Callable[[Any, Element], None], rule: Any
    ) -> None:
        try:
            apply(rule, element)
        except TransformError as exc:
            at = element.item.location if element.item is not None else "$"
            message = f"{exc.summary} (mapping {self.mapping.path.name} {where})"
            self.problems.append(SourceProblem(_element_path(at, element), message))

    def _rank(self, element: Element) -> int:
        item = element.item
        return tlp.rank_of_level(item.tlp) if item is not None else self.package_rank

    # --- values and conditions -----------------------------------------------------

    def _holds(self, conditions: Iterable[Condition], element: Element) -> bool:
        for condition in conditions:
            if condition.test == "object":
                found = self.registry.find(condition.tag or "", element) is not None
                if found != condition.present:
                    return False
                continue
            assert condition.path is not None
            value = condition.path.get(element, self.root)
            if condition.test == "present":
                ok = (value is not None) == condition.present
            elif condition.test == "not_in":
                ok = not isinstance(value, str | int) or value not in condition.values
            else:  # in, in_table
                ok = isinstance(value, str | int) and value in condition.values
            if not ok:
                return False
        return True

    def _value(self, spec: ValueSpec, element: Element) -> Any:
        if spec.when and not self._holds(spec.when, element):
            return None
        value: Any = None
        if spec.source == "from":
            for path in spec.paths:
                value = path.get(element, self.root)
                if value is not None:
                    break
        elif spec.source == "value":
            value = spec.constant
        elif spec.source == "objects":
            return _ALL_OBJECTS
        else:
            draft = self.registry.find(spec.tag or "", element)
            if draft is not None:
                value = draft.id if spec.source == "ref" else draft.view()
        if value is not None and spec.transform is not None:
            value = spec.transform.function(value, spec.args, self.context)
        if value is None or value == [] or value == {} or value == "":
            return spec.default
        return value

    def _properties(
        self, specs: Iterable[tuple[str, ValueSpec]], element: Element
    ) -> dict[str, Any]:
        props = {}
        for name, spec in specs:
            value = self._value(spec, element)
            if value is not None:
                props[name] = value
        return props

    # --- objects -------------------------------------------------------------------

    def _object(self, rule: ObjectRule, element: Element) -> None:
        if rule.when and not self._holds(rule.when, element):
            return
        props = self._properties(rule.properties, element)
        kind, spec = rule.type, rule.id
        if spec.kind == "sco":
            if kind in new_sco_definitions():
                props["extensions"] = {
                    new_sco_definitions()[kind]["id"]: {"extension_type": "new-sco"}
                }
            try:
                new_id = sco_id({"type": kind, **props})
            except ValueError as exc:
                raise TransformError(str(exc)) from None
        elif spec.kind == "item":
            assert element.item is not None  # checked when the mapping was loaded
            new_id = object_id(kind, self.package.id, element.item.ref)
        elif spec.kind == "package":
            new_id = object_id(kind, self.package.id)
        else:
            assert spec.key is not None
            key = spec.key.get(element, self.root)
            if key is None:
                raise TransformError(f"no value at {spec.key.text} for the shared id of {kind}")
            new_id = object_id(kind, *((spec.key_kind,) if spec.key_kind else ()), key)
        rank = self._rule_rank(rule, element)
        draft = Draft(kind, new_id, props, rank, spec.kind in ("item", "package"), rule.where)
        existing = self.registry.by_id.get(new_id)
        if existing is not None:
            if existing.props != props or existing.rank != rank:
                raise TransformError(
                    f"{new_id} is made twice with different content "
                    f"(by {existing.where} and {rule.where})"
                )
            draft = existing
        else:
            self.registry.by_id[new_id] = draft
            self.drafts.append(draft)
        self.registry.file(draft, rule.tag, element)

    def _rule_rank(self, rule: ObjectRule, element: Element) -> int:
        if rule.tlp == "package":
            return self.package_rank
        if rule.tlp == "item":
            return self._rank(element)
        if rule.tlp is not None:
            return tlp.rank_of_level(rule.tlp)
        # research-package.md: an item's objects carry its TLP; objects no item
        # owns (package-level and shared ones) carry the package's.
        owned_by_item = rule.id.kind in ("sco", "item")
        return self._rank(element) if owned_by_item else self.package_rank

    # --- the project's property extension ---------------------------------------------

    def _extension(self, rule: Any, element: Element) -> None:
        if rule.when and not self._holds(rule.when, element):
            return
        target = next((d for d in (self.registry.find(t, element) for t in rule.on) if d), None)
        if target is None:
            return
        props = self._properties(rule.properties, element)
        if rule.copy_custom and isinstance(element.value, dict):
            props.update((k, v) for k, v in element.value.items() if k.startswith("x_"))
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

    # --- relationships ---------------------------------------------------------------

    def _ends(self, endpoint: Endpoint, element: Element) -> list[Draft]:
        if endpoint.kind == "each":
            return [d for tag in endpoint.tags for d in self.registry.everywhere(tag)]
        if endpoint.kind == "tag":
            for tag in endpoint.tags:
                found = self.registry.find(tag, element)
                if found is not None:
                    return [found]
            return []
        assert endpoint.via is not None
        ref = endpoint.via.get(element, self.root)
        path = self.item_paths.get(ref) if isinstance(ref, str) else None
        if path is None:
            raise TransformError(f"{endpoint.via.text} = {ref!r} is not the ref of an item")
        for tag in endpoint.tags:
            filed = self.registry.at(path, tag)
            if filed:
                return [filed[0]]
        tags = ", ".join(endpoint.tags)
        raise TransformError(f"item {ref!r} has no object tagged {tags}")

    def _relationship(self, rule: RelationshipRule, element: Element) -> None:
        fields = [c for c in rule.when if c.endpoint is None]
        if fields and not self._holds(fields, element):
            return
        ends = [c for c in rule.when if c.endpoint is not None]
        for source in self._ends(rule.source, element):
            for target in self._ends(rule.target, element):
                if not all(_type_ok(c, source, target) for c in ends):
                    continue
                kind = rule.type
                if rule.otherwise and not defined_by_stix(source.type, kind, target.type):
                    kind = rule.otherwise
                self._link(source, kind, target, self._rank(element), rule.where)

    def _link(self, source: Draft, kind: str, target: Draft, rank: int, where: str) -> None:
        new_id = relationship_id(source.id, kind, target.id)
        rank = max(rank, source.rank, target.rank)
        existing = self.registry.by_id.get(new_id)
        if existing is not None:  # the same fact from two elements
            existing.rank = max(existing.rank, rank)
            return
        props = {"relationship_type": kind, "source_ref": source.id, "target_ref": target.id}
        draft = Draft("relationship", new_id, props, rank, True, where)
        self.registry.by_id[new_id] = draft
        self.drafts.append(draft)

    # --- output ----------------------------------------------------------------------

    def _emit(self) -> Conversion:
        producers = list(self.registry.everywhere(self.mapping.created_by))
        if len(producers) != 1:
            raise MappingError(
                f"{self.mapping.path}: created_by tag {self.mapping.created_by!r} names "
                f"{len(producers)} objects in {self.package.path}; it must name exactly one"
            )
        creator = producers[0].id
        everything = [d.id for d in self.drafts]
        levels: set[str] = set()
        extensions: set[str] = set()
        objects = []
        for draft in self.drafts:
            level = tlp.level_of_rank(draft.rank)
            levels.add(level)
            obj: dict[str, Any] = {"type": draft.type, "spec_version": "2.1", "id": draft.id}
            if draft.type not in SCO_ID_PROPERTIES:
                if draft.owned and draft.id != creator:
                    obj["created_by_ref"] = creator
                obj["created"] = self.package.created if draft.owned else PROJECT_EPOCH
                obj["modified"] = self.package.modified if draft.owned else PROJECT_EPOCH
            for name, value in draft.props.items():
                if value is _ALL_OBJECTS:
                    value = [i for i in everything if i != draft.id]
                if name != "extensions":
                    obj[name] = value
            obj["object_marking_refs"] = [tlp.MARKING_IDS[level]]
            merged = dict(draft.props.get("extensions", {}))
            if draft.extension is not None:
                merged[ATLAS_EXTENSION_ID] = draft.extension
            if merged:
                obj["extensions"] = merged
                extensions.update(merged)
            objects.append(obj)
        if levels:
            extensions.add(tlp.TLP_EXTENSION_ID)
        return Conversion(objects, frozenset(levels), frozenset(extensions))


def _type_ok(condition: Condition, source: Draft, target: Draft) -> bool:
    kind = (source if condition.endpoint == "source" else target).type
    return (kind in condition.values) == (condition.test == "type_in")


def _element_path(item_location: str, element: Element) -> str:
    """Where an element is, for messages: its item's location plus the nested steps."""
    if element.item is None:
        return "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in element.path)
    rest = element.path[2:]
    return item_location + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in rest)
