//! The glossary and the self-check of a learner's definitions.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::pitfall::{pattern_problem, Flag, Pitfall, Reading};
use super::{blank, builtin, list, load, norm, DataFile, CORE_TERMS};
use crate::error::{Error, Result};
use crate::table::{show_tables, Table, Tabular};

/// One key idea of a core term, and the words that show a definition touches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyIdea {
    /// The idea, in words, as shown to the learner.
    pub idea: String,
    /// Word patterns that count as touching the idea: whole words, `stem*` for every word
    /// starting with `stem`, `a|b` for either, `...` for a few words between, and a leading `!`
    /// for words that count only when denied ("!know*" finds "users do not know"). See
    /// [`Pitfall`] for how a definition is read.
    pub keywords: Vec<String>,
}

/// One glossary entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    /// The term, for example `Scalability`.
    pub term: String,
    /// The glossary's definition; for a core term, the model answer a learner compares theirs
    /// with.
    pub definition: String,
    /// True for the five terms the learner defines and self-checks.
    #[serde(default)]
    pub core: bool,
    /// What a good definition mentions; empty for terms that are not core.
    #[serde(default)]
    pub key_ideas: Vec<KeyIdea>,
    /// Named misconceptions a definition of this term is checked for; empty for terms that
    /// are not core.
    #[serde(default)]
    pub pitfalls: Vec<Pitfall>,
}

/// The lesson's glossary (`data/glossary.json`): every term with its definition and, for the
/// core terms, key ideas and named misconceptions, so a learner can set their own definition
/// beside the model answer and look for what it misses or gets wrong.
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
                    return Err(format!("term {:?}: key idea {:?} has an empty keyword", t.term, k.idea));
                }
                if let Some(p) = k.keywords.iter().find_map(|w| pattern_problem(w)) {
                    return Err(format!("term {:?}: key idea {:?}: {p}", t.term, k.idea));
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

    /// Sets a learner's definition of a core term beside the model answer, with the key ideas
    /// it touches and the named misconceptions it shows.
    ///
    /// The check does not say "right": it cannot judge every sentence. It flags a definition
    /// that shows a misconception it knows (words said or denied, see [`Pitfall`]), with its
    /// name and why it is wrong; otherwise it says none was found, and the learner compares
    /// their words with the model answer and the key ideas and marks themselves. An empty
    /// definition is not an error: it gives a friendly prompt and keeps the model answer back,
    /// so the learner writes their own first.
    ///
    /// Errors: `InvalidArgument` naming `term` when it is not a core term.
    pub fn check(&self, term: &str, definition: &str) -> Result<SelfCheck> {
        let entry = self.get(term).filter(|t| t.core).ok_or_else(|| Error::InvalidArgument {
            name: "term",
            value: term.to_string(),
            allowed: list(self.core_terms()),
        })?;
        let reading = Reading::new(definition);
        let empty = reading.is_empty();
        let (mut touched, mut found, mut untouched) = (Vec::new(), Vec::new(), Vec::new());
        for k in &entry.key_ideas {
            match k.keywords.iter().find_map(|w| reading.find(w)) {
                Some(words) if !empty => {
                    touched.push(k.idea.clone());
                    found.push(words);
                }
                _ => untouched.push(k.idea.clone()),
            }
        }
        let flags = (entry.pitfalls.iter())
            .filter_map(|p| {
                let words = p.find(&reading)?;
                Some(Flag { resembles: p.resembles.clone(), why: p.why.clone(), words })
            })
            .collect();
        Ok(SelfCheck {
            flags,
            term: entry.term.clone(),
            definition: definition.to_string(),
            touched,
            found,
            untouched,
            model_answer: entry.definition.clone(),
            note: empty.then(|| {
                format!(
                    "write your definition of {} first: one or two sentences in your own words between the quotes; the model answer shows once you have",
                    entry.term.to_lowercase()
                )
            }),
        })
    }

    /// Several definitions at once, one row per term: your words, the model answer, the key
    /// ideas your words touch and the misconceptions flagged.
    ///
    /// Errors: `InvalidArgument` naming the first term that is not a core term.
    pub fn check_all(&self, definitions: &[(&str, &str)]) -> Result<Table> {
        let checks =
            definitions.iter().map(|(term, text)| self.check(term, text)).collect::<Result<Vec<_>>>()?;
        let flagged = checks.iter().filter(|c| c.flagged()).count();
        let unwritten = checks.iter().filter(|c| c.note.is_some()).count();
        let compare = checks.len() - flagged - unwritten;
        let mut t = Table::new(
            format!(
                "your definitions beside the model answers: {flagged} flagged, {compare} to compare, {unwritten} not written yet"
            ),
            ["term", "your words", "model answer", "key ideas touched", "flags"],
        );
        for c in &checks {
            let written = c.note.is_none();
            t.row([
                c.term.clone(),
                if written { c.definition.trim().to_string() } else { "(not written yet)".into() },
                if written { c.model_answer.clone() } else { "(shown once you have written yours)".into() },
                if written { c.ideas_line() } else { String::new() },
                c.verdict(),
            ]);
        }
        t.note("Mark yourself: for each term, does your definition say what the model answer says, and nothing it contradicts? No flag does not mean right: the check knows only the misconceptions it names.");
        t.note("One term in detail (which words touched which idea, and why a flag): glossary.check(\"Concurrency\", my_concurrency)?");
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
        t.note("Set your definition of a core term beside the model answer with glossary.check(\"Scalability\", \"your definition\")?, all five with glossary.review([...])?");
        t
    }
}

