"""Checksums of actionable identifiers: crypto wallet addresses and IBANs.

A data point is actionable: an exchange may freeze the wallet it names, a bank the
account.  A typo in either would point that action at someone else, and both kinds of
identifier carry a checksum precisely to catch typos, so the converter verifies it:

* Bitcoin: legacy (``1…``) and P2SH (``3…``) addresses by their Base58Check checksum,
  segwit addresses (``bc1…``) by bech32 (witness version 0, BIP 173) or bech32m
  (version 1 and later, BIP 350);
* Ethereum and tokens on it: 20 bytes of hex, and the EIP-55 mixed-case checksum
  when the address is written in mixed case (all lower or all upper case carries
  none, per EIP-55);
* TRON and tokens on it (``T…``): Base58Check with the TRON version byte 0x41;
* Monero: standard, subaddress and integrated addresses by their Keccak-256 checksum
  in Monero's own Base58.

The decoding is bip_utils' (maintained, MIT), IBANs are schwifty's (ISO 13616 check
digits, per-country BBAN format).  Which chain a wallet is on comes from its
``currency`` ticker (:data:`CHAINS`); a hex ``0x…`` address of another ticker is an
EVM address and gets the EIP-55 check; other currencies are not checked.

Each check returns ``None`` when the value verifies, or says what is wrong.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

__all__ = ["CHAINS", "chain_of", "iban_problem", "wallet_problem"]

#: Ticker -> the chain whose address format and checksum apply.  Tokens written
#: ``TOKEN-STANDARD`` (``USDT-TRC20``) follow their standard's chain (_STANDARDS).
CHAINS: Final[dict[str, str]] = {
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "TRX": "tron",
    "XMR": "monero",
}
_STANDARDS: Final[dict[str, str]] = {"ERC20": "ethereum", "TRC20": "tron"}

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}\Z")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+\Z")
_NOT_BASE58 = "has characters Base58 does not use (0, O, I or l)"


def chain_of(currency: str | None, address: str) -> str | None:
    """The chain whose checksum applies to ``address`` of ``currency``, or ``None``."""
    if currency:
        chain = CHAINS.get(currency) or _STANDARDS.get(currency.rpartition("-")[2])
        if chain is not None:
            return chain
    return "ethereum" if address[:2].lower() == "0x" else None


def wallet_problem(address: str, currency: str | None) -> str | None:
    """Why ``address`` is not a valid address of ``currency``'s chain, or ``None``."""
    chain = chain_of(currency, address)
    if chain is None:
        return None
    return _CHECKS[chain](address)


def _decodes(decode: Callable[[], Any]) -> str | None:
    """``None`` when ``decode()`` succeeds, else the library's reason."""
    try:
        decode()
    except (ValueError, TypeError, _bip().Bech32ChecksumError) as exc:
        return str(exc) or type(exc).__name__
    return None


@functools.cache
def _bip() -> Any:
    """bip_utils, imported on first use (it loads every coin it knows: ~0.2 s)."""
    import bip_utils

    return bip_utils


def _bitcoin(address: str) -> str | None:
    bip = _bip()
    conf = bip.CoinsConf.BitcoinMainNet
    if address[:3].lower() == "bc1":
        if address != address.lower() and address != address.upper():
            return "a bech32 address is written in one case, not mixed (BIP 173)"
        if _segwit_decodes(address.lower()):
            return None
        reason = _decodes(lambda: bip.SegwitBech32Decoder.Decode("bc", address.lower()))
        what = "bech32/bech32m checksum (BIP 173, BIP 350)"
    elif address[:1] not in ("1", "3"):
        return "not a Bitcoin address: expected a legacy (1…), P2SH (3…) or segwit (bc1…) one"
    elif not _BASE58.match(address):
        return _NOT_BASE58
    elif address[:1] == "1":
        version = conf.ParamByKey("p2pkh_net_ver")
        reason = _decodes(lambda: bip.P2PKHAddrDecoder.DecodeAddr(address, net_ver=version))
        what = "Base58Check checksum (legacy address)"
    else:
        version = conf.ParamByKey("p2sh_net_ver")
        reason = _decodes(lambda: bip.P2SHAddrDecoder.DecodeAddr(address, net_ver=version))
        what = "Base58Check checksum (P2SH address)"
    return None if reason is None else f"fails its {what}: {reason}"


# BIP 173: the bech32 alphabet, and the checksum's generator folded into one table
# entry per 5 bits shifted out (so the polynomial advances one character per step).
_BECH32: Final = {c: v for v, c in enumerate("qpzry9x8gf2tvdw0s3jn54khce6mua7l")}
_GENERATOR: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_STEP: Final = tuple(
    functools.reduce(operator.xor, (g for i, g in enumerate(_GENERATOR) if top >> i & 1), 0)
    for top in range(32)
)


