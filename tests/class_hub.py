"""A class on one server, with several learners at once (`./lab class`, issue 13).

1. `./lab class` starts JupyterHub on 127.0.0.1 with a fresh state in target/class-test/
   (the proxy and the seed of evcxr's cache are kept between runs);
2. N learners (default 5) are created through the hub's REST API, each logs in through the
   login form (the first login sets the password), and their servers start at once;
3. in every learner's own server, at the same time, notebook 03 runs cell by cell over the
   REST API (a session) and the kernel's websocket; every cell must show what
   tools/run_notebooks.py demands of it (no error, no stderr, the charts its metadata names);
4. each learner writes an answer into their notebook: no learner can read another's server,
   and every learner's file holds only their own answer;
5. a learner stops their server and logs in again: a wrong password is refused, theirs is
   taken, and the new server shows their answer (the notebooks were not copied over it).
Then: time to the first output and to the end of the notebook for each learner, the memory
of each learner's processes (sampled) and, where cgroups limit them, the group's peak.
The hub, every server and kernel are stopped at the end, also after a failure.

Usage: class_hub.py [--learners N] [--json FILE]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import nbformat
import requests
import websocket
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tools", "class"))
import classroom  # noqa: E402
from run_notebooks import problems  # noqa: E402

CLASS = os.path.join(ROOT, "target", "class-test")
NOTEBOOK = "03-simulation.ipynb"
REL = f"distlab/notebooks/{NOTEBOOK}"
KEEP = {"proxy", "cache"}  # slow to make, and not state: kept between runs


def free_port():
    """A port p with p+1 and p+2 free too (the proxy's API and the hub)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000 and all(_free(port + i) for i in range(3)):
            return port
    raise RuntimeError("no three free ports in a row")


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
        s = requests.Session()
        s.get(f"{self.url}/hub/login", timeout=60)
        r = s.post(f"{self.url}/hub/login", timeout=60, allow_redirects=False,
                   data={"username": name, "password": password, "_xsrf": s.cookies.get("_xsrf", "")})
        return r.status_code == 302 and "/hub/login" not in r.headers.get("Location", "")

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

    def user_token(self, name):
        return self.api("POST", f"/users/{name}/tokens", json={"scopes": [f"access:servers!user={name}"], "expires_in": 3600})["token"]


class Learner:
    def __init__(self, hub, name):
        self.hub, self.name = hub, name
        self.password = f"pw-{name}-{uuid.uuid4().hex[:8]}"
        self.result = {"learner": name}
        self.error = None

    def contents(self, owner=None, method="GET", **kw):
        """The Contents API of `owner`'s server (default: their own) with this learner's token."""
        url = f"{self.hub.url}/user/{owner or self.name}/api/contents/{REL}"
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
        try:
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                cell.outputs = []
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({
                    "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": self.name, "session": kernel, "version": "5.3"},
                    "parent_header": {}, "metadata": {}, "channel": "shell",
                    "content": {"code": cell.source, "silent": False, "store_history": True, "user_expressions": {}, "allow_stdin": False},
                }))
                while True:
                    msg = json.loads(ws.recv())
                    if msg.get("parent_header", {}).get("msg_id") != msg_id or msg.get("channel") != "iopub":
                        continue
                    kind, content = msg["msg_type"], msg["content"]
                    if kind == "status" and content["execution_state"] == "idle":
                        break
                    if kind in ("stream", "display_data", "execute_result", "error"):
                        first = first or time.monotonic() - started
                        out = dict(content, output_type=kind)
                        out.pop("transient", None)
                        if kind == "execute_result":
                            out.setdefault("metadata", {})
                        cell.outputs.append(nbformat.from_dict(out))
            run_all = time.monotonic() - started
            # What the learner's server and kernel hold once the notebook has run.
            held = sum(memory(pid) for pid, user in class_processes(CLASS).items() if user == self.name)
        finally:
            ws.close()
            requests.delete(f"{base}/kernels/{kernel}", headers=headers, timeout=60)
        self.result.update(first_output_s=round(first or -1, 1), run_all_s=round(run_all, 1), memory_after_mb=round(held / 2**20))
        self.executed = nb


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


def fresh_class_dir(names):
    os.makedirs(CLASS, exist_ok=True)
    for entry in os.listdir(CLASS):
        if entry not in KEEP:
            path = os.path.join(CLASS, entry)
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
    with open(os.path.join(CLASS, "users.txt"), "w") as f:
        f.write("# learners are created through the REST API by tests/class_hub.py\n")
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


