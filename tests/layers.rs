//! The crate's floor plan, checked: which module may import which.
//!
//! Reads every `crate::...` path in `src/` (code, not comments) and fails on an edge the rules
//! below forbid, naming the file, the line and the rule. The rules, with their reasons, are
//! listed once, here; docs/design.md points to them.
//!
//! Every module sits on a floor ([`FLOORS`]) and imports only from floors below its own, so
//! the modules cannot form a cycle. The named rules say why the floors are in this order, and
//! give a clearer message than "floor 6 imports floor 8" when one is broken. A second check
//! finds cycles between the files of one module (two siblings importing each other).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each module's floor, from the ground up. A module imports only from lower floors.
const FLOORS: &[(&str, u32)] = &[
    // Plain records and helpers: ids, counters, time, errors, text tables.
    ("node", 0),
    ("time", 0),
    ("error", 0),
    ("table", 0),
    // The parameters; the trace and its vocabulary; the lesson's data and predictions.
    ("config", 1),
    ("trace", 1),
    ("lesson", 1),
    ("predict", 1),
    // What a run reports, read from the trace.
    ("report", 2),
    ("narration", 2),
    ("stats", 3),
    // The protocol seam, then what both runtimes share: the built-in protocol, the fault
    // model, the operation book, the verbs.
    ("protocol", 3),
    ("protocol::kv", 4),
    ("faults", 4),
    ("ops", 4),
    ("verbs", 4),
    ("queue", 5),
    // The two runtimes.
    ("sim", 6),
    ("udp", 6),
    // Tools on a recorded run.
    ("causality", 7),
    ("runfile", 7),
    // Charts draw what they are given.
    ("chart", 8),
    // Above the charts: what draws itself, forks runs, or runs many runs.
    ("topology", 9),
    ("whatif", 9),
    ("experiment", 9),
    ("check", 9),
];

/// The rules worth a name, each with its reason: `(rule, importer, forbidden imports)`.
const RULES: &[(&str, &str, &[&str])] = &[
    (
        "charts draw data they are given: an experiment, a topology or a fork draws itself through \
         chart::Draw, so a new experiment never edits the charts",
        "chart",
        &["experiment", "topology", "whatif", "check", "sim", "udp"],
    ),
    ("the two runtimes do not import each other: either can change its timing model alone", "sim", &["udp"]),
    ("the two runtimes do not import each other", "udp", &["sim"]),
    (
        "what both runtimes share knows neither: the fault model and the operation book are one \
         piece of code, so the runtimes agree by construction",
        "faults",
        &["sim", "udp"],
    ),
    ("what both runtimes share knows neither", "ops", &["sim", "udp"]),
    ("what both runtimes share knows neither", "verbs", &["sim", "udp"]),
    (
        "the protocol seam knows no runtime and carries no type of one protocol: a learner's node \
         uses it without the key-value store's vocabulary",
        "protocol",
        &["sim", "udp", "faults", "ops", "protocol::kv", "check", "report"],
    ),
    (
        "the trace owns its vocabulary (drop causes, message bodies, notes): protocols and \
         runtimes speak it, it speaks none of theirs",
        "trace",
        &["protocol", "protocol::kv", "report", "sim", "udp", "ops"],
    ),
    ("a node's records import nothing", "node", &["trace", "config", "report", "protocol", "stats"]),
    (
        "the lesson's data knows no runtime: a glossary or a quiz loads without a cluster",
        "lesson",
        &["sim", "udp", "protocol", "experiment", "check"],
    ),
    ("the checker is virtual-time only: its verdicts must replay byte for byte", "check", &["udp"]),
];

/// Names the crate root re-exports; `crate::Cluster` and friends import the root.
const ROOT_ONLY: &[&str] =
    &["Cluster", "Config", "ConfigBuilder", "Latency", "Error", "Result", "cluster", "prelude"];

