"""Stage 1: the pieces of one system user per learner that need no root, hub or kernel
(distlab_tools.class_users): user names, the learners' environment, the cargo configuration,
and the check that the project is reachable. Stage 10 runs the whole thing as root."""
import os
import shutil
import stat
import tempfile

import pytest

from distlab_tools import class_users

pytestmark = pytest.mark.lesson


def test_account_names_fit_and_never_collide(monkeypatch):
    monkeypatch.delenv("DISTLAB_CLASS_USER_PREFIX", raising=False)
    assert class_users.account("ana") == "jupyter-ana"
    a, b = class_users.account("x" * 40 + "a"), class_users.account("x" * 40 + "b")
    assert len(a) <= 32 and len(b) <= 32 and a != b


def fake_toolchain(tmp_path, triples):
    for triple, has_std in triples.items():
        lib = tmp_path / "toolchain" / "rust" / "lib" / "rustlib" / triple / "lib"
        lib.mkdir(parents=True)
        (lib / ("libstd-0123abcd.so" if has_std else "libstd-0123abcd.rlib")).write_bytes(b"")
    return str(tmp_path)


def test_learners_find_the_standard_library_whatever_the_class_folder(tmp_path):
    """Cells link libstd dynamically; its folder must be on LD_LIBRARY_PATH, since the RUNPATH
    evcxr's build writes is one level off when the class folder and /tmp share a first folder
    (issue 25: every kernel's first cell failed with "dlopen failed" from a clone in /tmp)."""
    class_dir = fake_toolchain(tmp_path, {"x86_64-unknown-linux-gnu": True, "wasm32-unknown-unknown": False})
    env = class_users.learner_env(class_dir)
    libs = env["LD_LIBRARY_PATH"].split(os.pathsep)
    std = os.path.join(class_dir, "toolchain", "rust", "lib", "rustlib", "x86_64-unknown-linux-gnu", "lib")
    assert libs == [os.path.join(class_dir, "toolchain", "python", "lib"), std]
    assert env["PATH"].split(os.pathsep)[0] == os.path.join(class_dir, "toolchain", "rust", "bin")


def test_no_toolchain_yet_gives_no_rust_folder(tmp_path):
    assert class_users.rust_libs(str(tmp_path / "toolchain")) == []


def test_cargo_reads_the_shared_crates_offline(tmp_path):
    text = class_users.cargo_config(str(tmp_path))
    assert f'directory = "{tmp_path}/vendor"' in text and "offline = true" in text


def test_a_closed_folder_on_the_way_is_named():
    """The learners must pass through every folder down to the project: the first one closed to
    other users is named (pytest's own tmp_path sits under a 0700 folder, so not there)."""
    top = tempfile.mkdtemp(dir="/tmp")
    try:
        os.chmod(top, 0o755)
        inner = os.path.join(top, "closed", "project")
        os.makedirs(inner)
        os.chmod(os.path.join(top, "closed"), 0o700)
        assert class_users.unreachable(inner) == os.path.join(top, "closed")
        os.chmod(os.path.join(top, "closed"), 0o711)
        assert class_users.unreachable(inner) is None
    finally:
        shutil.rmtree(top)


def test_the_root_helper_refuses_what_is_not_its_job(tmp_path):
    """class_root takes four actions with checked arguments; the hub's user cannot widen them."""
    from distlab_tools import class_root
    for args in ([], ["shell"], ["prepare"], ["prepare", "../etc"], ["prepare", "a", "b"], ["release", "Root!"],
                 ["limit", "ana", "x", "1", "1"], ["limit", "ana", "1", "1", "1"], ["limit", "ana", "2", "1", "1"],
                 ["limit", "ana", "100", str(2**30), "1000"], ["report", "a b"]):
        with pytest.raises(class_root.Refused):
            class_root.run(str(tmp_path), args)
    assert class_root.main(["relative/class", "release", "ana"]) == 2


def test_sudo_gets_a_rule_per_script_and_scripts_name_everything_absolutely(tmp_path, monkeypatch):
    monkeypatch.setenv("DISTLAB_CLASS_HUB_USER", "dltest-hub")
    monkeypatch.setenv("DISTLAB_CLASS_LEARNERS_GROUP", "dltest-learners")
    class_dir = str(tmp_path / "class")
    os.makedirs(os.path.join(class_dir, "toolchain", "bin"))
    p = class_users.hub_paths(class_dir)
    rules = [line for line in class_users.sudoers_text(class_dir, "dltest-hub").splitlines() if not line.startswith("#")]
    assert rules == [f"dltest-hub ALL=(%dltest-learners) NOPASSWD: {p['mediator']}",
                     f"dltest-hub ALL=(root) NOPASSWD: {p['helper']}"]
    class_users.write_hub_scripts("/srv/distlab", class_dir)
    helper = open(p["helper"]).read()
    assert "DISTLAB_CLASS_HUB_USER=dltest-hub" in helper and "/srv/distlab/.venv/bin/python -I -c" in helper
    assert helper.rstrip().endswith(f'/srv/distlab/tools {class_dir} "$@"')
    assert f"-I {p['mediator_py']}" in open(p["mediator"]).read()
    assert "-m jupyterhub.singleuser" in open(p["singleuser"]).read()
    assert all(stat.S_IMODE(os.stat(p[k]).st_mode) == 0o755 for k in ("mediator", "singleuser", "helper"))
    os.chmod(os.path.join(class_dir, "toolchain"), 0o775)  # a group could swap the scripts: named
    assert os.path.join(class_dir, "toolchain") in class_users.root_only([p["helper"]])
