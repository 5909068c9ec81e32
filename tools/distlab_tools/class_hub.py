"""The class test's driver (tests/py/test_class_hub.py, stage 10 of `./lab test`): `./lab class`
started on 127.0.0.1 with a fresh state in target/class-test/ (the proxy and the seed of evcxr's
cache are kept between runs), its REST API and login form (Hub), learners that run a notebook
cell by cell over their kernel's websocket (Learner), every process of the class found by its
environment, their memory sampled, and everything stopped at the end, also after a failure.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import nbformat
import requests
import websocket

from . import ROOT, TARGET, class_users, classroom

CLASS = os.path.join(TARGET, "class-test")
NOTEBOOK = "03-simulation.ipynb"
REL = f"distlab/notebooks/{NOTEBOOK}"
KEEP = {"proxy", "cache", "toolchain", "vendor"}  # slow to make, and not state: kept between runs
# The class test's learners, as root, are system users named dltest-NAME (not jupyter-NAME:
# never a real class's), created by the hub and removed by the test (remove_users).
USER_PREFIX = "dltest-"
os.environ["DISTLAB_CLASS_USER_PREFIX"] = USER_PREFIX
# ... and the hub's own user and the learners' group are the test's too.
os.environ["DISTLAB_CLASS_HUB_USER"] = "dltest-hub"
os.environ["DISTLAB_CLASS_LEARNERS_GROUP"] = "dltest-learners"


def free_port():
    """A port p with p+1 to p+3 free too (the proxy's API, the hub, the report's service)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and all(_free(port + i) for i in range(4)):
            return port
    raise RuntimeError("no four free ports in a row")


