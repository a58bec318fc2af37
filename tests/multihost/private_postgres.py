"""A PostgreSQL cluster of the suite's own, listening on the bridge, free to restart.

The machine's shared server (127.0.0.1:5432) serves other suites and is never
touched. This cluster lives in a temporary folder owned by ``postgres``, listens
only on the bridge address, trusts the suite's subnet, and goes away at the end.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

PG_BIN = Path(os.environ.get("SHISHO_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections
_FAST_SETTINGS = (
    # The suite is about who runs what across hosts, not about surviving a power cut.
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
)


class PostgresUnavailable(Exception):
    """The cluster could not be made or started."""


def why_unavailable() -> str | None:
    """Why a private cluster cannot run here, or ``None`` when it can."""
    if not (PG_BIN / "initdb").exists():
        return f"needs PostgreSQL server binaries in {PG_BIN} (set SHISHO_PG_BIN)"
    try:
        pwd.getpwnam(PG_USER)
    except KeyError:
        return f"needs a {PG_USER!r} system user to run the private cluster"
    return None


def _as_postgres(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", PG_USER, "--", *argv], capture_output=True, text=True, check=False
    )


@dataclass
class PrivateCluster:
    """One ``initdb``-made cluster; :meth:`restart` and :meth:`stop` are the tests' to call."""

    folder: Path
    address: str
    port: int

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder."""
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        """The server's log."""
        return self.folder / "server.log"

    def url(self, database: str = "postgres") -> sa.URL:
        """The SQLAlchemy URL of ``database`` on this cluster, over the bridge."""
        return sa.make_url(f"postgresql+psycopg://{PG_USER}@{self.address}:{self.port}/{database}")

    @classmethod
    def create(
        cls, *, address: str, port: int, subnet: str, durable: bool = False
    ) -> PrivateCluster:
        """``initdb`` a cluster that trusts ``subnet`` and start it on ``address:port``.

        Args:
            address: where the server listens (the bridge).
            port: its TCP port.
            subnet: CIDR of the clients it trusts.
            durable: keep fsync on (benchmarks); the tests turn it off.

        Raises:
            PostgresUnavailable: initdb or the start failed (the folder is removed).
        """
        folder = Path(tempfile.mkdtemp(prefix="shisho-multihost-pg-"))
        postgres = pwd.getpwnam(PG_USER)
        os.chown(folder, postgres.pw_uid, postgres.pw_gid)
        cluster = cls(folder=folder, address=address, port=port)
        try:
            cluster._init(subnet, durable=durable)
            cluster.start()
        except PostgresUnavailable:
            cluster.remove()
            raise
        return cluster

    def _init(self, subnet: str, *, durable: bool) -> None:
        result = _as_postgres(
            str(PG_BIN / "initdb"),
            "--auth=trust",
            "--username",
            PG_USER,
            "--encoding=UTF8",
            "--no-sync",
            "-D",
            str(self.data_dir),
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {result.stderr.strip()}")
        settings = [
            f"listen_addresses = '{self.address}'",
            f"port = {self.port}",
            # Its own socket folder: nothing in /var/run/postgresql is touched.
            f"unix_socket_directories = '{self.folder}'",
            "max_connections = 200",
            *([] if durable else _FAST_SETTINGS),
        ]
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# shisho multihost suite\n" + "\n".join(settings) + "\n")
        with (self.data_dir / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {subnet} trust\n")

    def _pg_ctl(self, *args: str) -> None:
        result = _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-t",
            str(START_TIMEOUT),
            "-w",
            *args,
        )
        if result.returncode != 0:
            log = self.log_file.read_text() if self.log_file.exists() else ""
            raise PostgresUnavailable(
                f"pg_ctl {' '.join(args)} failed: {result.stdout}{result.stderr}\n{log[-2000:]}"
            )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._pg_ctl("start")

    def stop(self) -> None:
        """Stop the server now: open sessions are terminated (``-m fast``)."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """Stop (terminating every session) and start again."""
        self._pg_ctl("restart", "-m", "fast")

    def remove(self) -> None:
        """Stop the server if it runs and delete the cluster's folder."""
        if (self.data_dir / "postmaster.pid").exists():
            pg_ctl = str(PG_BIN / "pg_ctl")
            _as_postgres(pg_ctl, "-D", str(self.data_dir), "stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
