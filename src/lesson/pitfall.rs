//! How the self-check reads a learner's definition: words, negation, and the named
//! misconceptions it looks for.
//!
//! A definition is read as words (lowercase; `can't`, `cannot`, `doesn't` and `dont` spelled out
//! so that `not` is a word of its own), grouped in sentences (ended by `.` `;` `:` `!` `?` or a
//! dash) and clauses (also ended by `,`, brackets and joining words such as `and`, `but`,
//! `that`, `which`, `who`, `if`, `when`). A word is *negated* when a negator (`not`, `no`,
//! `never`, `nothing`, `nobody`, `without`, `instead`, `than`, ...) stands before it in the same
//! clause, at most [`WINDOW`] words back, and no word of degree (`completely`, `always`, ...)
//! makes the negation a limit rather than a denial: in "nothing about the distribution is
//! hidden" the word `hidden` is negated; in "delays can't be hidden entirely" it is not (the
//! definition says hiding has a limit), while `entirely` is.
//!
//! Patterns match whole words: `hid*` matches every word starting with `hid`, `a|b` matches
//! either word, and `...` lets up to [`GAP`] words stand between its neighbours, within one
//! sentence. A pattern starting with `!` (key ideas only) matches only where its first word is
//! negated ("!know*" finds "users do not know"); any other pattern only where it is not.
//!
//! A [`Pitfall`] (a named misconception) is flagged when one of its `phrases` matches with its
//! first word not negated and no word of its `excused_by` in the [`EXCUSE_WINDOW`] words before
//! it in the same clause ("looks *like* one big computer"), or when one of its `negated`
//! patterns matches with its first word negated ("nothing is hidden"), unless one of its
//! `unless` patterns matches too (a definition of scalability that names crashes *and* load is
//! not the fault-tolerance mix-up).

use serde::{Deserialize, Serialize};

/// A misconception a definition of a core term can show, the words that give it away, and
/// why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pitfall {
    /// The misconception's name, for example "one big central computer".
    pub resembles: String,
    /// Why it is wrong, in a sentence or two.
    pub why: String,
    /// Patterns that show the misconception where they are said, not denied.
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Patterns that show the misconception where they are denied ("nothing is hidden").
    #[serde(default)]
    pub negated: Vec<String>,
    /// Words that excuse a phrase when one stands in the few words before it, in the same
    /// clause ("looks *like* one computer").
    #[serde(default)]
    pub excused_by: Vec<String>,
    /// Patterns that, said anywhere in the definition, mean it is not this misconception.
    #[serde(default)]
    pub unless: Vec<String>,
}

/// A misconception found in a definition by [`crate::lesson::Glossary::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// The misconception's name.
    pub resembles: String,
    /// Why it is wrong.
    pub why: String,
    /// The learner's words that showed it (lowercased), for example "nothing is hidden".
    pub words: String,
}

/// Words that negate what follows them in their clause.
const NEGATORS: [&str; 16] = [
    "not", "no", "never", "nothing", "none", "nobody", "noone", "nowhere", "neither", "nor", "without",
    "hardly", "barely", "instead", "unlike", "than",
];
/// Words that end a clause (and so the reach of a negator); the word itself starts the next.
const BOUNDARIES: [&str; 21] = [
    "and", "but", "so", "yet", "while", "whereas", "although", "though", "because", "which", "that", "who",
    "whom", "whose", "since", "however", "then", "if", "when", "unless", "whether",
];
/// Words that turn a negation into a limit: "not completely hidden" still says it is hidden.
const DEGREES: [&str; 11] = [
    "completely",
    "fully",
    "entirely",
    "perfectly",
    "totally",
    "always",
    "all",
    "every",
    "quite",
    "100",
    "absolutely",
];
/// Contractions written without an apostrophe, and the word before their `not`.
const BARE_CONTRACTIONS: [(&str, &str); 19] = [
    ("dont", "do"),
    ("doesnt", "does"),
    ("didnt", "did"),
    ("isnt", "is"),
    ("arent", "are"),
    ("wasnt", "was"),
    ("werent", "were"),
    ("cant", "can"),
    ("wont", "will"),
    ("shouldnt", "should"),
    ("wouldnt", "would"),
    ("couldnt", "could"),
    ("havent", "have"),
    ("hasnt", "has"),
    ("hadnt", "had"),
    ("aint", "is"),
    ("mustnt", "must"),
    ("neednt", "need"),
    ("cannot", "can"),
];
/// How many words before a word a negator reaches.
pub const WINDOW: usize = 6;
/// How many words before a phrase are looked at for an excusing word.
pub const EXCUSE_WINDOW: usize = 3;
/// Most words a `...` in a pattern stands for.
pub const GAP: usize = 3;

