"""The audit ledger: editing, deleting or reordering a row is detected."""

import re

from sqlalchemy import text

from campaign.extensions import db
from campaign.models import AuditEvent
from campaign.services.audit import verify_chain
from tests import factories as f


def _campaign_with_signatures():
    u = f.user()
    c = f.published(u)
    for name in ("Alpha Liberty", "Beta Rights"):
        p = f.partner(c, u, name=name)
        f.sign(c, u, p, signer_name="A Signer")
    return c


def test_chain_links_every_event_of_a_campaign(app):
    c = _campaign_with_signatures()
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.campaign_id == c.id).order_by(AuditEvent.seq)
    ).all()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_sha256 == ""
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_sha256 == before.entry_sha256
    assert "signature.signed" in [e.action for e in events]
    assert verify_chain(c).ok


def test_editing_a_row_in_the_database_is_detected(app):
    c = _campaign_with_signatures()
    target = db.session.scalar(
        db.select(AuditEvent)
        .where(AuditEvent.action == "signature.signed")
        .order_by(AuditEvent.seq)
    )
    # Someone with database access rewrites who signed, bypassing the application.
    db.session.execute(
        text("UPDATE audit_events SET actor = 'Mallory' WHERE id = :id"), {"id": target.id}
    )
    db.session.commit()
    db.session.expire_all()
    report = verify_chain(c)
    assert not report.ok
    assert report.broken.id == target.id
    assert "changed" in report.reason


def test_deleting_a_middle_row_is_detected(app):
    c = _campaign_with_signatures()
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.campaign_id == c.id).order_by(AuditEvent.seq)
    ).all()
    gone_id, gone_seq = events[2].id, events[2].seq
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": gone_id})
    db.session.commit()
    db.session.expire_all()
    report = verify_chain(c)
    assert not report.ok and report.broken.seq == gone_seq + 1


def test_flask_audit_verify_names_the_first_broken_entry(app):
    c = _campaign_with_signatures()
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit", "verify", c.slug])
    assert ok.exit_code == 0 and "the chain is intact" in ok.output
    victim = db.session.scalar(
        db.select(AuditEvent).where(AuditEvent.campaign_id == c.id, AuditEvent.seq == 4)
    )
    db.session.execute(
        text("UPDATE audit_events SET details = :d WHERE id = :id"),
        {"d": '{"forged": true}', "id": victim.id},
    )
    db.session.commit()
    db.session.expire_all()
    bad = runner.invoke(args=["audit", "verify", c.slug])
    assert bad.exit_code == 1
    assert re.search(rf"BROKEN at entry 4 \(id {victim.id}, ", bad.output)


def test_concurrent_appends_do_not_fork_the_chain(app):
    import threading

    from campaign.models import Campaign
    from campaign.services import audit

    c = _campaign_with_signatures()
    campaign_id = c.id
    barrier = threading.Barrier(4)
    errors = []

    def append(n):
        with app.app_context():
            try:
                campaign = db.session.get(Campaign, campaign_id)
                barrier.wait()
                audit.record("test.concurrent", campaign=campaign, actor=f"thread {n}")
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    db.session.expire_all()
    report = verify_chain(c)
    assert report.ok, report.reason
    actions = db.session.scalars(db.select(AuditEvent.action)).all()
    assert actions.count("test.concurrent") == 4


def test_removing_the_newest_entries_is_caught_by_an_issued_documents_anchor(app):
    from campaign.models import IssuedDocument
    from campaign.services.audit import head_sha256

    u = f.user()
    c = f.published(u)
    f.sign(c, u, f.partner(c, u))
    # A sealed PDF was issued now: it remembers where the chain ended.
    db.session.add(
        IssuedDocument(
            sha256="a" * 64,
            code="TESTCODE01",
            campaign_id=c.id,
            version_number=1,
            letter_sha256="b" * 64,
            signatory_count=1,
            audit_head_sha256=head_sha256(c),
        )
    )
    # The chain goes on after the document: a partner added, invited and signing.
    f.sign(c, u, f.partner(c, u))
    assert verify_chain(c).ok

    # Someone deletes the newest four entries: what is left is still a consistent chain,
    # but it no longer reaches the entry the document certified.
    newest = db.session.scalars(
        db.select(AuditEvent.id)
        .where(AuditEvent.campaign_id == c.id)
        .order_by(AuditEvent.seq.desc())
        .limit(4)
    ).all()
    db.session.execute(db.delete(AuditEvent).where(AuditEvent.id.in_(newest)))
    db.session.commit()
    report = verify_chain(c)
    assert not report.ok
    assert report.cut_after.code == "TESTCODE01"
    assert "entries were removed" in report.reason and "TESTCODE01" in report.reason
    result = app.test_cli_runner().invoke(args=["audit", "verify", c.slug])
    assert result.exit_code == 1 and "entries were removed" in result.output
