"""The keystore and the local signer: encryption at rest, unlocking, key lifecycle, no key leaks."""

from __future__ import annotations

import base64
import copy
import json
import logging
import os
import pickle
import stat
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_typing import ChecksumAddress

import voucher_chain.signer as signer_pkg
from tests.signer.conftest import EXPORT_N, FAST, PASSPHRASE
from voucher_chain import VoucherChainError
from voucher_chain.signer import (
    MASTER_KEY_ENV,
    DuplicateKey,
    KeyRevoked,
    KeyStatus,
    Keystore,
    KeystoreCorrupt,
    KeystoreError,
    KeystoreLocked,
    LocalSigner,
    SigningFailed,
    UnknownAccount,
    generate_master_key,
)

CHAIN_ID = 131277322940537
KNOWN_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def key_forms(key: bytes) -> list[bytes]:
    """Every way a key could appear in a file or a log: hex (both cases, with and without 0x),
    raw bytes, base64, and Python's bytes repr."""
    hexed = key.hex()
    forms = [hexed, hexed.upper(), "0x" + hexed, "0x" + hexed.upper()]
    return [
        *(f.encode() for f in forms),
        key,
        base64.b64encode(key),
        repr(key).encode(),
    ]


def assert_no_key(blob: bytes | str, keys: Iterable[bytes], where: str) -> None:
    data = blob.encode() if isinstance(blob, str) else blob
    for key in keys:
        for form in key_forms(key):
            assert form not in data, f"key material found in {where}"


def tx(nonce: int = 0) -> dict[str, Any]:
    return {
        "to": "0x000000000000000000000000000000000000dEaD",
        "value": 1,
        "gas": 21_000,
        "maxFeePerGas": 0,
        "maxPriorityFeePerGas": 0,
        "nonce": nonce,
        "chainId": CHAIN_ID,
    }


def typed_message() -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
            ],
            "Hello": [{"name": "who", "type": "string"}],
        },
        "domain": {"name": "test", "chainId": CHAIN_ID},
        "primaryType": "Hello",
        "message": {"who": "world"},
    }


# -- round trip and unlocking ---------------------------------------------------------------------


def test_round_trip_reopen_sign_same_address(keystore: Keystore, keystore_path: Path) -> None:
    address = keystore.generate(7, "back office")
    signature = LocalSigner(keystore).sign_message(address, "hello")

    reopened = Keystore.open(keystore_path, passphrase=PASSPHRASE)
    signer = LocalSigner(reopened)
    assert signer.addresses() == [address]
    again = signer.sign_message(address, "hello")
    assert again == signature  # RFC 6979: same key, same message, same signature
    assert Account.recover_message(encode_defunct(text="hello"), signature=again) == address
    info = reopened.info(address)
    assert (info.org_id, info.label, info.status) == (7, "back office", KeyStatus.ACTIVE)


def test_wrong_passphrase_is_a_clear_error(keystore: Keystore, keystore_path: Path) -> None:
    keystore.generate(7)
    with pytest.raises(KeystoreLocked, match="wrong passphrase") as info:
        Keystore.open(keystore_path, passphrase="Correct horse battery staple")
    assert isinstance(info.value, VoucherChainError)
    assert info.value.path == str(keystore_path)
    with pytest.raises(KeystoreLocked, match="none was given"):
        Keystore.open(keystore_path)
    master_path = keystore_path.with_name("master.json")
    Keystore.create(master_path, master_key=os.urandom(32))
    with pytest.raises(KeystoreLocked, match="not a passphrase"):
        Keystore.open(master_path, passphrase="anything")


def test_create_refuses_an_existing_file(keystore: Keystore, keystore_path: Path) -> None:
    with pytest.raises(KeystoreError, match="already exists"):
        Keystore.create(keystore_path, passphrase=PASSPHRASE, scrypt=FAST)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="no keystore"):
        Keystore.open(tmp_path / "absent.json", passphrase=PASSPHRASE)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(KeystoreCorrupt):
        Keystore.open(bad, passphrase=PASSPHRASE)
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(KeystoreCorrupt, match="not a VoucherChain keystore"):
        Keystore.open(bad, passphrase=PASSPHRASE)


