//! How the scenario shows itself: the client's view, the reveal of the guesses, and the
//! runs with retries, as tables with notes (and the diagram, as an `<img>` in the same HTML,
//! so a cell has one output).

use super::payments::{request_id, CLIENT, SERVER};
use super::{books, Cause, FirstTry, OrderRow, Retries, Silence, EUROS, SEND_AT_MS, TIMEOUT_MS};
use crate::chart::Chart;
use crate::table::{escape, show_tables, Table, Tabular};
use crate::time::Time;

/// Unreadable pieces of a guess quoted back, at most.
const QUOTED: usize = 5;
/// Characters of one unreadable piece quoted back, at most.
const QUOTED_CHARS: usize = 20;

fn ms(t: Time) -> String {
    format!("{:.0} ms", t.as_ms())
}

/// The option lines, "a) the request was lost" to "d) ...".
fn options() -> impl Iterator<Item = String> {
    Cause::ALL.into_iter().map(|c| c.to_string())
}

impl Silence {
    /// What the client saw, and nothing else: per request what it asked, when, and that no
    /// reply came within the timeout; then the four possible causes to choose from. It is
    /// the same for every seed, because the client's view holds nothing of the cause.
    pub fn sender_view(&self) -> Table {
        let client = books(&self.sim, CLIENT);
        let mut t = Table::new(
            format!("What the client saw (seed {})", self.seed),
            ["request", "what was asked", "sent at", "what the client saw"],
        );
        for (k, (order, o)) in client.orders.iter().enumerate() {
            let first = o.tries.first().copied().unwrap_or(Time::from_ms(SEND_AT_MS[k.min(2)]));
            let saw = match o.answered.map(|a| a.since(first)) {
                Some(rtt) if rtt.as_ms() <= TIMEOUT_MS => format!("a reply after {}", ms(rtt)),
                _ => format!("no reply within {TIMEOUT_MS:.0} ms"),
            };
            t.row([format!("#{order}"), format!("charge {} € for order {order}", o.euros), ms(first), saw]);
        }
        t.note(
            "What caused each silence? Each request had a different cause; one of the four did not happen.",
        );
        for line in options() {
            t.note(line);
        }
        t.note("Guess one letter per request, in request order, e.g. silence.reveal(\"a, b, c\").");
        t
    }

    /// Grades a guess, one letter a to d per request in request order ("a, c, d", "acd",
    /// "A C D" all work), against what the trace shows, and draws the run. An empty or
    /// unreadable guess gives a reminder of how to guess and reveals nothing.
    pub fn reveal(&self, guess: &str) -> Reveal {
        let (letters, unread) = parse(guess);
        let mut notes = Vec::new();
        if !unread.is_empty() {
            let quoted: Vec<String> = unread
                .iter()
                .take(QUOTED)
                .map(|u| format!("\"{}\"", u.chars().take(QUOTED_CHARS).collect::<String>()))
                .collect();
            let more = if unread.len() > QUOTED {
                format!(" and {} more", unread.len() - QUOTED)
            } else {
                String::new()
            };
            notes.push(format!("Not a letter from a to d, so left out: {}{more}.", quoted.join(", ")));
        }
        if letters.is_empty() {
            notes.push(
                "No guess yet: give one letter per request, in request order, e.g. silence.reveal(\"a, b, c\"). \
                 The answer stays hidden until you guess."
                    .to_string(),
            );
            notes.extend(options());
            return Reveal {
                seed: self.seed,
                guesses: Vec::new(),
                truth: Vec::new(),
                details: Vec::new(),
                notes,
                chart: None,
            };
        }
        match letters.len() {
            3 => {}
            n if n > 3 => notes.push(format!("You gave {n} letters; the first three count.")),
            n => notes.push(format!("You gave {n} of three letters; the rest count as no guess.")),
        }
        let server = books(&self.sim, SERVER);
        let truth = self.truth();
        let details = self
            .tries
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let charged = server.ledger.iter().any(|c| c.order == k as u32 + 1);
                (told(t, EUROS[k.min(2)]), charged)
            })
            .map(|(d, charged)| if charged { format!("{d} (charged)") } else { format!("{d} (not charged)") })
            .collect();
        let hidden = truth.iter().filter(|c| c.charged()).count();
        notes.push(format!(
            "The client saw the same silence three times; only the trace tells them apart. \
             {hidden} of the three silences hid a charge the client knows nothing about."
        ));
        let guesses = (0..3).map(|i| letters.get(i).copied()).collect();
        Reveal { seed: self.seed, guesses, truth, details, notes, chart: Some(self.chart()) }
    }
}