/// One word of a definition, where it stands and whether it is negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    pub(crate) text: String,
    sentence: usize,
    clause: usize,
    /// Index of the negator that negates this word, if any.
    negator: Option<usize>,
}

/// A definition read as words.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Reading {
    pub(crate) words: Vec<Word>,
}

/// Lowercase, with typographic quotes unified and `n't` spelled out.
fn spelled_out(text: &str) -> String {
    let t = text.to_lowercase().replace(['\u{2019}', '\u{2018}', '`'], "'");
    t.replace("can't", "can not").replace("won't", "will not").replace("n't", " not")
}

impl Reading {
    /// Reads `text` into words, sentences, clauses and negation.
    pub(crate) fn new(text: &str) -> Reading {
        let (mut sentence, mut clause) = (0, 0);
        let mut words: Vec<Word> = Vec::new();
        let mut word = String::new();
        let push = |w: &str, sentence: usize, clause: &mut usize, words: &mut Vec<Word>| {
            if BOUNDARIES.contains(&w) {
                *clause += 1;
            }
            words.push(Word { text: w.to_string(), sentence, clause: *clause, negator: None });
        };
        let flush = |word: &mut String, sentence: usize, clause: &mut usize, words: &mut Vec<Word>| {
            let w = std::mem::take(word).replace('\'', "");
            if w.is_empty() {
                return;
            }
            match BARE_CONTRACTIONS.iter().find(|(c, _)| *c == w) {
                Some((_, base)) => {
                    push(base, sentence, clause, words);
                    push("not", sentence, clause, words);
                }
                None => push(&w, sentence, clause, words),
            }
        };
        let chars: Vec<char> = spelled_out(text).chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
                word.push(c);
                continue;
            }
            flush(&mut word, sentence, &mut clause, &mut words);
            let spaced = |k: usize| chars.get(k).is_none_or(|c| c.is_whitespace());
            let dash =
                matches!(c, '\u{2014}' | '\u{2013}') || (c == '-' && i > 0 && spaced(i - 1) && spaced(i + 1));
            if ".;:!?\n".contains(c) || dash {
                sentence += 1;
                clause += 1;
            } else if ",()[]{}\"".contains(c) {
                clause += 1;
            }
        }
        flush(&mut word, sentence, &mut clause, &mut words);
        let mut reading = Reading { words };
        reading.mark_negation();
        reading
    }

    fn is_negator(&self, j: usize) -> bool {
        let w = self.words[j].text.as_str();
        let next = self.words.get(j + 1).map(|w| w.text.as_str());
        // "no matter where" and "not only" do not deny what follows.
        NEGATORS.contains(&w) && !(w == "no" && next == Some("matter"))
    }

    fn mark_negation(&mut self) {
        for i in 0..self.words.len() {
            let clause = self.words[i].clause;
            let from = i.saturating_sub(WINDOW);
            let negator = (from..i).rev().find(|&j| self.words[j].clause == clause && self.is_negator(j));
            let Some(j) = negator else { continue };
            let after = (i + 1..(i + 3).min(self.words.len())).filter(|&k| self.words[k].clause == clause);
            let limit = (j + 1..i).chain(after).any(|k| DEGREES.contains(&self.words[k].text.as_str()));
            if !limit {
                self.words[i].negator = Some(j);
            }
        }
    }

    /// True when nothing was written.
    pub(crate) fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Where `pattern` matches (start and end, exclusive), first to last.
    fn matches<'a>(&'a self, pattern: &'a Pattern) -> impl Iterator<Item = (usize, usize)> + 'a {
        (0..self.words.len()).filter_map(move |i| Some((i, self.match_at(&pattern.slots, 0, i)?)))
    }

    /// The end of a match of `slots[s..]` starting at word `i`, if any (the shortest).
    fn match_at(&self, slots: &[Slot], s: usize, i: usize) -> Option<usize> {
        let Some(slot) = slots.get(s) else { return Some(i) };
        match slot {
            Slot::Gap => {
                let sentence = self.words.get(i.checked_sub(1)?)?.sentence;
                (0..=GAP)
                    .take_while(|k| {
                        k == &0 || self.words.get(i + k - 1).is_some_and(|w| w.sentence == sentence)
                    })
                    .find_map(|k| self.match_at(slots, s + 1, i + k))
            }
            Slot::Words(alts) => {
                let w = self.words.get(i)?;
                if s > 0 && self.words.get(i - 1).is_none_or(|p| p.sentence != w.sentence) {
                    return None;
                }
                alts.iter().any(|a| a.matches(&w.text)).then(|| self.match_at(slots, s + 1, i + 1))?
            }
        }
    }

    /// The words `start..end`, joined; from the negator when it negates the first.
    fn quote(&self, start: usize, end: usize) -> String {
        let from = self.words[start].negator.unwrap_or(start).min(start);
        self.words[from..end].iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The learner's words where `pattern` matches as it asks (said, or with `!`, denied).
    pub(crate) fn find(&self, pattern: &str) -> Option<String> {
        let p = Pattern::parse(pattern).ok()?;
        let hit = self.matches(&p).find(|&(s, _)| self.words[s].negator.is_some() == p.denied);
        hit.map(|(s, e)| self.quote(s, e))
    }
}

