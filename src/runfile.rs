//! Run files: a run saved as JSON Lines, loaded by replaying it.
//!
//! ```text
//! {"distlab":"0.1.0","format":1,"seed":2026,"config":{"nodes":3,...}}   <- header
//! {"verb":"send","from":0,"to":1,"text":"hi"}                           <- the verbs, in order
//! {"t_us":0,"event":"sent",...}                                          <- the trace
//! ```
//!
//! The header's `config` is a [`Config`] as JSON (read through [`ConfigBuilder::build`]'s
//! checks, so a value out of range is the same error as in code), with the seed beside it;
//! each verb line is a [`Call`], the table both runtimes share. Loading rebuilds the runtime
//! from the header and replays the verbs through [`Verbs::apply`].
//!
//! A simulated run ([`Cluster::run_file`]) is a claim about what a seed and a list of verbs
//! do, and loading it checks the replay recorded the file's trace byte for byte.
//!
//! A run on real sockets ([`RealCluster::run_file`]) says so in its header
//! (`"runtime":"udp"`) and holds the verbs it was given and its real trace. That trace has
//! wall-clock times and the interleaving of the node threads, which no replay repeats, so it
//! is kept as a record and not compared: [`Cluster::load_run`] replays the verbs in the
//! simulation with the same configuration and seed (where the parity tests show the same
//! messages are lost, acknowledged and timed out), and [`RealCluster::load_run`] replays them
//! on new sockets. Either runtime loads either kind of file; a simulation-only verb (`step`,
//! `run`, `run_until`, `crash_at`, `recover_at`) in a file replayed on sockets is an error
//! naming it. A verb only the real runtime has, `read_all`, is not a call and is not saved.
//!
//! Anything wrong (bad JSON, a wrong type, an unknown verb, a file from a newer distlab, an
//! empty file, a trace that does not replay) is an [`Error::Data`] naming the file, the line
//! and the column.
//!
//! [`ConfigBuilder::build`]: crate::ConfigBuilder::build

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::{Config, ConfigFile};
use crate::error::{Error, Result};
use crate::sim::cluster::Cluster;
use crate::trace::Trace;
use crate::udp::RealCluster;
use crate::verbs::{Call, Verbs};

/// The run-file format this distlab writes and reads.
pub const FORMAT: u32 = 1;

/// Which runtime wrote a run file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The simulation. Its files have no `runtime` field, like every run file saved before
    /// real runs could be.
    #[default]
    Sim,
    /// Real UDP sockets ([`RealCluster`]).
    Udp,
}

