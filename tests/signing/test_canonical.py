"""The signed form: RFC 8785, assembled from the objects' own canonical bytes."""

from __future__ import annotations

import json
from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from converters.signing import canonical_bundle

from .conftest import BUNDLE

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    objects=st.lists(st.dictionaries(st.text(max_size=6), _JSON, max_size=5), max_size=5),
    extra=st.dictionaries(st.text(max_size=6).filter(lambda k: k != "objects"), _JSON, max_size=3),
)
def test_the_assembled_bytes_are_rfc8785_of_the_whole(
    objects: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    bundle = {**extra, "objects": objects}
    assert canonical_bundle(bundle).data == rfc8785.dumps(bundle)


def test_object_hashes_do_not_depend_on_formatting() -> None:
    bundle = json.loads(BUNDLE.read_text())
    pretty = json.loads(json.dumps(bundle, indent=2, ensure_ascii=True, sort_keys=True))
    assert canonical_bundle(bundle) == canonical_bundle(pretty)
