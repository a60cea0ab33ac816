"""The grader's ReferenceCache backed by the reference_outputs table (shared by all workers)."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from webapp.extensions import db
from webapp.models import ReferenceOutput, utcnow


class DatabaseReferenceCache:
    """get(key) -> bytes | None and put(key, data): the grader.reference.ReferenceCache protocol.

    Uses its own short transactions on the engine, never the ORM session, so a cached
    reference survives whatever happens to the grading run that computed it.
    """

    def get(self, key: str) -> bytes | None:
        with db.engine.connect() as conn:
            query = select(ReferenceOutput.data).where(ReferenceOutput.key == key)
            return conn.execute(query).scalar_one_or_none()

    def put(self, key: str, data: bytes) -> None:
        row = {"key": key, "data": data, "created_at": utcnow()}
        try:
            with db.engine.begin() as conn:
                conn.execute(insert(ReferenceOutput).values(**row))
        except IntegrityError:
            # Another worker stored the same key first; references are deterministic per key.
            pass
