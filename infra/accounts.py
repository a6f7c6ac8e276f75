"""The business accounts (BUSINESS_ACCOUNTS_FILE) on AWS.

The file and the agents folders it names travel in the image: context `accounts_file` is a file
of this repository in a folder of its own (e.g. `deploy/accounts.yaml` beside
`deploy/acme-agents/`), and that folder is built in at /opt/wam/accounts, so the file's relative
`agents_dir` entries still resolve. The tokens never do: each `cloud_api` account names the
environment variable of its token (`access_token_env`), and context `account_token_arns` maps
each such variable to a Secrets Manager secret, read at start (SECRET_ENV_ARNS) by the processes
that call the Graph API. Synthesis refuses a file whose tokens have no secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from infra.config import StackConfig

IMAGE_DIR = PurePosixPath("/opt/wam/accounts")


@dataclass(frozen=True)
class DeployedAccounts:
    folder: str  # relative to the repository root, built into the image
    file_in_image: str  # BUSINESS_ACCOUNTS_FILE in the functions and tasks
    token_arns: dict[str, str]  # environment variable -> secret ARN


def deployed_accounts(config: StackConfig, root: Path) -> DeployedAccounts | None:
    if not config.accounts_file:
        if config.account_token_arns:
            raise ValueError("context account_token_arns needs accounts_file")
        return None
    path = (root / config.accounts_file).resolve()
    if not path.is_file():
        raise ValueError(f"context accounts_file: {config.accounts_file} is not a file")
    if not path.is_relative_to(root) or path.parent == root:
        raise ValueError(
            f"context accounts_file: {config.accounts_file} must be in a folder of its own inside "
            "the repository (that folder is built into the image)"
        )
    arns = _token_arns(config.account_token_arns)
    entries = yaml.safe_load(path.read_text("utf-8")) or []
    if not isinstance(entries, list):
        raise ValueError(f"{config.accounts_file}: expected a list of accounts")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("channel", "cloud_api") != "cloud_api":
            continue
        variable = entry.get("access_token_env")
        if variable and variable not in arns:
            raise ValueError(
                f"{config.accounts_file}: {index}.access_token_env: {variable} has no secret in "
                "context account_token_arns (the tokens come from Secrets Manager)"
            )
    folder = path.parent.relative_to(root)
    return DeployedAccounts(
        folder=folder.as_posix(),
        file_in_image=str(IMAGE_DIR / path.name),
        token_arns=arns,
    )


def _token_arns(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    mapping = json.loads(text)
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and k.isidentifier() and isinstance(v, str) for k, v in mapping.items()
    ):
        raise ValueError("context account_token_arns: a JSON object, variable name -> secret ARN")
    return dict(mapping)


def merged_secret_env(*mappings: dict[str, str]) -> str | None:
    """One SECRET_ENV_ARNS value from several mappings (None when empty)."""
    merged: dict[str, str] = {}
    for mapping in mappings:
        merged.update(mapping)
    return json.dumps(merged, sort_keys=True) if merged else None
