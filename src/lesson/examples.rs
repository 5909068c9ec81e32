//! The everyday examples and the troubleshooting answers.

use std::collections::HashSet;
use std::path::Path;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use super::{blank, builtin, list, load, norm, DataFile};
use crate::error::{Error, Result};
use crate::table::{show_tables, Table, Tabular};

/// One part of an everyday example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleNode {
    /// The part's name, unique within its example, for example `DNS resolver`.
    pub name: String,
    /// Its role, for example `client` or `server`.
    pub role: String,
}

/// A distributed system from everyday life, with its parts and who talks to whom, so it can
/// be read as a table now and turned into a topology to simulate later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// The example's name, for example `Web browsing`.
    pub name: String,
    /// Its architecture: `client-server`, `peer-to-peer`, `hybrid`, ...
    pub architecture: String,
    /// What happens, in a sentence or two.
    pub summary: String,
    /// The parts.
    pub nodes: Vec<ExampleNode>,
    /// Pairs of node names that talk to each other; both names are in `nodes`.
    #[serde(deserialize_with = "links")]
    pub links: Vec<[String; 2]>,
}

/// One link as written in the file, so a link with one or three names is reported as such,
/// at its place, instead of as serde_json's "trailing characters".
struct Link([String; 2]);

impl<'de> Deserialize<'de> for Link {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        <[String; 2]>::try_from(names)
            .map(Link)
            .map_err(|v| D::Error::invalid_length(v.len(), &"a link of 2 node names"))
    }
}

fn links<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<[String; 2]>, D::Error> {
    Ok(Vec::<Link>::deserialize(d)?.into_iter().map(|l| l.0).collect())
}

impl Example {
    fn problem(&self) -> Option<String> {
        if blank(&self.name) {
            return Some("an example has an empty name".into());
        }
        let name = &self.name;
        if self.nodes.is_empty() {
            return Some(format!("example {name:?} has no nodes"));
        }
        let mut seen = HashSet::new();
        for n in &self.nodes {
            if blank(&n.name) {
                return Some(format!("example {name:?} has a node with an empty name"));
            }
            if !seen.insert(n.name.as_str()) {
                return Some(format!("example {name:?} lists node {:?} twice", n.name));
            }
        }
        for [a, b] in &self.links {
            for end in [a, b] {
                if !seen.contains(end.as_str()) {
                    return Some(format!(
                        "example {name:?}: link [{a:?}, {b:?}] names {end:?}, which is not one of its nodes ({})",
                        list(self.nodes.iter().map(|n| &n.name))
                    ));
                }
            }
            if a == b {
                return Some(format!("example {name:?}: link [{a:?}, {b:?}] joins a node to itself"));
            }
        }
        None
    }
}

/// The everyday examples of the lesson (`data/examples.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// The examples, in the file's order.
    pub examples: Vec<Example>,
}

impl DataFile for Examples {
    const NAME: &'static str = "examples.json";
    const BUILTIN: &'static str = include_str!("../../data/examples.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if self.examples.is_empty() {
            return Err("there are no examples".into());
        }
        let mut seen = HashSet::new();
        for e in &self.examples {
            if let Some(p) = e.problem() {
                return Err(p);
            }
            if !seen.insert(norm(&e.name)) {
                return Err(format!("example {:?} appears twice", e.name));
            }
        }
        Ok(())
    }
}

impl Examples {
    /// The everyday examples compiled into the crate.
    pub fn builtin() -> Result<Examples> {
        builtin()
    }
    /// Everyday examples from a JSON file shaped like `data/examples.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Examples> {
        load(path.as_ref())
    }
    /// The example called `name`, ignoring case and surrounding spaces.
    ///
    /// Errors: `InvalidArgument` naming `example` and listing the names when there is none.
    pub fn get(&self, name: &str) -> Result<&Example> {
        let want = norm(name);
        self.examples.iter().find(|e| norm(&e.name) == want).ok_or_else(|| Error::InvalidArgument {
            name: "example",
            value: name.to_string(),
            allowed: list(self.examples.iter().map(|e| &e.name)),
        })
    }
    /// One row per example: name, architecture and components with their roles.
    pub fn table(&self) -> Table {
        let mut t = Table::new("everyday distributed systems", ["example", "architecture", "components"]);
        for e in &self.examples {
            let parts = e.nodes.iter().map(|n| format!("{} ({})", n.name, n.role));
            t.row([e.name.clone(), e.architecture.clone(), list(parts)]);
        }
        t.note("Show one example's parts and links with examples.get(\"Web browsing\")?");
        t
    }
}

/// A question learners often ask, with its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TroubleshootingItem {
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
}

/// Common confusions and their answers (`data/troubleshooting.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Troubleshooting {
    /// The questions and answers, in the file's order.
    pub items: Vec<TroubleshootingItem>,
}

impl DataFile for Troubleshooting {
    const NAME: &'static str = "troubleshooting.json";
    const BUILTIN: &'static str = include_str!("../../data/troubleshooting.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if self.items.is_empty() {
            return Err("there are no items".into());
        }
        for (i, item) in self.items.iter().enumerate() {
            if blank(&item.question) || blank(&item.answer) {
                return Err(format!("item {} has an empty question or answer", i + 1));
            }
        }
        Ok(())
    }
}

impl Troubleshooting {
    /// The troubleshooting answers compiled into the crate.
    pub fn builtin() -> Result<Troubleshooting> {
        builtin()
    }
    /// Troubleshooting answers from a JSON file shaped like `data/troubleshooting.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Troubleshooting> {
        load(path.as_ref())
    }
    /// Every question with its answer.
    pub fn table(&self) -> Table {
        let mut t = Table::new("troubleshooting", ["question", "answer"]);
        for item in &self.items {
            t.row([&item.question, &item.answer]);
        }
        t
    }
}

impl Tabular for Example {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let mut nodes =
            Table::new(format!("{} ({}): {}", self.name, self.architecture, self.summary), ["node", "role"]);
        for n in &self.nodes {
            nodes.row([&n.name, &n.role]);
        }
        let mut links = Table::new(format!("{}: who talks to whom", self.name), ["node", "talks to"]);
        for [a, b] in &self.links {
            links.row([a, b]);
        }
        vec![nodes, links]
    }
}

impl Tabular for Examples {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }
}

impl Tabular for Troubleshooting {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }
}

show_tables!(Example, Examples, Troubleshooting);
