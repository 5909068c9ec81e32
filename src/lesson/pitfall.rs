//! Misconceptions a learner's definition can fall into, and how the self-check spots them.
//!
//! A definition is read as clauses of words: punctuation and joining words (`and`, `but`,
//! `because`, ...) end a clause. A pitfall is found in two ways:
//! - a *phrase* of the misconception appears ("see where", "strictly") and no negator such as
//!   `not`, `no`, `never`, `without` (nor an excusing word: `instead`, `rather`, `than`, or the
//!   pitfall's own `excused_by`) stands in the four words before it, in the same clause;
//! - a *negated* key word appears with a negator in the three words before it ("nothing is
//!   hidden", "cannot grow"), unless a word of degree near it makes it a limit rather than a
//!   denial ("never hidden *completely*", "not *always* available").
//!
//! Words in the data match whole words; a word ending in `*` matches every word starting with
//! it (`hid*` matches hide, hidden, hiding).

use serde::{Deserialize, Serialize};

/// A misconception a definition of a core term can show, the words that give it away, and
/// why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pitfall {
    /// What such a definition resembles, for example "parallel hardware".
    pub resembles: String,
    /// Why it is wrong, in a sentence or two.
    pub why: String,
    /// Word sequences that show the misconception, unless a negator or an excusing word stands
    /// in the three words before them.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Key words whose negation shows the misconception: found with a negator in the three
    /// words before them.
    #[serde(default)]
    pub negated: Vec<String>,
    /// Extra words that excuse a phrase when they stand in the three words before it ("looks
    /// *like* one computer").
    #[serde(default)]
    pub excused_by: Vec<String>,
}

/// A pitfall found in a definition by [`crate::lesson::Glossary::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// What the definition resembles.
    pub resembles: String,
    /// Why that is wrong.
    pub why: String,
    /// The learner's words that matched, for example "nothing is hidden".
    pub words: String,
}

/// Words that negate what follows them.
const NEGATORS: [&str; 11] =
    ["not", "no", "nothing", "never", "without", "none", "nobody", "nor", "neither", "hardly", "nowhere"];
/// Words that excuse a phrase after them ("instead of one big computer").
const EXCUSES: [&str; 4] = ["instead", "rather", "unlike", "than"];
/// Words that end a clause: a negator before them does not reach past them.
const BOUNDARIES: [&str; 12] =
    ["and", "but", "or", "so", "yet", "while", "whereas", "although", "though", "because", "which", "then"];
/// How many words before a negated key word are looked at for a negator.
const WINDOW: usize = 3;
/// How many words before a phrase are looked at for a negator or an excusing word.
const EXCUSE_WINDOW: usize = 4;
/// Words that turn a negation into a limit: "not completely hidden" still says it is hidden.
const DEGREES: [&str; 10] =
    ["completely", "fully", "entirely", "perfectly", "totally", "always", "all", "every", "quite", "100"];

/// Lowercase, with contractions spelled out so `n't` becomes the word `not`.
fn spelled_out(text: &str) -> String {
    let t = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    t.replace("can't", "can not")
        .replace("won't", "will not")
        .replace("cannot", "can not")
        .replace("n't", " not")
}

/// The text as clauses of words. `stars` keeps `*` in words (patterns), else it is dropped.
pub(crate) fn clauses(text: &str, stars: bool) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Vec<String>>| {
        let w = std::mem::take(word).replace('\'', "");
        if w.is_empty() {
            return;
        }
        if BOUNDARIES.contains(&w.as_str()) {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(w);
        }
    };
    for c in spelled_out(text).chars() {
        if c.is_alphanumeric() || c == '\'' || (stars && c == '*') {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if ".,;:!?()[]{}\"\n".contains(c) {
                out.push(Vec::new());
            }
        }
    }
    flush(&mut word, &mut out);
    out.retain(|c| !c.is_empty());
    out
}

/// A pattern as words, for matching.
pub(crate) fn pattern(p: &str) -> Vec<String> {
    clauses(p, true).concat()
}

fn word_matches(pattern: &str, word: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(stem) => word.starts_with(stem),
        None => word == pattern,
    }
}

/// Start positions of `pat` in `clause`.
fn positions<'a>(clause: &'a [String], pat: &'a [String]) -> impl Iterator<Item = usize> + 'a {
    (0..(clause.len() + 1).saturating_sub(pat.len()))
        .filter(move |&i| !pat.is_empty() && pat.iter().zip(&clause[i..]).all(|(p, w)| word_matches(p, w)))
}

