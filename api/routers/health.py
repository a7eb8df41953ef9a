"""Liveness (public) and Prometheus metrics (regulators, or their API keys)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import Ctx, RegulatorOrg
from api.metrics import Metrics

router = APIRouter(tags=["health"])


@router.get("/health")
def health(ctx: Ctx) -> dict[str, Any]:
    """Whether the API is up and reaches the chain (the only public endpoint)."""
    block = ctx.protocol.w3.eth.block_number
    return {"status": "ok", "block_number": int(block), "environment": ctx.settings.environment}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, _: RegulatorOrg) -> Response:
    """Prometheus text format."""
    registry: Metrics = request.app.state.metrics
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
