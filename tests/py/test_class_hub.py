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
   stops ./lab class naming file, line and column;
7. as root, every learner is a system user of their own (dltest-NAME here, removed at the
   end): a folder from an earlier run keeps its answer at the first start; from inside learner
   A's kernel, B's home, B's kernel, the shared toolchain, sources, vendored crates and seed,
   and the hub's secrets are out of reach; not root (run as `nobody`), the message says what
   ./lab class cannot do.
Measured: time to the first output and to the end of the notebook for each learner, the memory
of each learner's processes (sampled) and, where cgroups limit them, the group's peak (written
to --class-json). The hub, every server and kernel are stopped at the end, also after a failure.
The tests run in this order, on one hub: 4 and 5 use the learners of 3.
"""
import json
import os
import pwd
import stat
import subprocess
import sys
import time

import nbformat
import pytest
import requests
import yaml

from distlab_tools import NOTEBOOKS, ROOT, class_users, classroom
from distlab_tools.class_hub import CLASS, NOTEBOOK, REL, Learner, MemorySampler, class_processes, execute, parallel
from distlab_tools.run_notebooks import problems

pytestmark = pytest.mark.classhub


@pytest.fixture(scope="module")
def learners(class_hub, class_report, figures_module):
    """Every learner created, logged in once (which sets their password), their servers started
    at once, each in its own control group when the machine has them."""
    hub, names = class_hub, class_hub.names
    hub.api("POST", "/users", json={"usernames": names})
    everyone = [Learner(hub, n) for n in names]
    # A folder from an earlier run (made by the hub's user, as before per-learner users): the
    # first learner's answer in it must survive their first start as a user of their own.
    earlier = os.path.join(CLASS, "home", names[0], REL)
    os.makedirs(os.path.dirname(earlier))
    nb = nbformat.read(os.path.join(NOTEBOOKS, NOTEBOOK), as_version=4)
    answer_cell(nb)["source"] = EARLIER
    nbformat.write(nb, earlier)
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
    assert EARLIER in learner_text(everyone[0]), "the answer from an earlier run was lost at the first start"
    if os.geteuid() == 0:
        assert os.stat(earlier).st_uid == pwd.getpwnam(class_users.account(names[0])).pw_uid, "the earlier notebook was not handed over"
    figures_module.append(f"{names[0]}'s folder from an earlier run: kept at the first start, their answer in it")
    return everyone


EARLIER = "answer written in an earlier run of the class"


def learner_text(learner):
    return learner.contents(params={"content": "1"}).text


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


def test_the_teacher_reads_the_class_report_on_the_hub(class_hub, learners, figures):
    """/services/class-report/: the teacher (admin) sees every learner's answer as saved; a
    learner is refused, someone logged out is sent to the login page; no script may run."""
    url = f"{class_hub.url}/services/class-report/"
    teacher = class_hub.session("teacher", f"pw-teacher-{os.getpid()}")  # ./lab class's default --teacher
    assert teacher is not None, "the teacher's first login was refused"
    started = time.monotonic()
    index = teacher.get(url, timeout=120)
    seconds = time.monotonic() - started
    assert index.status_code == 200, f"the teacher got {index.status_code} at {url}: {index.text[:300]}"
    assert "default-src 'none'" in index.headers.get("Content-Security-Policy", ""), index.headers
    for learner in learners:
        assert f"learner-{learner.name}.html" in index.text, f"{learner.name} is not in the report"
        page = teacher.get(url + f"learner-{learner.name}.html", timeout=60)
        assert page.status_code == 200 and f"answer written by {learner.name}" in page.text, \
            f"{learner.name}'s answer is not on their page of the report"
    csv_text = teacher.get(url + "grades.csv", timeout=60)
    assert csv_text.status_code == 200 and csv_text.headers["Content-Type"].startswith("text/csv")
    for bad in ("../jupyterhub.sqlite", "..%2Fadmin-token", "report", "x.txt"):
        assert teacher.get(url + bad, timeout=60).status_code == 404, f"{bad} was served"
    learner = learners[0]
    own = class_hub.session(learner.name, learner.password)
    r = own.get(url, timeout=60)
    assert r.status_code == 403 and "answer written by" not in r.text, f"learner {learner.name} opened the class report: {r.status_code}"
    anonymous = requests.get(url, timeout=60)
    assert "/hub/login" in anonymous.url and "answer written by" not in anonymous.text, anonymous.url
    figures(f"class report on the hub: the teacher's page built in {seconds:.1f} s with {len(learners)} learners' answers; "
            "a learner gets 403, a logged-out visitor the login page")


def parent_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def process_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Uid:"))


def evcxr_pids(name):
    pids = []
    for pid, user in class_processes(CLASS).items():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if user == name and b"evcxr_jupyter" in f.read().split(b"\0")[0]:
                    pids.append(pid)
        except OSError:
            pass
    return pids


# Run in learner A's kernel: each attempt prints one line, `NAME: ok` or `NAME: denied (...)`.
APART = r"""
fn attempt(what: &str, r: std::io::Result<()>) {
    match r {
        Ok(()) => println!("{what}: ok"),
        Err(e) => println!("{what}: denied ({:?}: {e})", e.kind()),
    }
}
{
let other = std::path::Path::new(OTHER_HOME);
attempt("list B's home", std::fs::read_dir(other).map(|_| ()));
attempt("read B's notebook", std::fs::read(other.join(NB)).map(|_| ()));
attempt("write B's notebook", std::fs::write(other.join(NB), "lost"));
attempt("delete B's notebook", std::fs::remove_file(other.join(NB)));
attempt("list B's notebooks", std::fs::read_dir(other.join("distlab/notebooks")).map(|_| ()));
attempt("read B's environment", std::fs::read(format!("/proc/{}/environ", OTHER_PID)).map(|_| ()));
attempt("write the toolchain's rustc", std::fs::OpenOptions::new().write(true).open(RUSTC).map(|_| ()));
attempt("add to the toolchain", std::fs::write(std::path::Path::new(TOOLBIN).join("cargo-evil"), "x"));
attempt("write the evcxr kernel", std::fs::OpenOptions::new().write(true).open(EVCXR).map(|_| ()));
attempt("write the lesson's sources", std::fs::OpenOptions::new().append(true).open(SRC).map(|_| ()));
attempt("add to the lesson's sources", std::fs::write(std::path::Path::new(SRC).with_file_name("evil.rs"), "x"));
attempt("write the vendored crates", std::fs::OpenOptions::new().append(true).open(VENDORED).map(|_| ()));
attempt("write the seed cache", std::fs::OpenOptions::new().append(true).open(SEED).map(|_| ()));
attempt("write my cache's link to the seed", std::fs::OpenOptions::new().append(true).open(MY_LINK).map(|_| ()));
attempt("write the hub's database", std::fs::OpenOptions::new().append(true).open(HUB_DB).map(|_| ()));
attempt("read the admin token", std::fs::read(TOKEN).map(|_| ()));
let kill = std::process::Command::new("kill").arg(OTHER_PID.to_string()).output().unwrap();
attempt("signal B's kernel", if kill.status.success() { Ok(()) } else {
    Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, String::from_utf8_lossy(&kill.stderr).trim().to_string())) });
