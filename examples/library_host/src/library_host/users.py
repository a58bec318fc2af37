"""The host's users: who they are, what they may do, and how they sign in."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from library_host.models import roles, user_libraries, users
from library_host.passwords import hash_password, verify_password
from shisho_jobs import ActorAccess, Database


@dataclass(frozen=True)
class User:
    """A signed-in user: ``request.user`` in the host's handlers and the plugin's."""

    id: int
    username: str
    role: str
    permissions: frozenset[str]
    library_ids: frozenset[int] | None
    """Libraries the user may open; ``None`` means every library."""

    @property
    def access(self) -> ActorAccess:
        """What the jobs plugin may let this user do."""
        return ActorAccess(permissions=self.permissions, library_ids=self.library_ids)

    def can_access_library(self, library_id: int) -> bool:
        """Whether the user may open ``library_id``."""
        return self.library_ids is None or library_id in self.library_ids


def load_user(database: Database, user_id: int) -> User | None:
    """The user with this id, or ``None`` when there is none (deleted since sign-in)."""
    query = (
        sa.select(
            users.c.id,
            users.c.username,
            users.c.all_libraries,
            roles.c.name,
            roles.c.permissions,
        )
        .join(roles, roles.c.id == users.c.role_id)
        .where(users.c.id == user_id)
    )
    with database.read() as session:
        row = session.execute(query).one_or_none()
        if row is None:
            return None
        library_ids: frozenset[int] | None = None
        if not row.all_libraries:
            library_ids = frozenset(
                session.scalars(
                    sa.select(user_libraries.c.library_id).where(
                        user_libraries.c.user_id == user_id
                    )
                )
            )
    return User(
        id=row.id,
        username=row.username,
        role=row.name,
        permissions=frozenset(row.permissions.split()),
        library_ids=library_ids,
    )


@functools.cache
def _stand_in_hash() -> str:
    """A hash no password is known for, checked when the user name is unknown."""
    return hash_password(secrets.token_hex(16))


def prepare_sign_in() -> None:
    """Make the stand-in hash now, so that the first unknown name is not slower than the rest."""
    _stand_in_hash()


def authenticate(database: Database, username: str, password: str) -> User | None:
    """The user whose name and password these are, or ``None``.

    An unknown name costs the same scrypt work as a wrong password (against a
    stand-in hash), so the time an answer takes does not tell which names exist.
    """
    query = sa.select(users.c.id, users.c.password_hash).where(users.c.username == username)
    with database.read() as session:
        row = session.execute(query).one_or_none()
    stored = _stand_in_hash() if row is None else row.password_hash
    if not verify_password(password, stored) or row is None:
        return None
    return load_user(database, row.id)


def ensure_role(database: Database, name: str, permissions: Iterable[str]) -> int:
    """The id of role ``name``, created with ``permissions`` if it does not exist yet."""
    with database.write() as session:
        role_id = session.scalar(sa.select(roles.c.id).where(roles.c.name == name))
        if role_id is None:
            role_id = session.scalar(
                sa.insert(roles)
                .values(name=name, permissions=" ".join(sorted(permissions)))
                .returning(roles.c.id)
            )
    assert role_id is not None
    return int(role_id)


def ensure_user(
    database: Database,
    username: str,
    password: str,
    *,
    role_id: int,
    library_ids: Iterable[int] | None,
) -> int:
    """The id of user ``username``, created if absent (an existing user is left as it is).

    Args:
        database: the host's database.
        username: the sign-in name.
        password: the password to hash for a new user.
        role_id: the user's role.
        library_ids: the libraries the user may open, or ``None`` for all of them.
    """
    with database.write() as session:
        user_id = session.scalar(sa.select(users.c.id).where(users.c.username == username))
        if user_id is not None:
            return int(user_id)
        user_id = session.scalar(
            sa.insert(users)
            .values(
                username=username,
                password_hash=hash_password(password),
                role_id=role_id,
                all_libraries=library_ids is None,
            )
            .returning(users.c.id)
        )
        assert user_id is not None
        if library_ids is not None:
            rows = [{"user_id": user_id, "library_id": lid} for lid in library_ids]
            if rows:
                session.execute(sa.insert(user_libraries), rows)
    return int(user_id)
