"""Bulk import of units and their contact accounts (issue 11): CSV with or without BOM, XLSX, Vietnamese or English
headers, kinds as codes or labels, row numbers as in the spreadsheet, nothing applied when a row is bad, re-import
changes nothing; the command line and the web (upload → preview → confirm)."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from app.models import AuditEvent, MailKind, OutboxMessage, Role, Unit, UnitKind, User

pytestmark = pytest.mark.database_only

VI_HEADER = "Mã đơn vị,Tên đơn vị,Loại đơn vị,Người liên hệ,Thư điện tử liên hệ,Điện thoại"
GOOD_ROWS = [
    "p-ben-nghe,Phường Bến Nghé,Phường,Nguyễn Văn An,an.nguyen@bennghe.gov.vn,028 3822 1234",
    "XA-AN-PHU,Xã An Phú,commune,Trần Thị Bình,binh.tran@anphu.gov.vn,",
    "SO-TTTT,Sở Thông tin và Truyền thông,department,,,",
]


def _csv(lines: list[str], *, bom: bool = True, header: str = VI_HEADER) -> bytes:
    text = "\r\n".join([header, *lines]) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def _cli(app, tmp_path, data: bytes, *args: str, name: str = "units.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    result = app.test_cli_runner().invoke(args=["units", "import", str(path), *args])
    return result.exit_code, json.loads(result.output)


def _units(session) -> dict[str, Unit]:
    session.expire_all()
    return {u.code: u for u in session.query(Unit)}


def test_cli_imports_a_csv_with_bom_and_reimport_changes_nothing(app, session, tmp_path):
    code, out = _cli(app, tmp_path, _csv(GOOD_ROWS), "--invite")
    assert code == 0, out
    assert out == {"created": 3, "updated": 0, "invited": 2, "errors": []}
    units = _units(session)
    assert set(units) == {"P-BEN-NGHE", "XA-AN-PHU", "SO-TTTT"}
    assert units["P-BEN-NGHE"].kind == UnitKind.WARD and units["P-BEN-NGHE"].phone == "028 3822 1234"
    assert units["XA-AN-PHU"].kind == UnitKind.COMMUNE and units["XA-AN-PHU"].phone is None
    an = session.query(User).filter_by(email="an.nguyen@bennghe.gov.vn").one()
    assert (an.name, an.role, an.unit.code, an.active) == ("Nguyễn Văn An", Role.UNIT, "P-BEN-NGHE", True)
    assert session.query(User).count() == 2  # the department has no contact: a unit without an account
    invitations = session.query(OutboxMessage).filter_by(kind=MailKind.INVITATION).all()
    assert sorted(m.to_email for m in invitations) == ["an.nguyen@bennghe.gov.vn", "binh.tran@anphu.gov.vn"]
    assert all("/invitation/" in m.body_text for m in invitations)
    events_before = session.query(AuditEvent).count()
    assert session.query(AuditEvent).filter_by(action="unit.import").count() == 1

    code, again = _cli(app, tmp_path, _csv(GOOD_ROWS), "--invite")
    assert (code, again) == (0, {"created": 0, "updated": 0, "invited": 0, "errors": []})
    assert session.query(User).count() == 2
    assert session.query(AuditEvent).count() == events_before + 1  # only the import itself is logged
    assert session.query(OutboxMessage).count() == 2  # nobody invited again


def test_an_invited_account_cannot_log_in_before_setting_a_password(app, session, tmp_path, browser):
    _cli(app, tmp_path, _csv(GOOD_ROWS))
    user = session.query(User).filter_by(email="binh.tran@anphu.gov.vn").one()
    assert user.password_hash is None
    resp = browser.client.post(
        "/login", data={"email": user.email, "password": "", "csrf_token": browser.token()}, follow_redirects=False
    )
    assert resp.status_code == 200  # the form again: no session


def test_changed_rows_are_updates_and_audited(app, session, tmp_path):
    _cli(app, tmp_path, _csv(GOOD_ROWS))
    changed = [
        "P-BEN-NGHE,Phường Bến Nghé (mới),ward,Nguyễn Văn An,an.nguyen@bennghe.gov.vn,028 3822 1234",
        "XA-AN-PHU,Xã An Phú,Xã,Trần Thị Bình Minh,binh.tran@anphu.gov.vn,",
        "SO-TTTT,Sở Thông tin và Truyền thông,department,Lê Văn Cường,cuong.le@stttt.gov.vn,0900000000",
    ]
    code, out = _cli(app, tmp_path, _csv(changed, bom=False))
    assert (code, out) == (0, {"created": 0, "updated": 3, "invited": 0, "errors": []})
    units = _units(session)
    assert units["P-BEN-NGHE"].name == "Phường Bến Nghé (mới)"
    assert units["SO-TTTT"].phone == "0900000000"
    assert session.query(User).filter_by(email="binh.tran@anphu.gov.vn").one().name == "Trần Thị Bình Minh"
    assert session.query(User).filter_by(email="cuong.le@stttt.gov.vn").one().unit.code == "SO-TTTT"
    update = session.query(AuditEvent).filter_by(action="unit.update", object_id=str(units["P-BEN-NGHE"].id)).one()
    assert (update.before, update.after) == ({"name": "Phường Bến Nghé"}, {"name": "Phường Bến Nghé (mới)"})
    renamed = session.query(AuditEvent).filter_by(action="account.update").one()
    assert renamed.after == {"name": "Trần Thị Bình Minh"}


def test_bad_rows_are_reported_with_spreadsheet_numbers_and_nothing_is_applied(app, session, tmp_path, make):
    judge = make.user(Role.JUDGE, email="giamkhao@test.vn")
    rows = [
        GOOD_ROWS[0],  # row 2: fine
        ",Không mã,ward,,,",  # row 3
        "P-2,Phường 2,thành phố,,,",  # row 4: unknown kind
        "",  # row 5: blank, skipped
        "P-3,Phường 3,ward,Ai Đó,not-an-email,",  # row 6
        "p-ben-nghe,Trùng mã,ward,,,",  # row 7: same code as row 2
        f"P-4,Phường 4,ward,Giám khảo,{judge.email},",  # row 8: another account's e-mail
        "P-5,Phường 5,ward,,,abc",  # row 9: phone
    ]
    code, out = _cli(app, tmp_path, _csv(rows))
    assert code != 0
    assert (out["created"], out["updated"], out["invited"]) == (0, 0, 0)
    assert [e["row"] for e in out["errors"]] == [3, 4, 6, 7, 8, 9]
    messages = {e["row"]: e["message"] for e in out["errors"]}
    assert "code is missing" in messages[3]
    assert "thành phố" in messages[4]
    assert "not-an-email" in messages[6]
    assert "row 2" in messages[7]
    assert judge.email in messages[8]
    assert "abc" in messages[9]
    assert _units(session) == {}  # row 2 was fine, but nothing is applied


def test_xlsx_with_english_headers_and_numbers_as_cells(app, session, tmp_path):
    book = Workbook()
    ws = book.active
    ws.append(["Unit code", "Unit name", "Kind", "Contact person", "Contact e-mail", "Phone"])
    ws.append(["T-01", "Trường THCS Lê Lợi", "School", "Phạm Thu", "thu.pham@leloi.edu.vn", 912345678])
    ws.append([None, None, None, None, None, None])
    ws.append([1234, "Hội Phụ nữ", "Hội, đoàn thể", None, None, None])
    ws.append([None, "Thiếu mã", "ward", None, None, None])  # row 5
    out_file = io.BytesIO()
    book.save(out_file)
    code, out = _cli(app, tmp_path, out_file.getvalue(), name="units.xlsx")
    assert code != 0 and out["errors"] == [{"row": 5, "message": "The unit code is missing."}]

    ws.delete_rows(5)
    out_file = io.BytesIO()
    book.save(out_file)
    code, out = _cli(app, tmp_path, out_file.getvalue(), name="units.xlsx")
    assert (code, out["created"]) == (0, 2)
    units = _units(session)
    assert units["T-01"].kind == UnitKind.SCHOOL and units["T-01"].phone == "912345678"
    assert units["1234"].kind == UnitKind.ASSOCIATION


def test_missing_headers_and_foreign_encodings_are_refused(app, tmp_path):
    code, out = _cli(app, tmp_path, _csv(GOOD_ROWS, header="Mã,Địa chỉ"))
    assert code != 0 and out["errors"][0]["row"] == 1 and "Tên đơn vị" in out["errors"][0]["message"]
    code, out = _cli(
        app, tmp_path, b"M\xe3 \xf0\xf4n v\xec,T\xean \xf0\xf4n v\xec\nP-1,Ph\xfd\xf5ng M\xf4t\n"
    )  # a legacy 8-bit file
    assert code != 0 and "UTF-8" in out["errors"][0]["message"]


def test_the_web_import_previews_then_applies_in_one_go(app, session, browser, make):
    organiser = make.user(Role.ORGANISER)
    browser.login(organiser.email)
    page = browser.get("/org/units/import").get_data(as_text=True)
    assert "/org/units/import/template.xlsx" in page

    bad = _csv([GOOD_ROWS[0], "P-9,,ward,,,"])
    resp = browser.post("/org/units/import", data={"file": (io.BytesIO(bad), "units.csv")})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "P-BEN-NGHE" in html
    assert "The unit name is missing." in html or "Thiếu tên đơn vị" in html
    assert "/org/units/import/confirm" not in html  # no confirmation while a row is bad
    assert _units(session) == {}

    resp = browser.post("/org/units/import", data={"file": (io.BytesIO(_csv(GOOD_ROWS)), "units.csv")})
    html = resp.get_data(as_text=True)
    assert "/org/units/import/confirm" in html and _units(session) == {}
    content = html.split('name="content"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    resp = browser.post("/org/units/import/confirm", data={"filename": "units.csv", "content": content})
    assert resp.status_code == 302
    assert set(_units(session)) == {"P-BEN-NGHE", "XA-AN-PHU", "SO-TTTT"}
    event = session.query(AuditEvent).filter_by(action="unit.import").one()
    assert event.actor_id == organiser.id and event.after["created"] == 3 and event.after["invited"] == 2
    assert session.query(OutboxMessage).filter_by(kind=MailKind.INVITATION).count() == 2


def test_judges_and_units_cannot_import(browser, make):
    browser.login(make.user(Role.JUDGE).email)
    assert browser.get("/org/units/import").status_code == 403


def test_the_template_has_vietnamese_headers_and_imports_as_is(app, session, browser, make, tmp_path):
    browser.login(make.user(Role.ORGANISER).email)
    resp = browser.get("/org/units/import/template.xlsx")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    headers = [c.value for c in book.worksheets[0][1]]
    assert headers == ["Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Người liên hệ", "Thư điện tử liên hệ", "Điện thoại"]
    assert ("ward", "Phường") in [(r[0], r[1]) for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)]
    ws = book.worksheets[0]
    ws.append(["P-1", "Phường 1", "Phường", "Võ Thị Hoa", "hoa@p1.gov.vn", "0281234567"])
    filled = io.BytesIO()
    book.save(filled)
    code, out = _cli(app, tmp_path, filled.getvalue(), name="mau.xlsx")
    assert (code, out["created"]) == (0, 1)
    csv_template = browser.get("/org/units/import/template.csv")
    assert csv_template.data.startswith("\ufeffMã đơn vị,".encode())
