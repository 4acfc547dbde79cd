"""A private PostgreSQL cluster and a private RabbitMQ node, to restart at will.

Fault tests and ``bench/faults.py`` restart the database and the broker under a running
campaign; they must never touch the machine's shared services. These start their own:
``initdb`` in a temporary folder on a free port (run as the ``postgres`` user when we are
root, as initdb requires), and a RabbitMQ node with its own name, ports and data folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout}s")
        time.sleep(0.2)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return path


class PrivatePostgres:
    """Its own cluster in a fresh folder under /tmp (the postgres user must reach it).
    ``also_listen``: one more address to listen on (with trust for its /24), for clients in
    other network namespaces (tests/faults/netns.py)."""

    def __init__(self, also_listen: str | None = None) -> None:
        self.also_listen = also_listen
        self.folder = Path(tempfile.mkdtemp(prefix="private-pg-"))
        os.chmod(self.folder, 0o755)
        self.data = self.folder / "pgdata"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0

    def _run(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120, **kw)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PrivatePostgres:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        if not self.data.exists():
            self._run([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
            if self.also_listen:
                network = self.also_listen.rsplit(".", 1)[0] + ".0/24"
                with open(self.data / "pg_hba.conf", "a") as hba:
                    hba.write(f"host all all {network} trust\n")
        self._ctl("start")
        return self

    def _ctl(self, action: str) -> None:
        listen = ",".join(filter(None, ["127.0.0.1", self.also_listen]))
        options = f"-p {self.port} -k {self.folder} -c listen_addresses={listen} -c fsync=off"
        argv = [_pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "pg.log"), "-w"]
        if action in ("stop", "restart"):
            argv += ["-m", "fast"]
        self._run([*argv, action])
        if action != "stop":
            _wait(lambda: _port_open(self.port), 60, "PostgreSQL listening")

    def restart(self) -> None:
        self._ctl("restart")

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._ctl("stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRabbit:
    """Its own node (name, ports, data folder under /tmp owned by the rabbitmq user, since
    Debian's wrapper drops to that user when started as root). ``also_listen``: one more
    address to listen on, where guest may log in from another network namespace."""

    def __init__(self, also_listen: str | None = None) -> None:
        self.also_listen = also_listen
        self.folder = Path(tempfile.mkdtemp(prefix="private-rabbit-"))
        os.chmod(self.folder, 0o755)
        self.port = free_port()
        self.node = f"faults{os.getpid()}_{self.port}@localhost"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def _env(self) -> dict[str, str]:
        plugins = self.folder / "enabled_plugins"
        plugins.write_text("[].\n")
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.node,
            # The listeners come from rabbitmq.conf alone (these would override them).
            **(
                {}
                if self.also_listen
                else {"RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1"}
            ),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_PID_FILE": str(self.folder / "rabbit.pid"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq.conf"),
            "RABBITMQ_CONFIG_FILES": str(self.folder / "conf.d"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(self.folder / "feature_flags"),
        }

    def start(self) -> PrivateRabbit:
        (self.folder / "conf.d").mkdir(exist_ok=True)
        # Our own main config: the machine's may pin the shared node's listener port.
        conf = f"listeners.tcp.local = 127.0.0.1:{self.port}\n"
        if self.also_listen:  # guest logs in from loopback only, unless told otherwise
            conf += f"listeners.tcp.other = {self.also_listen}:{self.port}\nloopback_users = none\n"
        (self.folder / "rabbitmq.conf").write_text(conf)
        env = self._env()
        if os.geteuid() == 0:
            entry = pwd.getpwnam("rabbitmq")
            for path in [self.folder, *self.folder.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.process = subprocess.Popen(
            ["rabbitmq-server"],
            env=env,
            cwd=self.folder,
            stdout=open(self.folder / "server.out", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait(lambda: _port_open(self.port), 90, "RabbitMQ listening")
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        subprocess.run(["rabbitmqctl", "-n", self.node, "stop"], env=self._env(), capture_output=True, timeout=60)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
