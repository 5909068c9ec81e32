//! The glossary and the self-check of a learner's definitions.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::pitfall::{clauses, Flag, Pitfall};
use super::{blank, builtin, list, load, norm, DataFile, CORE_TERMS};
use crate::error::{Error, Result};
use crate::table::{show_tables, Table, Tabular};

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
    /// Misconceptions a definition of this term is checked for; empty for terms that are not
    /// core.
    #[serde(default)]
    pub pitfalls: Vec<Pitfall>,
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
    const BUILTIN: &'static str = include_str!("../../data/glossary.json");
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
            if let Some(problem) = t.pitfalls.iter().find_map(Pitfall::problem) {
                return Err(format!("term {:?}: {problem}", t.term));
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

    /// Checks a learner's definition of a core term against its key ideas and its pitfalls.
    ///
    /// An idea counts as covered when the lowercased definition contains any of its keywords.
    /// A pitfall is flagged when the definition shows a known misconception: it contradicts
    /// the term, confuses it with a neighbouring one, or negates a key idea (see
    /// [`Pitfall`]). The check shows which ideas the words touch, which misconception they
    /// resemble and why it is wrong, and the reference definition to compare with. An empty
    /// definition is not an error (a learner running the cell before writing should get a
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
        let words = clauses(definition, false);
        let flags = (entry.pitfalls.iter())
            .filter_map(|p| {
                let words = p.find(&words)?;
                Some(Flag { resembles: p.resembles.clone(), why: p.why.clone(), words })
            })
            .collect();
        let total = covered.len() + missing.len();
        Ok(SelfCheck {
            flags,
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

    /// Checks several definitions at once and shows one row per term: the learner's text, the
    /// key ideas covered, the misconceptions flagged and whether it passed.
    ///
    /// Errors: `InvalidArgument` naming the first term that is not a core term.
    pub fn check_all(&self, definitions: &[(&str, &str)]) -> Result<Table> {
        let checks =
            definitions.iter().map(|(term, text)| self.check(term, text)).collect::<Result<Vec<_>>>()?;
        let passed = checks.iter().filter(|c| c.passed()).count();
        let mut t = Table::new(
            format!("your definitions, self-checked: {passed} of {} passed", checks.len()),
            ["term", "your definition", "key ideas covered", "resembles a misconception", "result"],
        );
        for c in &checks {
            let total = c.covered.len() + c.missing.len();
            let flags = c.flags.iter().map(|f| format!("{} (\"{}\")", f.resembles, f.words));
            t.row([
                c.term.clone(),
                if c.note.is_some() { "(not written yet)".into() } else { c.definition.trim().to_string() },
                format!("{} of {total}", c.covered.len()),
                flags.collect::<Vec<_>>().join("; "),
                c.verdict().to_string(),
            ]);
        }
        t.note("Why a flag, and what is missing: glossary.check(\"Concurrency\", my_concurrency)?");
        Ok(t)
    }

    /// [`Glossary::check_all`] for the five core terms, in the order of [`CORE_TERMS`]:
    /// distributed system, concurrency, transparency, scalability, fault tolerance.
    ///
    /// Errors: only for a glossary whose core terms do not load (never for the built-in one).
    pub fn review(&self, definitions: [&str; 5]) -> Result<Table> {
        let pairs: Vec<(&str, &str)> = CORE_TERMS.into_iter().zip(definitions).collect();
        self.check_all(&pairs)
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
        t.note("Self-check a core term with glossary.check(\"Scalability\", \"your definition\")?, all five with glossary.review([...])?");
        t
    }
}

/// The outcome of [`Glossary::check`]: which key ideas a learner's definition covers, and
/// which misconceptions it resembles.
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
    /// Misconceptions the definition resembles, with the words that showed them.
    pub flags: Vec<Flag>,
    /// Covered ideas over all ideas, from 0 to 1.
    pub score: f64,
    /// The glossary's definition, to compare with after writing one's own.
    pub reference: String,
    /// Set when there was nothing to check (an empty definition).
    pub note: Option<String>,
}

impl SelfCheck {
    /// True when the definition covers at least half of the key ideas (and at least one) and
    /// resembles no known misconception.
    pub fn passed(&self) -> bool {
        self.flags.is_empty()
            && !self.covered.is_empty()
            && self.covered.len() * 2 >= self.covered.len() + self.missing.len()
    }

    /// One word for the outcome: "passed", "reconsider" (a misconception is flagged), "not
    /// yet" (too few key ideas) or "write it first".
    pub fn verdict(&self) -> &'static str {
        if self.note.is_some() {
            "write it first"
        } else if !self.flags.is_empty() {
            "reconsider"
        } else if self.passed() {
            "passed"
        } else {
            "not yet"
        }
    }
}

impl Tabular for Glossary {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.table()]
    }
}

impl Tabular for SelfCheck {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        let total = self.covered.len() + self.missing.len();
        let mut t = Table::new(
            format!(
                "self-check of {:?}: {} of {total} key ideas covered ({:.0}%), {}",
                self.term,
                self.covered.len(),
                self.score * 100.0,
                self.verdict()
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
            t.note("The check looks for key words and known misconceptions; it cannot judge every sentence, so compare with the reference too.");
        }
        let mut tables = vec![t];
        if !self.flags.is_empty() {
            let mut f = Table::new(
                "reconsider: your words resemble a misconception",
                ["your words", "resembles", "why it is wrong"],
            );
            for flag in &self.flags {
                f.row([&flag.words, &flag.resembles, &flag.why]);
            }
            tables.push(f);
        }
        tables
    }
}

show_tables!(Glossary, SelfCheck);
