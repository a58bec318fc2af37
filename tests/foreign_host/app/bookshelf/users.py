"""The host's users: two fixed accounts (a real host keeps them in its database)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class User:
    """A signed-in person."""

    name: str
    password: str
    permissions: frozenset[str]
    is_admin: bool
    library_ids: frozenset[int] = frozenset()


USERS = {
    "ada": User("ada", "ada-password", frozenset({"jobs:read", "jobs:write"}), is_admin=True),
    "bob": User("bob", "bob-password", frozenset({"jobs:read"}), is_admin=False),
}


def check_password(name: str, password: str) -> User | None:
    """The user, when the password is right."""
    user = USERS.get(name)
    if user is None or not hmac.compare_digest(user.password, password):
        return None
    return user