def test_file_is_0600_and_written_atomically(keystore: Keystore, keystore_path: Path) -> None:
    for i in range(3):
        keystore.generate(i + 1)
    assert stat.S_IMODE(keystore_path.stat().st_mode) == 0o600
    leftovers = [p.name for p in keystore_path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    document = json.loads(keystore_path.read_text())
    assert document["kdf"]["name"] == "scrypt" and len(bytes.fromhex(document["kdf"]["salt"])) == 16
    assert len(document["keys"]) == 3


def test_default_scrypt_is_memory_hard(tmp_path: Path) -> None:
    path = tmp_path / "real.json"
    Keystore.create(path, passphrase=PASSPHRASE)
    kdf = json.loads(path.read_text())["kdf"]
    assert (kdf["n"], kdf["r"], kdf["p"]) == (2**15, 8, 1)


def test_salts_and_nonces_are_fresh(
    keystore: Keystore, keystore_path: Path, tmp_path: Path
) -> None:
    other = Keystore.create(tmp_path / "other.json", passphrase=PASSPHRASE, scrypt=FAST)
    keystore.import_key(KNOWN_KEY, 1)
    other.import_key(KNOWN_KEY, 1)
    a = json.loads(keystore_path.read_text())
    b = json.loads((tmp_path / "other.json").read_text())
    assert a["kdf"]["salt"] != b["kdf"]["salt"]
    assert a["keys"][0]["ciphertext"] != b["keys"][0]["ciphertext"]
    for _ in range(3):
        keystore.generate(2)
    nonces = [e["nonce"] for e in json.loads(keystore_path.read_text())["keys"]]
    assert len(set(nonces)) == len(nonces) == 4


# -- no key material at rest ----------------------------------------------------------------------


def test_file_contains_no_key_material_in_the_clear(
    keystore: Keystore, keystore_path: Path
) -> None:
    addresses = [keystore.generate(org, f"key {org}") for org in (1, 2, 2, 3)]
    addresses.append(keystore.import_key("0x" + KNOWN_KEY.hex(), 4, "imported"))
    keys = [keystore.secret(a).reveal() for a in addresses]
    assert KNOWN_KEY in keys
    rotated = keystore.rotate(addresses[0])
    keys.append(keystore.secret(rotated).reveal())
    for path in keystore_path.parent.iterdir():  # the keystore, its lock file, no temp files
        assert_no_key(path.read_bytes(), keys, str(path))


def test_entries_cannot_be_swapped_or_moved(keystore: Keystore, keystore_path: Path) -> None:
    a = keystore.generate(1)
    b = keystore.generate(2)
    document = json.loads(keystore_path.read_text())
    first, second = document["keys"]
    for field in ("nonce", "ciphertext"):
        first[field], second[field] = second[field], first[field]
    keystore_path.write_text(json.dumps(document))
    reopened = Keystore.open(keystore_path, passphrase=PASSPHRASE)
    for address in (a, b):
        with pytest.raises(KeystoreCorrupt, match="failed authentication"):
            reopened.secret(address)

    document = json.loads(keystore_path.read_text())
    for field in ("nonce", "ciphertext"):  # restore, then move key a into organisation 2
        document["keys"][0][field], document["keys"][1][field] = (
            document["keys"][1][field],
            document["keys"][0][field],
        )
    document["keys"][0]["org_id"] = 2
    keystore_path.write_text(json.dumps(document))
    reopened = Keystore.open(keystore_path, passphrase=PASSPHRASE)
    reopened.secret(b)
    with pytest.raises(KeystoreCorrupt):
        reopened.secret(a)


# -- key lifecycle --------------------------------------------------------------------------------


def test_import_key_and_duplicates(keystore: Keystore) -> None:
    address = keystore.import_key(KNOWN_KEY, 5, "legacy")
    assert address == Account.from_key(KNOWN_KEY).address
    with pytest.raises(DuplicateKey) as info:
        keystore.import_key(KNOWN_KEY.hex(), 6)
    assert info.value.address == address
    with pytest.raises(KeystoreError, match="32 bytes"):
        keystore.import_key(b"\x01" * 31, 5)
    with pytest.raises(KeystoreError, match="not valid hex"):
        keystore.import_key("0xnothex", 5)


def test_export_import_v3_round_trip(keystore: Keystore, tmp_path: Path) -> None:
    address = keystore.generate(9, "wallet")
    keyfile = keystore.export(address, "export pass", scrypt_n=EXPORT_N)
    assert keyfile["version"] == 3 and keyfile["crypto"]["kdf"] == "scrypt"
    assert Account.from_key(Account.decrypt(keyfile, "export pass")).address == address

    other = Keystore.create(tmp_path / "wallet.json", passphrase="another", scrypt=FAST)
    with pytest.raises(KeystoreLocked, match="V3 keyfile"):
        other.import_keyfile(keyfile, "wrong pass", 9)
    imported = other.import_keyfile(json.dumps(keyfile), "export pass", 9, "from export")
    assert imported == address
    assert other.secret(imported).reveal() == keystore.secret(address).reveal()
    # a keyfile made elsewhere (eth-account's default pbkdf2) imports too
    foreign = Account.encrypt(KNOWN_KEY, "p", kdf="pbkdf2", iterations=2)
    assert other.import_keyfile(foreign, "p", None) == Account.from_key(KNOWN_KEY).address


def test_rotate_keeps_the_org_and_revokes_the_old_key(keystore: Keystore) -> None:
    old = keystore.generate(3, "ops")
    calls: list[tuple[str, str]] = []

    def register(previous: ChecksumAddress, new: ChecksumAddress) -> None:
        # the old key must still sign here (the registry's rotateAccount is sent by it)
        LocalSigner(keystore).sign_message(previous, "rotateAccount")
        calls.append((previous, new))

    new = keystore.rotate(old, register=register)
    assert calls == [(old, new)]
    assert new != old
    assert keystore.info(new).org_id == 3 and keystore.info(new).rotated_from == old
    assert keystore.info(new).label == "ops"
    gone = keystore.info(old)
    assert gone.status is KeyStatus.REVOKED and gone.replaced_by == new
    with pytest.raises(KeyRevoked, match="replaced by") as info:
        keystore.secret(old)
    assert info.value.replaced_by == new
    assert LocalSigner(keystore).addresses() == [new]
    entry = next(e for e in json.loads(keystore.path.read_text())["keys"] if e["address"] == old)
    assert entry["ciphertext"] is None and entry["nonce"] is None


def test_rotate_keeps_both_keys_when_registration_fails(keystore: Keystore) -> None:
    old = keystore.generate(3)

    def register(previous: ChecksumAddress, new: ChecksumAddress) -> None:
        raise TimeoutError("node unreachable")

    with pytest.raises(TimeoutError):
        keystore.rotate(old, register=register)
    active = keystore.list(3, include_revoked=False)
    assert len(active) == 2 and active[0].address == old and active[1].rotated_from == old


def test_revoke_wipes_the_key(keystore: Keystore, keystore_path: Path) -> None:
    keep = keystore.generate(1)
    drop = keystore.generate(1)
    secret = keystore.secret(drop).reveal()
    info = keystore.revoke(drop)
    assert info.status is KeyStatus.REVOKED and info.revoked is not None
    assert keystore.revoke(drop).revoked == info.revoked  # idempotent
    signer = LocalSigner(Keystore.open(keystore_path, passphrase=PASSPHRASE))
    assert signer.addresses() == [keep]
    with pytest.raises(UnknownAccount):
        signer.sign_message(drop, "x")
    with pytest.raises(KeyRevoked):
        keystore.secret(drop)
    with pytest.raises(KeyRevoked):
        keystore.rotate(drop)
    assert_no_key(keystore_path.read_bytes(), [secret], "the keystore after revocation")
    assert [i.address for i in keystore.list(include_revoked=True)] == [keep, drop]


def test_list_by_org(keystore: Keystore) -> None:
    a = keystore.generate(1)
    b = keystore.generate(2)
    c = keystore.generate(None, "unassigned")
    assert [i.address for i in keystore.list(2)] == [b]
    assert keystore.active_addresses() == [a, b, c]
    assert LocalSigner(keystore, org_id=1).addresses() == [a]
    with pytest.raises(KeystoreError, match="positive"):
        keystore.generate(0)


# -- master key mode ------------------------------------------------------------------------------


def test_master_key_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "service.json"
    monkeypatch.delenv(MASTER_KEY_ENV, raising=False)
    with pytest.raises(KeystoreLocked, match=MASTER_KEY_ENV):
        Keystore.create(path)
    monkeypatch.setenv(MASTER_KEY_ENV, "abcd")
    with pytest.raises(KeystoreLocked, match="64 hex digits"):
        Keystore.create(path)

    master = generate_master_key()
    monkeypatch.setenv(MASTER_KEY_ENV, "0x" + master)
    store = Keystore.create(path)
    address = store.generate(4)
    assert json.loads(path.read_text())["kdf"] == {"name": "master-key"}
    assert Keystore.open(path).active_addresses() == [address]
    assert Keystore.open(path, master_key=bytes.fromhex(master)).active_addresses() == [address]

    monkeypatch.setenv(MASTER_KEY_ENV, generate_master_key())
    with pytest.raises(KeystoreLocked, match="wrong master key") as info:
        Keystore.open(path)
    assert master not in str(info.value)
    with pytest.raises(KeystoreLocked, match="32 bytes"):
        Keystore.open(path, master_key=b"short")
    assert_no_key(path.read_bytes(), [bytes.fromhex(master)], "the master-key keystore")


# -- the local signer -----------------------------------------------------------------------------


def test_local_signer_signs_transactions_typed_data_and_messages(keystore: Keystore) -> None:
    address = keystore.generate(1)
    signer = LocalSigner(keystore)
    signed = signer.sign_transaction(address, tx())
    assert Account.recover_transaction(signed.raw_transaction) == address
    assert signed.hash == Account.sign_transaction(tx(), keystore.secret(address).reveal()).hash
    assert signer.sign_transaction(address, {**tx(), "from": address}).hash == signed.hash

    signature = signer.sign_typed_data(address, typed_message())
    recovered = Account.recover_message(
        encode_typed_data(full_message=typed_message()), signature=signature
    )
    assert recovered == address
    raw = signer.sign_message(address, b"\x00\x01")
    assert Account.recover_message(encode_defunct(primitive=b"\x00\x01"), signature=raw) == address


def test_local_signer_refuses_what_it_cannot_sign(keystore: Keystore) -> None:
    address = keystore.generate(1)
    signer = LocalSigner(keystore)
    stranger = Account.create().address
    with pytest.raises(UnknownAccount, match=stranger):
        signer.sign_message(stranger, "x")
    with pytest.raises(UnknownAccount):
        signer.sign_message("not an address", "x")
    assert not signer.has(stranger) and signer.has(address.lower())
    with pytest.raises(SigningFailed, match="is from"):
        signer.sign_transaction(address, {**tx(), "from": stranger})
    with pytest.raises(SigningFailed, match="cannot sign this transaction"):
        signer.sign_transaction(address, {"to": "nowhere", "gas": "lots"})
    with pytest.raises(SigningFailed, match="typed data"):
        signer.sign_typed_data(address, {"primaryType": "Nope"})


# -- no key in reprs, errors or logs --------------------------------------------------------------


def test_no_key_in_reprs_strs_or_errors(keystore: Keystore, tmp_path: Path) -> None:
    address = keystore.import_key(KNOWN_KEY, 1, "imported")
    signer = LocalSigner(keystore)
    secret = keystore.secret(address)
    assert secret.reveal() == KNOWN_KEY
    shown = [repr(o) + str(o) for o in (keystore, signer, secret, keystore.info(address))]
    shown.append(repr(signer.sign_transaction(address, tx())))
    errors: list[BaseException] = []
    for attempt in (
        lambda: signer.sign_transaction(address, {"to": "nowhere", "gas": "lots"}),
        lambda: signer.sign_typed_data(address, {"primaryType": "Nope"}),
        lambda: keystore.import_key(KNOWN_KEY, 1),
        lambda: keystore.export(address, ""),
        lambda: Keystore.open(keystore.path, passphrase="wrong"),
        lambda: signer.sign_message(Account.create().address, "x"),
    ):
        with pytest.raises(VoucherChainError) as info:
            attempt()
        errors.append(info.value)
    keystore.revoke(address)
    with pytest.raises(KeyRevoked) as revoked:
        keystore.secret(address)
    errors.append(revoked.value)
    for err in errors:
        shown.append(repr(err) + str(err) + repr(vars(err)))
        assert err.__cause__ is None
    for text in shown:
        assert_no_key(text, [KNOWN_KEY], text[:60])
    assert "SecretKey(address=" in repr(secret)
    for copier in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            copier(secret)
    with pytest.raises(TypeError):
        pickle.dumps(keystore)


def test_a_full_run_logs_no_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "run.json"
    store = Keystore.create(path, passphrase=PASSPHRASE, scrypt=FAST)
    signer = LocalSigner(store)
    addresses = [store.generate(1, "a"), store.generate(2, "b")]
    addresses.append(store.import_key(KNOWN_KEY, 3, "imported"))
    keys = [store.secret(a).reveal() for a in addresses]
    for a in addresses:
        signer.sign_transaction(a, tx())
        signer.sign_typed_data(a, typed_message())
        signer.sign_message(a, "hello")
    keyfile = store.export(addresses[0], "export", scrypt_n=EXPORT_N)
    other = Keystore.create(tmp_path / "other.json", passphrase="x", scrypt=FAST)
    other.import_keyfile(keyfile, "export", 1)
    new = store.rotate(addresses[1], register=lambda old, new: None)
    keys.append(store.secret(new).reveal())
    store.revoke(addresses[2])
    for bad in (
        lambda: Keystore.open(path, passphrase="wrong"),
        lambda: signer.sign_transaction(addresses[0], {"gas": "lots"}),
        lambda: store.secret(addresses[2]),
    ):
        with pytest.raises(VoucherChainError):
            bad()
    monkeypatch.setenv(MASTER_KEY_ENV, generate_master_key())
    Keystore.create(tmp_path / "m.json").generate(5)
    assert caplog.records, "the run should log"
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    everything = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert_no_key(everything, keys, "the log")


# -- concurrency ----------------------------------------------------------------------------------


def test_threads_generating_into_one_keystore_all_persist(
    keystore: Keystore, keystore_path: Path
) -> None:
    second = Keystore.open(keystore_path, passphrase=PASSPHRASE)  # another object, same file
    made: list[ChecksumAddress] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def work(store: Keystore, org: int) -> None:
        try:
            for i in range(5):
                address = store.generate(org, f"thread {org} key {i}")
                with lock:
                    made.append(address)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=work, args=(keystore if n % 2 else second, n + 1)) for n in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(made) == len(set(made)) == 40
    reopened = Keystore.open(keystore_path, passphrase=PASSPHRASE)
    assert sorted(reopened.active_addresses()) == sorted(made)
    for org in range(1, 9):
        assert len(reopened.list(org)) == 5
    signer = LocalSigner(reopened)
    for address in made[::7]:
        assert (
            Account.recover_message(
                encode_defunct(text="ok"), signature=signer.sign_message(address, "ok")
            )
            == address
        )


def test_public_surface() -> None:
    for name in signer_pkg.__all__:
        assert hasattr(signer_pkg, name), name
    assert issubclass(signer_pkg.SignerError, VoucherChainError)
