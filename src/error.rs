//! One error type for everything a learner can get wrong.
//!
//! A notebook cell that panics loses the learner's variables, so no public function panics
//! on user input: each returns an [`Error`] whose message names the field or node, the value
//! given and what is allowed.

use std::fmt;

/// What went wrong, with enough detail to fix it without reading the source.
#[derive(Debug, Clone, PartialEq)]
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

impl std::error::Error for Error {}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
