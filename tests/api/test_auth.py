"""Tokens (hashes only, last use, revocation), scopes, one 401 for every token problem, the one error shape."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from shelfdesk.db.models import ApiToken, AuditLog
from shelfdesk.services.api_tokens import list_tokens, revoke_token

from .conftest import Api, error_of


def test_every_auth_failure_is_the_same_401_without_detail(api: Api) -> None:
    revoked_name = "old"
    from shelfdesk.services.api_tokens import add_token

    _, old = add_token(api.ctx, revoked_name, "write")
    revoke_token(api.ctx, revoked_name)
    attempts = {
        "missing": api.client(),
        "unknown": api.client("sdk_" + "x" * 43),
        "not ours": api.client("hunter2"),
        "revoked": api.client(old),
        "basic": api.client(**{"Authorization": f"Basic {api.write_token}"}),
        "empty": api.client(**{"Authorization": "Bearer"}),
    }
    bodies = set()
    for name, client in attempts.items():
        for method, path in (
            ("GET", "/v1/orders"),
            ("GET", "/v1/orders/1"),
            ("POST", "/v1/orders/1/accept"),
            ("GET", "/v1/actions/1"),
            ("PUT", "/v1/stock/s/k"),
            ("POST", "/v1/stock/s"),
            ("GET", "/v1/status"),
        ):
            response = client.request(method, path, json={})
            assert response.status_code == 401, (name, path, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert error_of(response)["code"] == "unauthorized"
            bodies.add(response.text)
    assert len(bodies) == 1  # nothing tells a revoked token from an unknown one
    assert old not in bodies.pop()


def test_no_token_needed_for_readiness_and_the_document(api: Api) -> None:
    anonymous = api.client()
    assert anonymous.get("/v1/ready").json() == {"status": "ready"}
    document = anonymous.get("/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1") and "/v1/orders" in document["paths"]


def test_read_scope_cannot_change_anything(api: Api) -> None:
    for method, path in (("POST", "/v1/orders/1/accept"), ("PUT", "/v1/stock/s/k"), ("POST", "/v1/stock/s")):
        response = api.reader.request(method, path, json={"quantity": 1, "items": [{"sku": "a", "quantity": 1}]})
        assert response.status_code == 403 and error_of(response)["code"] == "forbidden"
    assert api.reader.get("/v1/orders").status_code == 200


def test_tokens_are_stored_as_hashes_and_last_use_is_listed(api: Api) -> None:
    assert [t.last_used_at for t in list_tokens(api.ctx)] == [None, None]
    assert api.writer.get("/v1/orders").status_code == 200
    used = {t.name: t.last_used_at for t in list_tokens(api.ctx)}
    assert used["erp"] == api.ctx.clock.now() and used["shop"] is None
    with api.ctx.read_session() as session:
        rows = session.execute(select(ApiToken)).scalars().all()
        dump = "\n".join(str(tuple(r)) for r in session.execute(text("SELECT * FROM api_tokens")))
        audit = session.execute(select(AuditLog.action, AuditLog.target_id)).all()
    assert api.write_token not in dump and api.read_token not in dump
    assert all(len(r.token_hash) == 64 and r.prefix == r.prefix[:12] for r in rows)
    assert ("api_token.add", "erp") in audit


def test_token_cli_shows_the_secret_once_and_never_in_lists(workspace, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.cli import main

    assert main(["api", "token", "add", "erp", "--scope", "read"]) == 0
    secret = capsys.readouterr().out.split()[-1]
    assert secret.startswith("sdk_") and len(secret) > 40
    assert main(["api", "token", "list", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"erp"' in listed and secret not in listed and secret[:12] in listed
    assert main(["api", "token", "add", "erp", "--scope", "write"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["api", "token", "revoke", "erp"]) == 0
    assert main(["api", "token", "revoke", "erp"]) == 2
    assert "revoked already" in capsys.readouterr().err


def test_unknown_paths_and_methods_answer_in_the_one_error_shape(api: Api) -> None:
    missing = api.writer.get("/v1/nothing-here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = api.writer.delete("/v1/orders")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"


def test_serve_refuses_nonsense_limits(workspace, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from shelfdesk.cli import main

    assert main(["api", "serve", "--rate", "0"]) == 2
    assert "must be positive" in capsys.readouterr().err
