"""Self-custody through OpenZeppelin's ``ERC2771Forwarder``: a wallet signs an EIP-712
``ForwardRequest``; a relayer checks it and submits ``forwarder.execute(request)``; the protocol's
``ERC2771Context`` contracts then see the wallet's account as ``_msgSender()``.

The flow::

    typed = build_forward_request(p.forwarder, wallet, p.programs.address, data,
                                  gas=300_000, deadline=now + 600)
    signature = sign_forward_request(signer, typed)  # or any wallet's eth_signTypedData_v4
    receipt = Relayer(p.forwarder, relayer_account).relay(typed, signature)

What the forwarder itself says about bad requests (OpenZeppelin 5.7): the nonce is not sent in the
request but read from ``nonces(from)`` when verifying, so a *replayed* request, one *tampered* with,
and one signed for *another chain* or forwarder all revert with the same
``ERC2771ForwarderInvalidSigner`` (and ``verify()`` returns false); ``InvalidAccountNonce`` is never
raised. The relayer therefore checks the request off-chain first, against the typed data the wallet
signed, and names the reason (:class:`~voucher_chain.signer.errors.RefusalReason`); then
``verify()`` and a dry run of ``execute`` on the node catch anything else before a transaction is
sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any, NoReturn

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import is_address, to_checksum_address
from hexbytes import HexBytes
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.logs import DISCARD
from web3.types import TxParams, TxReceipt

from voucher_chain.contracts.revert import protocol_error_decoder, revert_data_of
from voucher_chain.contracts.tx import call, transact
from voucher_chain.errors import ContractRevert, TransactionFailed
from voucher_chain.signer.base import Signer
from voucher_chain.signer.errors import ForwardRequestRefused, RefusalReason

__all__ = [
    "FORWARD_REQUEST_TYPES",
    "Relayer",
    "Submit",
    "build_forward_request",
    "forwarder_domain",
    "request_data",
    "sign_forward_request",
    "submit_with_transact",
]

log = logging.getLogger(__name__)

#: The EIP-712 types of OpenZeppelin 5's ``ForwardRequest`` (and its domain).
FORWARD_REQUEST_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "ForwardRequest": [
        {"name": "from", "type": "address"},
        {"name": "to", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "gas", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint48"},
        {"name": "data", "type": "bytes"},
    ],
}

#: Submits a contract call from an account and returns its receipt (reverts as ContractRevert).
Submit = Callable[[ContractFunction, str], TxReceipt]

_BY_FORWARDER_ERROR = {
    "ERC2771ForwarderInvalidSigner": RefusalReason.TAMPERED,
    "ERC2771ForwarderExpiredRequest": RefusalReason.EXPIRED,
    "ERC2771UntrustfulTarget": RefusalReason.UNTRUSTED_TARGET,
    "ERC2771ForwarderMismatchedValue": RefusalReason.VALUE_NOT_ALLOWED,
}


def forwarder_domain(forwarder: Contract) -> dict[str, Any]:
    """The forwarder's EIP-712 domain as it reports it (EIP-5267 ``eip712Domain()``): name
    ``"VoucherChain"``, version ``"1"`` (OpenZeppelin's ``ERC2771Forwarder`` hard-codes it), the
    chain id the EVM sees, and the forwarder's address."""
    _fields, name, version, chain_id, verifying, _salt, _ext = call(
        forwarder.functions.eip712Domain()
    )
    return {
        "name": name,
        "version": version,
        "chainId": int(chain_id),
        "verifyingContract": to_checksum_address(verifying),
    }


def build_forward_request(
    forwarder: Contract,
    from_: str,
    to: str,
    data: bytes | str,
    *,
    gas: int,
    deadline: int,
    value: int = 0,
    nonce: int | None = None,
) -> dict[str, Any]:
    """The EIP-712 typed data (``types``, ``domain``, ``primaryType``, ``message``) of a request
    that ``from_`` calls ``to`` with calldata ``data`` through ``forwarder``, giving the call
    ``gas`` and valid until block time ``deadline``.
    ``nonce`` defaults to ``forwarder.nonces(from_)``.

    The result is JSON-friendly (``data`` as ``0x`` hex) and is what a wallet signs with
    ``eth_signTypedData_v4``.
    """
    sender = to_checksum_address(from_)
    if nonce is None:
        nonce = int(call(forwarder.functions.nonces(sender)))
    return {
        "types": {k: [dict(f) for f in v] for k, v in FORWARD_REQUEST_TYPES.items()},
        "domain": forwarder_domain(forwarder),
        "primaryType": "ForwardRequest",
        "message": {
            "from": sender,
            "to": to_checksum_address(to),
            "value": int(value),
            "gas": int(gas),
            "nonce": int(nonce),
            "deadline": int(deadline),
            "data": HexBytes(data).to_0x_hex(),
        },
    }


def sign_forward_request(signer: Signer, typed: Mapping[str, Any]) -> bytes:
    """The signature of ``typed`` by its ``from`` account, with ``signer``'s key."""
    return signer.sign_typed_data(str(typed["message"]["from"]), typed)


def request_data(typed: Mapping[str, Any], signature: bytes | str) -> tuple[Any, ...]:
    """The ``ForwardRequestData`` tuple ``execute``/``verify`` take (the nonce is implicit)."""
    m = typed["message"]
    return (
        to_checksum_address(m["from"]),
        to_checksum_address(m["to"]),
        int(m["value"]),
        int(m["gas"]),
        int(m["deadline"]),
        bytes(HexBytes(m["data"])),
        bytes(HexBytes(signature)),
    )


def submit_with_transact(fn: ContractFunction, sender: str) -> TxReceipt:
    """The default submission: the node signs for ``sender`` (eth-tester's unlocked accounts)."""
    return transact(fn, sender)


class Relayer:
    """Checks signed forward requests and submits them from ``account``.

    ``submit`` sends the ``execute`` call (swap in the SDK's submitter); ``allowed_targets``, if
    given, limits the contracts it relays to (OpenZeppelin advises an allowlist). Refusals raise
    :class:`~voucher_chain.signer.errors.ForwardRequestRefused` naming the reason; nothing is sent.
    """

    def __init__(
        self,
        forwarder: Contract,
        account: str,
        *,
        submit: Submit = submit_with_transact,
        allowed_targets: Collection[str] | None = None,
    ) -> None:
        self.forwarder = forwarder
        self.account = to_checksum_address(account)
        self._submit = submit
        self._allowed = (
            None if allowed_targets is None else {to_checksum_address(a) for a in allowed_targets}
        )
        self._domain = forwarder_domain(forwarder)

    def __repr__(self) -> str:
        return f"Relayer(forwarder={self.forwarder.address}, account={self.account})"

    def relay(self, typed: Mapping[str, Any], signature: bytes | str) -> TxReceipt:
        """Checks the request (:meth:`check`) and submits ``execute``; returns the receipt."""
        self.check(typed, signature)
        m = typed["message"]
        request = request_data(typed, signature)
        try:
            receipt = self._submit(self.forwarder.functions.execute(request), self.account)
        except ContractRevert as exc:  # the chain moved between the check and the submission
            raise self._refusal_from_revert(typed, request, exc) from None
        events = self.forwarder.events.ExecutedForwardRequest().process_receipt(
            receipt, errors=DISCARD
        )
        log.info(
            "relayed request of %s (nonce %s) to %s in %s",
            m["from"],
            m["nonce"],
            m["to"],
            receipt["transactionHash"].to_0x_hex(),
        )
        # execute() reverts when the forwarded call fails; this guard only covers other forwarders
        if not all(e["args"]["success"] for e in events):
            raise TransactionFailed(
                f"the forwarded call of {m['from']} failed",
                tx_hash=receipt["transactionHash"].to_0x_hex(),
            )
        return receipt

    def check(self, typed: Mapping[str, Any], signature: bytes | str) -> None:
        """Refuses (raises :class:`ForwardRequestRefused`) a request that would not execute, with
        the reason: first off-chain against the signed typed data, then ``verify()`` and a dry run
        of ``execute`` on the node."""
        try:
            self._check(typed, signature)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            message = typed.get("message")
            signer = str(message.get("from")) if isinstance(message, Mapping) else "?"
            raise ForwardRequestRefused(
                f"refused the forward request of {signer}: tampered — it is malformed "
                f"({type(exc).__name__})",
                reason=RefusalReason.TAMPERED,
                signer=signer,
                nonce=-1,
            ) from None

    def _check(self, typed: Mapping[str, Any], signature: bytes | str) -> None:
        m = typed["message"]
        signer = str(m.get("from"))
        try:
            nonce = int(m.get("nonce", -1))
        except (TypeError, ValueError):
            nonce = -1

        def refuse(
            reason: RefusalReason, why: str, revert: ContractRevert | None = None
        ) -> NoReturn:
            raise ForwardRequestRefused(
                f"refused the forward request of {signer} (nonce {nonce}): {reason.value} — {why}",
                reason=reason,
                signer=signer,
                nonce=nonce,
                revert=revert,
            )

        if (
            typed.get("primaryType") != "ForwardRequest"
            or dict(typed.get("types", {})).get("ForwardRequest")
            != FORWARD_REQUEST_TYPES["ForwardRequest"]
        ):
            refuse(RefusalReason.TAMPERED, "it is not an OpenZeppelin ForwardRequest")
        missing = [f["name"] for f in FORWARD_REQUEST_TYPES["ForwardRequest"] if f["name"] not in m]
        if missing:
            refuse(RefusalReason.TAMPERED, f"its message lacks {', '.join(missing)}")
        if not is_address(signer) or not is_address(str(m.get("to"))):
            refuse(RefusalReason.TAMPERED, "its from/to are not addresses")
        signer = to_checksum_address(signer)
        domain = dict(typed.get("domain", {}))
        if int(domain.get("chainId", -1)) != self._domain["chainId"]:
            refuse(
                RefusalReason.OTHER_CHAIN,
                f"it was signed for chain {domain.get('chainId')}, this is chain "
                f"{self._domain['chainId']}",
            )
        verifying = str(domain.get("verifyingContract", ""))
        if (
            not is_address(verifying)
            or to_checksum_address(verifying) != self._domain["verifyingContract"]
            or domain.get("name") != self._domain["name"]
            or str(domain.get("version")) != self._domain["version"]
        ):
            refuse(
                RefusalReason.WRONG_FORWARDER,
                f"it was signed for forwarder {verifying} ({domain.get('name')!r} version "
                f"{domain.get('version')!r}), not {self._domain['verifyingContract']}",
            )
        if int(m["value"]) != 0:
            refuse(RefusalReason.VALUE_NOT_ALLOWED, "this relayer does not attach native value")
        target = to_checksum_address(str(m["to"]))
        if self._allowed is not None and target not in self._allowed:
            refuse(RefusalReason.UNTRUSTED_TARGET, f"this relayer does not relay to {target}")
        try:
            recovered = Account.recover_message(
                encode_typed_data(full_message=dict(typed)), signature=bytes(HexBytes(signature))
            )
        except Exception as exc:  # malformed signature or typed data
            refuse(
                RefusalReason.TAMPERED, f"its signature cannot be checked ({type(exc).__name__})"
            )
        if recovered != signer:
            refuse(
                RefusalReason.TAMPERED,
                f"the signature is by {recovered}, not {signer}: the request was changed after "
                "signing or signed by another key",
            )
        current = int(call(self.forwarder.functions.nonces(signer)))
        if nonce < current:
            refuse(
                RefusalReason.REPLAYED,
                f"nonce {nonce} was already used ({signer}'s next nonce is {current})",
            )
        if nonce > current:
            refuse(
                RefusalReason.FUTURE_NONCE,
                f"{signer}'s next nonce is {current}: earlier requests must run first",
            )
        now = int(self.forwarder.w3.eth.get_block("latest")["timestamp"])
        if int(m["deadline"]) < now:
            refuse(
                RefusalReason.EXPIRED,
                f"its deadline {m['deadline']} is before the chain's time {now}; sign a new one",
            )
        request = request_data(typed, signature)
        if not call(self.forwarder.functions.verify(request)):
            try:
                call(self.forwarder.functions.execute(request), self.account)
            except ContractRevert as exc:
                raise self._refusal_from_revert(typed, request, exc) from None
            refuse(RefusalReason.TAMPERED, "the forwarder's verify() rejects it")
        try:
            call(self.forwarder.functions.execute(request), self.account)
        except ContractRevert as exc:
            raise self._refusal_from_revert(typed, request, exc) from None

    # -- internals --------------------------------------------------------------------------------

    def _refusal_from_revert(
        self, typed: Mapping[str, Any], request: tuple[Any, ...], exc: ContractRevert
    ) -> ForwardRequestRefused:
        m = typed["message"]
        signer = to_checksum_address(m["from"])
        nonce = int(m["nonce"])
        reason = _BY_FORWARDER_ERROR.get(exc.name)
        revert = exc
        if (
            reason is RefusalReason.TAMPERED
            and int(call(self.forwarder.functions.nonces(signer))) > nonce
        ):
            reason = RefusalReason.REPLAYED
        if reason is None:
            reason = RefusalReason.CALL_REVERTED
            revert = self._inner_revert(request) or exc
        return ForwardRequestRefused(
            f"refused the forward request of {signer} (nonce {nonce}): {reason.value} — "
            f"{revert.message}",
            reason=reason,
            signer=signer,
            nonce=nonce,
            revert=revert,
        )

    def _inner_revert(self, request: tuple[Any, ...]) -> ContractRevert | None:
        """The target's own error, from a dry run of the forwarded call: first exactly as the
        forwarder makes it (from the forwarder, the signer appended to the calldata), then, where
        the node charges a gas price the forwarder's empty balance cannot pay (eth-tester), as the
        signer calling directly — the same ``_msgSender()`` for an ``ERC2771Context`` target."""
        sender, to, _value, gas, _deadline, data, _sig = request
        attempts: list[TxParams] = [
            {
                "from": self.forwarder.address,
                "to": to,
                "data": HexBytes(bytes(data) + bytes(HexBytes(sender))),
                "gas": gas,
            },
            {"from": sender, "to": to, "data": HexBytes(data), "gas": gas},
        ]
        for params in attempts:
            try:
                self.forwarder.w3.eth.call(params)
            except Exception as exc:
                raw = revert_data_of(exc)
                if raw is not None:
                    return protocol_error_decoder().decode(raw)
                continue
            return None  # the call succeeds on its own: the failure was the forwarder's
        return None
