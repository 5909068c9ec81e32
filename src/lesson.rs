//! The Day 001 lesson as data: glossary with a self-check, reflection questions with hints on
//! request, everyday examples, troubleshooting answers, and the lesson plan with a checklist.
//!
//! Every file in `data/` is compiled into the crate (`builtin()`), so a notebook works from any
//! directory, and can also be read from a path (`load(path)`), so a learner can copy a file,
//! edit it and use their own version. Both paths parse the same way and check the content
//! after parsing: a syntax error is reported with the file, line and column, and a file that
//! parses but does not fit (a missing core term, a link to a node the example does not list)
//! is reported with what is wrong, instead of showing up later as a confusing empty table.
//!
//! The types keep public, owned fields, so a notebook can hold them in variables between
//! cells, and each shows itself as HTML under a cell and as text with `println!("{x}")`.
//!
//! ```
//! use distlab::lesson::Glossary;
//!
//! let glossary = Glossary::builtin()?;
//! let check = glossary.check(
//!     "scalability",
//!     "A scalable system handles more users by adding more machines, without a redesign.",
//! )?;
//! // Three of the four key ideas are in the text; performance is not mentioned.
//! assert_eq!(check.covered.len(), 3);
//! assert_eq!(check.missing, ["performance stays acceptable"]);
//! assert!(check.passed());
//! println!("{check}");
//! # Ok::<(), distlab::Error>(())
//! ```

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::table::{display_via_tables, Table};

/// The five terms the lesson asks a learner to define; every glossary must have them, marked
/// `core` and with key ideas, because the self-check and the success criteria rely on them.
pub const CORE_TERMS: [&str; 5] =
    ["Distributed system", "Concurrency", "Transparency", "Scalability", "Fault tolerance"];

/// How each lesson file is found, parsed and checked, so the five types share one loader and
/// report problems the same way.
trait DataFile: DeserializeOwned {
    /// The file name under `data/`.
    const NAME: &'static str;
    /// The file's text, compiled in.
    const BUILTIN: &'static str;
    /// Checks what serde cannot: names that must match, lists that must not be empty.
    fn validate(&self) -> std::result::Result<(), String>;
}

fn builtin<T: DataFile>() -> Result<T> {
    parse(&format!("built-in data/{}", T::NAME), T::BUILTIN)
}

fn load<T: DataFile>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
    parse(&path.display().to_string(), &text)
}

fn parse<T: DataFile>(file: &str, text: &str) -> Result<T> {
    let value: T = serde_json::from_str(text).map_err(|e| Error::json(file, &e))?;
    value.validate().map_err(|message| Error::Data {
        file: file.to_string(),
        line: 0,
        column: 0,
        message,
    })?;
    Ok(value)
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Joins names for an error message's "allowed" part.
fn list(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names.into_iter().map(|n| n.as_ref().to_string()).collect::<Vec<_>>().join(", ")
}

/// The allowed range of a 1-based number, in words.
fn range(len: usize) -> String {
    if len == 0 {
        "none (the list is empty)".to_string()
    } else {
        format!("1 to {len}")
    }
}

// ---------------------------------------------------------------------------------------
// Glossary

/// One key idea of a core term, and the words that show a definition touches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyIdea {
    /// The idea, in words, as shown to the learner.
    pub idea: String,
    /// Substrings (matched case-insensitively) that count as mentioning the idea; stems such
    /// as `independ` catch several word forms.
    pub keywords: Vec<String>,
}

/// One glossary entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The term, for example `Scalability`.
    pub term: String,
    /// The reference definition.
    pub definition: String,
    /// True for the five terms the learner defines and self-checks.
    #[serde(default)]
    pub core: bool,
    /// What a good definition mentions; empty for terms that are not core.
    #[serde(default)]
    pub key_ideas: Vec<KeyIdea>,
}

/// The lesson's glossary (`data/glossary.json`): every term with its definition, and key ideas
/// for the core terms so a learner can check their own definitions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Glossary {
    /// The terms, in the file's order.
    pub terms: Vec<Term>,
}