def check_container_files():
    """The Kubernetes files cannot be deployed here; what can be checked is: the values parse,
    their postStart command prepares a learner's folder when run with this machine's paths, and
    every path the Dockerfile copies exists."""
    with open(os.path.join(ROOT, "tools", "class", "z2jh-values.yaml")) as f:
        values = yaml.safe_load(f)
    command = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    home = os.path.join(CLASS, "container-home")
    here = {"/opt/distlab": ROOT, "/opt/class": CLASS, "/home/jovyan": home, "python3": sys.executable}
    command = [next((arg.replace(k, v, 1) for k, v in here.items() if arg.startswith(k)), arg) for arg in command]
    subprocess.run(command, check=True, capture_output=True, text=True)
    for part in ("distlab/Cargo.toml", "distlab/lab", f"distlab/notebooks/{NOTEBOOK}", ".cache/evcxr"):
        assert os.path.exists(os.path.join(home, part)), f"the postStart command made no {part}"
    assert os.access(os.path.join(home, "distlab", "lab"), os.X_OK), "the learner's ./lab notes is not executable"
    with open(os.path.join(ROOT, "tools", "class", "Dockerfile")) as f:
        copied = [w for line in f if line.startswith("COPY ") for w in line.split()[1:-1] if not w.startswith("--")]
    missing = [p for p in copied if not os.path.exists(os.path.join(ROOT, p))]
    assert copied and not missing, f"the Dockerfile copies paths that do not exist: {missing}"
    print(f"    container files: the chart's values parse, their postStart prepares a folder, the Dockerfile's {len(copied)} paths exist")


