"""A real Chorus server for leader-side tests: seeded database, uvicorn on a free port.

`seed()` makes an organisation, a staff editor, a campaign with its message translated and
approved in Urdu and Polish, a leader and their invite; `running_server()` starts
`uvicorn service.web.app:create_app --factory` as a separate process on loopback with its own
SQLite database and object folder, and stops it afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from service.db import dispose_engines, unit_of_work
from service.models import (
    Campaign,
    CampaignLanguage,
    Invite,
    Leader,
    Organisation,
    Sentence,
    Translation,
    User,
)
from service.security import hash_password, hash_token, new_token
from service.settings import Settings
from tests.integration.netutil import free_port

REPO = Path(__file__).resolve().parents[2]

MESSAGE = {
    "en": ["Get your flu vaccine this winter.", "It is free for people over sixty-five."],
    "ur": ["اس سردی میں فلو کی ویکسین لگوائیں۔",
           "پینسٹھ سال سے زیادہ عمر کے لوگوں کے لیے یہ مفت ہے۔"],
    "pl": ["Zaszczep się przeciw grypie tej zimy.",
           "Dla osób po sześćdziesiątce piątce jest bezpłatna."],
}


@dataclass
class Seed:
    settings: Settings
    campaign_id: str
    invites: dict[str, str]  # language -> raw token
    invite_ids: dict[str, str]
    leader_ids: dict[str, str]
    staff_email: str
    staff_password: str


@dataclass
class Server:
    url: str
    seed: Seed
    process: subprocess.Popen[bytes]
    log_path: Path


def make_settings(root: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite:///{root / 'chorus.db'}",
        "data_dir": root / "data",
        "storage_root": root / "objects",
        "public_url": "http://127.0.0.1:8000",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def seed(settings: Settings, languages: tuple[str, ...] = ("ur", "pl")) -> Seed:
    from service.migrations import upgrade

    upgrade(settings)
    invites: dict[str, str] = {}
    invite_ids: dict[str, str] = {}
    leader_ids: dict[str, str] = {}
    with unit_of_work(settings) as session:
        org = Organisation(name="Brent Council", slug=f"brent-{new_token()[:6].lower()}")
        session.add(org)
        session.flush()
        password = "correct horse battery staple"
        email = f"editor-{org.id[:8]}@example.org"
        session.add(User(organisation_id=org.id, email=email, name="Editor",
                         password_hash=hash_password(password), role="editor"))
        campaign = Campaign(organisation_id=org.id, title="Flu vaccine winter", language="en",
                            translation_language="en", formats=["landscape"],
                            deadline=datetime.now(UTC) + timedelta(days=30))
        session.add(campaign)
        session.flush()
        sentences = []
        for i, text in enumerate(MESSAGE["en"]):
            sentence = Sentence(campaign_id=campaign.id, position=i, text=text)
            session.add(sentence)
            sentences.append(sentence)
        session.flush()
        for lang in languages:
            session.add(CampaignLanguage(campaign_id=campaign.id, language=lang))
            for sentence, text in zip(sentences, MESSAGE[lang], strict=True):
                session.add(Translation(campaign_id=campaign.id, sentence_id=sentence.id,
                                        language=lang, text=text, status="approved"))
            leader = Leader(organisation_id=org.id, name=f"Leader {lang}",
                            role="Imam, Central Mosque" if lang == "ur" else "Parish priest",
                            community="Brent", language=lang)
            session.add(leader)
            session.flush()
            token = new_token()
            invite = Invite(campaign_id=campaign.id, leader_id=leader.id,
                            token_hash=hash_token(token), language=lang,
                            expires_at=datetime.now(UTC) + timedelta(days=30))
            session.add(invite)
            session.flush()
            invites[lang] = token
            invite_ids[lang] = invite.id
            leader_ids[lang] = leader.id
        campaign_id = campaign.id
    dispose_engines()
    return Seed(settings, campaign_id, invites, invite_ids, leader_ids, email, password)


@contextmanager
def running_server(root: Path, languages: tuple[str, ...] = ("ur", "pl"),
                   **overrides: object) -> Iterator[Server]:
    """Seed a fresh database under `root` and serve it with uvicorn on a free port."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(root, public_url=url, **overrides)
    data = seed(settings, languages)
    env = dict(os.environ)
    for key in ("database_url", "data_dir", "storage_root", "public_url", "max_upload_bytes",
                "upload_expiry_hours", "invite_rate_limit_per_minute", *overrides):
        env[f"CHORUS_{key.upper()}"] = str(getattr(settings, key))
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "service.web.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log_path.read_text()[-3000:]}")
            try:
                httpx.get(f"{url}/uploads/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start in 90 s") from None
                time.sleep(0.1)
        yield Server(url, data, process, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
