"""Random histories of adds and deletes, checked against a reference model of TAXII
2.1 version selection (§3.4.1) under TLP clearance, on every backend.

The model is the spec read literally: a reader cleared at *c* sees the versions whose
TLP rank is at most *c*; ``first``/``last`` are the oldest/newest of those; a delete
removes what the same query would return.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxii_server.storage.base import AddOutcome, Collection, Storage
from tests.storage.stix import query, sdo, ts

IDS = [f"indicator--{uuid.UUID(int=n, version=4)}" for n in range(1, 4)]
LEVELS = ("clear", "green", "amber", "amber+strict", "red")
SELECTIONS = {
    "last": {},
    "first": {"first": True, "last": False},
    "both": {"first": True},
    "all": {"all_": True},
}

add_op = st.tuples(
    st.just("add"), st.sampled_from(IDS), st.integers(1, 6), st.integers(0, 4), st.booleans()
)
delete_op = st.tuples(
    st.just("delete"),
    st.sampled_from(IDS),
    st.sampled_from(sorted(SELECTIONS)),
    st.integers(0, 4),
    st.just(False),
)


@dataclass
class Model:
    """Stored versions: id -> version -> (tlp, body marker)."""

    versions: dict[str, dict[int, tuple[int, bool]]] = field(default_factory=dict)

    def select(self, object_id: str, selection: str, clearance: int) -> set[int]:
        visible = sorted(
            v for v, (tlp, _) in self.versions.get(object_id, {}).items() if tlp <= clearance
        )
        if not visible:
            return set()
        options = SELECTIONS[selection]
        if options.get("all_"):
            return set(visible)
        chosen = set()
        if options.get("first"):
            chosen.add(visible[0])
        if options.get("last", True):
            chosen.add(visible[-1])
        return chosen


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.one_of(add_op, add_op, delete_op), min_size=1, max_size=12))
def test_store_agrees_with_the_model(
    storage: Storage, collection: Collection, ops: list[tuple[str, str, object, int, bool]]
) -> None:
    target = Collection(str(uuid.uuid4()), collection.api_root, f"model {uuid.uuid4()}")
    storage.create_collection(target)
    model = Model()
    for kind, object_id, arg, level, variant in ops:
        if kind == "add":
            version = ts(int(arg))  # type: ignore[call-overload]
            obj = sdo(object_id, modified=version, tlp=LEVELS[level], name=f"v{variant}")
            (result,) = storage.add_objects(target.id, [obj])
            known = model.versions.setdefault(object_id, {}).get(version)
            if known is None:
                expected = AddOutcome.ADDED
                model.versions[object_id][version] = (level, variant)
            else:
                same = known == (level, variant)
                expected = AddOutcome.UNCHANGED if same else AddOutcome.CONFLICT
            assert result.outcome is expected and result.version == version
        else:
            selection = str(arg)
            doomed = model.select(object_id, selection, level)
            deleted = storage.delete_objects(
                target.id,
                object_id,
                query(clearance=level, **SELECTIONS[selection]),  # type: ignore[arg-type]
            )
            assert deleted == len(doomed)
            for version in doomed:
                del model.versions[object_id][version]

    for clearance in range(5):
        for selection, options in SELECTIONS.items():
            page = storage.query_manifest(target.id, query(clearance=clearance, **options))  # type: ignore[arg-type]
            got = {(m.id, m.version) for m in page.items}
            want = {(i, v) for i in IDS for v in model.select(i, selection, clearance)}
            assert got == want, (clearance, selection)
