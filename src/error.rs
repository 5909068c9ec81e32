//! One error type for everything a learner can get wrong.
//!
//! A notebook cell that panics loses the learner's variables, so no public function panics
//! on user input: each returns an [`Error`] whose message names the field or node, the value
//! given and what is allowed.
//!
//! # How an error reaches the learner
//! - `Display` is one plain line: `invalid loss: 1.5 (allowed: a probability in [0, 1])`.
//! - `Debug` is what `?` shows, in a program (`fn main() -> Result<(), distlab::Error>` prints
//!   `Error: ` and the `Debug` form) and in the notebooks (the project's kernel configuration,
//!   `tools/evcxr/init.evcxr`, sets `:efmt {:?}`). It is a short block: what went wrong, then the
//!   field, the value given, what is allowed and one line on what to change. Plain text in a
//!   terminal; inside the evcxr kernel (`EVCXR_IS_RUNTIME` is set) the first line is coloured
//!   red with ANSI codes, which JupyterLab and the study-notes export show as an error.
//! - Where it shows: evcxr prints a `?` error on stderr, which the kernel forwards on its own
//!   pipe, so it could arrive after the cell had finished, under the next cell or under none.
//!   `tools/evcxr/prelude.rs` points the kernel's stderr at its stdout when the kernel starts,
//!   and evcxr hands on everything printed to stdout before it reports the cell finished, so
//!   the error is always under the cell that made it (`python -m distlab_tools.error_cells` checks 200 of 200; stage 6 of `./lab test`).

use std::fmt;

/// What went wrong, with enough detail to fix it without reading the source.
#[derive(Clone, PartialEq)]
pub enum Error {
    /// A configuration value outside its allowed range.
    InvalidConfig {
        /// The builder field, for example `loss` or `latency.max_ms`.
        field: &'static str,
        /// The value as the learner gave it.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
    /// A verb named a node the cluster does not have.
    UnknownNode {
        /// The id or name as given.
        given: String,
        /// How many nodes the cluster has.
        nodes: usize,
    },
    /// A verb needs a live node and the one named is down.
    NodeDown {
        /// The node's name.
        node: String,
        /// What the learner tried to do.
        verb: &'static str,
    },
    /// A verb needs a live node and every node is down.
    AllDown {
        /// What the learner tried to do.
        verb: &'static str,
    },
    /// An argument of a verb or an experiment is out of range.
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// The value as given.
        value: String,
        /// The allowed range, in words.
        allowed: String,
    },
    /// A data file (glossary, topology, ...) that does not parse or does not fit.
    Data {
        /// The file, or `built-in <name>` for data compiled into the crate.
        file: String,
        /// 1-based line, 0 when the problem is not at one place.
        line: usize,
        /// 1-based column, 0 when the problem is not at one place.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// A socket could not be bound or used.
    Network {
        /// The address, for example `127.0.0.1:7001`.
        addr: String,
        /// The operating system's message.
        message: String,
    },
    /// Reading or writing a file failed.
    Io {
        /// The path.
        path: String,
        /// The operating system's message.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(field: &'static str, value: impl fmt::Display, allowed: impl Into<String>) -> Self {
        Error::InvalidConfig { field, value: value.to_string(), allowed: allowed.into() }
    }

    /// A JSON parse error at its place: serde_json's message without its own " at line L
    /// column C" (the position is put in front, as `file:line:column`).
    pub(crate) fn json(file: &str, e: &serde_json::Error) -> Self {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        Error::Data { file: file.to_string(), line: e.line(), column: e.column(), message }
    }

    pub(crate) fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        Error::Io { path: path.display().to_string(), message: e.to_string() }
    }

