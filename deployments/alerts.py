"""Being told (告警): the Prefect automations kept as files in `deployments/automations/`, applied.

Each file is a Prefect automation in the CLI's YAML form, except that a notification names its block
(`block: bridgehead-alerts`) instead of a block id, so the files stay the same on every server. The
block is a custom webhook: point it at the station network's own alerting (a chat bot, a pager, an
incident tool) with `--webhook URL`, or edit its URL in the Prefect UI later.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

AUTOMATIONS_DIR = Path(__file__).with_name("automations")
ALERT_BLOCK = "bridgehead-alerts"


def automation_files() -> list[Path]:
    return sorted(AUTOMATIONS_DIR.glob("*.yaml"))


def alert_block(webhook_url: str | None) -> str:
    """The webhook block's id: made (or repointed) when a URL is given, else the existing one."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    url = webhook_url or os.environ.get("BRIDGEHEAD_ALERT_WEBHOOK")
    if url:
        block = CustomWebhookNotificationBlock(
            name="bridgehead",
            url=url,
            json_data={"subject": "{{subject}}", "body": "{{body}}", "source": "bridgehead"},
            allow_private_urls=True,  # a station network's alerting usually lives on its own network
        )
        return str(block.save(ALERT_BLOCK, overwrite=True))
    try:
        existing = CustomWebhookNotificationBlock.load(ALERT_BLOCK)
    except ValueError as exc:
        raise ValueError(
            f"no {ALERT_BLOCK} block yet: give --webhook URL (or BRIDGEHEAD_ALERT_WEBHOOK) the first time"
        ) from exc
    return str(existing._block_document_id)


def load(path: Path, block_id: str) -> dict[str, Any]:
    """One automation file, its notifications pointed at the block."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for action in doc.get("actions", []):
        if action.pop("block", None):
            action["block_document_id"] = block_id
    return doc


def apply(webhook_url: str | None = None) -> list[str]:
    """Create every automation of the folder, replacing any of the same name (so applying twice is safe)."""
    from prefect.client.orchestration import get_client
    from prefect.events.schemas.automations import AutomationCore

    block_id = alert_block(webhook_url)
    applied = []
    with get_client(sync_client=True) as client:
        for path in automation_files():
            automation = AutomationCore.model_validate(load(path, block_id))
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
            applied.append(automation.name)
    return applied