def check_bad_list():
    """A mistake in the teacher's list stops ./lab class with the file, line and column."""
    bad = os.path.join(CLASS, "bad-users.txt")
    with open(bad, "w") as f:
        f.write("ana\n  Ben Smith\n")
    r = subprocess.run([os.path.join(ROOT, "lab"), "class", "--dir", CLASS, "--users", bad, "--setup"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and f"{bad}:2:3: 'Ben Smith' is not a user name" in r.stderr, (r.returncode, r.stderr[-500:])
    print("    a bad name in the list of learners: ./lab class stops, naming file, line and column")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=5)
    parser.add_argument("--json", help="write the measurements to this file")
    args = parser.parse_args()
    if not 1 <= args.learners <= 50:
        parser.error(f"--learners {args.learners}: give 1 to 50")
    names = [f"learner{i}" for i in range(1, args.learners + 1)]
    fresh_class_dir(names)
    port = free_port()
    log = open(os.path.join(CLASS, "hub.log"), "w")
    hub_process = None
    started = time.monotonic()
    try:
        hub_process = subprocess.Popen(
            [os.path.join(ROOT, "lab"), "class", "--dir", CLASS, "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        with open(os.path.join(CLASS, "admin-token")) as f:
            hub = Hub(port, f.read().strip())
        wait_for_hub(hub, hub_process)
        hub_up = time.monotonic() - started
        print(f"    hub up on 127.0.0.1:{port} in {hub_up:.0f} s (set-up included)", flush=True)
        report = run_class(hub, names)
        report["hub_start_s"] = round(hub_up, 1)
        check_container_files()
        check_bad_list()
    except BaseException:
        log.flush()
        print(f"--- the last lines of {log.name}:")
        with open(log.name) as f:
            print("".join(f.readlines()[-40:]))
        raise
    finally:
        stop_everything(hub_process, names)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    print(f"class test passed: {args.learners} learners, {time.monotonic() - started:.0f} s in all")
    return 0


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


def run_class(hub, names):
    hub.api("POST", "/users", json={"usernames": names})
    learners = [Learner(hub, n) for n in names]
    for learner in learners:
        assert hub.login(learner.name, learner.password), f"{learner.name}: the first login was refused"
    t0 = time.monotonic()
    pids = {}

    def start(learner):
        pids[learner.name], learner.result["server_start_s"] = hub.start(learner.name)
    parallel(learners, start)
    print(f"    {len(names)} servers started in {time.monotonic() - t0:.1f} s", flush=True)
    limits = check_limits(pids)
    for learner in learners:
        learner.token = hub.user_token(learner.name)
        assert learner.contents().status_code == 200, f"{learner.name} has no {REL}"
    cells = nbformat.read(os.path.join(ROOT, "notebooks", NOTEBOOK), as_version=4).cells
    sampler = MemorySampler()
    sampler.start()
    t0 = time.monotonic()
    parallel(learners, lambda learner: learner.run_notebook(cells))
    wall = time.monotonic() - t0
    sampler.done.set()
    failed = []
    for learner in learners:
        learner.result["peak_memory_mb"] = round(sampler.peak.get(learner.name, 0) / 2**20)
        peak = classroom.peak_memory(learner.name)
        learner.result["cgroup_peak_mb"] = round(peak / 2**20) if peak else None
        found = problems(learner.executed)
        outputs = sum(len(c.outputs) for c in learner.executed.cells if c.cell_type == "code")
        learner.result["outputs"] = outputs
        print(f"    {json.dumps(learner.result)}", flush=True)
        failed += [f"{learner.name} cell {i}: {m[:400]}" for i, m in found]
    assert not failed, "notebook 03 failed in the class:\n" + "\n".join(failed)
    check_edits(hub, learners)
    check_login_again(hub, learners[0])
    return {"learners": [l.result for l in learners], "concurrent_wall_s": round(wall, 1), "limits": limits}


def parallel(learners, work):
    errors = []

    def guarded(learner):
        try:
            work(learner)
        except BaseException as e:  # reported below, with the learner's name
            errors.append(f"{learner.name}: {type(e).__name__}: {e}")
    threads = [threading.Thread(target=guarded, args=(l,)) for l in learners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n".join(errors)


def check_limits(pids):
    """Each server sits in its learner's control group, when this machine has them."""
    applied = 0
    for name, pid in pids.items():
        with open(f"/proc/{pid}/cgroup") as f:
            groups = f.read()
        if f"/{classroom.GROUP}/{name}" in groups:
            applied += 1
    if applied == 0:
        print("    memory and CPU limits: not enforced on this machine (no writable cgroups); the hub's log says why")
        return "none"
    assert applied == len(pids), f"only {applied} of {len(pids)} servers are in their control group"
    print(f"    memory and CPU limits: every server in its own control group ({applied})")
    return "cgroup"


def answer_cell(nb):
    for cell in nb["cells"]:
        if "answer" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise AssertionError(f"{NOTEBOOK} has no answer cell")


def check_edits(hub, learners):
    for learner in learners:
        model = learner.contents(params={"content": "1"}).json()
        answer_cell(model["content"])["source"] = f"answer written by {learner.name}"
        r = learner.contents(method="PUT", json={"type": "notebook", "format": "json", "content": model["content"]})
        assert r.status_code == 200, f"{learner.name} could not save: {r.status_code} {r.text[:200]}"
    for learner in learners:
        mine = json.dumps(learner.contents(params={"content": "1"}).json()["content"])
        assert f"answer written by {learner.name}" in mine, f"{learner.name}'s answer is not in their notebook"
        for other in learners:
            if other is learner:
                continue
            assert f"answer written by {other.name}" not in mine, f"{other.name}'s answer is in {learner.name}'s notebook"
            r = learner.contents(owner=other.name)
            assert r.status_code in (403, 404), f"{learner.name} read {other.name}'s notebook: {r.status_code}"
    print(f"    answers: each of {len(learners)} learners sees their own, none can open another's server")


def check_login_again(hub, learner):
    # A kernel left open, as a learner leaves it: stopping the server must stop it too.
    r = requests.post(f"{hub.url}/user/{learner.name}/api/kernels", headers={"Authorization": f"token {learner.token}"},
                      json={"name": "rust"}, timeout=120)
    assert r.status_code == 201, f"no kernel for {learner.name}: {r.status_code} {r.text[:200]}"
    hub.stop(learner.name)
    left = [pid for pid, user in class_processes(CLASS).items() if user == learner.name]
    assert not left, f"{learner.name}'s server stopped, yet their processes {left} run on"
    assert not hub.login(learner.name, learner.password + "x"), "a wrong password was taken"
    assert hub.login(learner.name, learner.password), f"{learner.name}'s own password was refused"
    hub.start(learner.name)
    text = learner.contents(params={"content": "1"}).text
    assert f"answer written by {learner.name}" in text, "after logging in again, the answer was gone"
    print(f"    {learner.name}'s server stopped with a kernel open: nothing of theirs ran on; logged in again "
          "(a wrong password refused) and found their answer")


if __name__ == "__main__":
    sys.exit(main())