impl DataFile for Glossary {
    const NAME: &'static str = "glossary.json";
    const BUILTIN: &'static str = include_str!("../data/glossary.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if self.terms.is_empty() {
            return Err("the glossary has no terms".into());
        }
        let mut seen = HashSet::new();
        for (i, t) in self.terms.iter().enumerate() {
            if blank(&t.term) {
                return Err(format!("term {} has an empty name", i + 1));
            }
            if blank(&t.definition) {
                return Err(format!("term {:?} has an empty definition", t.term));
            }
            if !seen.insert(norm(&t.term)) {
                return Err(format!("term {:?} appears twice", t.term));
            }
            if t.core && t.key_ideas.is_empty() {
                return Err(format!("core term {:?} has no key_ideas to check a definition against", t.term));
            }
            for k in &t.key_ideas {
                if blank(&k.idea) {
                    return Err(format!("term {:?} has a key idea with empty text", t.term));
                }
                if k.keywords.is_empty() {
                    return Err(format!("term {:?}: key idea {:?} has no keywords", t.term, k.idea));
                }
                if k.keywords.iter().any(|w| blank(w)) {
                    // An empty keyword is a substring of every text: the idea would always count.
                    return Err(format!("term {:?}: key idea {:?} has an empty keyword", t.term, k.idea));
                }
            }
        }
        for core in CORE_TERMS {
            match self.get(core) {
                None => return Err(format!("core term {core:?} is missing (needed: {})", list(CORE_TERMS))),
                Some(t) if !t.core => return Err(format!("term {core:?} must be marked \"core\": true")),
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl Glossary {
    /// The glossary compiled into the crate.
    pub fn builtin() -> Result<Glossary> {
        builtin()
    }
    /// A glossary from a JSON file shaped like `data/glossary.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Glossary> {
        load(path.as_ref())
    }
    /// The entry for `term`, ignoring case and surrounding spaces.
    pub fn get(&self, term: &str) -> Option<&Term> {
        let want = norm(term);
        self.terms.iter().find(|t| norm(&t.term) == want)
    }
    /// The names of the core terms, the ones [`Glossary::check`] accepts.
    pub fn core_terms(&self) -> Vec<&str> {
        self.terms.iter().filter(|t| t.core).map(|t| t.term.as_str()).collect()
    }

    /// Checks a learner's definition of a core term against its key ideas.
    ///
    /// An idea counts as covered when the lowercased definition contains any of its keywords.
    /// This is a prompt for reflection, not a grade: it shows which ideas the words touch, and
    /// the reference definition to compare with. An empty definition is not an error (a cell
    /// that errors loses nothing, but a learner running the cell before writing should get a
    /// nudge): it gives a check with every idea missing and a note.
    ///
    /// Errors: `InvalidArgument` naming `term` when it is not a core term.
    pub fn check(&self, term: &str, definition: &str) -> Result<SelfCheck> {
        let entry = self.get(term).filter(|t| t.core).ok_or_else(|| Error::InvalidArgument {
            name: "term",
            value: term.to_string(),
            allowed: list(self.core_terms()),
        })?;
        let text = definition.to_lowercase();
        let empty = blank(definition);
        let (mut covered, mut found, mut missing) = (Vec::new(), Vec::new(), Vec::new());
        for k in &entry.key_ideas {
            let hit = if empty { None } else { k.keywords.iter().find(|w| text.contains(&w.to_lowercase())) };
            match hit {
                Some(w) => {
                    covered.push(k.idea.clone());
                    found.push(w.clone());
                }
                None => missing.push(k.idea.clone()),
            }
        }
        let total = covered.len() + missing.len();
        Ok(SelfCheck {
            term: entry.term.clone(),
            definition: definition.to_string(),
            score: if total == 0 { 0.0 } else { covered.len() as f64 / total as f64 },
            covered,
            found,
            missing,
            reference: entry.definition.clone(),
            note: empty.then(|| {
                "write your definition first: put one or two sentences in your own words between the quotes"
                    .to_string()
            }),
        })
    }

    /// Every term with its definition; core terms are marked.
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            format!("glossary: {} terms ({} core)", self.terms.len(), self.core_terms().len()),
            ["term", "definition", "core"],
        );
        for e in &self.terms {
            t.row([e.term.as_str(), e.definition.as_str(), if e.core { "yes" } else { "" }]);
        }
        t.note("Self-check a core term with glossary.check(\"Scalability\", \"your definition\")");
        t
    }

    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }
}

