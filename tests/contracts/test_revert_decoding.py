"""Revert decoding: every protocol error has a sentence; revert data becomes a ContractRevert."""

from __future__ import annotations

import string
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_abi.abi import encode
from eth_tester.exceptions import TransactionFailed as EthTesterFailed
from eth_utils.crypto import keccak
from web3.exceptions import ContractCustomError, ContractLogicError

from tests.world import SHANGHAI, World, pyevm_only
from voucher_chain import ContractRevert
from voucher_chain.contracts import (
    PROTOCOL_CONTRACTS,
    ErrorDecoder,
    load_artifact,
    protocol_error_decoder,
    revert_data_of,
)
from voucher_chain.contracts.messages import MESSAGES, describe

FORMAT_SPECS = {"", "yuan", "status", "kind", "state", "pkind", "date"}
JAN_1_2026 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
DEC_31_2026 = int(datetime(2026, 12, 31, tzinfo=UTC).timestamp())
ACCOUNT = "0x" + "ab" * 20
CODE = bytes(range(32))


def protocol_errors() -> dict[str, list[dict[str, Any]]]:
    """Error name → its ABI inputs, over every protocol contract."""
    found: dict[str, list[dict[str, Any]]] = {}
    for contract in PROTOCOL_CONTRACTS:
        for item in load_artifact(contract).abi:
            if item["type"] == "error":
                found[item["name"]] = item["inputs"]
    return found


def error_data(signature: str, *values: Any) -> bytes:
    """Revert data of ``signature`` (e.g. ``"Foo(uint64,address)"``) with ``values``, by eth_abi."""
    types = signature[signature.index("(") + 1 : -1]
    selector = keccak(text=signature)[:4]
    return selector + encode([t for t in types.split(",") if t], list(values))


def sample(abi_type: str) -> Any:
    if abi_type.endswith("]"):
        return []
    if abi_type == "address":
        return ACCOUNT
    if abi_type.startswith("bytes"):
        return "0x" + "11" * 32
    if abi_type == "string":
        return "text"
    if abi_type == "bool":
        return True
    return 2  # (u)intN, enums


# -- messages -------------------------------------------------------------------------------------


def test_every_protocol_error_has_a_message() -> None:
    errors = protocol_errors()
    assert len(errors) > 50  # sanity: the ABIs were read
    missing = sorted(set(errors) - set(MESSAGES))
    assert not missing, f"errors without a message in messages.MESSAGES: {missing}"


def test_message_fields_are_the_errors_parameters() -> None:
    wrong: list[str] = []
    for name, inputs in protocol_errors().items():
        params = {p["name"] for p in inputs}
        for _, field, spec, _ in string.Formatter().parse(MESSAGES.get(name, "")):
            if field is not None and (field not in params or spec not in FORMAT_SPECS):
                wrong.append(f"{name}: {{{field}:{spec}}} (parameters {sorted(params)})")
    assert not wrong, "message fields that are not parameters of their error:\n" + "\n".join(wrong)


def test_every_message_formats_with_its_arguments() -> None:
    for name, inputs in protocol_errors().items():
        args = {p["name"]: sample(p["type"]) for p in inputs}
        text = describe(name, args)
        assert text.endswith(f"[{name}]") and "{" not in text, (name, text)


def test_describe_falls_back_for_an_unknown_name() -> None:
    text = describe("SomethingNew", {"a": 1, "b": "x"})
    assert text == "The contract rejected the call: SomethingNew(a=1, b=x)"