struct Use {
    file: String,
    line: usize,
    /// The importing file's module path (`sim::cluster`).
    from: String,
    /// The path after `crate::` (`trace::Body`).
    path: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/sim/cluster.rs` is `sim::cluster`; `src/sim/mod.rs` is `sim`; `src/lib.rs` is the root.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("a file under src/").with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        return String::new();
    }
    parts.join("::")
}

fn uses() -> Vec<Use> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let from = module_of(&src, &file);
        if from.starts_with("bin") {
            continue; // a binary uses the crate by name, as any user does
        }
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(at) = rest.find("crate::") {
                let after = &rest[at + "crate::".len()..];
                let end = after
                    .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                    .unwrap_or(after.len());
                found.push(Use {
                    file: file.strip_prefix(src.parent().unwrap()).unwrap().display().to_string(),
                    line: i + 1,
                    from: from.clone(),
                    path: after[..end].trim_end_matches(':').to_string(),
                });
                rest = &after[end..];
            }
        }
    }
    found
}

/// The floor unit a module path belongs to: `protocol::kv` is its own, `sim::cluster` is `sim`.
fn unit(module: &str) -> &str {
    if module.starts_with("protocol::kv") {
        return "protocol::kv";
    }
    module.split("::").next().unwrap_or(module)
}

fn floor(unit: &str) -> Option<u32> {
    FLOORS.iter().find(|(m, _)| *m == unit).map(|(_, f)| *f)
}

#[test]
fn every_import_goes_down_a_floor_and_no_rule_is_broken() {
    let mut broken = Vec::new();
    for u in uses() {
        let head = u.path.split("::").next().unwrap_or("");
        if u.path.is_empty() || u.path.starts_with('{') || ROOT_ONLY.contains(&head) {
            if !u.from.is_empty() {
                broken.push(format!(
                    "{}:{}: `crate::{}` imports the crate root; name the module that defines it \
                     (nothing imports the crate root: the root only re-exports, for users)",
                    u.file, u.line, u.path
                ));
            }
            continue;
        }
        if u.from.is_empty() {
            continue; // the root re-exports everything
        }
        let (from, to) = (unit(&u.from), unit(&u.path));
        if from == to {
            continue;
        }
        for (rule, importer, forbidden) in RULES {
            if *importer == from && forbidden.contains(&to) {
                broken.push(format!(
                    "{}:{}: {from} imports {to} (`crate::{}`): {rule}",
                    u.file, u.line, u.path
                ));
            }
        }
        match (floor(from), floor(to)) {
            (Some(a), Some(b)) if b >= a => broken.push(format!(
                "{}:{}: {from} (floor {a}) imports {to} (floor {b}, `crate::{}`): a module imports only \
                 from lower floors (tests/layers.rs, FLOORS)",
                u.file, u.line, u.path
            )),
            (None, _) => broken.push(format!("{}: module {from} has no floor: add it to FLOORS", u.file)),
            (_, None) => {
                broken.push(format!("{}:{}: module {to} has no floor: add it to FLOORS", u.file, u.line))
            }
            _ => {}
        }
    }
    broken.dedup();
    assert!(broken.is_empty(), "{} broken import rule(s):\n{}", broken.len(), broken.join("\n"));
}

#[test]
fn no_two_files_import_each_other() {
    // Edges between the files of one floor unit (siblings such as sim::cluster and sim::fork),
    // leaving out a module and its own parent or child, which share one module by design.
    let all = uses();
    let modules: BTreeSet<String> = all.iter().map(|u| u.from.clone()).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for u in &all {
        // The longest known module the path names.
        let parts: Vec<&str> = u.path.split("::").collect();
        let target = (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains(m));
        let Some(target) = target else { continue };
        let related = target == u.from
            || u.from.starts_with(&format!("{target}::"))
            || target.starts_with(&format!("{}::", u.from));
        if !related && !u.from.is_empty() {
            edges.entry(u.from.clone()).or_default().insert(target);
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for next in edges.get(m).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|p| p == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, edges, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in edges.keys() {
        if !state.contains_key(m) {
            let cycle = visit(m, &edges, &mut state, &mut Vec::new());
            assert!(cycle.is_none(), "modules that import each other: {}", cycle.unwrap().join(" -> "));
        }
    }
}

#[test]
fn the_rules_name_real_modules() {
    // A rule about a module that was renamed away would pass forever; it must fail instead.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let units: BTreeSet<String> = files.iter().map(|f| unit(&module_of(&src, f)).to_string()).collect();
    for (m, _) in FLOORS {
        assert!(units.contains(*m), "FLOORS names {m}, which is not a module of src/");
    }
    for (_, importer, forbidden) in RULES {
        for m in std::iter::once(importer).chain(forbidden.iter()) {
            assert!(floor(m).is_some(), "a rule names {m}, which has no floor");
        }
    }
}
