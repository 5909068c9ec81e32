//! Predict, then run: a learner's guess shown beside what the run measured.
//!
//! A guess written down before an experiment is what turns a result into a surprise or a
//! confirmation, and both are remembered better than a number read off a table. In a notebook
//! the learner writes the guess as a string in a cell tagged `prediction`
//! (`let my_prediction = "";`), so an empty guess still compiles; the cell that runs the
//! experiment ends with a [`Prediction`], which shows the guess, the measured value, whether
//! the two were close, and one line on why.
//!
//! Nothing here returns an error: an empty or unreadable guess gets a friendly line, and the
//! measured value is shown all the same.
//!
//! ```
//! use distlab::predict::Prediction;
//!
//! let p = Prediction::number("answered at p = 0.5", "90%", 0.875, 0.05, "all three must be down");
//! assert!(p.is_close());
//! let p = Prediction::choice("which write survives?", "b", &["Node-0's", "Node-4's"], 1, "ties go to the higher id");
//! assert!(p.is_close());
//! assert!(!Prediction::number("reach", "", 0.81, 0.05, "").is_close());
//! // graded against the model's exact value; the sample of a run is shown beside it
//! let p = Prediction::exact("reach all 4", "0.8", 0.95f64.powi(4), "0.79 in 1000 runs", 0.03, "0.95^4");
//! assert!(p.is_close());
//! assert_eq!(p.measured, "0.815");
//! ```

use std::fmt;

use crate::table::{emit_html, escape, Tabular};

/// How a guess compares with the measurement.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Within the tolerance, or the right choice.
    Close,
    /// Too far off (the text says by how much), or another choice.
    Off(String),
    /// Nothing written yet.
    Empty,
    /// Written, but not readable as a number or as one of the choices (the text says why).
    Unreadable(String),
}

/// A guess, the measured value and a one-line reason, shown as HTML in a notebook and as text
/// in a terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// What was predicted.
    pub question: String,
    /// The guess as the learner wrote it.
    pub guess: String,
    /// The measured value, as shown.
    pub measured: String,
    /// The comparison.
    pub outcome: Outcome,
    /// Why the measured value is what it is.
    pub why: String,
    /// For a guess graded against an exact value ([`Prediction::exact`]): what a run of the
    /// model measured, shown beside the exact value and not graded.
    pub sample: Option<String>,
}

/// Reads a number as a learner may write it: `0.8`, `.8`, `0,8`, `80%`, `7/8`, `4x`.
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim().replace(',', ".").to_lowercase();
    let (t, scale) = match t.strip_suffix('%') {
        Some(rest) => (rest.trim().to_string(), 0.01),
        None => (t.strip_suffix('x').or_else(|| t.strip_suffix('×')).unwrap_or(&t).trim().to_string(), 1.0),
    };
    let value = match t.split_once('/') {
        Some((a, b)) => {
            let (a, b) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
            (b != 0.0).then(|| a / b)?
        }
        None => t.parse::<f64>().ok()?,
    };
    let value = value * scale;
    value.is_finite().then_some(value)
}

