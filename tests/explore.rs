//! The exhaustive search of small scopes: it finds every broken protocol of tests/checker.rs
//! and the register whose reads skip the write-back (which random seeds miss), each with a
//! shortest path that replays; the reference solutions pass or say unknown; a bound hit says
//! which; the same scope gives the same verdict and counts; bad scopes are errors.
//!
//! Run with `--nocapture` to see the states, depth, time and states per second of each.

mod common;

use common::broken::{AckBeforeStore, CountsDuplicates, NoRetry, NoWriteBack, OneReplicaReads};
use distlab::check::exercises::{self, solutions};
use distlab::check::explore::{Bound, ExploreReport, Scope, Step, Verdict};
use distlab::check::{Checker, ClientOp, Property};
use distlab::node::NodeId;
use distlab::protocol::Protocol;
use distlab::table::Tabular;

// ----- helpers -----

fn show(what: &str, r: &ExploreReport) {
    let verdict = match &r.verdict {
        Verdict::Passed => "passed".to_string(),
        Verdict::Unknown { bound } => format!("unknown ({bound})"),
        Verdict::Failed(c) => format!("failed: {} in {} steps", c.property, c.steps.len()),
    };
    println!(
        "{what}: {verdict}; {} states, {} transitions, depth {}, {:.3} s, {:.0} states/s",
        r.states,
        r.transitions,
        r.max_depth,
        r.elapsed.as_secs_f64(),
        r.states_per_second()
    );
}

/// The search finds `property` broken; the counterexample replays to a run that breaks it.
fn found<P>(
    what: &str,
    checker: &Checker<P>,
    scope: &Scope,
    property: Property<P>,
    protocol: P,
) -> ExploreReport
where
    P: Protocol<Request = ClientOp, Output = u64>,
    P::State: std::hash::Hash + Eq,
    P::Msg: std::hash::Hash + Eq,
{
    let report = checker.explore(scope).unwrap();
    show(what, &report);
    let c = report.verdict.failure().unwrap_or_else(|| panic!("{what} not found:\n{report}"));
    assert_eq!(c.property, property.name(), "{report}");
    assert!(!c.steps.is_empty());
    let outcome = checker.replay_steps(scope, &c.steps).unwrap();
    assert_eq!(outcome.history, c.history, "the replay ends where the report does");
    assert!(property.check(&protocol, &outcome).is_err(), "the replayed path still fails");
    assert!(c.diagram.is_some());
    let (text, html) = (report.to_string(), report.to_html());
    assert!(text.contains("shortest counterexample") && html.contains("data:image/svg+xml"), "{text}");
    report
}

fn send_scope() -> distlab::check::explore::ScopeBuilder {
    Scope::builder().nodes(2).call(0, ClientOp::Send { to: NodeId(1), value: 1 })
}

fn register_scope() -> distlab::check::explore::ScopeBuilder {
    Scope::builder()
        .nodes(3)
        .call(0, ClientOp::Write { value: 1 })
        .call(1, ClientOp::Read)
        .call(2, ClientOp::Read)
}

// ----- tests -----

