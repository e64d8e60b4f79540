"""Contacts are sealed at rest; phones are masked in anything that leaves the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridgehead.privacy import redact, scrub_text, seal, unseal
from bridgehead.settings import get_settings


@pytest.fixture(autouse=True)
def _var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRIDGEHEAD_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("BRIDGEHEAD_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_sealed_contact_round_trips_and_is_not_clear_text(tmp_path: Path) -> None:
    token = seal("13912345678")
    assert token is not None and b"13912345678" not in token
    assert unseal(token) == "13912345678"
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600


def test_a_key_from_settings_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key().decode()
    monkeypatch.setenv("BRIDGEHEAD_SECRET_KEY", key)
    get_settings.cache_clear()
    assert Fernet(key.encode()).decrypt(seal("wx_li")) == b"wx_li"
    assert not (tmp_path / "secret.key").exists()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("来电 13912345678 称", "来电 [phone] 称"),
        ("call +86 139-1234-5678 back", "call [phone] back"),
        ("座机0917-3212345", "座机[phone]"),
        ("20名工人讨薪 2026年", "20名工人讨薪 2026年"),
        ("case K20260101000123", "case K20260101000123"),
    ],
)
def test_phone_numbers_are_masked_in_free_text(text: str, masked: str) -> None:
    assert scrub_text(text) == masked


def test_redact_hides_personal_fields_only() -> None:
    assert redact({"contact": "x", "phone": None, "address": "宝桥新村", "raw": "{}"}) == {
        "contact": "[redacted]",
        "phone": None,
        "address": "宝桥新村",
        "raw": "[redacted]",
    }


@pytest.mark.prefect
def test_the_key_can_live_in_a_prefect_secret_block(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Operations keep the key in the Prefect server (a Secret block), not on each machine's disk."""
    from cryptography.fernet import Fernet, InvalidToken
    from prefect.blocks.system import Secret

    from bridgehead import privacy
    from bridgehead.settings import get_settings

    key = Fernet.generate_key().decode()
    Secret(value=key).save("bridgehead-test-key", overwrite=True)
    monkeypatch.setenv("BRIDGEHEAD_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("BRIDGEHEAD_SECRET_BLOCK", "bridgehead-test-key")
    get_settings.cache_clear()
    try:
        token = privacy.seal("13912345678")
        assert Fernet(key.encode()).decrypt(token) == b"13912345678"  # sealed with the block's key
        assert privacy.unseal(token) == "13912345678"
        assert not (tmp_path / "secret.key").exists()  # no key file was made beside the data
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(token)
    finally:
        get_settings.cache_clear()