/// A number shown with at most three decimals and no trailing zeros.
pub fn short(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

impl Prediction {
    /// A numeric guess against a measured value; close when they differ by at most
    /// `tolerance`.
    pub fn number(question: &str, guess: &str, measured: f64, tolerance: f64, why: &str) -> Prediction {
        let outcome = if guess.trim().is_empty() {
            Outcome::Empty
        } else {
            match parse_number(guess) {
                None => Outcome::Unreadable(format!(
                    "could not read {:?} as a number: write it like 0.8, 80% or 7/8",
                    guess.trim()
                )),
                Some(g) if (g - measured).abs() <= tolerance.abs() => Outcome::Close,
                Some(g) => Outcome::Off(format!(
                    "off by {} (close means within {})",
                    short((g - measured).abs()),
                    short(tolerance.abs())
                )),
            }
        };
        Prediction {
            question: question.to_string(),
            guess: guess.trim().to_string(),
            measured: short(measured),
            outcome,
            why: why.to_string(),
            sample: None,
        }
    }

    /// A numeric guess graded against `exact`, the value the model gives (a probability
    /// computed, not sampled), with `sample` (what a run of the simulation measured, for
    /// example `"0.79 over 1000 broadcasts"`) shown beside it. A small sample scatters around
    /// the exact value, so grading against it would mark a right guess wrong by chance.
    pub fn exact(
        question: &str,
        guess: &str,
        exact: f64,
        sample: &str,
        tolerance: f64,
        why: &str,
    ) -> Prediction {
        let mut p = Prediction::number(question, guess, exact, tolerance, why);
        p.sample = Some(sample.to_string());
        p
    }

    /// A guess among `options`, against the option the run produced (`measured`, an index
    /// into `options`). The guess may be the option's letter (`a`, `b`, ...) or the start of
    /// its text, in any case.
    pub fn choice(question: &str, guess: &str, options: &[&str], measured: usize, why: &str) -> Prediction {
        let letters: Vec<String> = (0..options.len()).map(letter).collect();
        let listed =
            options.iter().zip(&letters).map(|(o, l)| format!("{l}) {o}")).collect::<Vec<_>>().join(", ");
        let shown = options.get(measured).map_or_else(|| "?".to_string(), |o| o.to_string());
        let g = guess.trim().trim_end_matches(')').to_lowercase();
        let outcome = if g.is_empty() {
            Outcome::Empty
        } else {
            let picked = letters.iter().position(|l| *l == g).or_else(|| {
                let starts: Vec<usize> =
                    (0..options.len()).filter(|&i| options[i].to_lowercase().starts_with(&g)).collect();
                (starts.len() == 1).then(|| starts[0])
            });
            match picked {
                None => Outcome::Unreadable(format!("{:?} is none of the choices: {listed}", guess.trim())),
                Some(i) if i == measured => Outcome::Close,
                Some(i) => Outcome::Off(format!("you chose {}) {}", letters[i], options[i])),
            }
        };
        Prediction {
            question: question.to_string(),
            guess: guess.trim().to_string(),
            measured: match options.get(measured) {
                Some(_) => format!("{}) {shown}", letters[measured]),
                None => shown,
            },
            outcome,
            why: why.to_string(),
            sample: None,
        }
    }

    /// True when the guess was close (or the right choice).
    pub fn is_close(&self) -> bool {
        self.outcome == Outcome::Close
    }

    fn verdict(&self) -> String {
        match &self.outcome {
            Outcome::Close => "yes".to_string(),
            Outcome::Off(how) => format!("no, {how}"),
            Outcome::Empty => {
                "no prediction yet: write a guess in the prediction cell above, run it, then run this \
                 cell again (guessing first is what makes the result stick)"
                    .to_string()
            }
            Outcome::Unreadable(why) => why.clone(),
        }
    }

    /// "measured: X", or "exact: X (this run's sample: Y)" for [`Prediction::exact`].
    fn answer_text(&self) -> (String, String) {
        match &self.sample {
            None => ("measured".to_string(), self.measured.clone()),
            Some(s) => ("exact".to_string(), format!("{} (this run measured {s})", self.measured)),
        }
    }

    /// The prediction as an HTML block.
    pub fn to_html(&self) -> String {
        let guess = if self.guess.is_empty() { "(not written yet)" } else { &self.guess };
        let (label, answer) = self.answer_text();
        let colour = match self.outcome {
            Outcome::Close => "#009E73",
            Outcome::Off(_) => "#D55E00",
            _ => "#999999",
        };
        format!(
            "<div class=\"distlab-prediction\" style=\"border-left:4px solid {colour};padding:0.3em 0.8em;margin:0.4em 0\">\
             <div><b>{q}</b></div>\
             <div>your prediction: <b>{g}</b> &middot; {l}: <b>{m}</b></div>\
             <div>close? {v}</div>\
             <div>why: {w}</div></div>",
            q = escape(&self.question),
            g = escape(guess),
            l = label,
            m = escape(&answer),
            v = escape(&self.verdict()),
            w = escape(&self.why),
        )
    }

    /// Shows the prediction under a notebook cell.
    pub fn evcxr_display(&self) {
        emit_html(&self.to_html());
    }

    /// This prediction, graded, above what it was graded against, as one output.
    ///
    /// Why: evcxr shows one HTML result per cell (the last one), so a cell that prints a report
    /// and then ends in a `Prediction` shows the report as plain text. With `beside`, the
    /// report keeps its tables and charts under the graded guess.
    pub fn beside(&self, evidence: &impl Tabular) -> Beside {
        Beside { html: self.to_html() + &evidence.to_html(), text: format!("{self}{}", TextOf(evidence)) }
    }
}

/// A graded [`Prediction`] followed by the report it was graded against
/// ([`Prediction::beside`]): HTML in a notebook, text in a terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Beside {
    html: String,
    text: String,
}

impl Beside {
    /// The prediction, then the report, as HTML.
    pub fn to_html(&self) -> String {
        self.html.clone()
    }

    /// Shows both under a notebook cell.
    pub fn evcxr_display(&self) {
        emit_html(&self.html);
    }
}