# -- decoding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "values", "expected_args", "fragments"),
    [
        (
            "ProgramHolderCapExceeded(uint64,uint64,uint256,uint256)",
            (3, 7, 123_456, 10_000_000),
            {"programId": 3, "orgId": 7, "requested": 123_456, "remaining": 10_000_000},
            ["¥1,234.56", "¥100,000.00", "organisation 7", "program 3"],
        ),
        (
            "OrderAmountMismatch(uint256,uint256,uint256)",
            (1_000_000, 500_000, 499_999),
            {"price": 1_000_000, "voucherValue": 500_000, "ownFunds": 499_999},
            ["¥10,000.00", "¥5,000.00", "¥4,999.99"],
        ),
        (
            "RegistryRegionOutsideJurisdiction(uint32,uint32)",
            (110108, 310000),
            {"region": 110108, "issuerRegion": 310000},
            ["110108", "310000"],
        ),
        (
            "ProtocolOrgNotActive(uint64,uint8)",
            (5, 3),
            {"orgId": 5, "status": 3},
            ["Organisation 5 is frozen"],
        ),
        (
            "OrderInvalidState(uint64,uint8)",
            (12, 4),
            {"orderId": 12, "state": 4},
            ["Order 12 is settled"],
        ),
        (
            "ProgramWrongKind(uint64,uint8)",
            (2, 1),
            {"programId": 2, "kind": 1},
            ["a reward program"],
        ),
        (
            "ProgramIneligibleKind(uint64,uint64,uint8)",
            (2, 9, 3),
            {"programId": 2, "orgId": 9, "kind": 3},
            ["(institution)"],
        ),
        (
            "ProgramIssuanceClosed(uint64,uint64,uint64,uint64)",
            (4, JAN_1_2026, DEC_31_2026, DEC_31_2026 + 1),
            {"programId": 4, "issueStart": JAN_1_2026, "issueEnd": DEC_31_2026},
            ["2026-01-01 00:00 UTC", "2026-12-31 00:00 UTC"],
        ),
        (
            "RegistryDuplicateCreditCode(bytes32,uint64)",
            (CODE, 8),
            {"creditCodeHash": "0x" + CODE.hex(), "existingOrgId": 8},
            ["organisation 8"],
        ),
        (
            "ProtocolUnauthorizedAccount(address,uint256)",
            (ACCOUNT, 272),
            {"allowedKinds": 272},
            [ACCOUNT, "272"],
        ),
        (
            "ERC20InsufficientBalance(address,uint256,uint256)",
            (ACCOUNT, 50, 1_000_001),
            {"balance": 50, "needed": 1_000_001},
            ["¥0.50", "¥10,000.01"],
        ),
        ("CatalogueInactiveCategory(uint8)", (200,), {"category": 200}, ["Category 200"]),
        ("VoucherNonTransferable()", (), {}, ["cannot be transferred"]),
        ("ProtocolPaused()", (), {}, ["paused"]),
    ],
)
def test_decode_custom_error(
    signature: str, values: tuple[Any, ...], expected_args: dict[str, Any], fragments: list[str]
) -> None:
    data = error_data(signature, *values)
    err = protocol_error_decoder().decode(data)
    name = signature[: signature.index("(")]
    assert isinstance(err, ContractRevert)
    assert err.name == name
    assert {k: err.args_by_name[k] for k in expected_args} == expected_args
    assert len(err.args_by_name) == len(values)
    assert err.selector == "0x" + data[:4].hex() and err.data == data
    assert err.message == str(err) and err.message.endswith(f"[{name}]")
    for fragment in fragments:
        assert fragment.lower() in err.message.lower(), (fragment, err.message)


def test_decoded_address_is_the_address() -> None:
    err = protocol_error_decoder().decode(error_data("RegistryUnknownAccount(address)", ACCOUNT))
    assert err.args_by_name["account"].lower() == ACCOUNT


@pytest.mark.parametrize(
    ("name", "component"),
    [
        ("ProtocolPaused()", "Protocol"),
        ("RegistryZeroAccount()", "Registry"),
        ("VoucherNonTransferable()", "Voucher"),
        ("CatalogueEmptyName()", "Catalogue"),
        ("OrderZeroQuantity()", "Order"),
        ("ProgramIsClosed(uint64)", "Program"),
        ("ExpectedPause()", "External"),
    ],
)
def test_component_of_a_decoded_error(name: str, component: str) -> None:
    values = (1,) if "uint64" in name else ()
    assert protocol_error_decoder().decode(error_data(name, *values)).component == component


def test_decode_error_string() -> None:
    err = protocol_error_decoder().decode(error_data("Error(string)", "ERC20: nope"))
    assert (err.name, err.args_by_name) == ("Error", {"message": "ERC20: nope"})
    assert err.selector == "0x08c379a0" and "ERC20: nope" in err.message