println!("I am {}", String::from_utf8_lossy(&std::process::Command::new("id").arg("-un").output().unwrap().stdout).trim());
}
"""


def seed_file(seed):
    """A compiled file in the seed cache (not a `hits` counter)."""
    for d, _, files in os.walk(seed):
        for n in sorted(files):
            if n not in ("hits",):
                return os.path.join(d, n)
    raise AssertionError(f"the seed cache {seed} is empty")


@pytest.mark.skipif(os.geteuid() != 0, reason="one system user per learner needs ./lab class as root")
def test_learners_are_apart(class_hub, learners, figures):
    """As root, each learner is a system user of their own: from inside A's kernel, B's home
    cannot be listed, read or written, the shared toolchain, sources, vendored crates and seed
    cache cannot be written, the hub's secrets cannot be read, and B's kernel cannot be signalled."""
    if len(learners) < 2:
        pytest.skip("needs --learners 2 or more")
    a, b = learners[0], learners[1]
    # Every process of every learner runs as that learner's own user; homes are theirs, 0700.
    for learner in learners:
        pw = pwd.getpwnam(class_users.account(learner.name))
        procs = [pid for pid, user in class_processes(CLASS).items() if user == learner.name]
        assert procs, f"{learner.name} has no process"
        assert {process_uid(pid) for pid in procs} == {pw.pw_uid}, f"{learner.name}'s processes run as another user"
        st = os.stat(pw.pw_dir)
        assert st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o700, f"{pw.pw_dir}: {st}"
    b_kernel, b_ws = class_hub.kernel(b.name, b.token)
    a_kernel, a_ws = class_hub.kernel(a.name, a.token)
    try:
        execute(b_ws, b_kernel, "let b_ready = 1;", b.name)
        b_pids = evcxr_pids(b.name)
        assert b_pids, f"no kernel of {b.name} found"
        b_home = pwd.getpwnam(class_users.account(b.name)).pw_dir
        a_home = pwd.getpwnam(class_users.account(a.name)).pw_dir
        before = open(os.path.join(b_home, REL), "rb").read()
        tools = class_users.toolchain_paths(CLASS)
        seed = os.path.join(CLASS, "cache", "evcxr")
        some = seed_file(seed)
        mine = os.path.join(a_home, ".cache", "evcxr", os.path.relpath(some, seed))
        assert os.path.samefile(mine, some), f"{a.name}'s cache is not linked to the seed"
        vendored = next(os.path.join(tools["vendor"], d, "Cargo.toml") for d in sorted(os.listdir(tools["vendor"])))
        values = {"OTHER_HOME": b_home, "NB": REL, "OTHER_PID": b_pids[0], "RUSTC": os.path.join(tools["rust_bin"], "rustc"),
                  "TOOLBIN": tools["rust_bin"], "EVCXR": os.path.join(tools["bin"], "evcxr_jupyter"),
                  "SRC": os.path.join(ROOT, "src", "lib.rs"), "VENDORED": vendored, "SEED": some, "MY_LINK": mine,
                  "HUB_DB": os.path.join(CLASS, "hub", "jupyterhub.sqlite"), "TOKEN": os.path.join(CLASS, "admin-token")}
        code = APART
        for key, value in values.items():
            code = code.replace(key, json.dumps(value) if isinstance(value, str) else str(value))
        outputs = execute(a_ws, a_kernel, code, a.name)
    finally:
        for ws in (a_ws, b_ws):
            ws.close()
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors and "I am " in text, f"the cell failed: {errors or outputs}"
    lines = [line for line in text.splitlines() if ": " in line and not line.startswith("I am")]
    allowed = [line for line in lines if not line.split(": ", 1)[1].startswith("denied (PermissionDenied")
               and "Operation not permitted" not in line]
    assert f"I am {class_users.account(a.name)}" in text, text
    assert len(lines) == 17 and not allowed, f"{a.name}'s kernel was allowed: {allowed}\n{text}"
    assert open(os.path.join(b_home, REL), "rb").read() == before, f"{b.name}'s notebook changed"
    assert all(os.path.exists(f"/proc/{pid}") for pid in b_pids), f"{b.name}'s kernel was stopped"
    assert not class_users.check_shared_readonly(CLASS, ROOT), "a shared file is writable by learners"
    figures(f"apart: {a.name}'s kernel runs as {class_users.account(a.name)}; all {len(lines)} attempts on "
            f"{b.name}'s home, kernel, the toolchain, sources, vendored crates, seed cache and hub's secrets denied")


@pytest.mark.skipif(os.geteuid() != 0, reason="the hub drops root only when ./lab class starts as root")
def test_the_hub_is_not_root_and_sudo_lets_it_do_only_its_part(class_hub, learners, figures):
    """Started as root, the hub, its proxy and services run as the hub's own user; sudo lets
    that user start the mediator as a learner and run the class's root helper, nothing else."""
    hub = pwd.getpwnam(class_users.hub_user())
    with open(os.path.join(CLASS, "hub", "jupyterhub.pid")) as f:
        hub_pid = int(f.read())
    assert process_uid(hub_pid) == hub.pw_uid, "the hub does not run as its own user"
    children = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if parent_of(pid) == hub_pid]
    assert children and all(process_uid(p) == hub.pw_uid for p in children), "a proxy or service runs as another user"
    assert stat.S_IMODE(os.stat(os.path.join(CLASS, "hub")).st_mode) == 0o700
    paths = class_users.hub_paths(CLASS)

    def as_hub(*cmd):
        return subprocess.run(["setpriv", f"--reuid={hub.pw_uid}", f"--regid={hub.pw_gid}", "--init-groups", "--",
                               "sudo", "-n", *cmd], capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    refused = {
        "a shell as root": as_hub("/bin/sh", "-c", "id"),
        "the mediator as root": as_hub(paths["mediator"]),
        "the mediator as nobody": as_hub("-u", "nobody", paths["mediator"]),
        "the helper as a learner": as_hub("-u", class_users.account(learners[0].name), paths["helper"], "release", learners[0].name),
    }
    allowed = [what for what, r in refused.items() if r.returncode == 0]
    assert not allowed, f"sudo let the hub's user run: {allowed}"
    bad_name = as_hub(paths["helper"], "release", "../../etc")
    assert bad_name.returncode != 0 and "is not a user name" in bad_name.stderr, bad_name.stderr
    stranger = as_hub(paths["helper"], "limit", learners[0].name, str(hub_pid), str(2**30), "1")  # the hub's own
    assert stranger.returncode != 0 and "not dltest-" in stranger.stderr, stranger.stderr
    assert not class_users.root_only([paths["mediator"], paths["helper"], paths["singleuser"]]), "sudo's scripts are not root's"
    figures(f"the hub runs as {hub.pw_name} (uid {hub.pw_uid}) with its {len(children)} child processes; sudo refused it "
            f"{len(refused)} commands (a root shell, the mediator as root or nobody, the helper as a learner); "
            "the helper refused a bad name and another user's process")


@pytest.mark.skipif(os.geteuid() != 0, reason="grading runs a learner's code as their own system user: root only")
def test_grading_07_runs_as_the_learner_within_limits(class_hub, learners, figures, solve_07):
    """./lab class grade runs learner A's saved notebook 07 (step 1 done, in their own cell) as
    A's user, in a control group with their server's limits; their file is not changed, the
    verdicts reach the teacher's report, and a learner's hostile output cannot forge them."""
    a = learners[0]
    rel = "distlab/notebooks/07-your-own-node.ipynb"
    model = a.contents(rel=rel, params={"content": "1"}).json()
    nb = nbformat.from_dict(model["content"])
    assert len(solve_07(nb, (1,))) == 1
    r = a.contents(method="PUT", rel=rel, json={"type": "notebook", "format": "json", "content": nb})
    assert r.status_code == 200, f"{a.name} could not save 07: {r.status_code} {r.text[:200]}"
    home = pwd.getpwnam(class_users.account(a.name)).pw_dir
    path = os.path.join(home, rel)
    before = (open(path, "rb").read(), os.stat(path).st_mtime_ns)
    started = time.monotonic()
    run = subprocess.run([os.path.join(ROOT, "lab"), "class", "grade", "--dir", CLASS, "--learner", a.name,
                          "--mem", "2G", "--cpus", "1"], capture_output=True, text=True, timeout=1200)
    seconds = time.monotonic() - started
    assert run.returncode == 0, f"./lab class grade failed: {run.stdout[-1000:]}{run.stderr[-2000:]}"
    with open(os.path.join(CLASS, "grades", f"{a.name}.json")) as f:
        grade = json.load(f)
    assert grade["user"] == class_users.account(a.name), f"graded as {grade['user']}, not as the learner"
    if class_hub_limits(learners):
        assert f"/{classroom.GROUP}/{a.name}.grade" in grade["cgroup"], f"not in its control group: {grade['cgroup']}"
    assert grade["checks"]["1"]["seeds"] == [200, 200], f"step 1 (done) did not pass: {grade['checks']}"
    assert all(c["seeds"] and c["seeds"][0] < c["seeds"][1] for k, c in grade["checks"].items() if k in ("2", "3")), grade
    assert (open(path, "rb").read(), os.stat(path).st_mtime_ns) == before, "grading changed the learner's notebook"
    assert stat.S_IMODE(os.stat(os.path.join(CLASS, "grades")).st_mode) == 0o700
    teacher = class_hub.session("teacher", f"pw-teacher-{os.getpid()}")
    page = teacher.get(f"{class_hub.url}/services/class-report/", timeout=120)
    assert "1 of 5 (" in page.text, "the report does not show the grade"
    figures(f"grading 07 as the learner: {a.name}'s notebook (step 1 done) ran as {grade['user']} in "
            f"{seconds:.0f} s ({grade['limits']}): step 1 passed 200 of 200, steps 2-3 did not; their file unchanged")


def class_hub_limits(learners):
    """Whether this machine put the learners' servers in control groups (check_limits)."""
    return os.path.exists(os.path.join(classroom.CGROUP, classroom.GROUP, learners[0].name)) or \
        os.path.exists(os.path.join(classroom.CGROUP, "memory", classroom.GROUP, learners[0].name))


def test_not_root_says_what_it_cannot_do(class_hub, figures):
    """Not root, ./lab class cannot make a user per learner and says so (class_users.check),
    here run as `nobody` with the learners' shared Python, which `nobody` can run."""
    if os.geteuid() != 0:
        message = class_users.check()
    else:
        tools = class_users.toolchain_paths(CLASS)
        r = subprocess.run(["runuser", "-u", "nobody", "--", "env", f"LD_LIBRARY_PATH={tools['python_lib']}",
                            f"PYTHONPATH={os.path.join(ROOT, 'tools')}", tools["python"], "-m", "distlab_tools.class_users", "check"],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        message = r.stdout
    assert "cannot create a system user per learner" in message and "run ./lab class as root" in message, message
    figures("not root: ./lab class says it cannot create a user per learner, and what that leaves open")


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
