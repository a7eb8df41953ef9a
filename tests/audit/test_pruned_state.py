"""Reading a profile or program terms at a past block whose state the node has pruned: the
indexer reads the latest state instead and records that on the block's row; every other error
propagates. The pruning node is Anvil with ``--prune-history 2`` (``make anvil-deps``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError

from voucher_chain.audit.db import open_database
from voucher_chain.audit.indexer import Indexer, _Reader, latest_state_reads, state_pruned
from voucher_chain.audit.models import BlockRow, EventRow, OrgRow
from voucher_chain.audit.verify import verify
from voucher_chain.contracts import Protocol, call, deploy_protocol
from voucher_chain.contracts.deploy import DEV_GOVERNOR_CODE


@pytest.fixture(scope="module")
def pruned() -> Iterator[Protocol]:
    """The protocol deployed on an Anvil that keeps the state of its last 2 blocks only."""
    from tests.external.anvil import Anvil, AnvilUnavailable

    try:
        anvil = Anvil(accounts=2, keep_states=2).start()
    except AnvilUnavailable as exc:
        pytest.skip(f"Anvil is not installed (make anvil-deps): {exc}")
    try:
        w3 = Web3(Web3.HTTPProvider(anvil.url, request_kwargs={"timeout": 30}))
        yield deploy_protocol(
            w3, w3.eth.accounts[0], governor_credit_code_hash=Web3.keccak(text=DEV_GOVERNOR_CODE)
        )
    finally:
        anvil.stop()


def test_the_pruning_nodes_answer_is_recognised_and_nothing_else(pruned: Protocol) -> None:
    w3 = pruned.w3
    fn = pruned.registry.functions.organisation(1)
    with pytest.raises(Web3RPCError) as gone:
        fn.call(block_identifier=1)
    assert state_pruned(gone.value), gone.value
    with pytest.raises(ContractLogicError) as reverted:
        pruned.programs.functions.terms(99).call()
    assert not state_pruned(reverted.value)
    assert not state_pruned(Web3RPCError("{'code': -32005, 'message': 'rate limit exceeded'}"))
    assert not state_pruned(ConnectionError("connection refused"))
    assert w3.eth.block_number > 3


def test_a_pruned_read_uses_the_latest_state_and_is_recorded(
    pruned: Protocol, tmp_path: Path
) -> None:
    engine, sessions = open_database(tmp_path / "audit.sqlite3")
    try:
        Indexer(pruned, sessions).sync()
        with sessions() as s:
            registered = s.scalars(
                select(EventRow.block_number).where(EventRow.name == "OrganisationRegistered")
            ).all()
            recorded = latest_state_reads(s)
            clean = s.scalars(select(BlockRow.number).where(BlockRow.latest_state_reads == 0))
            [governor] = s.scalars(select(OrgRow)).all()
            clean_blocks = set(clean)
            verdict = verify(s, pruned)
        assert registered and recorded == [(block, 1) for block in registered]
        assert clean_blocks.isdisjoint(registered)
        latest = call(pruned.registry.functions.organisation(governor.org_id))
        assert governor.kind == latest[0] and governor.region == latest[2]
        assert verdict.ok, verdict.problems  # a note, not a mismatch
        assert [note.split(":")[0] for note in verdict.notes] == [
            f"block {block}" for block in registered
        ]
        assert (
            "1 organisation profile/program terms read(s) at the latest block" in (verdict.notes[0])
        )
    finally:
        engine.dispose()


class _Flaky:
    """A contract call whose past-block read fails with ``error`` and whose latest read works
    (what the old catch-all turned into a silent read at the wrong block)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def call(self, block_identifier: Any = "latest") -> Any:
        if block_identifier != "latest":
            raise self.error
        return ("latest profile",)


@pytest.mark.parametrize(
    "error",
    [
        Web3RPCError("{'code': -32005, 'message': 'rate limit exceeded'}"),
        ConnectionError("connection reset by peer"),
        TimeoutError("read timed out"),
    ],
    ids=["other-rpc-error", "connection", "timeout"],
)
def test_any_other_error_propagates_and_nothing_is_counted(
    pruned: Protocol, error: Exception
) -> None:
    reader = _Reader(pruned)
    with pytest.raises(type(error)):
        reader._at(_Flaky(error), 5)
    assert reader.latest_reads == 0
    pruned_error = Web3RPCError(
        "pruned",
        rpc_response={
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32000, "message": "missing trie node 4f2a… (path )"},
        },
    )
    assert reader._at(_Flaky(pruned_error), 5) == ("latest profile",)
    assert reader.latest_reads == 1