/// One word slot of a pattern: an alternative, with or without a trailing `*`.
#[derive(Debug, Clone)]
struct Alt {
    stem: String,
    prefix: bool,
}

impl Alt {
    fn matches(&self, word: &str) -> bool {
        if self.prefix {
            word.starts_with(&self.stem)
        } else {
            word == self.stem
        }
    }
}

#[derive(Debug, Clone)]
enum Slot {
    Words(Vec<Alt>),
    Gap,
}

/// A pattern, parsed (see the module's documentation for the syntax).
#[derive(Debug, Clone)]
struct Pattern {
    slots: Vec<Slot>,
    denied: bool,
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, String> {
        let trimmed = text.trim();
        let (denied, body) = match trimmed.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut slots = Vec::new();
        for part in body.split_whitespace() {
            if part == "..." {
                slots.push(Slot::Gap);
                continue;
            }
            let mut alts = Vec::new();
            for alt in part.split('|') {
                let (stem, prefix) = match alt.strip_suffix('*') {
                    Some(s) => (s, true),
                    None => (alt, false),
                };
                let stem = spelled_out(stem).replace('\'', "");
                if stem.is_empty() || !stem.chars().all(char::is_alphanumeric) {
                    return Err(format!("pattern {text:?} has an empty or non-word alternative {alt:?}"));
                }
                alts.push(Alt { stem, prefix });
            }
            slots.push(Slot::Words(alts));
        }
        match (slots.first(), slots.last()) {
            (None, _) => Err(format!("pattern {text:?} has no words")),
            (Some(Slot::Gap), _) | (_, Some(Slot::Gap)) => {
                Err(format!("pattern {text:?} starts or ends with \"...\""))
            }
            _ if slots.windows(2).any(|w| matches!(w, [Slot::Gap, Slot::Gap])) => {
                Err(format!("pattern {text:?} has two \"...\" in a row"))
            }
            _ => Ok(Pattern { slots, denied }),
        }
    }
}

/// What is wrong with a pattern, if anything (checked when data loads).
pub(crate) fn pattern_problem(text: &str) -> Option<String> {
    Pattern::parse(text).err()
}

