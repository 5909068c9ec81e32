//! The "what a sender cannot know" scenario: for every seed, three silences that look the same
//! to the client, three different causes read from the trace, and retries that charge twice
//! without request ids and never with them.

use distlab::prelude::*;
use distlab::trace::Body;

const SEEDS: std::ops::Range<u64> = 0..200;

/// (from the client, sent at ms, arrived or dropped at ms, drop cause) of one message.
type Msg = (bool, f64, Option<f64>, Option<DropCause>);

/// Every message, in the order sent, from the trace.
fn messages(trace: &distlab::trace::Trace) -> Vec<Msg> {
    let mut out: Vec<(u64, Msg)> = Vec::new();
    for e in trace.iter() {
        match &e.kind {
            EventKind::Sent { msg, from, .. } => out.push((msg.0, (from.0 == 0, e.at.as_ms(), None, None))),
            EventKind::Delivered { msg, .. } => {
                if let Some(m) = out.iter_mut().find(|m| m.0 == msg.0) {
                    m.1 .2 = Some(e.at.as_ms());
                }
            }
            EventKind::Dropped { msg, cause, .. } => {
                if let Some(m) = out.iter_mut().find(|m| m.0 == msg.0) {
                    m.1 .2 = Some(e.at.as_ms());
                    m.1 .3 = Some(*cause);
                }
            }
            _ => {}
        }
    }
    out.into_iter().map(|m| m.1).collect()
}

#[test]
fn every_seed_gives_three_distinct_causes_that_the_trace_shows() {
    let send_at = distlab::experiment::silence::SEND_AT_MS;
    let timeout = distlab::experiment::silence::TIMEOUT_MS;
    let mut seen = std::collections::BTreeSet::new();
    for seed in SEEDS {
        let s = Silence::new(seed).unwrap();
        let truth = s.truth();
        assert_eq!(truth.len(), 3, "seed {seed}");
        let mut distinct = truth.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3, "seed {seed}: {truth:?}");
        seen.insert(truth.clone());
        // Check each cause against the raw trace, independently of the library's reading.
        let msgs = messages(s.trace());
        for (k, cause) in truth.iter().enumerate() {
            let at = send_at[k];
            let of_order: Vec<_> = msgs.iter().filter(|m| m.1 >= at && m.1 < at + 1200.0).collect();
            let request = of_order.iter().find(|m| m.0).unwrap();
            let reply = of_order.iter().find(|m| !m.0);
            match cause {
                Cause::RequestLost => {
                    assert_eq!(request.3, Some(DropCause::Lost), "seed {seed} #{k}");
                    assert!(reply.is_none(), "seed {seed} #{k}");
                }
                Cause::ServerDown => {
                    assert_eq!(request.3, Some(DropCause::TargetDown), "seed {seed} #{k}");
                    assert!(reply.is_none(), "seed {seed} #{k}");
                }
                Cause::ReplyLost => {
                    assert_eq!(request.3, None, "seed {seed} #{k}");
                    assert_eq!(reply.unwrap().3, Some(DropCause::Lost), "seed {seed} #{k}");
                }
                Cause::ServerSlow => {
                    assert_eq!(request.3, None, "seed {seed} #{k}");
                    let reply = reply.unwrap();
                    assert_eq!(reply.3, None, "seed {seed} #{k}");
                    // The server answered after the client's timeout, and the reply is in the trace.
                    assert!(reply.1 > at + timeout, "seed {seed} #{k}: {reply:?}");
                }
            }
        }
        // Nothing else was lost: loss is 0 outside the placed faults.
        let dropped = msgs.iter().filter(|m| m.3.is_some()).count();
        let placed = truth.iter().filter(|c| **c != Cause::ServerSlow).count();
        assert_eq!(dropped, placed, "seed {seed}");
    }
    assert_eq!(seen.len(), 24, "every order of three of the four causes occurs");
}