def _polymod(values: Iterable[int], check: int = 1) -> int:
    for value in values:
        check = (check & 0x1FFFFFF) << 5 ^ value ^ _STEP[check >> 25]
    return check


_BC: Final = _polymod([ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"])


def _segwit_decodes(address: str) -> bool:
    """Whether bip_utils' ``SegwitBech32Decoder.Decode("bc", address)`` succeeds, for a
    lower-case address, at a fraction of its cost (bip_utils still words a failure).
    Its checks: the alphabet, the bech32 (version 0) or bech32m (BIP 350) checksum,
    8-bit program bytes with no padding left over, the program length, the version."""
    data = [_BECH32.get(c, -1) for c in address[3:]]
    if address[:3] != "bc1" or len(data) < 7 or -1 in data:
        return False
    if _polymod(data, _BC) != (1 if data[0] == 0 else 0x2BC830A3):
        return False
    size, left = divmod(5 * (len(data) - 7), 8)
    if left >= 5 or (len(data) > 7 and data[-7] & ((1 << left) - 1)):
        return False
    return 2 <= size <= 40 and data[0] <= 16 and (data[0] != 0 or size in (20, 32))


def _ethereum(address: str) -> str | None:
    if not _HEX_ADDRESS.match(address):
        return "not an Ethereum address: expected 0x and 40 hexadecimal digits"
    digits = address[2:]
    if digits == digits.lower() or digits == digits.upper():
        return None  # EIP-55: a single-case address carries no checksum
    reason = _decodes(lambda: _bip().EthAddrDecoder.DecodeAddr(address))
    return None if reason is None else f"fails its EIP-55 mixed-case checksum: {reason}"


def _tron(address: str) -> str | None:
    if address[:1] != "T":
        return "not a TRON address: expected T followed by 33 Base58 characters"
    if not _BASE58.match(address):
        return _NOT_BASE58
    reason = _decodes(lambda: _bip().TrxAddrDecoder.DecodeAddr(address))
    return None if reason is None else f"fails its Base58Check checksum (TRON): {reason}"


def _monero(address: str) -> str | None:
    bip = _bip()
    conf = bip.CoinsConf.MoneroMainNet
    if not _BASE58.match(address):
        return _NOT_BASE58
    if len(address) == 106:  # integrated address: standard address + payment id
        version = conf.ParamByKey("addr_int_net_ver")
        reason = _decodes(
            lambda: bip.XmrIntegratedAddrDecoder.DecodeAddr(
                address, net_ver=version, payment_id=_payment_id(address)
            )
        )
    elif address[:1] in ("4", "8") and len(address) == 95:
        key = "addr_net_ver" if address[0] == "4" else "subaddr_net_ver"
        version = conf.ParamByKey(key)
        reason = _decodes(lambda: bip.XmrAddrDecoder.DecodeAddr(address, net_ver=version))
    else:
        return "not a Monero address: expected 95 characters starting with 4 or 8, or 106"
    return None if reason is None else f"fails its Keccak-256 checksum (Monero): {reason}"


def _payment_id(address: str) -> bytes:
    """The payment id an integrated Monero address embeds (bytes 65-72 of its payload)."""
    from bip_utils.base58 import Base58XmrDecoder

    return bytes(Base58XmrDecoder.Decode(address)[65:73])


_CHECKS: Final[dict[str, Callable[[str], str | None]]] = {
    "bitcoin": _bitcoin,
    "ethereum": _ethereum,
    "tron": _tron,
    "monero": _monero,
}


def iban_problem(iban: str) -> str | None:
    """Why a normalised IBAN fails its check digits or its country's format, or ``None``.

    Lengths are the normaliser's business (a wrong length is always an error); this is
    the part a typo breaks while the shape stays right.
    """
    from schwifty import IBAN
    from schwifty.exceptions import (
        InvalidChecksumDigits,
        InvalidCountryCode,
        InvalidLength,
        InvalidStructure,
    )

    try:
        IBAN(iban)
    except InvalidChecksumDigits:
        return f"IBAN {iban} has wrong check digits (ISO 13616 mod 97)"
    except InvalidStructure:
        return f"IBAN {iban} does not have the format of {iban[:2]} account numbers"
    except InvalidLength:
        return None  # the normaliser reports lengths
    except InvalidCountryCode:  # a country schwifty does not know: the check digits still
        if int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 != 1:
            return f"IBAN {iban} has wrong check digits (ISO 13616 mod 97)"
    return None
