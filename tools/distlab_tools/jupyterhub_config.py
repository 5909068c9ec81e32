"""JupyterHub for a class taking the distlab lesson on one server. Started by `./lab class`,
which sets the DISTLAB_* variables read here (see `./lab class --help` and README, "A class on
one server"). Everything the hub keeps lives in DISTLAB_CLASS_DIR (default `.class/`):

    users.txt        the teacher's list of learners (one name per line)
    jupyterhub.sqlite, jupyterhub_cookie_secret, passwords.dbm   the hub's own state
    admin-token      a token with admin rights on the hub's REST API (made by ./lab class)
    proxy/           configurable-http-proxy, from npm (tools/class/package-lock.json)
    cache/evcxr      the seed of evcxr's cache: distlab's dependencies compiled once
    home/NAME/       each learner's folder: distlab/notebooks/ and their evcxr cache
As root (one system user per learner, distlab_tools.class_users), also:
    toolchain/       Rust, evcxr and Python for the learners, read-only (hard links)
    vendor/          the crates their cargo reads, offline; seed-cargo/ the seed's cargo home
    staging/         where the hub makes a learner's links to the seed (root's alone)
"""
import asyncio
import json
import os
import pwd
import sys

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, set_user_setuid
from sudospawner import SudoSpawner

from distlab_tools import class_users, classroom

c = get_config()  # noqa: F821 (JupyterHub defines it)
ROOT = os.environ["DISTLAB_ROOT"]
CLASS = os.environ["DISTLAB_CLASS_DIR"]
VENV = os.path.join(ROOT, ".venv")
IP = os.environ.get("DISTLAB_CLASS_IP", "127.0.0.1")
PORT = int(os.environ.get("DISTLAB_CLASS_PORT", "8000"))
TEACHER = os.environ.get("DISTLAB_CLASS_TEACHER", "teacher")
SEED_CACHE = os.path.join(CLASS, "cache", "evcxr")
# Started by ./lab class as root, the hub runs as an unprivileged user of its own (class_users.
# hub_user) and asks sudo for the rest (sudospawner, class_root): its state is CLASS_DIR/hub.
SUDO = os.environ.get("DISTLAB_CLASS_SUDO") == "1"
STATE = os.path.join(CLASS, "hub") if SUDO else CLASS
HUB_PATHS = class_users.hub_paths(CLASS)
if SUDO:  # the class toolchain's Python finds no share/ of its own: the .venv's templates
    c.JupyterHub.data_files_path = os.path.join(ROOT, ".venv", "share", "jupyterhub")