/// Where the negator of the key word at `i..end` starts, when it is negated and no word of
/// degree (from the negator to two words after the key word) makes it a limit.
fn negated(clause: &[String], i: usize, end: usize) -> Option<usize> {
    let from = i.saturating_sub(WINDOW);
    let start = from + clause[from..i].iter().position(|w| NEGATORS.contains(&w.as_str()))?;
    let around = &clause[start..(end + 2).min(clause.len())];
    (!around.iter().any(|w| DEGREES.contains(&w.as_str()))).then_some(start)
}

impl Pitfall {
    /// The learner's words showing this pitfall in `text` (already split by [`clauses`]), or
    /// `None`.
    pub(crate) fn find(&self, text: &[Vec<String>]) -> Option<String> {
        let excuses: Vec<Vec<String>> = self.excused_by.iter().map(|e| pattern(e)).collect();
        for clause in text {
            for phrase in self.phrases.iter().map(|p| pattern(p)) {
                for i in positions(clause, &phrase) {
                    let before = &clause[i.saturating_sub(EXCUSE_WINDOW)..i];
                    let excused = before.iter().any(|w| {
                        NEGATORS.contains(&w.as_str())
                            || EXCUSES.contains(&w.as_str())
                            || excuses.iter().any(|e| e.len() == 1 && word_matches(&e[0], w))
                    });
                    if !excused {
                        return Some(clause[i..i + phrase.len()].join(" "));
                    }
                }
            }
            for key in self.negated.iter().map(|p| pattern(p)) {
                for i in positions(clause, &key) {
                    if let Some(start) = negated(clause, i, i + key.len()) {
                        return Some(clause[start..i + key.len()].join(" "));
                    }
                }
            }
        }
        None
    }

    /// What is wrong with the pitfall's data, if anything.
    pub(crate) fn problem(&self) -> Option<String> {
        if self.resembles.trim().is_empty() || self.why.trim().is_empty() {
            return Some("a pitfall has an empty \"resembles\" or \"why\"".into());
        }
        if self.phrases.is_empty() && self.negated.is_empty() {
            return Some(format!("pitfall {:?} has neither phrases nor negated words", self.resembles));
        }
        let all = self.phrases.iter().chain(&self.negated).chain(&self.excused_by);
        if let Some(p) =
            all.into_iter().find(|p| pattern(p).iter().all(|w| w.trim_end_matches('*').is_empty()))
        {
            // A pattern of no words would match everywhere.
            return Some(format!("pitfall {:?} has a pattern with no words: {p:?}", self.resembles));
        }
        if let Some(e) = self.excused_by.iter().find(|e| pattern(e).len() != 1) {
            return Some(format!("pitfall {:?}: excused_by {e:?} must be one word", self.resembles));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pit(phrases: &[&str], negated: &[&str]) -> Pitfall {
        Pitfall {
            resembles: "x".into(),
            why: "y".into(),
            phrases: phrases.iter().map(|s| s.to_string()).collect(),
            negated: negated.iter().map(|s| s.to_string()).collect(),
            excused_by: vec!["like".into()],
        }
    }

    #[test]
    fn clauses_split_on_punctuation_and_joining_words_and_spell_out_negations() {
        assert_eq!(
            clauses("Users can't see it, and NOTHING is hidden.", false),
            [vec!["users", "can", "not", "see", "it"], vec!["nothing", "is", "hidden"]]
        );
        assert_eq!(pattern("hid* away"), ["hid*", "away"]);
    }

    #[test]
    fn phrases_count_unless_negated_or_excused_and_negated_words_need_a_negator() {
        let p = pit(&["one computer", "see where"], &["hid*"]);
        let find = |t: &str| p.find(&clauses(t, false));
        assert_eq!(find("It is one computer."), Some("one computer".into()));
        assert_eq!(find("It looks like one computer."), None);
        assert_eq!(find("Not one computer but many."), None);
        assert_eq!(find("many instead of one computer"), None);
        assert_eq!(find("users cannot see where it runs"), None);
        assert_eq!(find("users see where it runs"), Some("see where".into()));
        assert_eq!(find("nothing is hidden"), Some("nothing is hidden".into()));
        assert_eq!(find("it hides the servers"), None);
        // A limit is not a denial.
        assert_eq!(find("delays can never be hidden completely"), None);
        assert_eq!(find("it is not always hidden"), None);
        // A negator in an earlier clause does not reach.
        assert_eq!(find("no shared memory, so it hides them"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn empty_patterns_are_a_problem() {
        assert!(pit(&["one computer"], &[]).problem().is_none());
        assert!(pit(&[" * "], &[]).problem().unwrap().contains("no words"));
        assert!(pit(&[], &[]).problem().is_some());
    }
}