#[test]
fn every_broken_protocol_is_found_with_a_shortest_path() {
    let scope = send_scope().losses(1).build().unwrap();
    let r = found("no retry", &exercises::reliable_delivery(NoRetry), &scope, Property::Answered, NoRetry);
    let c = r.verdict.failure().unwrap();
    assert_eq!(c.steps.len(), 2, "call, then lose the message:\n{r}");
    assert!(matches!(c.steps[1], Step::Lose { .. }));

    let scope = send_scope().duplicates(1).build().unwrap();
    found(
        "counts duplicates",
        &exercises::reliable_delivery(CountsDuplicates),
        &scope,
        Property::NoDuplicates,
        CountsDuplicates,
    );

    let scope = send_scope().losses(1).build().unwrap();
    found(
        "lesson node (a)",
        &exercises::reliable_delivery(solutions::LessonNode),
        &scope,
        Property::AckedDelivered,
        solutions::LessonNode,
    );

    let scope =
        Scope::builder().nodes(3).call(0, ClientOp::Broadcast { value: 1 }).losses(1).build().unwrap();
    let r = found(
        "lesson node (b)",
        &exercises::broadcast(solutions::LessonNode),
        &scope,
        Property::EveryLiveNodeHolds,
        solutions::LessonNode,
    );
    assert!(r.not_checked.iter().any(|n| n.contains("messages per call")), "{r}");

    let scope = register_scope().build().unwrap();
    found(
        "one-replica reads",
        &exercises::majority_register(OneReplicaReads),
        &scope,
        Property::Linearizable,
        OneReplicaReads,
    );
    found(
        "ack before store",
        &exercises::majority_register(AckBeforeStore),
        &scope,
        Property::Linearizable,
        AckBeforeStore,
    );
}

/// The classic mistake random seeds miss (200 of 200 seeds pass): found with 3 nodes, one
/// write and two reads at different nodes, no faults.
#[test]
fn the_register_without_write_back_shows_a_new_old_inversion() {
    let scope = register_scope().timer_fires(0).build().unwrap();
    let r = found(
        "no write-back",
        &exercises::majority_register(NoWriteBack),
        &scope,
        Property::Linearizable,
        NoWriteBack,
    );
    let c = r.verdict.failure().unwrap();
    // One read returned the new value, a later one the old (nothing).
    let reads: Vec<_> = c.history.calls.iter().filter(|c| c.op == ClientOp::Read).collect();
    assert_eq!(reads.len(), 2, "{r}");
    let (first, second) = (reads[0], reads[1]);
    assert_eq!(first.returned.map(|r| r.1), Some(Some(1)), "{r}");
    assert_eq!(second.returned.map(|r| r.1), Some(None), "{r}");
    assert!(first.returned.unwrap().0 < second.invoked, "the second read starts after the first ends");
    // The reference solution, on the same scope, is not caught (the whole scope is over
    // 5,000,000 states, so this stops at a bound: unknown, not passed).
    let scope = register_scope().timer_fires(0).max_states(100_000).build().unwrap();
    let ok = exercises::majority_register(solutions::Majority).explore(&scope).unwrap();
    show("majority W R R (no timers)", &ok);
    assert!(matches!(ok.verdict, Verdict::Unknown { bound: Bound::States(100_000) }), "{ok}");
}

#[test]
fn reference_solutions_pass_or_say_unknown() {
    let scope = send_scope().losses(1).duplicates(1).timer_fires(2).build().unwrap();
    let r = exercises::reliable_delivery(solutions::Reliable).explore(&scope).unwrap();
    show("reliable", &r);
    assert!(r.verdict.passed(), "{r}");

    let scope = Scope::builder()
        .nodes(3)
        .call(0, ClientOp::Broadcast { value: 1 })
        .losses(1)
        .timer_fires(1)
        .build()
        .unwrap();
    let r = exercises::broadcast(solutions::Gossip).explore(&scope).unwrap();
    show("gossip", &r);
    assert!(r.verdict.failure().is_none(), "{r}");

    // A write and a read: the whole scope (66,951 states).
    let scope = Scope::builder()
        .nodes(3)
        .call(0, ClientOp::Write { value: 1 })
        .call(1, ClientOp::Read)
        .timer_fires(0)
        .build()
        .unwrap();
    let r = exercises::majority_register(solutions::Majority).explore(&scope).unwrap();
    show("majority W R", &r);
    assert!(r.verdict.passed(), "{r}");

    let scope = register_scope().timer_fires(1).crashes(1).max_states(50_000).build().unwrap();
    let r = exercises::majority_register(solutions::Majority).explore(&scope).unwrap();
    show("majority W R R, a crash", &r);
    assert!(r.verdict.failure().is_none(), "{r}");
}