/// The outcome of [`Glossary::check`]: which key ideas a learner's definition covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelfCheck {
    /// The term as the glossary spells it.
    pub term: String,
    /// The learner's definition, as given.
    pub definition: String,
    /// Key ideas the definition covers, in the glossary's order.
    pub covered: Vec<String>,
    /// For each idea in `covered`, at the same position, the keyword found in the definition,
    /// so the learner sees why it counted.
    pub found: Vec<String>,
    /// Key ideas the definition does not mention yet.
    pub missing: Vec<String>,
    /// Covered ideas over all ideas, from 0 to 1.
    pub score: f64,
    /// The glossary's definition, to compare with after writing one's own.
    pub reference: String,
    /// Set when there was nothing to check (an empty definition).
    pub note: Option<String>,
}

impl SelfCheck {
    /// True when the definition covers at least half of the key ideas (and at least one):
    /// what the lesson's success criterion "pass the glossary self-check" means here.
    pub fn passed(&self) -> bool {
        !self.covered.is_empty() && self.covered.len() * 2 >= self.covered.len() + self.missing.len()
    }

    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let total = self.covered.len() + self.missing.len();
        let mut t = Table::new(
            format!(
                "self-check of {:?}: {} of {total} key ideas covered ({:.0}%){}",
                self.term,
                self.covered.len(),
                self.score * 100.0,
                if self.passed() { ", passed" } else { "" }
            ),
            ["key idea", "covered", "found in your text"],
        );
        for (idea, word) in self.covered.iter().zip(&self.found) {
            t.row([idea.as_str(), "yes", word.as_str()]);
        }
        for idea in &self.missing {
            t.row([idea.as_str(), "not yet", ""]);
        }
        if let Some(note) = &self.note {
            // No reference yet: seeing it first would replace the learner's own attempt.
            t.note(note.clone());
        } else {
            t.note(format!("your definition: {}", self.definition.trim()));
            t.note(format!("reference definition: {}", self.reference));
            t.note("This is a keyword check: it shows which ideas your words touch, not whether the definition is right.");
        }
        vec![t]
    }
}

// ---------------------------------------------------------------------------------------
// Reflection

/// The open writing prompt about the distributed systems a learner uses every day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalReflection {
    /// What to write.
    pub prompt: String,
    /// Questions to consider while writing.
    pub consider: Vec<String>,
}

/// One reflection question with hints, shown one at a time on request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReflectionQuestion {
    /// The question.
    pub question: String,
    /// Hints, from gentle to specific.
    pub hints: Vec<String>,
}

/// The reflection part of the lesson (`data/reflection.json`).
///
/// Hints are not shown with the questions, so a learner thinks first and asks for
/// [`Reflection::hint`] only when stuck.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reflection {
    /// The writing prompt.
    pub personal_reflection: PersonalReflection,
    /// The questions, numbered from 1 in [`Reflection::question`].
    pub questions: Vec<ReflectionQuestion>,
}

impl DataFile for Reflection {
    const NAME: &'static str = "reflection.json";
    const BUILTIN: &'static str = include_str!("../data/reflection.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if blank(&self.personal_reflection.prompt) {
            return Err("personal_reflection has an empty prompt".into());
        }
        if self.questions.is_empty() {
            return Err("there are no questions".into());
        }
        for (i, q) in self.questions.iter().enumerate() {
            if blank(&q.question) {
                return Err(format!("question {} is empty", i + 1));
            }
            if q.hints.is_empty() {
                return Err(format!("question {} has no hints", i + 1));
            }
            if q.hints.iter().any(|h| blank(h)) {
                return Err(format!("question {} has an empty hint", i + 1));
            }
        }
        Ok(())
    }
}

