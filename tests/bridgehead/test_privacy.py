"""Contacts are sealed at rest; phones are masked in anything that leaves the database.

One key per database, wherever a command runs: beside a SQLite file, made once and published whole;
the database records the key's fingerprint and refuses another key.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from bridgehead.db import get_engine, make_engine, session_scope
from bridgehead.migrate import upgrade
from bridgehead.privacy import KeyRefused, redact, scrub_text, seal, unseal
from bridgehead.settings import get_settings
from models.installation import InstallationFact
from tests.factories import TIP, ingest, write_rows

KEY_SETTINGS = (
    "BRIDGEHEAD_SECRET_KEY",
    "BRIDGEHEAD_SECRET_KEY_FILE",
    "BRIDGEHEAD_SECRET_BLOCK",
    "BRIDGEHEAD_VAR_DIR",
    "BRIDGEHEAD_DATABASE_URL",
)

# A process that seals one phone in a transaction of its own and prints the token; with a ready file
# and a go file it says it has started, then waits for the others (so all seal at the same moment).
SEAL_ONE = """
import sys, time
from pathlib import Path
from bridgehead.db import session_scope
from bridgehead.privacy import seal
if len(sys.argv) == 3:
    Path(sys.argv[1]).touch()
    while not Path(sys.argv[2]).exists():
        time.sleep(0.001)
with session_scope():
    token = seal("13912345678")
print(token.decode())
"""


def _fresh_database(folder: Path) -> str:
    """A new SQLite database at the newest schema, and no key yet."""
    url = f"sqlite:///{folder / 'bridgehead.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _use(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for name in KEY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"BRIDGEHEAD_{name.upper()}", value)
    get_settings.cache_clear()
    get_engine.cache_clear()


@pytest.fixture
def _var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The default layout in a fresh folder: var_dir there, its SQLite database migrated."""
    _fresh_database(tmp_path)
    _use(monkeypatch, var_dir=str(tmp_path))
    yield
    get_settings.cache_clear()
    get_engine.cache_clear()


def _sealing_process(url: str, cwd: Path, *barrier: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_SETTINGS}
    env["BRIDGEHEAD_DATABASE_URL"] = url  # var_dir stays its default, var/ under the working directory
    return subprocess.Popen(
        [sys.executable, "-c", SEAL_ONE, *map(str, barrier)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _fingerprints(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = list(conn.execute(select(InstallationFact.value)).scalars())
    engine.dispose()
    return rows


@pytest.mark.usefixtures("_var")
def test_sealed_contact_round_trips_and_is_not_clear_text(tmp_path: Path) -> None:
    with session_scope():
        token = seal("13912345678")
    assert token is not None and b"13912345678" not in token
    assert unseal(token) == "13912345678"
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600  # beside the database
    assert len(_fingerprints(f"sqlite:///{tmp_path / 'bridgehead.db'}")) == 1  # recorded with the commit


@pytest.mark.usefixtures("_var")
def test_a_key_from_settings_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("BRIDGEHEAD_SECRET_KEY", key)
    get_settings.cache_clear()
    assert Fernet(key.encode()).decrypt(seal("wx_li")) == b"wx_li"
    assert not (tmp_path / "secret.key").exists()


def test_processes_in_other_folders_seal_one_database_under_one_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The regression: two ingests into one database from two folders sealed under two keys."""
    url = _fresh_database(tmp_path / "db")
    tokens = []
    for folder in ("station-a", "station-b"):
        (tmp_path / folder).mkdir()
        proc = _sealing_process(url, tmp_path / folder)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        tokens.append(out.strip().encode())
        assert not (tmp_path / folder / "var").exists()  # nothing under the working directory
    _use(monkeypatch, database_url=url)
    assert [unseal(t) for t in tokens] == ["13912345678"] * 2
    assert sorted(p.name for p in (tmp_path / "db").glob("*.key")) == ["secret.key"]
    assert len(_fingerprints(url)) == 1


def test_eight_processes_starting_together_on_a_fresh_folder_share_one_whole_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The regression: 17 of 800 processes failed reading a half-written key."""
    url = _fresh_database(tmp_path / "db")
    go = tmp_path / "go"
    procs = [_sealing_process(url, tmp_path, tmp_path / f"ready-{i}", go) for i in range(8)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # all eight have imported everything: now they race for the key
    results = [(p.returncode, *p.communicate(timeout=120)) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, _, err in results if err]
    _use(monkeypatch, database_url=url)
    assert {unseal(out.strip().encode()) for _, out, _ in results} == {"13912345678"}
    assert sorted(p.name for p in (tmp_path / "db").iterdir() if "key" in p.name) == ["secret.key"]
    assert len(_fingerprints(url)) == 1


def test_a_key_file_setting_must_be_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, database_url=_fresh_database(tmp_path), secret_key_file="var/secret.key")
    with pytest.raises(KeyRefused, match="BRIDGEHEAD_SECRET_KEY_FILE must be an absolute path"):
        seal("13912345678")


def test_postgresql_needs_a_key_setting_or_an_absolute_var_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridgehead.privacy import key_file_for

    _use(monkeypatch, database_url="postgresql://u:pw@db.example:5432/bridgehead")
    with pytest.raises(
        KeyRefused, match=re.escape("no key for postgresql://db.example:5432/bridgehead: set ")
    ):
        key_file_for(get_settings())
    _use(monkeypatch, database_url="postgresql://u:pw@db.example:5432/bridgehead", var_dir="/srv/bh")
    assert key_file_for(get_settings()) == Path("/srv/bh/keys/postgresql-db.example-5432-bridgehead.key")


def _tip_file(tmp_path: Path, n: int) -> Path:
    return write_rows(tmp_path / str(n) / "tips.csv", {**TIP, "tip_id": f"T{n}", "contact": f"1390000000{n}"})


def test_another_key_is_refused_in_one_line_naming_the_setting(
    engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGEHEAD_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    assert ingest(_tip_file(tmp_path, 1), "tip")["loaded"].loaded == 1  # records the key's fingerprint
    token = seal("13900000009")

    monkeypatch.setenv("BRIDGEHEAD_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    for attempt in (lambda: seal("13900000002"), lambda: unseal(token)):
        with pytest.raises(KeyRefused) as refused:
            attempt()
        message = str(refused.value)
        assert "\n" not in message and "BRIDGEHEAD_SECRET_KEY_FILE" in message
        assert "is not the key of" in message
    with pytest.raises(KeyRefused):
        ingest(_tip_file(tmp_path, 2), "tip")
    with session_scope() as s:
        assert len(s.execute(select(InstallationFact.value)).all()) == 1  # nothing sealed under it


def test_a_database_sealed_before_fingerprints_refuses_another_key(
    engine: Engine, jurisdiction: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database whose values were sealed before it recorded a key: only their key may go on."""
    monkeypatch.setenv("BRIDGEHEAD_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    ingest(_tip_file(tmp_path, 1), "tip")
    with session_scope() as s:
        s.execute(InstallationFact.__table__.delete())  # as if sealed by a version without fingerprints

    monkeypatch.setenv("BRIDGEHEAD_SECRET_KEY", Fernet.generate_key().decode())
    get_settings.cache_clear()
    with pytest.raises(KeyRefused, match="holds values sealed under another key"):
        ingest(_tip_file(tmp_path, 2), "tip")
    with session_scope() as s:
        assert s.execute(select(InstallationFact.value)).all() == []


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
@pytest.mark.usefixtures("_var")
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