#[test]
fn a_bound_hit_is_unknown_and_named() {
    let scope = register_scope().max_states(500).build().unwrap();
    let r = exercises::majority_register(solutions::Majority).explore(&scope).unwrap();
    assert!(matches!(r.verdict, Verdict::Unknown { bound: Bound::States(500) }), "{r}");
    assert_eq!(r.states, 500);
    assert!(r.to_string().contains("unknown: stopped by the state bound (500 states)"), "{r}");

    let scope = register_scope().max_depth(3).build().unwrap();
    let r = exercises::majority_register(solutions::Majority).explore(&scope).unwrap();
    assert!(matches!(r.verdict, Verdict::Unknown { bound: Bound::Depth(3) }), "{r}");
    assert_eq!(r.max_depth, 3);

    let scope = register_scope().max_in_flight(2).build().unwrap();
    let r = exercises::majority_register(solutions::Majority).explore(&scope).unwrap();
    assert!(matches!(r.verdict, Verdict::Unknown { bound: Bound::InFlight(2) }), "{r}");
}

#[test]
fn the_same_scope_gives_the_same_verdict_and_counts() {
    let scope = register_scope().build().unwrap();
    let run = || exercises::majority_register(NoWriteBack).explore(&scope).unwrap();
    let (a, b) = (run(), run());
    assert_eq!((a.states, a.transitions, a.max_depth), (b.states, b.transitions, b.max_depth));
    let (ca, cb) = (a.verdict.failure().unwrap(), b.verdict.failure().unwrap());
    assert_eq!(ca.steps, cb.steps);
    assert_eq!(ca.history, cb.history);
    let scope = send_scope().losses(1).duplicates(1).build().unwrap();
    let run = || exercises::reliable_delivery(solutions::Reliable).explore(&scope).unwrap();
    let (a, b) = (run(), run());
    assert_eq!((a.states, a.transitions, a.max_depth), (b.states, b.transitions, b.max_depth));
}

#[test]
fn a_step_that_is_not_enabled_is_an_error_naming_it() {
    let scope = send_scope().build().unwrap();
    let checker = exercises::reliable_delivery(solutions::Reliable);
    let e = checker.replay_steps(&scope, &[Step::Crash { node: NodeId(0) }]).unwrap_err().to_string();
    assert!(e.contains("step") && e.contains("Node-0 crashes"), "{e}");
}

#[test]
fn bad_scopes_are_errors_that_name_the_value() {
    let w = || ClientOp::Write { value: 1 };
    let cases: Vec<(distlab::check::explore::ScopeBuilder, &str)> = vec![
        (Scope::builder().nodes(0).call(0, w()), "nodes"),
        (Scope::builder().nodes(6).call(0, w()), "nodes"),
        (Scope::builder().nodes(3), "calls"),
        (Scope::builder().nodes(2).call(2, w()), "call node"),
        (Scope::builder().nodes(2).call(0, ClientOp::Send { to: NodeId(0), value: 1 }), "send 1 from Node-0"),
        (Scope::builder().call(0, w()).call(1, w()), "call value"),
        (Scope::builder().call(0, w()).losses(6), "losses"),
        (Scope::builder().call(0, w()).duplicates(9), "duplicates"),
        (Scope::builder().call(0, w()).crashes(6), "crashes"),
        (Scope::builder().call(0, w()).timer_fires(21), "timer_fires"),
        (Scope::builder().call(0, w()).max_states(0), "max_states"),
        (Scope::builder().call(0, w()).max_depth(0), "max_depth"),
        (Scope::builder().call(0, w()).max_in_flight(65), "max_in_flight"),
        (Scope::builder().call(0, w()).time_limit_s(0.0), "time_limit_s"),
        (Scope::builder().call(0, w()).time_limit_s(f64::NAN), "time_limit_s"),
    ];
    for (builder, name) in cases {
        let e = builder.build().unwrap_err().to_string();
        assert!(e.contains(name), "{name}: {e}");
    }
}