impl Reflection {
    /// The reflection questions compiled into the crate.
    pub fn builtin() -> Result<Reflection> {
        builtin()
    }
    /// Reflection questions from a JSON file shaped like `data/reflection.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Reflection> {
        load(path.as_ref())
    }
    fn entry(&self, n: usize) -> Result<&ReflectionQuestion> {
        n.checked_sub(1).and_then(|i| self.questions.get(i)).ok_or_else(|| Error::InvalidArgument {
            name: "question",
            value: n.to_string(),
            allowed: range(self.questions.len()),
        })
    }
    /// Question `n`, counting from 1 as the table does.
    ///
    /// Errors: `InvalidArgument` naming `n` when there is no such question.
    pub fn question(&self, n: usize) -> Result<&str> {
        Ok(&self.entry(n)?.question)
    }
    /// How many hints question `n` has.
    pub fn hint_count(&self, n: usize) -> Result<usize> {
        Ok(self.entry(n)?.hints.len())
    }
    /// Hint `k` (from 1) of question `n` (from 1).
    ///
    /// Errors: `InvalidArgument` naming `n` or `k` when out of range.
    pub fn hint(&self, n: usize, k: usize) -> Result<&str> {
        let q = self.entry(n)?;
        k.checked_sub(1).and_then(|i| q.hints.get(i)).map(String::as_str).ok_or_else(|| {
            Error::InvalidArgument {
                name: "hint",
                value: k.to_string(),
                allowed: format!("{} for question {n}", range(q.hints.len())),
            }
        })
    }
    /// All questions, numbered, without their hints.
    pub fn questions(&self) -> Table {
        let mut t = Table::new("reflection questions", ["#", "question", "hints"]);
        for (i, q) in self.questions.iter().enumerate() {
            t.row([(i + 1).to_string(), q.question.clone(), q.hints.len().to_string()]);
        }
        t.note("Stuck? Show hint k of question n with reflection.hint(n, k), starting with k = 1.");
        t
    }
    /// The writing prompt with the questions to consider.
    pub fn prompt(&self) -> Table {
        let p = &self.personal_reflection;
        let mut t = Table::new(format!("personal reflection: {}", p.prompt), ["consider"]);
        for c in &p.consider {
            t.row([c]);
        }
        t
    }
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.prompt(), self.questions()]
    }
}

// ---------------------------------------------------------------------------------------
// Everyday examples

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

/// The everyday examples of the lesson (`data/examples.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// The examples, in the file's order.
    pub examples: Vec<Example>,
}

impl DataFile for Examples {
    const NAME: &'static str = "examples.json";
    const BUILTIN: &'static str = include_str!("../data/examples.json");
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
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }
}

// ---------------------------------------------------------------------------------------
// Troubleshooting

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
    const BUILTIN: &'static str = include_str!("../data/troubleshooting.json");
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
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }
}

// ---------------------------------------------------------------------------------------
// Lesson

/// One block of the study plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanActivity {
    /// What kind of work, for example `Practice`.
    pub activity: String,
    /// The time to give it.
    pub minutes: u32,
    /// What to do, in order.
    pub steps: Vec<String>,
}

/// A common wrong belief and what is true instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Misconception {
    /// The belief.
    pub myth: String,
    /// What is true.
    pub reality: String,
}

/// One of the core challenges of distributed systems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Its name, for example `Consistency`.
    pub name: String,
    /// The question it asks.
    pub question: String,
    /// Why it is hard.
    pub why_hard: String,
}

/// An architecture with its trade-offs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// Its name, for example `Peer-to-peer`.
    pub name: String,
    /// What it does well.
    pub strengths: Vec<String>,
    /// What it does badly.
    pub weaknesses: Vec<String>,
    /// A system built this way.
    pub example: String,
}

/// What a learner should be able to do after the lesson, in three levels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuccessCriteria {
    /// The least to reach.
    pub minimum: Vec<String>,
    /// The goal.
    pub target: Vec<String>,
    /// Beyond the goal.
    pub excellent: Vec<String>,
}

