"""What the jobs routes declare alike: the permission each needs and its documented error answers.

Shared by :mod:`shisho_resync_plugin.routes` and :mod:`shisho_resync_plugin.control_routes`,
so both document the same 400/401/403/404 answers in the OpenAPI schema.
"""

from __future__ import annotations

from typing import Final

from litestar.openapi.datastructures import ResponseSpec

from shisho_resync_plugin.auth import REQUIRES, Permission
from shisho_resync_plugin.errors import ErrorBody, InvalidInputBody

READS: Final = {REQUIRES: Permission.READ}
WRITES: Final = {REQUIRES: Permission.WRITE}

BAD_INPUT = ResponseSpec(InvalidInputBody, description="Bad input; `detail` names the field.")
UNAUTHENTICATED = ResponseSpec(ErrorBody, description="Nobody is signed in.")
FORBIDDEN = ResponseSpec(ErrorBody, description="Missing permission.")
NOT_FOUND = ResponseSpec(ErrorBody, description="No such job, or not visible to the user.")
READ_ERRORS = {400: BAD_INPUT, 401: UNAUTHENTICATED, 403: FORBIDDEN}
WRITE_ERRORS = READ_ERRORS  # the same answers: a bad id, nobody signed in, no permission
