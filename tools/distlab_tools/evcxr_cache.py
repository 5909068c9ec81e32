"""evcxr's cache of compiled dependencies, for kernels that run at the same time.

evcxr 0.22 keeps compiled crates in $XDG_CACHE_HOME/evcxr (`:cache` in tools/evcxr/init.evcxr),
and on every hit it reads, parses and rewrites that entry's `hits` counter. Two kernels on one
cache can read the counter half-written, and the cell fails with "Failed to wrap rustc: cannot
parse integer from empty string" (seen with 5 learners on one shared cache). So every kernel
that may run beside another gets a cache of its own, made of hard links to a filled one: the
compiled files exist once on disk, only the small counters are copied.
"""
import os
import shutil


def link_cache(seed, target):
    """`target` becomes a cache whose files are hard links to `seed`'s (copies across file
    systems), its `hits` counters real copies. Made beside `target` and renamed into place, so
    an interrupted copy is never taken for a cache."""
    partial = target + ".partial"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copytree(seed, partial, copy_function=_link_or_copy)
    os.replace(partial, target)


def _link_or_copy(src, dst):
    if os.path.basename(src) == "hits":
        return shutil.copy2(src, dst)
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed: a copy works as well
        shutil.copy2(src, dst)
    return dst


def add_missing(seed, target):
    """Links into `target` every entry of `seed` that `target` lacks (a distlab built since)."""
    for entry in sorted(os.listdir(seed)):
        if not os.path.exists(os.path.join(target, entry)) and os.path.isdir(os.path.join(seed, entry)):
            link_cache(os.path.join(seed, entry), os.path.join(target, entry))


def own_cache(root, name):
    """Points this process's kernels (through XDG_CACHE_HOME) at target/evcxr-cache/NAME, made
    from the user's cache (~/.cache/evcxr) when there is one, and topped up from it on later
    runs (`./lab setup` puts distlab's optimized build there: distlab_tools.evcxr_kernel); returns
    its path."""
    user = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "evcxr")
    home = os.path.join(root, "target", "evcxr-cache", name)
    cache = os.path.join(home, "evcxr")
    if not os.path.isdir(cache) and os.path.isdir(user):
        link_cache(user, cache)
    elif os.path.isdir(user):
        add_missing(user, cache)
    os.environ["XDG_CACHE_HOME"] = home
    return cache
