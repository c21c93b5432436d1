"""A process forked from one that configured the engine (gunicorn's preloading master, gunicorn.conf.py) gets an engine
of its own for `db.session`: the parent's pooled connection is neither used nor closed by the child."""

from __future__ import annotations

import os

from sqlalchemy import text

from app import db


def test_after_fork_gives_the_child_its_own_engine_and_leaves_the_parents_connection_open(tmp_path):
    url = f"sqlite:///{tmp_path / 'fork.sqlite3'}"
    before = dict(db._state)  # whatever this test process had configured, put back at the end
    parent_engine = db.configure(url)
    try:
        with parent_engine.connect() as conn:  # a connection the parent keeps in its pool
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.commit()
        assert parent_engine.pool.checkedin() == 1
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave at once (no atexit, no pytest teardown)
            code = 1
            try:
                db.after_fork()
                # Web requests go through db.session, which is bound once, at configure(): not through db.engine().
                db.session.execute(text("INSERT INTO t VALUES (1)"))
                db.session.commit()
                own = db.session.get_bind() is not parent_engine
                os.write(write, b"own" if own else b"shared")
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as answer:
            said = answer.read()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0 and said == b"own", said
        assert db.engine() is parent_engine  # the parent's engine is untouched
        with parent_engine.connect() as conn:  # and its pooled connection still works
            assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    finally:
        parent_engine.dispose()
        db._state.update(before)
        db.session.remove()
        if before["engine"] is not None:
            db.SessionFactory.configure(bind=before["engine"])
