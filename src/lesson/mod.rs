//! The Day 001 lesson as data: glossary with a self-check that sets a learner's definitions
//! beside model answers and flags named misconceptions, a quiz whose wrong choices are named
//! misconceptions, reflection questions with hints on request, everyday examples,
//! troubleshooting answers, and the lesson itself (plan, checklist, key insights, OS bridge,
//! ...).
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
//! // A definition is set beside the model answer, with the key ideas its words touch.
//! let check = glossary.check(
//!     "scalability",
//!     "A scalable system handles more users by adding more machines, without a redesign.",
//! )?;
//! assert!(!check.flagged());
//! assert_eq!(check.verdict(), "no misconception found; compare with the model answer");
//! assert_eq!(check.untouched, ["performance stays acceptable"]);
//! println!("{check}");
//!
//! // A named misconception is flagged, with why it is wrong and the words that showed it.
//! let wrong = glossary.check("Scalability", "Buying a faster computer with a better processor.")?;
//! assert!(wrong.verdict().starts_with("flagged: a faster or bigger machine \u{2014} "));
//! assert_eq!(wrong.flags[0].words, "faster computer");
//! # Ok::<(), distlab::Error>(())
//! ```

use std::fs;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

mod examples;
mod glossary;
mod insights;
mod pitfall;
mod plan;
mod quiz;
mod reflection;

pub use examples::{Example, ExampleNode, Examples, Troubleshooting, TroubleshootingItem};
pub use glossary::{Glossary, KeyIdea, SelfCheck, Term};
pub use insights::{AntPair, Ants, BridgeRow, KeyInsight};
pub use pitfall::{Flag, Pitfall};
pub use plan::{
    ArchitectureAxes, ArchitectureTradeoffs, Challenge, Lesson, Misconception, PlanActivity, Resource,
    SuccessCriteria, Tables,
};
pub use quiz::{Quiz, QuizChoice, QuizQuestion};
pub use reflection::{PersonalReflection, Reflection, ReflectionQuestion};

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
