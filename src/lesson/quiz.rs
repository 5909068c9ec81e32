//! A scenario quiz with immediate feedback: everyday situations and "which of these
//! definitions is wrong, and why". Every wrong choice is a named misconception, so a wrong
//! answer is told which one it fell for and why it does not hold.
//!
//! ```
//! use distlab::lesson::Quiz;
//!
//! let quiz = Quiz::builtin()?;
//! let table = quiz.grade(&["b", "a", "z"])?;
//! assert_eq!(table.rows[0][2], "right");
//! assert!(table.rows[1][2].starts_with("not quite: the answer is c)"));
//! assert!(table.rows[1][3].starts_with("a) is the misconception \"centralized and client-server are alternatives\""));
//! assert!(table.rows[2][2].contains("not a choice"));
//! assert_eq!(table.rows[3][2], "not answered yet");
//! assert!(table.notes[0].starts_with("1 of 10 right"));
//! // More answers than questions is an error that names both counts.
//! assert!(quiz.grade(&["a"; 11]).unwrap_err().to_string().contains("11 answers"));
//! # Ok::<(), distlab::Error>(())
//! ```

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{blank, builtin, load, norm, DataFile};
use crate::error::{Error, Result};
use crate::table::{show_tables, Table, Tabular};

/// Most choices a question may have (letters a to h).
const MAX_CHOICES: usize = 8;

/// The letter of choice `i` (0 is `a`).
fn letter(i: usize) -> char {
    (b'a' + i.min(25) as u8) as char
}

/// One choice of a question: the right one has no misconception; every other one names the
/// misconception it stands for and why it does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizChoice {
    /// The choice as shown, after its letter.
    pub text: String,
    /// The misconception a wrong choice stands for, for example "one big central computer";
    /// empty for the right choice.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub misconception: String,
    /// Why a wrong choice does not hold, in a line; empty for the right choice.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

/// One question with its choices, the right one, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizQuestion {
    /// The term, architecture or challenge it is about, for example `Consistency`.
    pub topic: String,
    /// The scenario and what it asks.
    pub question: String,
    /// The choices, shown as a), b), c), ...
    pub choices: Vec<QuizChoice>,
    /// The letter of the right choice, for example `b`.
    pub answer: String,
    /// Why the right choice is right, in a line or two.
    pub explanation: String,
}

impl QuizQuestion {
    /// The index of the right choice (validated when the quiz loads).
    fn right(&self) -> usize {
        (self.answer.trim().to_lowercase().bytes().next().unwrap_or(b'a').saturating_sub(b'a')) as usize
    }
    fn choice(&self, i: usize) -> String {
        format!("{}) {}", letter(i), self.choices.get(i).map(|c| c.text.as_str()).unwrap_or(""))
    }
}

/// What a learner's answer to one question turned out to be.
enum Given {
    Empty,
    Choice(usize),
    Unknown,
}

/// Reads "b", " B ", "b)" or "(b)" as choice 1; empty as not answered.
fn read(answer: &str, choices: usize) -> Given {
    let a = answer.trim().trim_start_matches('(').trim_end_matches([')', '.']).trim().to_lowercase();
    if a.is_empty() {
        return Given::Empty;
    }
    match a.as_bytes() {
        [c] if c.is_ascii_lowercase() && usize::from(c - b'a') < choices => {
            Given::Choice(usize::from(c - b'a'))
        }
        _ => Given::Unknown,
    }
}

/// The scenario quiz (`data/quiz.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiz {
    /// The questions, numbered from 1 in the tables.
    pub questions: Vec<QuizQuestion>,
}