impl Source {
    fn is_sim(&self) -> bool {
        *self == Source::Sim
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    distlab: String,
    format: u32,
    #[serde(default, skip_serializing_if = "Source::is_sim")]
    runtime: Source,
    seed: u64,
    /// Without its seed, which the header gives first.
    config: ConfigFile,
}

/// The run file of a runtime: header, the calls it kept, its trace. An error when the
/// trace is off, since then no verbs were kept.
fn write(config: &Config, runtime: Source, calls: &[Call], trace: &Trace) -> Result<String> {
    if !config.trace {
        return Err(Error::argument(
            "trace",
            false,
            "a cluster built with trace(true) (a run file holds its trace)",
        ));
    }
    let mut file = ConfigFile::from(config.clone());
    file.seed = None; // the header gives it first
    let header = Header {
        distlab: env!("CARGO_PKG_VERSION").to_string(),
        format: FORMAT,
        runtime,
        seed: config.seed,
        config: file,
    };
    let mut out =
        serde_json::to_string(&header).map_err(|e| Error::argument("run", e, "a run that serializes"))?;
    out.push('\n');
    for call in calls {
        out += &serde_json::to_string(call).map_err(|e| Error::argument("run", e, "verbs that serialize"))?;
        out.push('\n');
    }
    out += &trace.to_jsonl();
    Ok(out)
}

/// A run file read and its verbs replayed on the runtime `start` builds.
struct Replayed<'a, R> {
    runtime: R,
    source: Source,
    /// The trace lines, with their line numbers.
    events: Vec<(usize, &'a str)>,
}

/// Reads the header, starts the runtime, replays each verb as it is read (so the first
/// problem in the file is the one reported), and collects the trace lines.
fn replay<'a, R: Verbs>(
    text: &'a str,
    file: &str,
    start: impl FnOnce(Config) -> Result<R>,
) -> Result<Replayed<'a, R>> {
    let at = |line: usize, column: usize, message: String| Error::Data {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let Some((n, first)) = lines.next() else {
        return Err(at(1, 1, "the file is empty: a run file starts with a header line".into()));
    };
    let json_error = |n: usize, line: &str, e: serde_json::Error| {
        let message = e.to_string().replace(&format!(" at line 1 column {}", e.column()), "");
        let column = if e.column() > 0 { e.column() } else { locate(line, &message) };
        at(n, column, message)
    };
    let value: serde_json::Value = serde_json::from_str(first).map_err(|e| json_error(n, first, e))?;
    match value.get("format").and_then(serde_json::Value::as_u64) {
        Some(f) if f > u64::from(FORMAT) => {
            let by = value.get("distlab").and_then(|v| v.as_str()).unwrap_or("an unknown version");
            return Err(at(n, column_of(first, "format"), format!(
                "written by distlab {by} in run-file format {f}; this distlab ({}) reads format {FORMAT}: update distlab to load it",
                env!("CARGO_PKG_VERSION")
            )));
        }
        Some(_) => {}
        None => {
            return Err(at(
                n,
                1,
                "expected the header: {\"distlab\": ..., \"format\": 1, \"seed\": ..., \"config\": {...}}"
                    .into(),
            ))
        }
    }
    let mut header: Header = serde_json::from_str(first).map_err(|e| json_error(n, first, e))?;
    if let Some(other) = header.config.seed.filter(|s| *s != header.seed) {
        let message = format!("two seeds: {} in the header and {other} in the config", header.seed);
        return Err(at(n, column_of(first, "config"), message));
    }
    header.config.seed = Some(header.seed);
    let config = Config::try_from(header.config).map_err(|e| {
        let field = match &e {
            Error::InvalidConfig { field, .. } => field.rsplit('.').next().unwrap_or(field).to_string(),
            _ => "config".to_string(),
        };
        at(n, column_of(first, &field), e.to_string())
    })?;
    let mut runtime = start(config).map_err(|e| at(n, 1, format!("starting the cluster: {e}")))?;
    let mut events: Vec<(usize, &str)> = Vec::new();
    for (n, line) in lines {
        let value: serde_json::Value = serde_json::from_str(line).map_err(|e| json_error(n, line, e))?;
        if value.get("verb").is_some() {
            if !events.is_empty() {
                return Err(at(
                    n,
                    1,
                    "a verb after the trace began: verbs come first, then the events".into(),
                ));
            }
            let call: Call = serde_json::from_str(line).map_err(|e| json_error(n, line, e))?;
            let verb = call.verb();
            runtime.apply(call).map_err(|e| at(n, 1, format!("replaying this {verb}: {e}")))?;
        } else if value.get("t_us").is_some() && value.get("event").is_some() {
            events.push((n, line));
        } else {
            return Err(at(
                n,
                1,
                "expected a verb (a line with \"verb\") or an event (a line with \"t_us\" and \"event\")"
                    .into(),
            ));
        }
    }
    Ok(Replayed { runtime, source: header.runtime, events })
}

impl Cluster {
    /// The run as a run file: header, verbs, trace (see [`crate::runfile`]). An error when
    /// the trace is off, since then no verbs were kept.
    pub fn run_file(&self) -> Result<String> {
        write(self.config(), Source::Sim, self.calls(), self.trace())
    }