/// The outcome of [`Glossary::check`]: a learner's definition beside the model answer, the key
/// ideas it touches, and the named misconceptions it shows. It has no "passed": whether the
/// definition is right is for the learner to judge against the model answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelfCheck {
    /// The term as the glossary spells it.
    pub term: String,
    /// The learner's definition, as given.
    pub definition: String,
    /// The glossary's definition, to compare with after writing one's own.
    pub model_answer: String,
    /// Key ideas the definition's words touch, in the glossary's order.
    pub touched: Vec<String>,
    /// For each idea in `touched`, at the same position, the words that touched it.
    pub found: Vec<String>,
    /// Key ideas the definition's words do not touch.
    pub untouched: Vec<String>,
    /// Named misconceptions the definition shows, with the words that showed them.
    pub flags: Vec<Flag>,
    /// Set when there was nothing to check (an empty definition): a prompt to write one.
    pub note: Option<String>,
}

impl SelfCheck {
    /// True when the definition shows a named misconception.
    pub fn flagged(&self) -> bool {
        !self.flags.is_empty()
    }

    /// The outcome in words: "write your definition first", "flagged: <misconception> — <why>"
    /// (one per flag, joined by " | "), or "no misconception found; compare with the model
    /// answer". Never "passed" or "correct".
    pub fn verdict(&self) -> String {
        if self.note.is_some() {
            "write your definition first".into()
        } else if self.flagged() {
            let flags = self.flags.iter().map(|f| format!("flagged: {} \u{2014} {}", f.resembles, f.why));
            flags.collect::<Vec<_>>().join(" | ")
        } else {
            "no misconception found; compare with the model answer".into()
        }
    }

    /// The key ideas in one line: those touched, then those not in the learner's words.
    fn ideas_line(&self) -> String {
        let total = self.touched.len() + self.untouched.len();
        let mut line = format!("{} of {total}", self.touched.len());
        if !self.touched.is_empty() {
            line += &format!(": {}", self.touched.join("; "));
        }
        if !self.untouched.is_empty() {
            line += &format!(" (not in your words: {})", self.untouched.join("; "));
        }
        line
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
        let mut side =
            Table::new(format!("{}: your definition beside the model answer", self.term), ["", "text"]);
        if let Some(note) = &self.note {
            // No model answer yet: seeing it first would replace the learner's own attempt.
            side.row(["your words", "(not written yet)"]);
            side.note(note.clone());
            return vec![side];
        }
        side.row(["your words", self.definition.trim()]);
        side.row(["model answer", self.model_answer.as_str()]);
        side.row(["check".to_string(), self.verdict()]);
        side.note("Mark yourself: does yours say what the model answer says, in your own words, and nothing it contradicts? The check names known misconceptions; it cannot tell you are right.");
        let mut ideas = Table::new(
            format!(
                "key ideas: your words touch {} of {}",
                self.touched.len(),
                self.touched.len() + self.untouched.len()
            ),
            ["key idea", "in your words?", "the words"],
        );
        for (idea, words) in self.touched.iter().zip(&self.found) {
            ideas.row([idea.as_str(), "yes", words.as_str()]);
        }
        for idea in &self.untouched {
            ideas.row([idea.as_str(), "not yet", ""]);
        }
        ideas.note("A touched idea is a word match, not a judgement: read the words beside it.");
        let mut tables = vec![side, ideas];
        if self.flagged() {
            let mut f = Table::new(
                "flagged: your words show a named misconception",
                ["your words", "misconception", "why it is wrong"],
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
