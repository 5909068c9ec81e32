//! The personal reflection prompt and the reflection questions with hints.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{blank, builtin, load, range, DataFile};
use crate::error::{Error, Result};
use crate::table::{show_tables, Table, Tabular};

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
    const BUILTIN: &'static str = include_str!("../../data/reflection.json");
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
}

impl Tabular for Reflection {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.prompt(), self.questions()]
    }
}

show_tables!(Reflection);