impl SuccessCriteria {
    /// Every criterion with its level, in the order [`Lesson::checklist`] numbers them.
    pub fn all(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (name, v) in
            [("minimum", &self.minimum), ("target", &self.target), ("excellent", &self.excellent)]
        {
            out.extend(v.iter().map(|c| (name, c.as_str())));
        }
        out
    }
}

/// The lesson itself (`data/lesson.json`): objectives, plan, key ideas and success criteria.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The lesson's title.
    pub title: String,
    /// The one insight to take away.
    pub aha: String,
    /// How to recognise a distributed system.
    pub pattern: String,
    /// What the learner will be able to do.
    pub objectives: Vec<String>,
    /// The study plan.
    pub plan: Vec<PlanActivity>,
    /// The key characteristics of a distributed system.
    pub characteristics: Vec<String>,
    /// Why people distribute systems.
    pub why_distributed: Vec<String>,
    /// Common wrong beliefs.
    pub misconceptions: Vec<Misconception>,
    /// The core challenges.
    pub challenges: Vec<Challenge>,
    /// Centralized, client-server and peer-to-peer, with trade-offs.
    pub architectures: Vec<Architecture>,
    /// The lesson's key insights.
    pub key_insights: Vec<String>,
    /// How to know the lesson is done.
    pub success_criteria: SuccessCriteria,
}

impl DataFile for Lesson {
    const NAME: &'static str = "lesson.json";
    const BUILTIN: &'static str = include_str!("../data/lesson.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if blank(&self.title) {
            return Err("the lesson has an empty title".into());
        }
        if self.objectives.is_empty() {
            return Err("the lesson has no objectives".into());
        }
        if self.plan.is_empty() {
            return Err("the lesson has no plan".into());
        }
        for p in &self.plan {
            if p.steps.is_empty() {
                return Err(format!("plan activity {:?} has no steps", p.activity));
            }
        }
        if self.success_criteria.all().is_empty() {
            return Err("the lesson has no success criteria".into());
        }
        if let Some((level, _)) = self.success_criteria.all().into_iter().find(|(_, c)| blank(c)) {
            return Err(format!("success_criteria.{level} has an empty criterion"));
        }
        Ok(())
    }
}

fn numbered(title: &str, header: &str, items: &[String]) -> Table {
    let mut t = Table::new(title, ["#", header]);
    for (i, item) in items.iter().enumerate() {
        t.row([(i + 1).to_string(), item.clone()]);
    }
    t
}

