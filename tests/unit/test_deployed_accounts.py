"""Business accounts as deployed: the webhook loads them without their tokens (it never calls the
Graph API, so it is given no right to read them); every other process still needs each token."""

from __future__ import annotations

from pathlib import Path

import pytest

from server import AccountConfigError, AccountRegistry

NUMBER = "100000000000001"


def test_the_webhook_loads_accounts_without_their_tokens(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ACME_TOKEN", raising=False)
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "- {account_id: acme, account_name: Acme, phone_number_id: '200000000000002',\n"
        "   access_token_env: ACME_TOKEN}\n"
    )
    with pytest.raises(AccountConfigError, match="ACME_TOKEN is not set"):
        AccountRegistry.load(NUMBER, "t", None, accounts)
    registry = AccountRegistry.load(NUMBER, "t", None, accounts, require_tokens=False)
    acme = registry.get("200000000000002")
    assert acme is not None and acme.account_id == "acme" and acme.access_token == ""