impl DataFile for Quiz {
    const NAME: &'static str = "quiz.json";
    const BUILTIN: &'static str = include_str!("../../data/quiz.json");
    fn validate(&self) -> std::result::Result<(), String> {
        if self.questions.is_empty() {
            return Err("the quiz has no questions".into());
        }
        for (i, q) in self.questions.iter().enumerate() {
            let n = i + 1;
            if blank(&q.question) || blank(&q.topic) || blank(&q.explanation) {
                return Err(format!("question {n} has an empty question, topic or explanation"));
            }
            if !(2..=MAX_CHOICES).contains(&q.choices.len()) {
                return Err(format!(
                    "question {n} has {} choices (allowed: 2 to {MAX_CHOICES})",
                    q.choices.len()
                ));
            }
            let mut seen = HashSet::new();
            if let Some(c) = q.choices.iter().find(|c| blank(&c.text) || !seen.insert(norm(&c.text))) {
                return Err(format!("question {n} has an empty or repeated choice: {:?}", c.text));
            }
            let right = match read(&q.answer, q.choices.len()) {
                Given::Choice(c) => c,
                _ => {
                    return Err(format!(
                        "question {n}: answer {:?} is not one of its choices (a to {})",
                        q.answer,
                        letter(q.choices.len().saturating_sub(1))
                    ))
                }
            };
            for (c, choice) in q.choices.iter().enumerate() {
                let named = !blank(&choice.misconception) && !blank(&choice.why);
                if c == right && !(blank(&choice.misconception) && blank(&choice.why)) {
                    return Err(format!(
                        "question {n}: the right choice {}) names a misconception",
                        letter(c)
                    ));
                }
                if c != right && !named {
                    return Err(format!(
                        "question {n}: choice {}) is wrong but names no misconception and why (every wrong choice must)",
                        letter(c)
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Quiz {
    /// The quiz compiled into the crate.
    pub fn builtin() -> Result<Quiz> {
        builtin()
    }
    /// A quiz from a JSON file shaped like `data/quiz.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Quiz> {
        load(path.as_ref())
    }

    /// The questions, numbered, with lettered choices (one row per choice), and how to answer.
    pub fn questions(&self) -> Table {
        let mut t = Table::new(
            format!("scenario quiz: {} questions", self.questions.len()),
            ["#", "question", "choices"],
        );
        for (i, q) in self.questions.iter().enumerate() {
            for c in 0..q.choices.len() {
                let (n, text) =
                    if c == 0 { ((i + 1).to_string(), q.question.clone()) } else { Default::default() };
                t.row([n, text, q.choice(c)]);
            }
        }
        t.note(format!(
            "Answer with one letter per question, in order, \"\" for one you skip ({} in all): quiz.grade(&[\"a\", \"\", ...])?",
            self.questions.len()
        ));
        t
    }

    /// How many of `answers` (letters, in question order) are right; answers past the last
    /// question are not counted.
    pub fn score(&self, answers: &[&str]) -> usize {
        (self.questions.iter().zip(answers))
            .filter(|(q, a)| matches!(read(a, q.choices.len()), Given::Choice(c) if c == q.right()))
            .count()
    }

    /// Feedback on `answers`, one letter per question in order (`"b"`, `"B"` or `"b)"`): for
    /// each question your answer, right or not, and why. A wrong answer is told which
    /// misconception its choice stands for and why it does not hold, then why the right one
    /// is right. An empty string, or a missing answer at the end (any shorter slice is fine),
    /// is "not answered yet" and keeps the right answer hidden; a letter that is not a choice
    /// gets a note saying which letters are. The score line comes first under the table:
    /// "k of N right".
    ///
    /// Errors: `InvalidArgument` when there are more answers than questions, naming both counts
    /// (nothing is graded, so no answer lands on the wrong question).
    pub fn grade(&self, answers: &[&str]) -> Result<Table> {
        let n = self.questions.len();
        if answers.len() > n {
            return Err(Error::argument(
                "answers",
                format!("{} answers", answers.len()),
                format!("at most {n}, one per question in order (\"\" for one you skip)"),
            ));
        }
        let mut t = Table::new("your quiz answers", ["#", "your answer", "result", "why"]);
        let mut empty = 0;
        for (i, q) in self.questions.iter().enumerate() {
            let given = answers.get(i).copied().unwrap_or("");
            let right = q.right();
            let (yours, result, why) = match read(given, q.choices.len()) {
                Given::Empty => {
                    empty += 1;
                    (String::new(), "not answered yet".to_string(), String::new())
                }
                Given::Unknown => (
                    given.trim().to_string(),
                    format!("{:?} is not a choice", given.trim()),
                    format!("answer with one letter from a to {}", letter(q.choices.len().saturating_sub(1))),
                ),
                Given::Choice(c) if c == right => (q.choice(c), "right".into(), q.explanation.clone()),
                Given::Choice(c) => {
                    let chosen = &q.choices[c];
                    (
                        q.choice(c),
                        format!("not quite: the answer is {}", q.choice(right)),
                        format!(
                            "{}) is the misconception \"{}\": {} {}",
                            letter(c),
                            chosen.misconception,
                            chosen.why,
                            q.explanation
                        ),
                    )
                }
            };
            t.row([(i + 1).to_string(), yours, result, why]);
        }
        let mut score = format!("{} of {n} right", self.score(answers));
        if empty > 0 {
            score += &format!(" ({empty} not answered yet)");
        }
        t.note(score);
        Ok(t)
    }
}

impl Tabular for Quiz {
    fn log(&self) -> &[String] {
        &[]
    }
    fn tables(&self) -> Vec<Table> {
        vec![self.questions()]
    }
}

show_tables!(Quiz);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_leniently_and_never_panic() {
        assert!(matches!(read(" B) ", 4), Given::Choice(1)));
        assert!(matches!(read("(a)", 4), Given::Choice(0)));
        assert!(matches!(read("", 4), Given::Empty));
        assert!(matches!(read(" ) ", 4), Given::Empty));
        for bad in ["e", "ab", "1", "é", "\u{0}", "b c"] {
            assert!(matches!(read(bad, 4), Given::Unknown), "{bad:?}");
        }
    }

    #[test]
    fn a_quiz_built_in_code_without_choices_grades_without_panicking() {
        let quiz = Quiz {
            questions: vec![QuizQuestion {
                topic: "t".into(),
                question: "q".into(),
                choices: vec![],
                answer: "".into(),
                explanation: "e".into(),
            }],
        };
        assert_eq!(quiz.grade(&["a"]).unwrap().rows[0][2], "\"a\" is not a choice");
        assert!(quiz.grade(&["a", "b"]).is_err());
        assert_eq!(quiz.questions().rows.len(), 0);
    }
}
