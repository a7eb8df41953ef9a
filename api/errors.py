"""The API's own errors, and the one place every error becomes a status and a stable body.

The body is always ``{"code": ..., "message": ..., "details": {...}}``::

    ApiError                       refused by the API itself (status and code on the class)
    ├── NotAuthenticated      401  no credentials, or a bad one
    ├── TokenExpired          401  a token past its expiry
    ├── Forbidden             403  this organisation's kind or scope may not do this
    ├── OrganisationNotActive 403  the organisation or account is no longer active on chain
    ├── NotCustodial          403  the API holds no key of this organisation: use /relay
    ├── NotOwnRequest         403  a relayed request signed by another organisation's account
    ├── NotFound              404  nothing of that id that this organisation may see
    ├── AccountTaken          409  the account is (or was) an account of an organisation
    ├── LastAccount           422  removing it would leave the organisation without an account
    ├── IdempotencyKeyMissing 428  a value-moving request without an Idempotency-Key
    ├── IdempotencyKeyReused  422  the same key with a different request
    └── IdempotencyInProgress 409  the first request with this key has not finished

AccountTaken and LastAccount carry the code of the contract error the chain would answer
(``RegistryAccountAlreadyRegistered``, ``RegistryLastAccount``): the API refuses before sending, and
a client sees one code either way.

Domain errors (:class:`voucher_chain.errors.VoucherChainError`) are mapped by
:func:`status_of`: a contract revert by its error's name, the rest by type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from voucher_chain.errors import ContractRevert, TransactionFailed, VoucherChainError
from voucher_chain.signer import ForwardRequestRefused, SignerError, SubmissionTimeout

__all__ = [
    "AccountTaken",
    "ApiError",
    "Forbidden",
    "IdempotencyInProgress",
    "IdempotencyKeyMissing",
    "IdempotencyKeyReused",
    "LastAccount",
    "NotAuthenticated",
    "NotCustodial",
    "NotFound",
    "NotOwnRequest",
    "OrganisationNotActive",
    "TokenExpired",
    "error_body",
    "install_error_handlers",
    "revert_status",
]


class ApiError(Exception):
    status: int = 400
    code: str = "BadRequest"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotAuthenticated(ApiError):
    status, code = 401, "NotAuthenticated"


class TokenExpired(ApiError):
    status, code = 401, "TokenExpired"


class Forbidden(ApiError):
    status, code = 403, "Forbidden"


class OrganisationNotActive(ApiError):
    status, code = 403, "OrganisationNotActive"


class NotCustodial(ApiError):
    status, code = 403, "NotCustodial"


class NotOwnRequest(ApiError):
    status, code = 403, "NotOwnRequest"


class NotFound(ApiError):
    status, code = 404, "NotFound"


class AccountTaken(ApiError):
    status, code = 409, "RegistryAccountAlreadyRegistered"


class LastAccount(ApiError):
    status, code = 422, "RegistryLastAccount"


class IdempotencyKeyMissing(ApiError):
    status, code = 428, "IdempotencyKeyMissing"


class IdempotencyKeyReused(ApiError):
    status, code = 422, "IdempotencyKeyReused"


class IdempotencyInProgress(ApiError):
    status, code = 409, "IdempotencyInProgress"


#: Contract errors by the status they mean; anything else a contract refuses is a rule (422).
_FORBIDDEN = frozenset(
    {
        "ProtocolUnauthorizedAccount",
        "ProtocolOrgNotActive",
        "RegistryNotRegistrar",
        "RegistryRegionOutsideJurisdiction",
        "VoucherUnauthorizedOperator",
        "CatalogueNotInstitution",
        "CatalogueNotServiceOwner",
        "CatalogueOutsideJurisdiction",
        "ProgramNotIssuer",
        "ProgramNotFinance",
        "ProgramOnlyOrderBook",
        "OrderNotParty",
    }
)
_NOT_FOUND = frozenset(
    {
        "RegistryUnknownAccount",
        "RegistryUnknownOrganisation",
        "CatalogueUnknownService",
        "ProgramUnknown",
        "OrderUnknown",
    }
)
_CONFLICT = frozenset(
    {
        "ProtocolPaused",
        "RegistryDuplicateCreditCode",
        "RegistryAccountAlreadyRegistered",
        "RegistryInvalidStatusChange",
        "ProgramIsClosed",
        "ProgramDuplicateRequest",
        "ProgramApplicationNotPending",
        "ProgramNotEnded",
        "ProgramHasOpenOrders",
        "OrderDuplicateRequest",
        "OrderInvalidState",
        "OrderConfirmWindowOpen",
        "OrderNotExpirable",
    }
)


def revert_status(name: str) -> int:
    """The HTTP status of a contract error, by its name."""
    if name in _FORBIDDEN:
        return 403
    if name in _NOT_FOUND:
        return 404
    if name in _CONFLICT:
        return 409
    if name in ("Panic", "UnknownError"):
        return 500
    return 422


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> Any:
    return jsonable_encoder(
        {"code": code, "message": message, "details": dict(details or {})},
        custom_encoder={bytes: lambda b: "0x" + b.hex()},
    )


def _revert_response(exc: ContractRevert) -> JSONResponse:
    return JSONResponse(
        error_body(exc.name, exc.message, exc.args_by_name), status_code=revert_status(exc.name)
    )


def _domain_response(exc: VoucherChainError) -> JSONResponse:
    if isinstance(exc, ContractRevert):
        return _revert_response(exc)
    if isinstance(exc, ForwardRequestRefused):
        if exc.revert is not None and exc.reason == "call-reverted":
            return _revert_response(exc.revert)
        details = {"reason": str(exc.reason), "signer": exc.signer, "nonce": exc.nonce}
        return JSONResponse(error_body("ForwardRequestRefused", str(exc), details), 422)
    status = 500
    if isinstance(exc, SubmissionTimeout):
        status = 504
    elif isinstance(exc, TransactionFailed | SignerError):
        status = 502
    return JSONResponse(error_body(type(exc).__name__, str(exc)), status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """The one mapping from every error to a status and ``{code, message, details}``."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return JSONResponse(error_body(exc.code, exc.message, exc.details), exc.status)

    async def domain_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, VoucherChainError)
        return _domain_response(exc)

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        body = error_body("ValidationError", "the request is not valid", {"errors": errors})
        return JSONResponse(body, status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(VoucherChainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