    /// Writes the run file to `path`.
    pub fn save_run(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.run_file()?).map_err(|e| Error::io(path, &e))
    }

    /// Reads a run file, replays it and checks the replay against the file's trace (a file
    /// from a [`RealCluster`] is replayed but its real trace not compared: see
    /// [`crate::runfile`]).
    pub fn load_run(path: impl AsRef<Path>) -> Result<Cluster> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        Cluster::from_run_file(&text, &path.display().to_string())
    }

    /// [`Cluster::load_run`] for text already read; `file` names it in errors.
    pub fn from_run_file(text: &str, file: &str) -> Result<Cluster> {
        let at = |line: usize, column: usize, message: String| Error::Data {
            file: file.to_string(),
            line,
            column,
            message,
        };
        let Replayed { runtime: cluster, source, events } = replay(text, file, |c| Ok(Cluster::new(c)))?;
        if source == Source::Udp {
            return Ok(cluster);
        }
        let replayed = cluster.trace().to_jsonl();
        let mut mine = replayed.lines();
        let last_line = text.lines().count();
        for (k, &(n, line)) in events.iter().enumerate() {
            match mine.next() {
                Some(m) if m == line => {}
                Some(m) => {
                    let col = line.chars().zip(m.chars()).take_while(|(a, b)| a == b).count() + 1;
                    return Err(at(n, col, format!("the replay parts from the file at event #{k}: the file has {line}, the replay {m}")));
                }
                None => {
                    return Err(at(
                        n,
                        1,
                        format!("the replay ends after {k} events, but the file goes on: {line}"),
                    ));
                }
            }
        }
        if let Some(m) = mine.next() {
            return Err(at(
                last_line + 1,
                1,
                format!(
                    "the file's trace ends after {} events, but the replay goes on: event #{} is {m}",
                    events.len(),
                    events.len()
                ),
            ));
        }
        Ok(cluster)
    }
}

impl RealCluster {
    /// The run as a run file: header (saying it ran on real sockets), the verbs it was given,
    /// its real trace (see [`crate::runfile`]). An error when the trace is off.
    pub fn run_file(&self) -> Result<String> {
        write(self.config(), Source::Udp, self.calls(), &self.trace())
    }

    /// Writes the run file to `path`.
    pub fn save_run(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.run_file()?).map_err(|e| Error::io(path, &e))
    }

    /// Reads a run file (from either runtime), starts a real cluster with its configuration
    /// and replays its verbs on real sockets. The file's trace is not compared: real timing
    /// differs from run to run.
    pub fn load_run(path: impl AsRef<Path>) -> Result<RealCluster> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        RealCluster::from_run_file(&text, &path.display().to_string())
    }

    /// [`RealCluster::load_run`] for text already read; `file` names it in errors.
    pub fn from_run_file(text: &str, file: &str) -> Result<RealCluster> {
        Ok(replay(text, file, RealCluster::start)?.runtime)
    }
}

/// Where in `line` the value a serde error names is: serde cannot say for a verb line (its
/// tag is read first, so the rest is buffered), but its message quotes the value or field.
fn locate(line: &str, message: &str) -> usize {
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string);
    let needle = if let Some(rest) =
        message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: "))
    {
        let what = rest.split(", expected").next().unwrap_or("");
        match what.split_once(' ') {
            Some(("string", v)) => Some(v.to_string()),
            Some((_, v)) => Some(v.trim_matches('`').to_string()),
            None if what == "map" => Some("{".to_string()),
            None if what == "sequence" => Some("[".to_string()),
            None => None,
        }
    } else if message.starts_with("unknown field") || message.starts_with("unknown variant") {
        quoted(message).map(|k| format!("\"{k}\""))
    } else {
        None
    };
    // Search after the first key, so a value is not found inside the verb's own name.
    let start = line.find(':').map_or(0, |i| i + 1);
    needle.and_then(|n| line[start..].find(&n).map(|i| line[..start + i].chars().count() + 1)).unwrap_or(1)
}

/// The 1-based column of `"key"` in a JSON line (1 when it is not there).
fn column_of(line: &str, key: &str) -> usize {
    line.find(&format!("\"{key}\"")).map_or(1, |i| line[..i].chars().count() + 1)
}