def test_decode_panic() -> None:
    err = protocol_error_decoder().decode(error_data("Panic(uint256)", 0x11))
    assert (err.name, err.args_by_name) == ("Panic", {"code": 17})
    assert err.selector == "0x4e487b71" and "17" in err.message


@pytest.mark.parametrize(
    "data",
    [
        bytes.fromhex("deadbeef") + encode(["uint256"], [1]),
        b"",
        b"\x01\x02",
        # A known selector whose payload does not decode.
        error_data("ProgramHolderCapExceeded(uint64,uint64,uint256,uint256)", 1, 2, 3, 4)[:20],
    ],
)
def test_unknown_revert_data(data: bytes) -> None:
    err = protocol_error_decoder().decode(data)
    assert err.name == "UnknownError"
    assert err.args_by_name == {"data": "0x" + data.hex()}
    assert err.data == data and ("0x" + data.hex()) in err.message


def test_decoder_knows_only_the_abis_it_was_given() -> None:
    bare = ErrorDecoder([])
    assert bare.error_names() == {"Error", "Panic"}
    assert bare.decode(error_data("ProtocolPaused()")).name == "UnknownError"
    names = protocol_error_decoder().error_names()
    assert set(protocol_errors()) | {"Error", "Panic"} == names


# -- revert_data_of -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        error_data("ProtocolOrgNotActive(uint64,uint8)", 5, 3),
        error_data("Error(string)", 'it\'s "quoted"'),
        b"'\"\\\n",
        b"",
    ],
)
def test_revert_data_from_an_eth_tester_message(data: bytes) -> None:
    exc = EthTesterFailed(f"execution reverted: {data!r}")
    assert revert_data_of(exc) == data


@pyevm_only
def test_revert_data_from_a_real_eth_tester_revert(world: World) -> None:
    stranger = world.new_account()
    fn = world.p.registry.functions.suspend(99, 1)
    for attempt in (lambda: fn.transact({"from": stranger}), lambda: fn.call({"from": stranger})):
        with pytest.raises(EthTesterFailed) as info:
            attempt()
        data = revert_data_of(info.value)
        assert data is not None
        err = protocol_error_decoder().decode(data)
        assert err.name == "ProtocolUnauthorizedAccount"
        assert err.args_by_name["account"].lower() == stranger.lower()
        assert err.args_by_name["allowedKinds"] == 272
    ent = world.enterprise(SHANGHAI)
    with pytest.raises(EthTesterFailed) as info:
        world.p.settlement.functions.transfer(world.new_account(), 0).transact(
            {"from": ent.account}
        )
    data = revert_data_of(info.value)
    assert data is not None and protocol_error_decoder().decode(data).name == "ProtocolZeroAmount"


def test_revert_data_from_web3_errors() -> None:
    data = error_data("CatalogueNotInstitution(uint64)", 4)
    custom = ContractCustomError("0x" + data.hex(), data="0x" + data.hex())
    assert revert_data_of(custom) == data
    rpc_body = {"code": "3", "message": "execution reverted", "data": "0x" + data.hex()}
    assert revert_data_of(ContractLogicError("execution reverted", data=rpc_body)) == data
    assert protocol_error_decoder().decode(data).args_by_name == {"orgId": 4}


class _WithBytes(Exception):
    def __init__(self, data: bytes) -> None:
        super().__init__("reverted")
        self.data = data


def test_revert_data_from_raw_bytes() -> None:
    data = error_data("OrderUnknown(uint64)", 3)
    assert revert_data_of(_WithBytes(data)) == data


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("boom"),
        RuntimeError("execution reverted: not a bytes literal"),
        EthTesterFailed("out of gas"),
        EthTesterFailed("execution reverted: 'a str, not bytes'"),
        ContractLogicError("execution reverted", data=None),
        ContractLogicError("execution reverted", data={"code": "3", "message": "x"}),
        ContractCustomError("no hex", data="not hex"),
    ],
)
def test_no_revert_data_in_unrelated_exceptions(exc: Exception) -> None:
    assert revert_data_of(exc) is None
