"""Stage 10: a class on one server, with several learners at once (`./lab class`, issue 13).

1. `./lab class` starts JupyterHub on 127.0.0.1 with a fresh state in target/class-test/
   (the `class_hub` fixture; the proxy and the seed of evcxr's cache are kept between runs);
2. N learners (--learners, default 5) are created through the hub's REST API, each logs in
   through the login form (the first login sets the password), and their servers start at once
   (the `learners` fixture), each in its learner's control group where the machine has them;
3. in every learner's own server, at the same time, notebook 03 runs cell by cell over the
   REST API (a session) and the kernel's websocket; every cell must show what
   distlab_tools.run_notebooks demands of it (no error, no stderr, the charts its metadata names);
4. each learner writes an answer into their notebook: no learner can read another's server,
   and every learner's file holds only their own answer;
5. a learner stops their server and logs in again: a wrong password is refused, theirs is
   taken, and the new server shows their answer (the notebooks were not copied over it);
6. the container files parse and prepare a learner's folder; a bad name in the teacher's list
   stops ./lab class naming file, line and column.
Measured: time to the first output and to the end of the notebook for each learner, the memory
of each learner's processes (sampled) and, where cgroups limit them, the group's peak (written
to --class-json). The hub, every server and kernel are stopped at the end, also after a failure.
The tests run in this order, on one hub: 4 and 5 use the learners of 3.
"""
import json
import os
import subprocess
import sys
import time

import nbformat
import pytest
import requests
import yaml

from distlab_tools import NOTEBOOKS, ROOT, classroom
from distlab_tools.class_hub import CLASS, NOTEBOOK, REL, Learner, MemorySampler, class_processes, parallel
from distlab_tools.run_notebooks import problems

pytestmark = pytest.mark.classhub


@pytest.fixture(scope="module")
def learners(class_hub, class_report, figures_module):
    """Every learner created, logged in once (which sets their password), their servers started
    at once, each in its own control group when the machine has them."""
    hub, names = class_hub, class_hub.names
    hub.api("POST", "/users", json={"usernames": names})
    everyone = [Learner(hub, n) for n in names]
    for learner in everyone:
        assert hub.login(learner.name, learner.password), f"{learner.name}: the first login was refused"
    t0 = time.monotonic()
    pids = {}

    def start(learner):
        pids[learner.name], learner.result["server_start_s"] = hub.start(learner.name)
    parallel(everyone, start)
    figures_module.append(f"hub up in {class_report['hub_start_s']:.0f} s (set-up included); "
                          f"{len(names)} servers started in {time.monotonic() - t0:.1f} s")
    class_report["limits"] = check_limits(pids, figures_module)
    for learner in everyone:
        learner.token = hub.user_token(learner.name)
        assert learner.contents().status_code == 200, f"{learner.name} has no {REL}"
    return everyone


@pytest.fixture(scope="module")
def figures_module():
    """Lines from the module's fixtures, added to the first test's figures."""
    return []


def check_limits(pids, lines):
    """Each server sits in its learner's control group, when this machine has them."""
    applied = 0
    for name, pid in pids.items():
        with open(f"/proc/{pid}/cgroup") as f:
            groups = f.read()
        if f"/{classroom.GROUP}/{name}" in groups:
            applied += 1
    if applied == 0:
        lines.append("memory and CPU limits: not enforced on this machine (no writable cgroups); the hub's log says why")
        return "none"
    assert applied == len(pids), f"only {applied} of {len(pids)} servers are in their control group"
    lines.append(f"memory and CPU limits: every server in its own control group ({applied})")
    return "cgroup"


def test_every_learner_runs_notebook_03_at_once(learners, class_report, figures_module, figures):
    for line in figures_module:
        figures(line)
    cells = nbformat.read(os.path.join(NOTEBOOKS, NOTEBOOK), as_version=4).cells
    sampler = MemorySampler()
    sampler.start()
    t0 = time.monotonic()
    try:
        parallel(learners, lambda learner: learner.run_notebook(cells))
    finally:
        sampler.done.set()
    wall = time.monotonic() - t0
    failed = []
    for learner in learners:
        learner.result["peak_memory_mb"] = round(sampler.peak.get(learner.name, 0) / 2**20)
        peak = classroom.peak_memory(learner.name)
        learner.result["cgroup_peak_mb"] = round(peak / 2**20) if peak else None
        found = problems(learner.executed)
        learner.result["outputs"] = sum(len(c.outputs) for c in learner.executed.cells if c.cell_type == "code")
        figures(json.dumps(learner.result))
        failed += [f"{learner.name} cell {i}: {m[:400]}" for i, m in found]
    class_report.update(learners=[learner.result for learner in learners], concurrent_wall_s=round(wall, 1))
    assert not failed, "notebook 03 failed in the class:\n" + "\n".join(failed)


def answer_cell(nb):
    for cell in nb["cells"]:
        if "answer" in cell.get("metadata", {}).get("tags", []):
            return cell
    raise AssertionError(f"{NOTEBOOK} has no answer cell")


def test_each_learner_sees_only_their_answer(learners, figures):
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
    figures(f"answers: each of {len(learners)} learners sees their own, none can open another's server")


def test_login_again_finds_the_answer(class_hub, learners, figures):
    hub, learner = class_hub, learners[0]
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
    figures(f"{learner.name}'s server stopped with a kernel open: nothing of theirs ran on; logged in again "
            "(a wrong password refused) and found their answer")


def test_container_files(class_hub, figures):
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
    figures(f"container files: the chart's values parse, their postStart prepares a folder, "
            f"the Dockerfile's {len(copied)} paths exist")


def test_bad_list_of_learners(class_hub, figures):
    """A mistake in the teacher's list stops ./lab class with the file, line and column."""
    bad = os.path.join(CLASS, "bad-users.txt")
    with open(bad, "w") as f:
        f.write("ana\n  Ben Smith\n")
    r = subprocess.run([os.path.join(ROOT, "lab"), "class", "--dir", CLASS, "--users", bad, "--setup"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and f"{bad}:2:3: 'Ben Smith' is not a user name" in r.stderr, (r.returncode, r.stderr[-500:])
    figures("a bad name in the list of learners: ./lab class stops, naming file, line and column")
