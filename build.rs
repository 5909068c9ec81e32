//! Stamps the library with a hash of its own sources, as `--cfg distlab_source="…"`.
//!
//! Why: the notebook kernel compiles distlab once, optimized, and keeps the result in evcxr's
//! cache of compiled crates (tools/evcxr/README.md), so a notebook's first cell does not
//! rebuild it. That cache is keyed by rustc's command line alone, and for a path crate the
//! command line does not change when a source file does: an edited `src/` would be served
//! from the cache, stale. With the hash on the command line, every change to `src/`, `data/`
//! (read by `include_str!`) or the manifest is a new key, so a stale build is never served.
//! The hash is FNV-1a over the files' relative paths and bytes, in sorted order: the same
//! tree gives the same stamp on every machine and toolchain.

use std::fs;
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut all = Vec::new();
    for part in ["src", "data"] {
        files(&root.join(part), &mut all);
        println!("cargo::rerun-if-changed={part}");
    }
    all.push(root.join("Cargo.toml"));
    println!("cargo::rerun-if-changed=Cargo.toml");
    all.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for path in &all {
        let relative = path.strip_prefix(&root).unwrap_or(path);
        feed(relative.to_string_lossy().as_bytes());
        feed(&[0]);
        feed(&fs::read(path).unwrap_or_default());
        feed(&[0]);
    }
    println!("cargo::rustc-check-cfg=cfg(distlab_source, values(any()))");
    println!("cargo::rustc-cfg=distlab_source=\"{hash:016x}\"");
}