/// What the trace says became of a first try, in one sentence.
fn told(t: &FirstTry, euros: u32) -> String {
    let end = t.request_end.map_or_else(|| "?".to_string(), ms);
    match t.cause {
        Some(Cause::RequestLost) => {
            format!("the network lost the request (gone at {end}); the server never saw it")
        }
        Some(Cause::ReplyLost) => {
            format!("the server got the request at {end}, charged {euros} € and replied; the network lost the reply")
        }
        Some(Cause::ServerDown) => {
            let (from, to) = t.down.map_or((None, None), |(a, b)| (Some(a), b));
            let back = to.map_or_else(|| "the end".to_string(), ms);
            let from = from.map_or_else(|| "?".to_string(), ms);
            format!(
                "the server was down from {from} to {back}; the request reached it at {end} and was dropped"
            )
        }
        Some(Cause::ServerSlow) => {
            let gave_up = ms(t.sent.after(Time::from_ms(TIMEOUT_MS)));
            let reply = t.reply_end.map_or_else(|| "?".to_string(), ms);
            format!(
                "the server got the request only at {end} and charged {euros} €; its reply came at {reply}, \
                 after the client had given up at {gave_up}"
            )
        }
        None => "the client got its reply in time".to_string(),
    }
}

/// The letters of a guess, and the pieces that were not letters a to d. Splits on spaces and
/// punctuation; "acd" is three letters; a label like "1." or "#2:" is skipped.
pub(crate) fn parse(text: &str) -> (Vec<Cause>, Vec<String>) {
    let (mut letters, mut unread) = (Vec::new(), Vec::new());
    let split = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/' | '|' | '+' | '&');
    for token in text.split(split).filter(|t| !t.is_empty()) {
        let t = token.trim_matches(|c: char| !c.is_alphanumeric());
        let t = t.trim_start_matches(|c: char| {
            c.is_ascii_digit() || matches!(c, '#' | '.' | ')' | ':' | '=' | '-')
        });
        if t.is_empty() {
            continue;
        }
        match t.chars().map(Cause::from_letter).collect::<Option<Vec<Cause>>>() {
            Some(found) => letters.extend(found),
            None => unread.push(token.to_string()),
        }
    }
    (letters, unread)
}

/// A learner's guesses beside what the trace shows, with the diagram of the run (see
/// [`Silence::reveal`]).
#[derive(Debug, Clone)]
pub struct Reveal {
    seed: u64,
    guesses: Vec<Option<Cause>>,
    truth: Vec<Cause>,
    details: Vec<String>,
    notes: Vec<String>,
    chart: Option<Chart>,
}

impl Reveal {
    /// Right guesses out of three; None when there was no guess to grade.
    pub fn score(&self) -> Option<usize> {
        self.is_graded()
            .then(|| self.guesses.iter().zip(&self.truth).filter(|(g, t)| **g == Some(**t)).count())
    }
    /// Whether there was a guess to grade.
    pub fn is_graded(&self) -> bool {
        !self.guesses.is_empty()
    }
    /// The guesses as read, one per request (None: no letter for it); empty when ungraded.
    pub fn guesses(&self) -> &[Option<Cause>] {
        &self.guesses
    }
    /// What really happened, per request; empty when ungraded (nothing is revealed).
    pub fn truth(&self) -> &[Cause] {
        &self.truth
    }
    /// The lines under the table: how the guess was read, reminders, the lesson.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
    /// The diagram of the run; None when ungraded.
    pub fn chart(&self) -> Option<&Chart> {
        self.chart.as_ref()
    }
}

impl Reveal {
    fn title(&self) -> String {
        match self.score() {
            Some(score) => format!("Your guesses against the trace (seed {}): {score} of 3 right", self.seed),
            None => format!("Nothing revealed yet (seed {})", self.seed),
        }
    }
}

impl Tabular for Reveal {
    fn to_html(&self) -> String {
        if !self.is_graded() {
            let mut h =
                format!("<div class=\"distlab-table\"><p><strong>{}</strong></p>", escape(&self.title()));
            for n in &self.notes {
                h += &format!("<p>{}</p>", escape(n));
            }
            return h + "</div>";
        }
        let mut h: String = self.tables().iter().map(Table::to_html).collect();
        if let Some(c) = &self.chart {
            h += &c.to_html();
        }
        h
    }
    fn write_text(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.is_graded() {
            writeln!(f, "{}", self.title())?;
            return self.notes.iter().try_for_each(|n| writeln!(f, "{n}"));
        }
        self.tables().iter().try_for_each(|t| write!(f, "{t}"))
    }
    /// The graded table; none before a guess.
    fn tables(&self) -> Vec<Table> {
        if !self.is_graded() {
            return Vec::new();
        }
        let mut t = Table::new(self.title(), ["request", "your guess", "what really happened", "right?"]);
        for (i, (truth, detail)) in self.truth.iter().zip(&self.details).enumerate() {
            let guess = self.guesses.get(i).copied().flatten();
            let right = match guess {
                Some(g) if g == *truth => "right",
                Some(_) => "wrong",
                None => "no guess",
            };
            let guess = guess.map_or_else(|| "-".to_string(), |g| g.to_string());
            t.row([format!("#{}", i + 1), guess, format!("{truth}: {detail}"), right.to_string()]);
        }
        t.notes.extend(self.notes.iter().cloned());
        vec![t]
    }
}

