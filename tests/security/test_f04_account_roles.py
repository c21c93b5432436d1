"""Finding 4: only admins manage organiser and admin accounts; organisers manage unit and judge accounts; nobody
disables their own account or the last active admin; the demo has an admin login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.models import Role, User
from app.services import PortalError, accounts


@pytest.fixture
def people(make):
    return {
        "admin": make.user(Role.ADMIN),
        "organiser": make.user(Role.ORGANISER),
        "other_organiser": make.user(Role.ORGANISER),
        "judge": make.user(Role.JUDGE),
    }


def toggle(browser, user):
    return browser.post(f"/org/accounts/{user.id}/active")


@pytest.mark.parametrize("target", ["admin", "other_organiser"])
def test_organiser_cannot_disable_admins_or_organisers(browser, people, session, target):
    """Finding 4: an organiser gets 403 when disabling an admin or another organiser, and nothing changes."""
    browser.login(people["organiser"].email)
    assert toggle(browser, people[target]).status_code == 403
    session.refresh(people[target])
    assert people[target].active


def test_organiser_manages_judges(browser, people, session):
    """Finding 4: an organiser may still disable a judge account."""
    browser.login(people["organiser"].email)
    assert toggle(browser, people["judge"]).status_code == 302
    session.refresh(people["judge"])
    assert not people["judge"].active


def test_organiser_cannot_create_an_organiser(browser, people, session):
    """Finding 4: an organiser cannot create organiser accounts; an admin can."""
    form = {"email": "new-org@test.vn", "name": "New Org", "role": "organiser", "unit_id": "0"}
    form["password"] = "violet tractor sings at noon"
    browser.login(people["organiser"].email)
    assert browser.post("/org/accounts", data=form).status_code == 403
    assert session.scalar(select(User).where(User.email == "new-org@test.vn")) is None
    browser.post("/logout")
    browser.login(people["admin"].email)
    assert browser.post("/org/accounts", data=form).status_code == 302
    assert session.scalar(select(User).where(User.email == "new-org@test.vn")).role == Role.ORGANISER


def test_admin_manages_organisers_but_not_itself(browser, people, session):
    """Finding 4: an admin disables an organiser, but not their own account."""
    browser.login(people["admin"].email)
    assert toggle(browser, people["organiser"]).status_code == 302
    assert toggle(browser, people["admin"]).status_code == 302  # refused with a message
    session.refresh(people["organiser"])
    session.refresh(people["admin"])
    assert not people["organiser"].active and people["admin"].active


def test_last_active_admin_cannot_be_disabled(people, make, session):
    """Finding 4: the rule keeps one active admin, whoever asks."""
    other_admin = make.user(Role.ADMIN)
    accounts.check_can_disable(session, actor=people["admin"], user=other_admin)  # another admin stays active
    other_admin.active = False
    session.commit()
    with pytest.raises(PortalError):
        accounts.check_can_disable(session, actor=other_admin, user=people["admin"])


def test_demo_has_an_admin_login(session):
    """Finding 4: `make run` seeds and prints a demo admin login."""
    from app.demo import seed

    created = seed(session)
    session.commit()
    admins = [
        email
        for email in created["logins"]
        if session.scalar(select(User.role).where(User.email == email)) == Role.ADMIN
    ]
    assert admins
