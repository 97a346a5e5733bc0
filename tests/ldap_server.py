"""A throwaway OpenLDAP server for tests: slapd on a free loopback port in a temporary directory.

Use the ``ldap_server`` fixture (import it into a test module or conftest). It skips the test
when slapd is not installed (Debian packages ``slapd`` and ``ldap-utils``), except on CI
(``CI`` set in the environment), where a missing slapd fails the test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIRS = (Path("/usr/lib/ldap"), Path("/usr/lib/x86_64-linux-gnu/ldap"),
               Path("/usr/lib/aarch64-linux-gnu/ldap"))


@dataclass
class LdapServer:
    uri: str
    base_dn: str
    root_dn: str
    password: str

    def auth(self) -> list[str]:
        """Arguments for ldapadd and ldapsearch to bind as the root DN."""
        return ["-x", "-H", self.uri, "-D", self.root_dn, "-w", self.password]


def _slapd() -> str | None:
    return shutil.which("slapd") or next(
        (str(p) for p in (Path("/usr/sbin/slapd"),) if p.exists()), None
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(directory: Path, base_dn: str, root_dn: str, password: str) -> str:
    includes = "".join(f"include {SCHEMA_DIR / name}.schema\n"
                       for name in ("core", "cosine", "inetorgperson"))
    module_dir = next((d for d in MODULE_DIRS if (d / "back_mdb.la").exists()
                       or (d / "back_mdb.so").exists()), None)
    modules = f"modulepath {module_dir}\nmoduleload back_mdb\n" if module_dir else ""
    return (
        f"{includes}{modules}"
        f"pidfile {directory / 'slapd.pid'}\n"
        f"database mdb\nmaxsize 104857600\n"
        f"suffix \"{base_dn}\"\nrootdn \"{root_dn}\"\nrootpw {password}\n"
        f"directory {directory / 'data'}\n"
    )


@pytest.fixture
def ldap_server(tmp_path):
    """Start slapd for ``dc=example,dc=com`` (empty: the base entry is not created)."""
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    slapd = _slapd()
    if not slapd:
        missing("slapd is not installed (apt-get install slapd ldap-utils)")
    if not SCHEMA_DIR.is_dir():
        missing(f"the OpenLDAP schemas are not in {SCHEMA_DIR}")
    base_dn, password = "dc=example,dc=com", "secret"
    root_dn = f"cn=admin,{base_dn}"
    (tmp_path / "data").mkdir()
    conf = tmp_path / "slapd.conf"
    conf.write_text(_config(tmp_path, base_dn, root_dn, password))
    port = _free_port()
    uri = f"ldap://127.0.0.1:{port}"
    log = (tmp_path / "slapd.log").open("wb")
    process = subprocess.Popen([slapd, "-d", "0", "-f", str(conf), "-h", uri],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                output = (tmp_path / "slapd.log").read_text(errors="replace")
                pytest.fail(f"slapd exited with {process.returncode}:\n{output[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("slapd did not answer within 15 seconds")
                time.sleep(0.05)
        yield LdapServer(uri=uri, base_dn=base_dn, root_dn=root_dn, password=password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