impl fmt::Display for Beside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A [`Tabular`]'s text form, for `format!`.
struct TextOf<'a, T: Tabular>(&'a T);

impl<T: Tabular> fmt::Display for TextOf<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_text(f)
    }
}

impl fmt::Display for Prediction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guess = if self.guess.is_empty() { "(not written yet)" } else { &self.guess };
        writeln!(f, "{}", self.question)?;
        let (label, answer) = self.answer_text();
        writeln!(f, "  your prediction: {guess} | {label}: {answer}")?;
        writeln!(f, "  close? {}", self.verdict())?;
        writeln!(f, "  why: {}", self.why)
    }
}

fn letter(i: usize) -> String {
    char::from(b'a' + (i % 26) as u8).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_learners_write_them() {
        for (text, want) in
            [("0.8", 0.8), (".8", 0.8), ("0,8", 0.8), ("80%", 0.8), ("80 %", 0.8), ("4/5", 0.8), ("4x", 4.0)]
        {
            assert_eq!(parse_number(text), Some(want), "{text}");
        }
        for text in ["", "abc", "1/0", "NaN", "inf", "%"] {
            assert_eq!(parse_number(text), None, "{text}");
        }
    }

    #[test]
    fn numeric_outcomes() {
        assert!(Prediction::number("q", "0.9", 0.875, 0.05, "w").is_close());
        let off = Prediction::number("q", "0.5", 0.875, 0.05, "w");
        assert_eq!(off.outcome, Outcome::Off("off by 0.375 (close means within 0.05)".into()));
        assert_eq!(Prediction::number("q", "  ", 0.875, 0.05, "w").outcome, Outcome::Empty);
        assert!(matches!(Prediction::number("q", "most", 0.875, 0.05, "w").outcome, Outcome::Unreadable(_)));
        assert!(Prediction::number("q", "", 1.0, 0.1, "w").to_string().contains("no prediction yet"));
    }

    #[test]
    fn choices_by_letter_or_text() {
        let opts = ["yes, it holds 200", "no, it still holds 100"];
        assert!(Prediction::choice("q", "b", &opts, 1, "w").is_close());
        assert!(Prediction::choice("q", "No", &opts, 1, "w").is_close());
        assert!(Prediction::choice("q", "B)", &opts, 1, "w").is_close());
        assert!(!Prediction::choice("q", "yes", &opts, 1, "w").is_close());
        assert!(matches!(Prediction::choice("q", "maybe", &opts, 1, "w").outcome, Outcome::Unreadable(_)));
        // a measured index out of range is shown, not a panic
        assert_eq!(Prediction::choice("q", "a", &opts, 7, "w").measured, "?");
    }

    #[test]
    fn exact_grades_against_the_model_and_shows_the_sample() {
        // a sample of 20 may land at 0.8 while the model says 0.875: a guess of 0.875 is right
        let p = Prediction::exact("q", "0.875", 0.875, "0.8 over 20 requests", 0.02, "w");
        assert!(p.is_close());
        let text = p.to_string();
        assert!(text.contains("exact: 0.875 (this run measured 0.8 over 20 requests)"), "{text}");
        assert!(p.to_html().contains("exact: <b>0.875 (this run measured 0.8 over 20 requests)</b>"));
        // the sample is not what is graded
        assert!(!Prediction::exact("q", "0.8", 0.875, "0.8", 0.02, "w").is_close());
        assert_eq!(Prediction::exact("q", "", 0.5, "0.4", 0.1, "w").outcome, Outcome::Empty);
        assert_eq!(Prediction::number("q", "1", 1.0, 0.1, "w").sample, None);
    }

    #[test]
    fn html_is_escaped() {
        let p = Prediction::number("<q>", "<b>", 1.0, 0.1, "<w>");
        let html = p.to_html();
        assert!(html.contains("&lt;b&gt;") && !html.contains("<b><b>"));
    }

    #[test]
    fn beside_keeps_the_report_under_the_graded_guess_in_one_output() {
        struct Report;
        impl Tabular for Report {
            fn tables(&self) -> Vec<crate::table::Table> {
                let mut t = crate::table::Table::new("the run", ["what", "value"]);
                t.row(["charges", "5"]);
                vec![t]
            }
        }
        let report = Report;
        let both = Prediction::number("charges", "3", 5.0, 0.0, "two retries charged again").beside(&report);
        let html = both.to_html();
        let (guess, table) = (html.find("your prediction").unwrap(), html.find("the run").unwrap());
        assert!(guess < table, "the graded guess comes first");
        let text = both.to_string();
        assert!(text.contains("your prediction: 3") && text.contains("charges"));
    }
}
