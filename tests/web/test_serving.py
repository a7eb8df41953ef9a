"""How the apps are served: from the API's origin, with a Content-Security-Policy, and nothing
fetched from elsewhere (the vendored packages come with their licences)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx2

from api.main import WEB_APPS, WEB_HEADERS
from tests.web.conftest import System

WEB = Path(__file__).resolve().parents[2] / "api" / "web"


def test_every_app_is_served_with_its_security_headers(system: System) -> None:
    with httpx2.Client(base_url=system.url) as http:
        assert http.get("/").headers["location"] == "/app/"
        for path in ["/app/", *(f"/app/{name}/" for name in WEB_APPS), "/app/js/wallet.js"]:
            response = http.get(path)
            assert response.status_code == 200, path
            for header, value in WEB_HEADERS.items():
                assert response.headers[header] == value, (path, header)
        assert http.get("/app/nothing.js").status_code == 404
        paths = http.get("/openapi.json").json()["paths"]
        assert not [p for p in paths if p == "/" or p == "/app" or p.startswith("/app/")]


def test_the_apps_load_nothing_from_another_origin() -> None:
    own = [*WEB.glob("*.html"), *WEB.glob("*/*.html"), *WEB.glob("js/**/*.js"), WEB / "css/app.css"]
    assert len(own) > 15
    for path in own:
        text = path.read_text()
        assert not re.search(r"""(src|href|import)[=( ]*["']?(https?:)?//""", text), path
        assert not re.search(r"""from\\s+["'](?![./])""", text), path  # bare module names
    licences = (WEB / "vendor" / "LICENSES.txt").read_text()
    for package in ("ethers", "chart.js", "@noble/hashes", "@noble/curves", "@kurkle/color"):
        assert f"==== {package} " in licences
