"""Compile stage rules without rendering: consent enforced, claims exclusive, plan from rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from service.db import unit_of_work
from service.models import Compile, CompileClip, Consent, utcnow
from service.renders import state
from service.renders.plan import CompileRefused, load_plan
from service.renders.status import ClipStatus
from tests.fixtures import service_rows as rows
from tests.fixtures.service_env import Env, service_env
from workers.stages import compile as stage


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with service_env(tmp_path) as built:
        yield built


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"placeholder")
    return path


def _compile(s, camp) -> Compile:
    row = Compile(campaign_id=camp.id, formats=["landscape"], status="queued")
    s.add(row)
    s.flush()
    return row


def test_only_approved_clips_with_live_consent_are_planned(env: Env, fake: Path) -> None:
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        ok = rows.clip(s, env.store, camp, fake)
        rows.clip(s, env.store, camp, fake, consent=False)
        rows.clip(s, env.store, camp, fake, withdrawn=True)
        rows.clip(s, env.store, camp, fake, status="ready")
        rows.clip(s, env.store, camp, fake, status="rejected")
        comp = _compile(s, camp)
    with unit_of_work(env.settings) as s:
        plan = load_plan(s, comp.id, include_unlisted=True)
        state.sync_clip_rows(s, plan)
    assert plan.left_out == ()
    assert [c.clip_id for c in plan.clips] == [ok.id]
    with unit_of_work(env.settings) as s:
        ccs = s.query(CompileClip).filter_by(compile_id=comp.id).all()
        assert [cc.clip_id for cc in ccs] == [ok.id]


def test_withdrawal_after_the_compile_was_requested_skips_the_clip(env: Env, fake: Path) -> None:
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        keep = rows.clip(s, env.store, camp, fake)
        gone = rows.clip(s, env.store, camp, fake)
        comp = _compile(s, camp)
    with unit_of_work(env.settings) as s:
        state.sync_clip_rows(s, load_plan(s, comp.id, include_unlisted=True))
    with unit_of_work(env.settings) as s:  # the person withdraws before the stage runs again
        for consent in s.query(Consent).filter_by(clip_id=gone.id):
            consent.withdrawn_at = utcnow()
    with unit_of_work(env.settings) as s:
        plan = load_plan(s, comp.id)
        assert [c.clip_id for c in plan.clips] == [keep.id]
        # the loader only reads: the stage that loaded it moves the clip's state on
        assert s.query(CompileClip).filter_by(clip_id=gone.id).one().status == ClipStatus.QUEUED
        state.leave_out(s, plan)
        skipped = s.query(CompileClip).filter_by(compile_id=comp.id, clip_id=gone.id).one()
        assert (skipped.status, skipped.error_code) == ("skipped", "no_consent")


def test_consent_through_the_invite_counts_and_its_withdrawal_wins(env: Env, fake: Path) -> None:
    from service.models import Invite

    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        lead = rows.leader(s, org, "ur")
        invite = Invite(campaign_id=camp.id, leader_id=lead.id, token_hash="a" * 64,
                        expires_at=utcnow() + timedelta(days=1), language="ur")
        s.add(invite)
        s.flush()
        clip = rows.clip(s, env.store, camp, fake, language="ur", consent=False, lead=lead)
        clip.invite_id = invite.id
        consent = Consent(invite_id=invite.id, leader_id=lead.id, campaign_id=camp.id,
                          wording_version="v1", wording_language="ur", channels=["all"],
                          shows_role_agreed=True, method="link")
        s.add(consent)
        comp = _compile(s, camp)
    with unit_of_work(env.settings) as s:
        plan = load_plan(s, comp.id, include_unlisted=True)
        assert [c.clip_id for c in plan.clips] == [clip.id]
        assert plan.clips[0].sentences == rows.URDU  # the approved translation is its text
        assert plan.clips[0].speaker == "Imam Yusuf"
        s.get(Consent, consent.id).withdrawn_at = utcnow()
    with unit_of_work(env.settings) as s, pytest.raises(CompileRefused) as err:
        load_plan(s, comp.id, include_unlisted=True)
    assert err.value.code == "no_clips"


def test_a_compile_with_no_consented_clip_fails_with_a_code(env: Env, fake: Path) -> None:
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org)
        rows.clip(s, env.store, camp, fake, consent=False)
        comp = _compile(s, camp)
    assert stage.run(comp.id, env.settings) == "failed"
    with unit_of_work(env.settings) as s:
        row = s.get(Compile, comp.id)
        assert (row.status, row.error_code) == ("failed", "no_clips")


def test_missing_translation_refuses_the_compile(env: Env, fake: Path) -> None:
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        camp = rows.campaign(s, org, translation_language="pl")  # no Polish translations
        rows.clip(s, env.store, camp, fake)
        comp = _compile(s, camp)
    assert stage.run(comp.id, env.settings) == "failed"
    with unit_of_work(env.settings) as s:
        assert s.get(Compile, comp.id).error_code == "translation_missing"


def test_claim_starts_a_queued_compile_once(env: Env, fake: Path) -> None:
    with unit_of_work(env.settings) as s:
        org = rows.organisation(s)
        comp = _compile(s, rows.campaign(s, org))
    with unit_of_work(env.settings) as s:
        assert state.claim(s, comp.id) is True
    with unit_of_work(env.settings) as s:
        assert state.claim(s, comp.id) is False  # running: started already
        row = s.get(Compile, comp.id)
        assert (row.status, row.attempts) == ("running", 1)
        row.status = "done"
    assert stage.run(comp.id, env.settings) is None  # done stays done: a second run is a no-op


def test_manual_cues_time_the_sentences_in_original_seconds() -> None:
    from service.clips.text import cue_entries

    entries = cue_entries(rows.SCRIPT, ((0.6, 1.5), (1.6, 2.5)))
    assert [(e.start, e.end) for e in entries] == [(0.6, 1.5), (1.6, 2.5)]
    assert entries[0].text == "Stay at home."
    assert entries[1].text == "Protect the NHS. Save lives."  # extra sentences join the last
