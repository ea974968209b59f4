"""The bech32 shortcut of the wallet check agrees with bip_utils, which it stands in for."""

from __future__ import annotations

from bip_utils import SegwitBech32Decoder, SegwitBech32Encoder
from bip_utils.bech32 import Bech32ChecksumError
from bip_utils.bech32.bech32 import Bech32Encodings, Bech32Utils
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.checksums import _segwit_decodes

_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bip_decodes(address: str) -> bool:
    try:
        SegwitBech32Decoder.Decode("bc", address)
    except (ValueError, Bech32ChecksumError):
        return False
    return True


@st.composite
def _addresses(draw: st.DrawFn) -> str:
    """Encoded segwit addresses of any version and program length, often tampered with."""
    version = draw(st.integers(0, 31))
    if draw(st.booleans()):  # from bytes, as wallets are made
        try:
            address = SegwitBech32Encoder.Encode("bc", version, draw(st.binary(max_size=42)))
        except ValueError:
            address = "bc1" + draw(st.text(_ALPHABET + "1bio", max_size=70))
    else:  # any 5-bit groups with a valid checksum: every length, padding and version
        groups = st.lists(st.integers(0, 31) | st.just(0), max_size=70)  # zero padding too
        data = [version, *draw(groups)]
        encoding = draw(st.sampled_from([Bech32Encodings.BECH32, Bech32Encodings.BECH32M]))
        data += Bech32Utils.ComputeChecksum("bc", data, encoding)
        address = "bc1" + "".join(_ALPHABET[v] for v in data)
    edit = draw(st.sampled_from(["none", "none", "none", "replace", "drop", "insert", "hrp"]))
    position = draw(st.integers(0, max(len(address) - 1, 0)))
    letter = draw(st.sampled_from(_ALPHABET + "1bB"))
    if edit == "replace":
        address = address[:position] + letter + address[position + 1 :]
    elif edit == "drop":
        address = address[:position] + address[position + 1 :]
    elif edit == "insert":
        address = address[:position] + letter + address[position:]
    elif edit == "hrp":
        address = "tb" + address[2:]
    return address


@settings(max_examples=3000)
@given(_addresses())
def test_the_shortcut_accepts_exactly_what_bip_utils_decodes(address: str) -> None:
    assert _segwit_decodes(address) == _bip_decodes(address)


def test_the_standard_vectors() -> None:
    for address, valid in [
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", True),  # BIP 173, v0 20 bytes
        ("bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", True),  # v0 32
        ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", True),  # v1 bech32m
        ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", True),  # v2, 16 bytes
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", False),  # checksum
        ("bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4", False),  # alphabet
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", False),  # bech32m on v0
        ("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", False),  # padding left over
        ("bc1gmk9yu", False),  # no program
    ]:
        assert _segwit_decodes(address) is valid, address
        assert _bip_decodes(address) is valid, address


def test_program_lengths_at_the_limits() -> None:
    for version, size in [(1, 1), (1, 2), (1, 40), (1, 41), (0, 19), (0, 20), (0, 32), (0, 33)]:
        address = SegwitBech32Encoder.Encode("bc", version, bytes(range(size)))
        assert _segwit_decodes(address) is _bip_decodes(address), (version, size)