impl Pitfall {
    /// The learner's words showing this misconception in `text`, or `None`.
    pub(crate) fn find(&self, text: &Reading) -> Option<String> {
        let parse = |ps: &[String]| ps.iter().filter_map(|p| Pattern::parse(p).ok()).collect::<Vec<_>>();
        let said = |p: &Pattern| text.matches(p).find(|&(s, _)| text.words[s].negator.is_none());
        if parse(&self.unless).iter().any(|p| said(p).is_some()) {
            return None;
        }
        let excuses = parse(&self.excused_by);
        for p in parse(&self.phrases) {
            let hit = text.matches(&p).find(|&(s, _)| {
                let clause = text.words[s].clause;
                let excused = (s.saturating_sub(EXCUSE_WINDOW)..s).any(|k| {
                    let w = &text.words[k];
                    w.clause == clause
                        && excuses.iter().any(|e| matches!(&e.slots[..], [Slot::Words(a)] if a.iter().any(|a| a.matches(&w.text))))
                });
                text.words[s].negator.is_none() && !excused
            });
            if let Some((s, e)) = hit {
                return Some(text.quote(s, e));
            }
        }
        for p in parse(&self.negated) {
            if let Some((s, e)) = text.matches(&p).find(|&(s, _)| text.words[s].negator.is_some()) {
                return Some(text.quote(s, e));
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
            return Some(format!("pitfall {:?} has neither phrases nor negated patterns", self.resembles));
        }
        let all = self.phrases.iter().chain(&self.negated).chain(&self.excused_by).chain(&self.unless);
        if let Some(p) = all.into_iter().find_map(|p| pattern_problem(p)) {
            return Some(format!("pitfall {:?}: {p}", self.resembles));
        }
        if let Some(p) = self
            .phrases
            .iter()
            .chain(&self.negated)
            .chain(&self.excused_by)
            .find(|p| p.trim().starts_with('!'))
        {
            return Some(format!("pitfall {:?}: {p:?}: \"!\" is for key ideas only", self.resembles));
        }
        if let Some(e) = self.excused_by.iter().find(|e| e.split_whitespace().count() != 1) {
            return Some(format!("pitfall {:?}: excused_by {e:?} must be one word", self.resembles));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negated(text: &str) -> Vec<String> {
        let r = Reading::new(text);
        r.words.iter().filter(|w| w.negator.is_some()).map(|w| w.text.clone()).collect()
    }

    #[test]
    fn negation_reaches_to_the_end_of_its_clause_and_every_spelling_counts() {
        assert_eq!(negated("Users can not tell that the service runs on many machines"), ["tell"]);
        assert_eq!(negated("users cannot tell"), ["tell"]);
        assert_eq!(negated("users can't tell"), ["tell"]);
        assert_eq!(negated("users cant tell"), ["tell"]);
        assert_eq!(negated("users don’t tell"), ["tell"]);
        assert_eq!(
            negated("nothing about the distribution is hidden"),
            ["about", "the", "distribution", "is", "hidden"]
        );
        assert_eq!(negated("it never fails, and it keeps working"), ["fails"]);
        assert_eq!(negated("does not crash or lose data"), ["crash", "or", "lose", "data"]);
        // A limit is not a denial: "hidden" is said, with a limit; "entirely" is denied.
        assert_eq!(negated("delays can't be hidden entirely"), ["entirely"]);
        assert_eq!(negated("no matter where the data is"), Vec::<String>::new());
        assert_eq!(negated(""), Vec::<String>::new());
    }

    #[test]
    fn patterns_match_whole_words_with_stems_alternatives_and_gaps() {
        let r = Reading::new("A powerful central computer. The operator restores it.");
        assert_eq!(r.find("a ... central ... computer*"), Some("a powerful central computer".into()));
        assert_eq!(r.find("powerful|huge computer"), None);
        assert_eq!(r.find("central|huge computer"), Some("central computer".into()));
        // Stems match words, not parts of words; gaps stay within a sentence.
        assert_eq!(r.find("operat"), None);
        assert_eq!(r.find("computer ... operator"), None);
        assert_eq!(Reading::new("users do not know where").find("!know*"), Some("not know".into()));
        assert_eq!(Reading::new("users know where").find("!know*"), None);
        for bad in ["", " ... ", "a ...", "... a", "a ... ... b", "*", "a||b", "!"] {
            assert!(pattern_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn pitfalls_need_said_phrases_or_denied_words_and_honour_excuses_and_unless() {
        let p = Pitfall {
            resembles: "x".into(),
            why: "y".into(),
            phrases: vec!["one ... computer".into()],
            negated: vec!["hid*".into()],
            excused_by: vec!["like".into()],
            unless: vec!["cloud".into()],
        };
        let find = |t: &str| p.find(&Reading::new(t));
        assert_eq!(find("It is one big computer."), Some("one big computer".into()));
        assert_eq!(find("It looks like one computer."), None);
        assert_eq!(find("Not one computer but many."), None);
        assert_eq!(find("nothing is hidden"), Some("nothing is hidden".into()));
        assert_eq!(find("it hides the servers"), None);
        assert_eq!(find("one computer in the cloud"), None);
        assert_eq!(find(""), None);
        assert!(p.problem().is_none());
    }
}