# --- where it listens. Only the proxy faces learners; the hub and the proxy's API stay local.
cert, key = os.environ.get("DISTLAB_CLASS_SSL_CERT"), os.environ.get("DISTLAB_CLASS_SSL_KEY")
c.JupyterHub.bind_url = f"{'https' if cert else 'http'}://{IP}:{PORT}/"
if cert:
    c.JupyterHub.ssl_cert, c.JupyterHub.ssl_key = cert, key
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [os.path.join(CLASS, "proxy", "node_modules", ".bin", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(STATE, "jupyterhub.pid")

# --- who may log in: the teacher's list; each name's password is the one typed at its first
# login (FirstUseAuthenticator). A forgotten password: the teacher deletes the user at
# /hub/admin and adds them again (their folder stays); the next login sets a new password.
users_file = os.environ.get("DISTLAB_CLASS_USERS", os.path.join(CLASS, "users.txt"))
c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.FirstUseAuthenticator.dbm_path = os.path.join(STATE, "passwords.dbm")
c.FirstUseAuthenticator.create_users = False
c.FirstUseAuthenticator.min_password_length = 8
c.JupyterHub.template_vars = {
    "announcement_login": "First time here? Type your user name and choose a password of 8 characters "
    "or more: it becomes your password for this class. Ask your teacher if you forget it.",
}
c.Authenticator.allowed_users = set(classroom.read_users(users_file))
c.Authenticator.admin_users = {TEACHER}
# Only names on the list, the teacher and users the teacher adds (admin page or REST API);
# an added user stays allowed after a restart until the teacher deletes them.
c.Authenticator.allow_all = False
c.Authenticator.allow_existing_users = True

# --- each learner's server: JupyterLab from the project's .venv with the Rust kernel built
# once (evcxr_jupyter, registered for the class in CLASS_DIR/jupyter). Three ways:
# - ./lab class started as root (SUDO, what it does): each learner NAME runs as the system
#   user jupyter-NAME, home CLASS_DIR/home/NAME (0700); the hub runs as its own unprivileged
#   user and starts servers with sudospawner's mediator through sudo (LearnerSudoSpawner); the
#   user, folder and limits are made by the root helper (class_root) through sudo. Their
#   toolchain (Rust, evcxr, Python) is the class's shared read-only copy (build_toolchain).
# - this file loaded by a hub that is root itself (PER_LEARNER without SUDO: LearnerSpawner):
#   the same learners, JupyterHub's LocalProcessSpawner switching to them; kept for a teacher
#   who starts jupyterhub by hand as root.
# - otherwise every learner runs as the hub's user, in home/NAME (SimpleLocalProcessSpawner),
#   and ./lab class says what that cannot keep apart (class_users.NOT_ROOT).
PER_LEARNER = os.geteuid() == 0 or SUDO


def as_root(*args):
    return class_users.as_root(CLASS, *args)


class LimitedSpawner:
    """A memory and CPU limit (classroom.limit) right after the start, and whatever is left in
    the learner's control group stopped after their server."""

    async def start(self):
        url = await super().start()
        try:
            if SUDO:
                done = await as_root("limit", self.user.name, self.pid, int(self.mem_limit), self.cpu_limit)
            else:
                done = classroom.limit(self.pid, self.user.name, self.mem_limit, self.cpu_limit)
            self.log.info("%s: %s", self.user.name, done)
        except (OSError, RuntimeError) as e:
            self.log.warning("%s: no memory or CPU limit on this machine (%s)", self.user.name, e)
        return url

    async def stop(self, now=False):
        await super().stop(now=now)
        # Kernels outlive their server: stop what is left, off the hub's event loop (it waits).
        if SUDO:
            try:
                await as_root("release", self.user.name)
            except RuntimeError as e:
                self.log.warning("%s: %s", self.user.name, e)
        else:
            await asyncio.get_running_loop().run_in_executor(None, classroom.release, self.user.name)


class ClassSpawner(LimitedSpawner, SimpleLocalProcessSpawner):
    """Every learner as the hub's user: the local spawner plus the learner's folder
    (classroom.prepare_home) before the start."""

    async def start(self):
        copied = classroom.prepare_home(self.home_dir, ROOT, SEED_CACHE)
        if copied:
            self.log.info("%s: copied %d notebooks", self.user.name, len(copied))
        return await super().start()


class AsLearner:
    """The environment of a learner's own system user (class_users.account: jupyter-NAME)."""

    def user_env(self, env):
        pw = pwd.getpwnam(class_users.account(self.user.name))
        env.update(USER=pw.pw_name, HOME=pw.pw_dir, SHELL=pw.pw_shell, CARGO_HOME=os.path.join(pw.pw_dir, ".cargo"))
        return env


class LearnerSpawner(AsLearner, LimitedSpawner, LocalProcessSpawner):
    """Each learner as their own system user (class_users.account: jupyter-NAME): created when
    missing, their folder prepared as them, the seed cache linked in by the hub (as root)."""

    async def start(self):
        loop = asyncio.get_running_loop()
        pw = await loop.run_in_executor(None, class_users.ensure_learner, CLASS, self.user.name)
        env = dict(LEARNER_ENV, JUPYTER_PATH=JUPYTER_PATH)
        out = await loop.run_in_executor(None, class_users.prepare_as_learner, pw, ROOT, CLASS, TOOLS["python"], env)
        self.log.info("%s: runs as %s (uid %d, home %s); %s", self.user.name, pw.pw_name, pw.pw_uid, pw.pw_dir, out.strip())
        return await super().start()

    def make_preexec_fn(self, name):
        return set_user_setuid(class_users.account(name))


class LearnerSudoSpawner(AsLearner, LimitedSpawner, SudoSpawner):
    """The same with the hub as an unprivileged user: the learner's user and folder made by the
    root helper (class_root prepare), the server started by sudospawner's mediator run as the
    learner through sudo. The mediator only starts toolchain/bin/sudospawner-singleuser (root's)."""

    sudospawner_path = HUB_PATHS["mediator"]

    async def start(self):
        self.log.info("%s", await as_root("prepare", self.user.name))
        return await super().start()

    async def do(self, action, **kwargs):
        """SudoSpawner.do, as the learner's system user rather than the hub's user name. The
        mediator's standard error becomes the server's log: it is relayed to the hub's for as
        long as the server runs, and never waited for."""
        kwargs["action"] = action
        proc = await asyncio.create_subprocess_exec(
            "sudo", "-n", "-H", "-u", class_users.account(self.user.name), self.sudospawner_path,
            f"--logging={self.mediator_log_level}", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self._relays = getattr(self, "_relays", set())
        relay = asyncio.ensure_future(self._relay(proc.stderr))
        self._relays.add(relay)
        relay.add_done_callback(self._relays.discard)
        proc.stdin.write(json.dumps(kwargs).encode())
        await proc.stdin.drain()
        proc.stdin.close()
        # The reply is one JSON object: taken as soon as it is whole. Waiting for the end of
        # the output instead hung one of two servers starting at once (seen here: the server
        # itself had started, the hub never heard).
        text = ""
        while True:
            chunk = await proc.stdout.read(4096)
            text += chunk.decode("utf-8", "replace")
            if "{" in text and "}" in text:
                try:
                    reply = json.loads(text[text.index("{"):text.rindex("}") + 1])
                    break
                except ValueError:
                    pass
            if not chunk:
                await proc.wait()
                raise RuntimeError(f"sudospawner's mediator gave no reply (exit code {proc.returncode}): {text[-300:]!r}")
        waiter = asyncio.ensure_future(proc.wait())  # reaped when it ends
        self._relays.add(waiter)
        waiter.add_done_callback(self._relays.discard)
        if not reply.get("ok", False):
            raise RuntimeError(f"sudospawner's mediator: {reply.get('error', reply)}")
        return reply

    @staticmethod
    async def _relay(stream):
        while line := await stream.readline():
            sys.stderr.write(line.decode("utf-8", "replace"))


JUPYTER_PATH = os.pathsep.join([os.path.join(CLASS, "jupyter"), os.path.join(VENV, "share", "jupyter")])
TOOLS = class_users.toolchain_paths(CLASS)
LEARNER_ENV = class_users.learner_env(CLASS)
if PER_LEARNER:
    c.JupyterHub.spawner_class = LearnerSudoSpawner if SUDO else LearnerSpawner
    c.Spawner.cmd = [TOOLS["python"], "-m", "jupyterhub.singleuser"]
    c.Spawner.environment = dict(LEARNER_ENV, JUPYTER_PATH=JUPYTER_PATH, DISTLAB_CLASS_DIR=CLASS)
else:
    c.JupyterHub.spawner_class = ClassSpawner
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(CLASS, "home", "{username}")
    c.Spawner.cmd = [os.path.join(VENV, "bin", "jupyterhub-singleuser")]
    home = os.path.expanduser("~")
    c.Spawner.environment = {
        # The class's own kernel spec first (distlab_tools.evcxr_kernel install_class), then the venv's.
        "JUPYTER_PATH": JUPYTER_PATH,
        # The spawner gives each learner their own HOME; the Rust toolchain stays the hub's.
        "RUSTUP_HOME": os.environ.get("RUSTUP_HOME", os.path.join(home, ".rustup")),
        "CARGO_HOME": os.environ.get("CARGO_HOME", os.path.join(home, ".cargo")),
        # Marks every process of the class, so tests/py/test_class_hub.py can find stragglers.
        "DISTLAB_CLASS_DIR": CLASS,
    }
c.Spawner.default_url = "/lab/tree/distlab/notebooks/00-start-here.ipynb"
c.Spawner.mem_limit = os.environ.get("DISTLAB_CLASS_MEM", "2G")
c.Spawner.cpu_limit = float(os.environ.get("DISTLAB_CLASS_CPUS", "1"))
# Five servers starting at once on 2 cores take a while.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180

# --- services: idle servers stopped, and an admin token for scripts (and the class test).
idle = int(os.environ.get("DISTLAB_CLASS_IDLE_MINUTES", "60")) * 60
# A service starts with a small environment; the hub's user runs the class toolchain's Python,
# which needs its library folder (class_users.learner_env says why).
PY_ENV = {"LD_LIBRARY_PATH": os.environ["LD_LIBRARY_PATH"]} if SUDO else {}
c.JupyterHub.services = [
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle}", f"--cull-every={max(60, idle // 6)}"],
     "environment": PY_ENV},
]
c.JupyterHub.load_roles = [
    {"name": "idle-culler", "services": ["idle-culler"], "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]
# The teacher's view of the class (./lab class report) as a page of the hub, in its Services
# menu: only roles holding access:services!service=class-report may open it, and only the admin
# role (the teacher) does (distlab_tools.class_report_service).
c.JupyterHub.services.append({
    "name": "class-report", "display": True, "oauth_no_confirm": True,
    "url": f"http://127.0.0.1:{PORT + 3}",
    "command": [sys.executable, "-m", "distlab_tools.class_report_service"],
    "environment": dict(PY_ENV, PYTHONPATH=os.path.join(ROOT, "tools"), DISTLAB_CLASS_DIR=CLASS,
                        DISTLAB_CLASS_USERS=users_file, DISTLAB_CLASS_TEACHER=TEACHER,
                        # as the hub's user, the report is built by root (class_root report)
                        DISTLAB_CLASS_SUDO="1" if SUDO else ""),
})
c.JupyterHub.load_roles.append({"name": "class-report", "services": ["class-report"], "scopes": ["list:users", "read:users:name"]})
token_file = os.path.join(CLASS, "admin-token")
if os.path.exists(token_file):
    with open(token_file) as f:
        c.JupyterHub.services.append({"name": "class-admin", "api_token": f.read().strip()})
    c.JupyterHub.load_roles.append(
        {"name": "class-admin", "services": ["class-admin"], "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}
    )