def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class Hub:
    def __init__(self, port, token):
        self.url = f"http://127.0.0.1:{port}"
        self.headers = {"Authorization": f"token {token}"}

    def api(self, method, path, expect=(200, 201, 202, 204), **kw):
        r = requests.request(method, f"{self.url}/hub/api{path}", headers=self.headers, timeout=300, **kw)
        if r.status_code not in expect:
            raise AssertionError(f"{method} /hub/api{path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.text else None

    def login(self, name, password):
        """The login form, as a browser posts it: True when the hub lets the learner in."""
        return self.session(name, password) is not None

    def session(self, name, password):
        """A browser's session logged in through the form (its cookies), or None if refused."""
        s = requests.Session()
        s.get(f"{self.url}/hub/login", timeout=60)
        r = s.post(f"{self.url}/hub/login", timeout=60, allow_redirects=False,
                   data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf", "")})
        return s if r.status_code == 302 and "/hub/login" not in r.headers.get("Location", "") else None

    def start(self, name):
        started = time.monotonic()
        self.api("POST", f"/users/{name}/server", expect=(201, 202, 400))
        while True:
            server = self.api("GET", f"/users/{name}")["servers"].get("", {})
            if server.get("ready"):
                return server["state"]["pid"], round(time.monotonic() - started, 1)
            if time.monotonic() - started > 300:
                raise AssertionError(f"{name}'s server did not start in 300 s: {server}")
            time.sleep(0.5)

    def stop(self, name):
        self.api("DELETE", f"/users/{name}/server", expect=(202, 204))
        for _ in range(120):
            if not self.api("GET", f"/users/{name}")["servers"]:
                return
            time.sleep(0.5)
        raise AssertionError(f"{name}'s server did not stop")

    def kernel(self, name, token):
        """A new kernel in `name`'s server: (its id, its websocket)."""
        base = f"{self.url}/user/{name}/api"
        r = requests.post(f"{base}/kernels", headers={"Authorization": f"token {token}"}, json={"name": "rust"}, timeout=300)
        assert r.status_code == 201, f"no kernel for {name}: {r.status_code} {r.text[:300]}"
        kernel = r.json()["id"]
        ws = websocket.create_connection(f"ws{base[4:]}/kernels/{kernel}/channels", header=[f"Authorization: token {token}"], timeout=600)
        return kernel, ws

    def user_token(self, name):
        return self.api("POST", f"/users/{name}/tokens", json={"scopes": [f"access:servers!user={name}"], "expires_in": 3600})["token"]


class Learner:
    def __init__(self, hub, name):
        self.hub, self.name = hub, name
        self.password = f"pw-{name}-{uuid.uuid4().hex[:8]}"
        self.result = {"learner": name}
        self.error = None

    def contents(self, owner=None, method="GET", rel=REL, **kw):
        """The Contents API of `owner`'s server (default: their own) with this learner's token,
        for the file `rel` of their folder (default: notebook 03)."""
        url = f"{self.hub.url}/user/{owner or self.name}/api/contents/{rel}"
        return requests.request(method, url, headers={"Authorization": f"token {self.token}"}, timeout=120, **kw)

    def run_notebook(self, cells):
        """Every code cell of notebook 03 in this learner's own kernel, over the websocket."""
        headers = {"Authorization": f"token {self.token}"}
        base = f"{self.hub.url}/user/{self.name}/api"
        started = time.monotonic()
        r = requests.post(f"{base}/sessions", headers=headers, timeout=300,
                          json={"path": REL, "name": NOTEBOOK, "type": "notebook", "kernel": {"name": "rust"}})
        assert r.status_code == 201, f"{self.name}: no kernel: {r.status_code} {r.text[:300]}"
        kernel = r.json()["kernel"]["id"]
        ws = websocket.create_connection(f"ws{base[4:]}/kernels/{kernel}/channels", header=[f"Authorization: token {self.token}"], timeout=600)
        nb = nbformat.v4.new_notebook(cells=[nbformat.from_dict(c) for c in cells])
        first = None

        def seen():
            nonlocal first
            first = first or time.monotonic() - started
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                cell.outputs = [nbformat.from_dict(o) for o in execute(ws, kernel, cell.source, self.name, seen)]
            run_all = time.monotonic() - started
            # What the learner's server and kernel hold once the notebook has run.
            held = sum(memory(pid) for pid, user in class_processes(CLASS).items() if user == self.name)
        finally:
            ws.close()
            requests.delete(f"{base}/kernels/{kernel}", headers=headers, timeout=60)
        self.result.update(first_output_s=round(first or -1, 1), run_all_s=round(run_all, 1), memory_after_mb=round(held / 2**20))
        self.executed = nb


def execute(ws, session, code, name="learner", on_output=None):
    """Runs `code` in the kernel behind websocket `ws`; returns its outputs (nbformat dicts),
    calling `on_output()` as each arrives (the first output's time is a figure)."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": name, "session": session, "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False},
    }))
    outputs = []
    while True:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id or msg.get("channel") != "iopub":
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return outputs
        if kind in ("stream", "display_data", "execute_result", "error"):
            if on_output is not None:
                on_output()
            out = dict(content, output_type=kind)
            out.pop("transient", None)
            if kind == "execute_result":
                out.setdefault("metadata", {})
            outputs.append(out)


def class_processes(marker):
    """{pid: learner} of every process started for this class (servers, kernels, rustc)."""
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        except OSError:
            continue
        if env.get(b"DISTLAB_CLASS_DIR") == marker.encode():
            found[int(pid)] = env.get(b"JUPYTERHUB_USER", b"?").decode()
    return found


def memory(pid):
    """A process's proportional share of memory (Pss: shared pages split among the processes
    that map them, so a kernel and its child are not counted twice), else its resident size."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class MemorySampler(threading.Thread):
    """Twice a second: the memory of each learner's processes, summed; keeps the peak (the
    figure where the machine has no cgroups to give one)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = {}, threading.Event()

    def run(self):
        while not self.done.wait(0.5):
            now = {}
            for pid, user in class_processes(CLASS).items():
                now[user] = now.get(user, 0) + memory(pid)
            for user, total in now.items():
                self.peak[user] = max(self.peak.get(user, 0), total)


def remove_users():
    """The system users of the test's class (as root), left by this run or an interrupted one."""
    if os.geteuid() == 0:
        class_users.remove(CLASS)


def fresh_class_dir(names):
    os.makedirs(CLASS, exist_ok=True)
    remove_users()
    for entry in os.listdir(CLASS):
        if entry not in KEEP:
            path = os.path.join(CLASS, entry)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
    with open(os.path.join(CLASS, "users.txt"), "w") as f:
        f.write("# learners are created through the REST API by tests/py/test_class_hub.py\n")
    with open(os.path.join(CLASS, "admin-token"), "w") as f:
        f.write(uuid.uuid4().hex + uuid.uuid4().hex)
    for name in names:
        classroom.release(name)


def stop_everything(hub_process, names):
    """The hub first (it stops the servers it knows), then anything of the class still alive."""
    if hub_process is not None and hub_process.poll() is None:
        os.killpg(hub_process.pid, signal.SIGTERM)
        try:
            hub_process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(hub_process.pid, signal.SIGKILL)
    for pid in class_processes(CLASS):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.5)
    for name in names:
        classroom.release(name)
    left = class_processes(CLASS)
    if left:
        print(f"warning: processes of the class still alive: {sorted(left)}")


def wait_for_hub(hub, process):
    for _ in range(600):
        if process.poll() is not None:
            raise AssertionError(f"./lab class exited with {process.returncode}")
        try:
            if requests.get(f"{hub.url}/hub/api/", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(1)
    raise AssertionError("the hub did not answer in 600 s")


def parallel(learners, work):
    errors = []

    def guarded(learner):
        try:
            work(learner)
        except BaseException as e:  # reported below, with the learner's name
            errors.append(f"{learner.name}: {type(e).__name__}: {e}")
    threads = [threading.Thread(target=guarded, args=(learner,)) for learner in learners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n".join(errors)


def start(names, log_path):
    """A fresh class (fresh_class_dir) and `./lab class` on free ports, answering: returns
    (the hub's process, Hub, seconds it took, set-up included). The caller stops it with
    stop_everything, also when this raises."""
    fresh_class_dir(names)
    port = free_port()
    started = time.monotonic()
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [os.path.join(ROOT, "lab"), "class", "--dir", CLASS, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    with open(os.path.join(CLASS, "admin-token")) as f:
        hub = Hub(port, f.read().strip())
    try:
        wait_for_hub(hub, process)
    except BaseException:
        stop_everything(process, names)
        raise
    return process, hub, time.monotonic() - started