    pub(crate) fn argument(name: &'static str, value: impl fmt::Display, allowed: impl Into<String>) -> Self {
        Error::InvalidArgument { name, value: value.to_string(), allowed: allowed.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig { field, value, allowed } => {
                write!(f, "invalid {field}: {value} (allowed: {allowed})")
            }
            Error::UnknownNode { given, nodes } => write!(
                f,
                "unknown node {given} (this cluster has {nodes} node{s}: ids 0 to {last}, or their names)",
                s = if *nodes == 1 { "" } else { "s" },
                last = nodes.saturating_sub(1)
            ),
            Error::NodeDown { node, verb } => {
                write!(f, "cannot {verb}: {node} is down (recover it first, or choose a live node)")
            }
            Error::AllDown { verb } => write!(f, "cannot {verb}: every node is down (recover one first)"),
            Error::InvalidArgument { name, value, allowed } => {
                write!(f, "invalid {name}: {value} (allowed: {allowed})")
            }
            Error::Data { file, line, column, message } => {
                if *line > 0 {
                    write!(f, "{file}:{line}:{column}: {message}")
                } else {
                    write!(f, "{file}: {message}")
                }
            }
            Error::Network { addr, message } => write!(f, "cannot use {addr}: {message}"),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

impl Error {
    /// What went wrong, in a few words (the first line of the `Debug` block).
    fn headline(&self) -> String {
        match self {
            Error::InvalidConfig { field, .. } => format!("invalid {field}"),
            Error::InvalidArgument { name, .. } => format!("invalid {name}"),
            Error::UnknownNode { given, .. } => format!("unknown node {given}"),
            Error::NodeDown { node, verb } => format!("cannot {verb}: {node} is down"),
            Error::AllDown { verb } => format!("cannot {verb}: every node is down"),
            Error::Data { .. } => "a data file does not fit".to_string(),
            Error::Network { addr, .. } => format!("cannot use {addr}"),
            Error::Io { path, .. } => format!("cannot read or write {path}"),
        }
    }

    /// The labelled lines under the headline: field, value, allowed range, what to change.
    fn details(&self) -> Vec<(&'static str, String)> {
        match self {
            Error::InvalidConfig { field, value, allowed } => vec![
                ("field", field.to_string()),
                ("given", value.clone()),
                ("allowed", allowed.clone()),
                ("change", format!("give {field} a value in the allowed range and run the cell again")),
            ],
            Error::InvalidArgument { name, value, allowed } => vec![
                ("argument", name.to_string()),
                ("given", value.clone()),
                ("allowed", allowed.clone()),
                ("change", format!("pass {name} a value in the allowed range and run the cell again")),
            ],
            Error::UnknownNode { given, nodes } => vec![
                ("given", given.clone()),
                ("allowed", format!("ids 0 to {}, or their names", nodes.saturating_sub(1))),
                ("change", "use an id or a name from the status table (cluster.status())".to_string()),
            ],
            Error::NodeDown { node, .. } => vec![
                ("node", node.clone()),
                ("change", "recover it first (cluster.recover(..)), or choose a node that is up".to_string()),
            ],
            Error::AllDown { .. } => vec![
                ("nodes", "every node is down".to_string()),
                ("change", "recover a node first (cluster.recover(..))".to_string()),
            ],
            Error::Data { file, line, column, message } => {
                let place = if *line > 0 { format!("{file}:{line}:{column}") } else { file.clone() };
                vec![("where", place), ("problem", message.clone())]
            }
            Error::Network { message, .. } | Error::Io { message, .. } => vec![("reason", message.clone())],
        }
    }
}

/// True inside the process where evcxr runs notebook cells.
fn in_notebook() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (red, reset) = if in_notebook() { ("\x1b[1;31m", "\x1b[0m") } else { ("", "") };
        write!(f, "{red}error: {}{reset}", self.headline())?;
        for (label, text) in self.details() {
            write!(f, "\n  {:<9}{text}", format!("{label}:"))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line_and_debug_a_block_with_what_to_change() {
        let e = Error::config("loss", 1.5, "a probability in [0, 1]");
        assert_eq!(e.to_string(), "invalid loss: 1.5 (allowed: a probability in [0, 1])");
        // The test process is not the notebook kernel: plain text, no colour codes.
        assert_eq!(
            format!("{e:?}"),
            "error: invalid loss\n  field:   loss\n  given:   1.5\n  allowed: a probability in [0, 1]\n  \
             change:  give loss a value in the allowed range and run the cell again"
        );
        let e = Error::UnknownNode { given: "Node-9".into(), nodes: 3 };
        let block = format!("{e:?}");
        assert!(block.starts_with("error: unknown node Node-9\n"), "{block}");
        assert!(block.contains("allowed: ids 0 to 2, or their names"), "{block}");
        let e = Error::Data { file: "g.json".into(), line: 3, column: 7, message: "expected `,`".into() };
        assert!(format!("{e:?}").contains("where:   g.json:3:7"));
    }

    #[test]
    fn every_variant_has_a_headline_and_details() {
        let all = [
            Error::config("seed", "x", "y"),
            Error::argument("trials", 0, "1 to 100000"),
            Error::UnknownNode { given: "7".into(), nodes: 1 },
            Error::NodeDown { node: "Node-1".into(), verb: "send" },
            Error::Data { file: "f".into(), line: 0, column: 0, message: "m".into() },
            Error::Network { addr: "127.0.0.1:1".into(), message: "in use".into() },
            Error::Io { path: "p".into(), message: "denied".into() },
        ];
        for e in all {
            let block = format!("{e:?}");
            assert!(block.starts_with("error: ") && block.lines().count() >= 2, "{block}");
            assert!(!block.contains('\x1b'), "{block}");
        }
    }
}