impl Tabular for Silence {
    fn tables(&self) -> Vec<Table> {
        vec![self.sender_view()]
    }
}

/// "once", "twice", "3 times".
fn times(n: u64) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// Why an order cost what it did, from its row; None when nothing needs saying.
fn why(r: &OrderRow) -> Option<String> {
    let k = r.order;
    if r.charged > 1 {
        let reason = match r.first_try {
            Cause::ReplyLost => "its first reply was lost, so the retry looked new to the server".to_string(),
            Cause::ServerSlow => {
                "its first try reached the server late, after the client had given up on it, \
                                  so the server charged both it and the retry: nothing told them apart"
                    .to_string()
            }
            _ => "nothing told the server a retry from a new order".to_string(),
        };
        return Some(format!("Order {k} was charged {}: {reason}.", times(r.charged)));
    }
    if r.resent > 0 {
        let id = request_id(k);
        return Some(format!(
            "Order {k} was charged once: when id {id} came a second time, the server had handled it \
             already and sent the reply again without charging."
        ));
    }
    if r.charged == 0 {
        return Some(format!("Order {k} was never charged: the client gave up after {} tries.", r.tries));
    }
    if r.tries > 1 {
        let reason = match r.first_try {
            Cause::RequestLost => {
                "its first request was lost, so only the retry reached the server".to_string()
            }
            Cause::ServerDown => {
                format!("the server was down, so {} of its tries never reached it", r.dropped)
            }
            _ => "only one try reached the server".to_string(),
        };
        return Some(format!("Order {k} was charged once, after {} tries: {reason}.", r.tries));
    }
    None
}

impl Tabular for Retries {
    fn to_html(&self) -> String {
        let h: String = self.tables().iter().map(Table::to_html).collect();
        h + &self.chart().to_html()
    }
    fn tables(&self) -> Vec<Table> {
        let how = if self.ids { "with" } else { "without" };
        let mut t = Table::new(
            format!("Retrying {how} request ids (seed {}): {} charges for 3 orders", self.seed, self.charged),
            [
                "order",
                "first try",
                "tries",
                "times charged",
                "answered after",
                "messages",
                "waited out in timeouts",
            ],
        );
        for r in &self.rows {
            t.row([
                format!("{} ({} €)", r.order, r.euros),
                r.first_try.to_string(),
                r.tries.to_string(),
                r.charged.to_string(),
                r.answered_after_ms.map_or_else(|| "never".to_string(), |a| format!("{a:.0} ms")),
                r.messages.to_string(),
                format!("{:.0} ms", r.waited_ms),
            ]);
        }
        let tries: usize = self.rows.iter().map(|r| r.tries).sum();
        let (messages, waited) = (self.messages(), self.waited_ms());
        t.row([
            "all".to_string(),
            String::new(),
            tries.to_string(),
            self.charged.to_string(),
            String::new(),
            messages.to_string(),
            format!("{waited:.0} ms"),
        ]);
        let extra = self.charged.saturating_sub(3);
        t.note(if extra > 0 {
            format!("{} charges for 3 orders: {extra} too many, and the client cannot tell.", self.charged)
        } else {
            format!("{} charges for 3 orders: none twice.", self.charged)
        });
        for r in &self.rows {
            if let Some(line) = why(r) {
                t.note(line);
            }
        }
        let mut cost = format!(
            "The cost of retrying: {messages} messages ({} more than one request and one reply per order) \
             and {waited:.0} ms waited out in timeouts.",
            messages.saturating_sub(6)
        );
        if self.ids {
            cost += &format!(
                " The server keeps {} request ids, and must keep each as long as a retry of it may still come.",
                self.ids_kept
            );
        }
        t.note(cost);
        vec![t]
    }
}

/// The two runs with retries of [`Silence::retries`], without request ids and with them: their
/// tables and diagrams in one output.
#[derive(Debug, Clone)]
pub struct RetryPair {
    /// Retrying without request ids: a processed order whose reply never came is charged again.
    pub without_ids: Retries,
    /// Retrying with request ids: never charged twice, at the price shown.
    pub with_ids: Retries,
}

impl Tabular for RetryPair {
    fn to_html(&self) -> String {
        self.without_ids.to_html() + &self.with_ids.to_html()
    }
    fn tables(&self) -> Vec<Table> {
        let mut all = self.without_ids.tables();
        all.extend(self.with_ids.tables());
        all
    }
}

show_tables!(Silence, Reveal, Retries, RetryPair);
