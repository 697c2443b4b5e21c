"""Redis with Sentinel on loopback, of the test's own: a primary, a replica and three
sentinels (Debian's `redis-server` and `redis-sentinel`), each on a free port in a
temporary folder, stopped by its PID. Sentinels decide quickly here (DOWN_AFTER_MS)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.conftest import free_port

MASTER = "mymaster"
DOWN_AFTER_MS = 1000  # Sentinel's default is 30 000


def _wait(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():  # type: ignore[operator]
                return
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(0.1)


class SentinelRedis:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def sentinels(self) -> str:
        """REDIS_SENTINELS for the service."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def _redis(self, name: str, port: int, *extra: str) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(folder), *extra]
        self.processes[name] = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=port, socket_connect_timeout=0.2)
        _wait(client.ping, 10, f"redis {name} up")

    def start(self) -> None:
        self._redis("primary", self.primary_port)
        self._redis(
            "replica", self.replica_port, "--replicaof", "127.0.0.1", str(self.primary_port)
        )
        binary = shutil.which("redis-sentinel")
        assert binary, "redis-sentinel is not installed (scripts/test installs it)"
        for n, port in enumerate(self.sentinel_ports):
            config = self.root / f"sentinel{n}.conf"  # Sentinel rewrites it: its own copy
            config.write_text(
                "\n".join(
                    [
                        f"port {port}",
                        "bind 127.0.0.1",
                        f"dir {self.root}",
                        f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2",
                        f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}",
                        f"sentinel failover-timeout {MASTER} 10000",
                        f"sentinel parallel-syncs {MASTER} 1",
                        "",
                    ]
                ),
                "utf-8",
            )
            self.processes[f"sentinel{n}"] = subprocess.Popen(
                [binary, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        _wait(lambda: self.replica_synced(), 20, "the replica in sync")
        _wait(lambda: all(self.sentinels_know_replica()), 20, "every sentinel sees the replica")

    def replica_synced(self) -> bool:
        info = redis.Redis(port=self.replica_port).info("replication")
        return bool(info.get("master_link_status") == "up")

    def sentinels_know_replica(self) -> list[bool]:
        known = []
        for port in self.sentinel_ports:
            client = redis.Redis(port=port, socket_connect_timeout=0.5)
            known.append(len(client.sentinel_slaves(MASTER)) == 1)  # type: ignore[no-untyped-call]
        return known

    def master_port(self) -> int:
        """The primary's port as the first sentinel that answers names it."""
        for port in self.sentinel_ports:
            try:
                client = redis.Redis(port=port, socket_connect_timeout=0.5)
                _, master = client.sentinel_get_master_addr_by_name(MASTER)  # type: ignore[no-untyped-call]
                return int(master)
            except redis.RedisError:
                continue
        raise RuntimeError("no sentinel answers")

    def kill_primary(self) -> None:
        """SIGKILL the Redis the sentinels call primary now."""
        name = "primary" if self.master_port() == self.primary_port else "replica"
        process = self.processes.pop(name)
        process.kill()
        process.wait(timeout=5)

    def stop(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