#[test]
fn the_client_view_is_the_same_whatever_happened() {
    let first = Silence::new(0).unwrap().sender_view();
    assert_eq!(first.rows.len(), 3);
    for row in &first.rows {
        assert_eq!(row[3], "no reply within 200 ms");
    }
    for seed in SEEDS {
        let view = Silence::new(seed).unwrap().sender_view();
        assert_eq!(view.rows, first.rows, "seed {seed}");
        assert_eq!(view.notes, first.notes, "seed {seed}");
        assert_eq!(view.title, format!("What the client saw (seed {seed})"));
    }
    // The options are listed in letter order, in the words of CAUSES.
    for (i, text) in Silence::CAUSES.iter().enumerate() {
        let letter = (b'a' + i as u8) as char;
        assert!(first.notes.contains(&format!("{letter}) {text}")), "{:?}", first.notes);
    }
}

#[test]
fn retries_charge_twice_without_ids_and_never_with_them() {
    for seed in SEEDS {
        let s = Silence::new(seed).unwrap();
        let truth = s.truth();
        let (plain, safe) = (s.retry(false).unwrap(), s.retry(true).unwrap());
        for run in [&plain, &safe] {
            // Every order is answered in the end: the down server recovers in time.
            assert!(run.orders().iter().all(|o| o.answered_after_ms.is_some()), "seed {seed}");
            assert!(run.orders().iter().all(|o| o.tries <= distlab::experiment::silence::MAX_TRIES));
            // The same start: each order's first try met the same fate.
            assert_eq!(run.orders().iter().map(|o| o.first_try).collect::<Vec<_>>(), truth, "seed {seed}");
            assert_eq!(run.charged(), run.orders().iter().map(|o| o.charged).sum::<u64>());
        }
        assert_eq!(safe.charged(), 3, "seed {seed}");
        assert!(plain.charged() >= safe.charged());
        let processed =
            truth.iter().filter(|c| matches!(c, Cause::ReplyLost | Cause::ServerSlow)).count() as u64;
        assert_eq!(plain.charged() > 3, processed > 0, "seed {seed}");
        assert_eq!(plain.charged(), 3 + processed, "seed {seed}");
        for (o, cause) in plain.orders().iter().zip(&truth) {
            assert_eq!(o.charged, if cause.charged() { 2 } else { 1 }, "seed {seed} order {}", o.order);
        }
        assert_eq!(safe.ids_kept(), 3);
        assert_eq!(plain.ids_kept(), 0);
        assert_eq!(safe.orders().iter().map(|o| o.resent).sum::<u64>(), processed, "seed {seed}");
        // Retrying costs messages and waiting either way.
        assert!(plain.messages() > 6 && safe.messages() > 6);
        assert!(safe.waited_ms() >= 600.0);
    }
}

#[test]
fn charges_are_counted_from_the_run_not_from_a_formula() {
    // With ids, a repeat is answered by an ack and no new charge: the server's replies
    // outnumber its charges by the repeats it recognised.
    let s = Silence::new(7).unwrap();
    let safe = s.retry(true).unwrap();
    let replies = safe
        .trace()
        .iter()
        .filter(
            |e| matches!(&e.kind, EventKind::Sent { from, body, .. } if from.0 == 1 && **body == Body::Ack),
        )
        .count() as u64;
    let resent: u64 = safe.orders().iter().map(|o| o.resent).sum();
    assert_eq!(replies, safe.charged() + resent);
    let text = safe.to_string();
    assert!(text.contains("3 charges for 3 orders: none twice."), "{text}");
    assert!(text.contains("request ids"), "{text}");
}

#[test]
fn the_sentences_say_what_the_run_did() {
    let s = Silence::new(2026).unwrap();
    let plain = s.retry(false).unwrap().to_string();
    for (o, cause) in s.retry(false).unwrap().orders().iter().zip(s.truth()) {
        if cause == Cause::ReplyLost {
            let line = format!(
                "Order {} was charged twice: its first reply was lost, so the retry looked new to the server.",
                o.order
            );
            assert!(plain.contains(&line), "{plain}");
        }
    }
    assert!(plain.contains("too many"), "{plain}");
}