impl Lesson {
    /// The lesson compiled into the crate.
    pub fn builtin() -> Result<Lesson> {
        builtin()
    }
    /// A lesson from a JSON file shaped like `data/lesson.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Lesson> {
        load(path.as_ref())
    }
    /// The title, the aha moment and the pattern to recognise.
    pub fn overview(&self) -> Table {
        let mut t = Table::new(self.title.clone(), ["", "what to take away"]);
        t.row(["aha", self.aha.as_str()]).row(["pattern", self.pattern.as_str()]);
        t
    }
    /// The learning objectives, numbered.
    pub fn objectives(&self) -> Table {
        numbered("learning objectives", "objective", &self.objectives)
    }
    /// The study plan: one row per step, with the activity's time on its first step.
    pub fn plan(&self) -> Table {
        let mut t = Table::new("study plan", ["activity", "minutes", "step"]);
        for p in &self.plan {
            for (i, step) in p.steps.iter().enumerate() {
                if i == 0 {
                    t.row([p.activity.clone(), p.minutes.to_string(), step.clone()]);
                } else {
                    t.row([String::new(), String::new(), step.clone()]);
                }
            }
        }
        let total: u32 = self.plan.iter().map(|p| p.minutes).sum();
        t.note(format!("total: {total} minutes"));
        t
    }
    /// The key characteristics of a distributed system.
    pub fn characteristics(&self) -> Table {
        numbered("key characteristics", "characteristic", &self.characteristics)
    }
    /// Why people build distributed systems.
    pub fn why_distributed(&self) -> Table {
        numbered("why distribute a system", "reason", &self.why_distributed)
    }
    /// Common misconceptions and what is true instead.
    pub fn misconceptions(&self) -> Table {
        let mut t = Table::new("misconceptions", ["myth", "reality"]);
        for m in &self.misconceptions {
            t.row([&m.myth, &m.reality]);
        }
        t
    }
    /// The core challenges: the question each asks and why it is hard.
    pub fn challenges(&self) -> Table {
        let mut t = Table::new("key challenges", ["challenge", "question", "why it is hard"]);
        for c in &self.challenges {
            t.row([&c.name, &c.question, &c.why_hard]);
        }
        t
    }
    /// The architectures side by side, one row per strength or weakness.
    pub fn architectures(&self) -> Table {
        let mut t =
            Table::new("architectures and their trade-offs", ["architecture", "strength", "weakness"]);
        for a in &self.architectures {
            let rows = a.strengths.len().max(a.weaknesses.len());
            for i in 0..rows {
                let name = if i == 0 { a.name.as_str() } else { "" };
                let cell = |v: &[String]| v.get(i).cloned().unwrap_or_default();
                t.row([name.to_string(), cell(&a.strengths), cell(&a.weaknesses)]);
            }
            t.row(["".to_string(), format!("example: {}", a.example), String::new()]);
        }
        t
    }
    /// The key insights to remember.
    pub fn key_insights(&self) -> Table {
        numbered("key insights", "insight", &self.key_insights)
    }
    /// The success criteria as a checklist with nothing ticked yet, numbered for
    /// [`Lesson::checklist`].
    pub fn success_criteria(&self) -> Table {
        self.criteria_table(&[])
    }
    /// The success criteria with the criteria numbered in `ticked` marked done.
    ///
    /// Numbers are the ones in the `#` column of [`Lesson::success_criteria`], from 1, across
    /// all three levels; a number given twice counts once. Numbers rather than texts, because a
    /// retyped text with one letter different would silently stay unticked.
    ///
    /// Errors: `InvalidArgument` naming `criterion` and the allowed range for a number that is
    /// not in the table.
    pub fn checklist(&self, ticked: &[usize]) -> Result<Table> {
        let total = self.success_criteria.all().len();
        if let Some(&bad) = ticked.iter().find(|&&n| n == 0 || n > total) {
            return Err(Error::InvalidArgument {
                name: "criterion",
                value: bad.to_string(),
                allowed: format!("{} (the # column of lesson.success_criteria())", range(total)),
            });
        }
        Ok(self.criteria_table(ticked))
    }
    fn criteria_table(&self, ticked: &[usize]) -> Table {
        let all = self.success_criteria.all();
        let mut t = Table::new("success criteria", ["#", "level", "criterion", "done"]);
        let mut done_by_level: Vec<(&str, usize, usize)> = Vec::new();
        for (i, (level, text)) in all.iter().enumerate() {
            let done = ticked.contains(&(i + 1));
            t.row([
                (i + 1).to_string(),
                level.to_string(),
                text.to_string(),
                (if done { "[x]" } else { "[ ]" }).into(),
            ]);
            match done_by_level.iter_mut().find(|(l, _, _)| l == level) {
                Some(e) => {
                    e.1 += usize::from(done);
                    e.2 += 1;
                }
                None => done_by_level.push((level, usize::from(done), 1)),
            }
        }
        let done: usize = done_by_level.iter().map(|e| e.1).sum();
        let levels = done_by_level.iter().map(|(l, d, n)| format!("{l} {d} of {n}"));
        t.note(format!("done: {done} of {} ({})", all.len(), list(levels)));
        t.note("Tick criteria by number: lesson.checklist(&[1, 2, 3])?");
        t
    }
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.overview(), self.objectives(), self.plan(), self.success_criteria()]
    }
}

display_via_tables!(Glossary, SelfCheck, Reflection, Example, Examples, Troubleshooting, Lesson);
