"""Helpers of py-trie and pyrlp without their Python-level loops and copies.

Every state root py-evm computes goes through py-trie's ``HexaryTrie`` (account and storage
tries), and ~10 % of the block producer's time went into a handful of its helpers: turning
32-byte keys into nibbles one ``yield`` at a time (a million generator steps for 417 bench
transactions), hex-prefix encoding through ``@to_tuple`` generators, comparing key prefixes a
nibble at a time on every lookup, and, for every node it stores or prunes, a recursive
list→tuple→list copy made only to look the node up in an LRU cache of its hash. The
replacements return the same values through ``bytes.hex``, ``bytes.translate``,
``bytes.fromhex`` and slice comparisons (C loops), and hash a node directly (RLP encoding is
Rust, keccak C: cheaper than the copies the cache needed).

And pyrlp's ``Serializable.copy`` — py-evm's way to change a header, a block, an account —
deep-copies every field it keeps: a block's copy rebuilt each of its transactions, field by
field. A ``Serializable`` is immutable (its constructor turns lists into tuples, its fields
are read-only), so the fields are shared instead; the new object is still built by its own
constructor. Both ``copy`` and ``deserialize`` (every account, header, receipt py-evm reads)
pass the fields positionally where the constructor is pyrlp's own: it matches keyword
arguments to fields, checks them, then does what it does with positional ones.

Same results: ``tests/node/test_speedups.py`` compares each function with py-trie's or pyrlp's
own on random input (errors included) and the roots and nodes of random tries built with and
without them; a bench chain re-imported with them checks every block's state root against the
one recorded. Only for the releases they were checked against (:data:`CHECKED`); with another,
:func:`install` leaves both packages as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import rlp.sedes.serializable
import trie.hexary
import trie.utils.nibbles
import trie.utils.nodes
from eth_hash.auto import keccak
from rlp.codec import encode_raw
from rlp.exceptions import ListDeserializationError, ObjectDeserializationError
from trie.constants import BLANK_NODE, NIBBLE_TERMINATOR
from trie.exceptions import InvalidNibbles
from trie.validation import validate_is_node

__all__ = ["CHECKED", "install", "installed", "uninstall"]

log = logging.getLogger("voucher_chain.node")

#: The releases these replacements were checked against.
CHECKED = {"trie": "4.0.0", "rlp": "5.0.0"}

_HEX = b"0123456789abcdef"
_TO_NIBBLES = bytes.maketrans(_HEX, bytes(range(16)))
_TO_HEX = bytes.maketrans(bytes(range(16)), _HEX)
_NIBBLES = bytes(range(16))


def bytes_to_nibbles(value: bytes) -> tuple[int, ...]:
    """Two nibbles per byte, high first."""
    return tuple(value.hex().encode().translate(_TO_NIBBLES))


def nibbles_to_bytes(nibbles: Sequence[int]) -> bytes:
    """The bytes of an even number of nibbles; :class:`InvalidNibbles` as py-trie raises it."""
    try:
        raw = bytes(nibbles)
    except (TypeError, ValueError):  # not ints, or outside 0..255: certainly not nibbles
        raw = b"\xff"
    if raw.translate(None, _NIBBLES):  # something left that is not a nibble
        raise InvalidNibbles(
            "Nibbles contained invalid value.  Must be constrained between [0, 15]"
        )
    if len(raw) % 2:
        raise InvalidNibbles("Nibbles must be even in length")
    return bytes.fromhex(raw.translate(_TO_HEX).decode())


def add_nibbles_terminator(nibbles: Sequence[int]) -> tuple[int, ...]:
    if nibbles and nibbles[-1] == NIBBLE_TERMINATOR:
        return tuple(nibbles)
    return (*nibbles, NIBBLE_TERMINATOR)


def remove_nibbles_terminator(nibbles: Sequence[int]) -> tuple[int, ...]:
    if nibbles and nibbles[-1] == NIBBLE_TERMINATOR:
        return tuple(nibbles[:-1])
    return tuple(nibbles)


def encode_nibbles(nibbles: Sequence[int]) -> bytes:
    """The hex-prefix encoding (Yellow Paper, appendix C)."""
    if nibbles and nibbles[-1] == NIBBLE_TERMINATOR:
        flag, raw = 2, nibbles[:-1]
    else:
        flag, raw = 0, nibbles
    if len(raw) % 2:
        return nibbles_to_bytes((flag + 1, *raw))
    return nibbles_to_bytes((flag, 0, *raw))


def decode_nibbles(value: bytes) -> tuple[int, ...]:
    """The inverse of :func:`encode_nibbles`."""
    nibbles = bytes_to_nibbles(value)
    flag = nibbles[0]
    raw = nibbles[1:] if flag in (1, 3) else nibbles[2:]
    return add_nibbles_terminator(raw) if flag in (2, 3) else raw


def key_starts_with(full_key: Sequence[int], partial_key: Sequence[int]) -> bool:
    """Whether ``full_key`` begins with ``partial_key`` (one slice comparison)."""
    n = len(partial_key)
    return len(full_key) >= n and tuple(full_key[:n]) == tuple(partial_key)


def node_to_db_mapping(self: trie.hexary.HexaryTrie, node: Any) -> tuple[Any, bytes | None]:
    """``HexaryTrie._node_to_db_mapping``: (the node's hash, its encoding) or, for a node
    shorter than a hash, (the node itself, ``None``)."""
    validate_is_node(node)
    if node == BLANK_NODE:
        return BLANK_NODE, None
    encoded: bytes = encode_raw(node)
    if len(encoded) < 32:
        return node, None
    return keccak(encoded), encoded


def serializable_copy(self: Any, *args: Any, **kwargs: Any) -> Any:
    """``Serializable.copy`` sharing the (immutable) fields it keeps; with positional
    arguments or a name that is not a field, pyrlp's own (its checks and messages)."""
    names = self._meta.field_names
    if args or not kwargs.keys() <= set(names):
        return _ORIGINAL_COPY(self, *args, **kwargs)
    values = [kwargs[n] if n in kwargs else v for n, v in zip(names, self, strict=True)]
    return _construct(type(self), values)


def serializable_deserialize(cls: Any, /, serial: Any, **extra_kwargs: Any) -> Any:
    """``Serializable.deserialize``: the fields decoded by the class's sedes, then the class's
    constructor (positionally where that is pyrlp's own, which takes both alike)."""
    if extra_kwargs:
        return _ORIGINAL_DESERIALIZE(cls, serial, **extra_kwargs)
    try:
        values = cls._meta.sedes.deserialize(serial)
    except ListDeserializationError as exc:
        raise ObjectDeserializationError(serial=serial, sedes=cls, list_exception=exc) from exc
    return _construct(cls, values)


def _construct(cls: Any, values: Sequence[Any]) -> Any:
    """``cls`` with these field values: positionally through pyrlp's own ``__init__`` (as it
    treats keyword arguments once it has matched them to fields), by keyword otherwise."""
    if cls.__init__ is _BASE_INIT:
        return cls(*values)
    return cls(**dict(zip(cls._meta.field_names, values, strict=True)))


_SERIALIZABLE = rlp.sedes.serializable.BaseSerializable
_BASE_INIT = _SERIALIZABLE.__init__
_ORIGINAL_COPY = _SERIALIZABLE.copy
_ORIGINAL_DESERIALIZE = vars(_SERIALIZABLE)["deserialize"].__func__

#: the functions py-trie's trie code calls through these modules' globals
_HELPERS = {
    "bytes_to_nibbles": bytes_to_nibbles,
    "nibbles_to_bytes": nibbles_to_bytes,
    "add_nibbles_terminator": add_nibbles_terminator,
    "remove_nibbles_terminator": remove_nibbles_terminator,
    "encode_nibbles": encode_nibbles,
    "decode_nibbles": decode_nibbles,
    "key_starts_with": key_starts_with,
}
#: (where, name, replacement, original) for every attribute :func:`install` sets
_REPLACED: list[tuple[Any, str, Any, Any]] = [
    (module, name, replacement, vars(module)[name])
    for module in (trie.utils.nibbles, trie.utils.nodes, trie.hexary)
    for name, replacement in _HELPERS.items()
    if name in vars(module)
] + [
    (owner, name, replacement, vars(owner)[name])
    for owner, name, replacement in (
        (trie.hexary.HexaryTrie, "_node_to_db_mapping", node_to_db_mapping),
        (_SERIALIZABLE, "copy", serializable_copy),
        (_SERIALIZABLE, "deserialize", classmethod(serializable_deserialize)),
    )
]


def installed() -> bool:
    return trie.hexary.HexaryTrie._node_to_db_mapping is node_to_db_mapping


def install() -> bool:
    """Puts the replacements into py-trie and pyrlp (idempotent); whether they are in."""
    if installed():
        return True
    found = {package: version(package) for package in CHECKED}
    if found != CHECKED:
        log.info("%s, not %s: their own helpers stay", found, CHECKED)
        return False
    for where, name, replacement, _ in _REPLACED:
        setattr(where, name, replacement)
    return True


def uninstall() -> None:
    """Puts py-trie's and pyrlp's own back (tests compare the two)."""
    for where, name, _, original in _REPLACED:
        setattr(where, name, original)
