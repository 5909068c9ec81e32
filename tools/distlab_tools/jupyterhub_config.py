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
import os
import pwd
import sys

from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, set_user_setuid

from distlab_tools import class_users, classroom

c = get_config()  # noqa: F821 (JupyterHub defines it)
ROOT = os.environ["DISTLAB_ROOT"]
CLASS = os.environ["DISTLAB_CLASS_DIR"]
VENV = os.path.join(ROOT, ".venv")
IP = os.environ.get("DISTLAB_CLASS_IP", "127.0.0.1")
PORT = int(os.environ.get("DISTLAB_CLASS_PORT", "8000"))
TEACHER = os.environ.get("DISTLAB_CLASS_TEACHER", "teacher")
SEED_CACHE = os.path.join(CLASS, "cache", "evcxr")

# --- where it listens. Only the proxy faces learners; the hub and the proxy's API stay local.
cert, key = os.environ.get("DISTLAB_CLASS_SSL_CERT"), os.environ.get("DISTLAB_CLASS_SSL_KEY")
c.JupyterHub.bind_url = f"{'https' if cert else 'http'}://{IP}:{PORT}/"
if cert:
    c.JupyterHub.ssl_cert, c.JupyterHub.ssl_key = cert, key
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{PORT + 1}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{PORT + 2}"
c.ConfigurableHTTPProxy.command = [os.path.join(CLASS, "proxy", "node_modules", ".bin", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = os.path.join(CLASS, "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(CLASS, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(CLASS, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(CLASS, "jupyterhub.pid")

# --- who may log in: the teacher's list; each name's password is the one typed at its first
# login (FirstUseAuthenticator). A forgotten password: the teacher deletes the user at
# /hub/admin and adds them again (their folder stays); the next login sets a new password.
users_file = os.environ.get("DISTLAB_CLASS_USERS", os.path.join(CLASS, "users.txt"))
c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"
c.FirstUseAuthenticator.dbm_path = os.path.join(CLASS, "passwords.dbm")
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
# once (evcxr_jupyter, registered for the class in CLASS_DIR/jupyter). Two ways:
# - as root (PER_LEARNER): each learner NAME runs as the system user jupyter-NAME, home
#   CLASS_DIR/home/NAME (0700), made by class_users.ensure_learner; JupyterHub's
#   LocalProcessSpawner switches to that user before the server starts. Their toolchain
#   (Rust, evcxr, Python) is the class's shared read-only copy (class_users.build_toolchain).
#   The hub itself stays root: JupyterHub's LocalProcessSpawner needs it (or sudospawner).
# - otherwise every learner runs as the hub's user, in home/NAME (SimpleLocalProcessSpawner),
#   and ./lab class says what that cannot keep apart (class_users.NOT_ROOT).
PER_LEARNER = os.geteuid() == 0


class LimitedSpawner:
    """A memory and CPU limit (classroom.limit) right after the start, and whatever is left in
    the learner's control group stopped after their server."""

    async def start(self):
        url = await super().start()
        try:
            self.log.info("%s: %s", self.user.name, classroom.limit(self.pid, self.user.name, self.mem_limit, self.cpu_limit))
        except OSError as e:
            self.log.warning("%s: no memory or CPU limit on this machine (%s)", self.user.name, e)
        return url

    async def stop(self, now=False):
        await super().stop(now=now)
        # Kernels outlive their server: stop what is left, off the hub's event loop (it waits).
        await asyncio.get_running_loop().run_in_executor(None, classroom.release, self.user.name)


class ClassSpawner(LimitedSpawner, SimpleLocalProcessSpawner):
    """Every learner as the hub's user: the local spawner plus the learner's folder
    (classroom.prepare_home) before the start."""

    async def start(self):
        copied = classroom.prepare_home(self.home_dir, ROOT, SEED_CACHE)
        if copied:
            self.log.info("%s: copied %d notebooks", self.user.name, len(copied))
        return await super().start()


class LearnerSpawner(LimitedSpawner, LocalProcessSpawner):
    """Each learner as their own system user (class_users.account: jupyter-NAME): created when
    missing, their folder prepared as them, the seed cache linked in by the hub."""

    async def start(self):
        loop = asyncio.get_running_loop()
        pw = await loop.run_in_executor(None, class_users.ensure_learner, CLASS, self.user.name)
        env = dict(LEARNER_ENV, JUPYTER_PATH=JUPYTER_PATH)
        out = await loop.run_in_executor(None, class_users.prepare_as_learner, pw, ROOT, CLASS, TOOLS["python"], env)
        self.log.info("%s: runs as %s (uid %d, home %s); %s", self.user.name, pw.pw_name, pw.pw_uid, pw.pw_dir, out.strip())
        return await super().start()

    def make_preexec_fn(self, name):
        return set_user_setuid(class_users.account(name))

    def user_env(self, env):
        pw = pwd.getpwnam(class_users.account(self.user.name))
        env.update(USER=pw.pw_name, HOME=pw.pw_dir, SHELL=pw.pw_shell, CARGO_HOME=os.path.join(pw.pw_dir, ".cargo"))
        return env


JUPYTER_PATH = os.pathsep.join([os.path.join(CLASS, "jupyter"), os.path.join(VENV, "share", "jupyter")])
TOOLS = class_users.toolchain_paths(CLASS)
LEARNER_ENV = class_users.learner_env(CLASS)
if PER_LEARNER:
    c.JupyterHub.spawner_class = LearnerSpawner
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
c.JupyterHub.services = [
    {"name": "idle-culler", "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle}", f"--cull-every={max(60, idle // 6)}"]},
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
    "environment": {"PYTHONPATH": os.path.join(ROOT, "tools"), "DISTLAB_CLASS_DIR": CLASS,
                    "DISTLAB_CLASS_USERS": users_file, "DISTLAB_CLASS_TEACHER": TEACHER},
})
c.JupyterHub.load_roles.append({"name": "class-report", "services": ["class-report"], "scopes": ["list:users", "read:users:name"]})
token_file = os.path.join(CLASS, "admin-token")
if os.path.exists(token_file):
    with open(token_file) as f:
        c.JupyterHub.services.append({"name": "class-admin", "api_token": f.read().strip()})
    c.JupyterHub.load_roles.append(
        {"name": "class-admin", "services": ["class-admin"], "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}
    )