#[test]
fn reveal_grades_right_wrong_partial_and_unreadable_guesses() {
    for seed in [0, 1, 2026] {
        let s = Silence::new(seed).unwrap();
        let truth = s.truth();
        let right: Vec<String> = truth.iter().map(|c| c.letter().to_string()).collect();
        // Every spelling of the right answer.
        for guess in [
            right.join(", "),
            right.join(""),
            right.join(" ").to_uppercase(),
            format!("1) {} 2) {} 3) {}", right[0], right[1], right[2]),
        ] {
            let r = s.reveal(&guess);
            assert_eq!(r.score(), Some(3), "seed {seed}: {guess:?} {:?}", r.notes());
            assert_eq!(r.truth(), truth.as_slice());
            assert!(r.to_html().contains("<img src=\"data:image/svg+xml;base64,"));
        }
        // The missing cause, three times: all wrong.
        let missing = Cause::ALL.into_iter().find(|c| !truth.contains(c)).unwrap();
        let wrong = s.reveal(&[missing.letter(); 3].iter().collect::<String>());
        assert_eq!(wrong.score(), Some(0));
        assert!(wrong.to_string().contains("0 of 3 right"));
        // Two letters: graded, the third counts as no guess.
        let partial = s.reveal(&format!("{} {}", right[0], right[1]));
        assert_eq!(partial.score(), Some(2));
        assert_eq!(partial.guesses()[2], None);
        assert!(partial.to_string().contains("no guess"));
        // Four letters: the first three count.
        assert_eq!(s.reveal(&format!("{}{}{}a", right[0], right[1], right[2])).score(), Some(3));
        // Nothing readable: a reminder, and nothing revealed.
        for guess in ["", "   ", "hello world", "???", "x y z", "1, 2, 3", "\u{1F600}", "e f g"] {
            let r = s.reveal(guess);
            assert_eq!(r.score(), None, "{guess:?}");
            assert!(r.truth().is_empty() && r.chart().is_none());
            let html = r.to_html();
            assert!(html.contains("No guess yet"), "{html}");
            assert!(!html.contains("<img"), "{html}");
            assert!(!html.contains("really happened"), "{html}");
        }
        // Unreadable pieces are quoted back, escaped, and the rest is graded.
        let mixed = s.reveal(&format!("{} <em>maybe</em> {} {}", right[0], right[1], right[2]));
        assert_eq!(mixed.score(), Some(3), "{:?}", mixed.notes());
        let html = mixed.to_html();
        assert!(html.contains("&lt;em&gt;maybe") && !html.contains("<em>"), "{html}");
    }
    // A very long guess neither panics nor floods the output.
    let s = Silence::new(3).unwrap();
    let long = "zz ".repeat(100_000);
    let r = s.reveal(&long);
    assert!(r.to_html().len() < 5_000);
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    for seed in [0, 2026, u64::MAX] {
        let (a, b) = (Silence::new(seed).unwrap(), Silence::new(seed).unwrap());
        assert_eq!(a.to_html(), b.to_html());
        assert_eq!(a.reveal("a b c").to_html(), b.reveal("a b c").to_html());
        assert_eq!(a.chart().svg(), b.chart().svg());
        for ids in [false, true] {
            assert_eq!(a.retry(ids).unwrap().to_html(), b.retry(ids).unwrap().to_html());
        }
        assert_eq!(a.trace().to_jsonl(), b.trace().to_jsonl());
    }
    // Different seeds give different runs.
    assert_ne!(Silence::new(1).unwrap().trace().to_jsonl(), Silence::new(2).unwrap().trace().to_jsonl());
}

/// `retries()` is the two runs of `retry(false)` and `retry(true)`, shown together (the
/// notebook grades the guess of charges above them with `Prediction::beside`).
#[test]
fn retries_shows_both_runs_in_one_output() {
    for seed in [0, 7, 2026] {
        let silence = Silence::new(seed).unwrap();
        let pair = silence.retries().unwrap();
        assert_eq!(pair.without_ids.charged(), silence.retry(false).unwrap().charged());
        assert_eq!(pair.with_ids.charged(), 3);
        let html = Prediction::number("charges", "3", pair.without_ids.charged() as f64, 0.0, "why")
            .beside(&pair)
            .to_html();
        let order = ["your prediction", "Retrying without request ids", "Retrying with request ids"];
        let at: Vec<usize> = order.iter().map(|s| html.find(s).expect(s)).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
    }
}
