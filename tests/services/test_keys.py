"""Keys end to end: an organisation acts through our signer, rotates its key on chain, and no
key ever reaches a log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from web3 import Web3

from tests.signer.conftest import FAST, PASSPHRASE
from tests.world import SHANGHAI, YUAN, World, reverts
from voucher_chain.contracts import OrgKind, Protocol
from voucher_chain.services import VoucherClient
from voucher_chain.signer import Keystore, LocalSigner, Submitter


def test_rotate_key_through_services_and_no_key_in_the_logs(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    keystore = Keystore.create(tmp_path / "ks.json", passphrase=PASSPHRASE, scrypt=FAST)
    old = Web3.to_checksum_address(keystore.generate(org_id=None, label="finance desk"))
    ent = world.register(OrgKind.ENTERPRISE, SHANGHAI, account=old)
    world.deposit(ent, 100 * YUAN)
    submitter = Submitter(world.w3, LocalSigner(keystore))
    client = VoucherClient(Protocol.at(world.w3, world.p.addresses()), submitter.transact)
    gas = Web3.to_wei(1, "ether")
    world.w3.eth.send_transaction({"from": world.governor.account, "to": old, "value": gas})

    old_secret = keystore.secret(old).reveal()
    new = client.registry.rotate_key(keystore, old)

    secrets = [old_secret, keystore.secret(new).reveal()]
    assert client.registry.org_of(new) == ent.id and client.registry.org_of(old) == 0
    assert keystore.info(old).active is False and keystore.info(new).active is True
    assert client.money.balance(new) == 100 * YUAN  # holdings stay with the organisation
    world.w3.eth.send_transaction({"from": world.governor.account, "to": new, "value": gas})
    client.money.pay(new, world.governor.account, 40 * YUAN)
    assert client.money.balance(new) == 60 * YUAN
    with reverts("ProtocolUnauthorizedAccount", account=old):
        world.send(world.p.settlement.functions.transfer(world.governor.account, 1), old)

    logged = caplog.text.lower()
    assert "rotated key" in logged  # the capture did see the run's logs
    on_disk = keystore.path.read_text().lower()
    for secret in secrets:
        assert secret.hex() not in logged and secret.hex() not in on_disk
