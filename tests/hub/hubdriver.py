"""A real JupyterHub on 127.0.0.1 for the hub tests: the hub, its proxy, students, their memory.

``LocalHub`` starts ``python -m jupyterhub`` with configurable-http-proxy (npm), the
DummyAuthenticator (one shared password) and the SimpleLocalProcessSpawner (each student's home a
temporary folder; ``--allow-root`` when run as root), on free loopback ports. Students reach the
notebooks through the nbgitpuller link of :func:`reachkit.links.hub_link`, cloning a bare copy of
this checkout's committed HEAD: the link names :data:`COURSE_URL` (``hub_link`` takes only
https/http/git/ssh repositories) and the students' git rewrites it to the bare copy's ``file://``
URL (``url.<file URL>.insteadOf``, set in the spawner's environment), so nothing uses the network.

Every process the hub starts (proxy, single-user servers, kernels) carries the environment
variable ``REACHKIT_HUB_TEST=<token of this hub>``; :meth:`LocalHub.stop` stops the hub and then
kills whatever still carries that token, so a failed test leaves nothing behind.

Environment:
    REACHKIT_REQUIRE_HUB=1   fail instead of skip when a piece is missing (set by .ci/run)
    REACHKIT_CHP=/path       configurable-http-proxy (default: on PATH, then .ci/node/node_modules/.bin)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results" / "hub"
PASSWORD = "reachkit-students"
HOW_TO_CHP = ("install configurable-http-proxy from npm (`npm install --prefix .ci/node configurable-http-proxy`, "
              "as .ci/run does, or `npm install -g configurable-http-proxy`)")


def chp_path() -> str | None:
    explicit = os.environ.get("REACHKIT_CHP")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    found = shutil.which("configurable-http-proxy")
    local = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
    return found or (str(local) if os.access(local, os.X_OK) else None)


def hub_unavailable() -> str | None:
    """Why the hub tests cannot run here, or None."""
    from labdriver import browser_unavailable  # tests/browser, on sys.path through conftest.py

    missing = [reason] if (reason := browser_unavailable()) else []
    for module in ("jupyterhub", "nbgitpuller", "psutil", "voila"):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"no `{module}` Python package (pip install -e '.[test]')")
    if chp_path() is None:
        missing.append("no configurable-http-proxy: " + HOW_TO_CHP)
    for program in ("node", "git"):  # configurable-http-proxy runs on Node.js; nbgitpuller runs git
        if shutil.which(program) is None:
            missing.append(f"no `{program}` on PATH")
    return "hub tests cannot run: " + "; ".join(missing) if missing else None


def require_hub() -> bool:
    return os.environ.get("REACHKIT_REQUIRE_HUB", "").strip().lower() not in ("", "0", "false", "no")


def free_ports(n: int) -> list[int]:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


COURSE_URL = "https://course.invalid/reachkit.git"  # .invalid never resolves: only the rewrite reaches it


def course_repository(base: Path) -> tuple[str, str]:
    """A bare clone of this checkout's committed HEAD as branch ``course`` in ``base/reachkit.git``:
    (:data:`COURSE_URL`, branch); :class:`LocalHub`'s students' git reads COURSE_URL as that clone."""
    bare = base / "reachkit.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    # CI checkouts are often shallow: let the bare copy accept a shallow history
    subprocess.run(["git", "-C", str(bare), "config", "receive.shallowUpdate", "true"], check=True)
    subprocess.run(["git", "-C", str(ROOT), "push", "--quiet", str(bare), "HEAD:refs/heads/course"], check=True)
    return COURSE_URL, "course"


HUB_CONFIG = """
import sys
c = get_config()  # noqa
s = {settings!r}
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = s["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.JupyterHub.db_url = "sqlite:///" + s["base"] + "/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = s["base"] + "/cookie_secret"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.ConfigurableHTTPProxy.command = [s["chp"]]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % s["api_port"]
c.ConfigurableHTTPProxy.pid_file = s["base"] + "/proxy.pid"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = s["password"]
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = s["base"] + "/home/{{username}}"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.args = s["args"]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 240
c.Spawner.http_timeout = 240
c.Spawner.environment = {{
    "REACHKIT_HUB_TEST": s["marker"], "JUPYTER_CONFIG_DIR": s["base"] + "/jupyter-config",
    "JUPYTERLAB_SETTINGS_DIR": s["base"] + "/lab-settings", "PYTHONUNBUFFERED": "1",
    "JUPYTERLAB_WORKSPACES_DIR": lambda spawner: spawner.home_dir + "/.lab-workspaces",
    "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "url." + s["course_file_url"] + ".insteadOf",
    "GIT_CONFIG_VALUE_0": s["course_url"],
}}
c.JupyterHub.services = [{{"name": "reachkit-test", "api_token": s["token"]}}]
c.JupyterHub.load_roles = [{{"name": "reachkit-test", "services": ["reachkit-test"],
                            "scopes": ["admin:users", "admin:servers", "list:users", "read:users"]}}]
"""


def tagged_processes(marker: str) -> list:
    """Processes (psutil) whose environment has REACHKIT_HUB_TEST=marker, this one left out."""
    import psutil

    found = []
    for p in psutil.process_iter(["pid"]):
        if p.pid == os.getpid():
            continue
        try:
            if p.environ().get("REACHKIT_HUB_TEST") == marker:
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


def kill_tagged(marker: str) -> list[str]:
    """Kill every process tagged with ``marker``; return what they were."""
    import psutil

    procs, described = tagged_processes(marker), []
    for p in procs:
        try:
            described.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=10)
    return described


class VoilaDemo:
    """``make demo NB=..`` on a free loopback port, tagged like the hub's processes for cleanup."""

    def __init__(self, base: Path, notebook: str):
        self.base, self.notebook = base, notebook
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.marker = secrets.token_hex(8)
        self.log_path = base / "voila.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60.0):
        # -o: never re-install from here (CI's `make test` did; a developer's venv is what it is)
        cmd = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed", "demo", f"NB={self.notebook}",
               f"PY={sys.executable}", f"DEMO_ARGS=--port={self.port} --no-browser --Voila.port_retries=0"]
        env = dict(os.environ, REACHKIT_HUB_TEST=self.marker, PYTHONUNBUFFERED="1")
        env.pop("MPLBACKEND", None)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=self.base)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"make demo exited with {self.proc.returncode}:\n{self.log_tail()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.3)
        raise RuntimeError(f"Voila did not listen within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 60) -> str:
        if self._log is not None:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def stop(self) -> list[str]:
        for p in tagged_processes(self.marker):  # make, then Voila: SIGTERM lets Voila stop its kernel
            try:
                p.terminate()
            except Exception:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        time.sleep(1.0)
        left = kill_tagged(self.marker)
        if self._log is not None:
            self._log.close()
            self._log = None
        return left


class LocalHub:
    """JupyterHub + configurable-http-proxy on free loopback ports, in a temporary folder."""

    def __init__(self, base: Path, repo_url: str, branch: str):
        self.base, self.repo_url, self.branch = base, repo_url, branch
        self.port, self.hub_port, self.api_port = free_ports(3)
        self.url = f"http://127.0.0.1:{self.port}"
        self.marker, self.token = secrets.token_hex(8), secrets.token_hex(16)
        self.log_path = base / "hub.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def _write_config(self) -> Path:
        (self.base / "home").mkdir(parents=True, exist_ok=True)
        config = self.base / "jupyter-config"
        config.mkdir(exist_ok=True)
        (config / "jupyter_server_config.json").write_text(json.dumps({"LabApp": {
            "expose_app_in_browser": True, "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}}))
        notif = self.base / "lab-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        notif.parent.mkdir(parents=True, exist_ok=True)
        notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        settings = {"port": self.port, "hub_port": self.hub_port, "api_port": self.api_port, "base": str(self.base),
                    "chp": chp_path(), "password": PASSWORD, "marker": self.marker, "token": self.token,
                    "args": ["--allow-root"] if os.geteuid() == 0 else [],
                    "course_url": COURSE_URL, "course_file_url": (self.base / "reachkit.git").as_uri()}
        path = self.base / "jupyterhub_config.py"
        path.write_text(HUB_CONFIG.format(settings=settings))
        return path

    def start(self, timeout: float = 90.0):
        config = self._write_config()
        env = dict(os.environ, REACHKIT_HUB_TEST=self.marker, PYTHONUNBUFFERED="1")
        env.pop("MPLBACKEND", None)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=self.base, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("GET", "/users", timeout=2)
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.3)
        raise RuntimeError(f"jupyterhub did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def api(self, method: str, path: str, timeout: float = 10):
        req = urllib.request.Request(f"{self.url}/hub/api{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 80) -> str:
        if self._log is not None:
            self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    # -- students -------------------------------------------------------------------------------
    def login(self, page, user: str, timeout: float = 60.0):
        """Log ``user`` in through the hub's login form (the page ends on the hub, not yet spawned)."""
        page.goto(f"{self.url}/hub/login", timeout=timeout * 1000)
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation(timeout=timeout * 1000):
            page.click("input[type=submit], button[type=submit]")
        if "/hub/login" in page.url:
            raise RuntimeError(f"login of {user} failed: still on {page.url}")

    def home(self, user: str) -> Path:
        return self.base / "home" / user

    def processes(self, user: str | None = None) -> dict:
        """Processes this hub started, by role: {"proxy": [...], "server": [...], "kernel": [...]}."""
        import psutil

        found = {"proxy": [], "server": [], "kernel": [], "other": []}
        for p in tagged_processes(self.marker):
            if self.proc is not None and p.pid == self.proc.pid:
                continue
            try:
                env, cmd = p.environ(), " ".join(p.cmdline())
            except psutil.Error:
                continue
            if user is not None and env.get("JUPYTERHUB_USER") != user:
                continue
            role = ("kernel" if "ipykernel" in cmd else "server" if "singleuser" in cmd
                    else "proxy" if "configurable-http-proxy" in cmd else "other")
            found[role].append(p)
        return found

    def memory(self, user: str) -> dict:
        """RSS and USS (MB) of ``user``'s single-user server and kernels."""
        import psutil

        procs = self.processes(user)
        out = {}
        for role in ("server", "kernel"):
            rss = uss = 0
            for p in procs[role]:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                rss, uss = rss + info.rss, uss + info.uss
            out[f"{role}_rss_mb"], out[f"{role}_uss_mb"] = round(rss / 2**20, 1), round(uss / 2**20, 1)
            out[f"{role}_processes"] = len(procs[role])
        out["total_rss_mb"] = round(out["server_rss_mb"] + out["kernel_rss_mb"], 1)
        out["total_uss_mb"] = round(out["server_uss_mb"] + out["kernel_uss_mb"], 1)
        return out

    def stop_server(self, user: str, timeout: float = 30.0):
        try:
            self.api("DELETE", f"/users/{user}/server", timeout=timeout)
        except urllib.error.HTTPError as exc:
            if exc.code not in (202, 204, 400, 404):
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (self.processes(user)["server"] or self.processes(user)["kernel"]):
            time.sleep(0.3)

    def stop(self) -> list[str]:
        """Stop the hub (it stops the servers and the proxy), then kill what is left; say what that was."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        described = kill_tagged(self.marker)
        if self._log is not None:
            self._log.close()
            self._log = None
        return described
