"""The app factory: :func:`create_app` wires settings, chain and keys; :func:`connect` makes
those from the settings alone (``voucher-chain serve --rpc URL``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import uvicorn
from eth_utils.address import to_checksum_address
from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope
from web3.contract.contract import ContractFunction
from web3.types import TxReceipt

from api.context import ApiContext
from api.db import Database
from api.errors import NotCustodial, install_error_handlers
from api.idempotency import require_key_in_document
from api.metrics import Metrics, install_metrics
from api.routers import (
    accounts,
    accreditations,
    applications,
    audit,
    auth,
    categories,
    disputes,
    health,
    orders,
    organisations,
    programs,
    relay,
    services,
    settlements,
    supervision,
    vouchers,
)
from api.schemas.common import ErrorPublic
from api.settings import Settings
from voucher_chain.connect import http_web3
from voucher_chain.contracts import Protocol
from voucher_chain.services import Transact, VoucherClient
from voucher_chain.signer import Keystore, LocalSigner, Relayer, Submitter

__all__ = ["WEB_APPS", "WEB_DIR", "WEB_HEADERS", "connect", "create_app", "serve"]

#: The web apps' static files (plain ES modules and vendored packages: no build at run time).
WEB_DIR = Path(__file__).parent / "web"
#: The web apps by path under ``/app/``.
WEB_APPS = {
    "wallet": "enterprise wallet",
    "institution": "institution console",
    "issuer": "issuer console",
    "regulator": "regulator dashboard",
}

#: Every error the API answers has the one body shape; the document says so for each status.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorPublic, "description": description}
    for status, description in (
        (401, "Not authenticated, or the token expired"),
        (403, "The caller's organisation may not do this"),
        (404, "No such resource (or not the caller's)"),
        (409, "The state does not allow this step, or it was already done"),
        (422, "Invalid input, or a rule of the protocol refused it"),
        (428, "An Idempotency-Key header is required"),
        (502, "The chain refused or failed the transaction"),
        (504, "No receipt in time; the request may still complete"),
    )
}

ROUTERS = (
    health,
    auth,
    organisations,
    accounts,
    programs,
    applications,
    vouchers,
    categories,
    accreditations,
    services,
    orders,
    disputes,
    settlements,
    supervision,
    relay,
    audit,
)


def _no_custody(_fn: ContractFunction, sender: str) -> TxReceipt:
    raise NotCustodial(f"the API holds no keys: {sender} must sign its own requests (/relay)")


def create_app(
    settings: Settings,
    protocol: Protocol,
    *,
    keystore: Keystore | None = None,
    transact: Transact | None = None,
) -> FastAPI:
    """The API over ``protocol``; custodial signing with ``keystore`` (through a Submitter
    unless ``transact`` is given), relaying with ``settings.relayer_account``."""
    if transact is None:
        if keystore is not None:
            transact = Submitter(protocol.w3, LocalSigner(keystore)).transact
        else:
            transact = _no_custody
    relayer = None
    if settings.relayer_account is not None:
        targets = [
            c.address
            for c in (
                protocol.registry,
                protocol.settlement,
                protocol.vouchers,
                protocol.catalogue,
                protocol.programs,
                protocol.orders,
            )
        ]
        relayer = Relayer(
            protocol.forwarder,
            to_checksum_address(settings.relayer_account),
            submit=transact,
            allowed_targets=targets,
        )
    app = FastAPI(
        title="VoucherChain API",
        version="0.1.0",
        description="Innovation vouchers: programs, wallets, orders and instant settlement.",
        responses=ERROR_RESPONSES,
    )
    app.state.context = ApiContext(
        settings=settings,
        db=Database(settings.database_path),
        protocol=protocol,
        client=VoucherClient(protocol, transact),
        keystore=keystore,
        relayer=relayer,
    )
    app.state.metrics = Metrics()
    install_metrics(app, app.state.metrics)
    install_error_handlers(app)
    for module in ROUTERS:
        app.include_router(module.router)
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        return require_key_in_document(build_document())

    app.openapi = openapi  # type: ignore[method-assign]
    mount_web_apps(app)
    return app


#: Headers of every web-app file: scripts, styles and requests from this origin only (inline
#: styles for Chart.js's canvas sizing; data:/blob: for the icon and downloads), no framing.
WEB_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _WebFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(WEB_HEADERS)
        return response


def mount_web_apps(app: FastAPI) -> None:
    """The web apps at ``/app/<name>/`` (``/`` leads there); outside the OpenAPI document."""
    app.mount("/app", _WebFiles(directory=WEB_DIR, html=True), name="web")

    @app.get("/", include_in_schema=False)
    def _home() -> RedirectResponse:
        return RedirectResponse("/app/")


def connect(settings: Settings) -> tuple[Protocol, Keystore | None]:
    """The deployment at ``settings.rpc_url``/``deployment_path``, and the custody keystore."""
    if settings.rpc_url is None or settings.deployment_path is None:
        raise ValueError("set VOUCHER_CHAIN_RPC_URL and VOUCHER_CHAIN_DEPLOYMENT_PATH")
    token = settings.rpc_token.get_secret_value() if settings.rpc_token else None
    w3 = http_web3(settings.rpc_url, token)
    addresses = json.loads(settings.deployment_path.read_text())
    protocol = Protocol.at(w3, addresses)
    keystore = None
    if settings.keystore_path is not None:
        passphrase = settings.keystore_passphrase
        master = settings.keystore_master_key
        keystore = Keystore.open(
            settings.keystore_path,
            passphrase=passphrase.get_secret_value() if passphrase else None,
            master_key=bytes.fromhex(master.get_secret_value()) if master else None,
        )
    return protocol, keystore


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Runs the API with uvicorn against the node and deployment the settings name (blocks)."""
    protocol, keystore = connect(settings)
    uvicorn.run(create_app(settings, protocol, keystore=keystore), host=host, port=port)
