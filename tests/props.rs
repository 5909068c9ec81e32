//! Property tests: random configurations and random sequences of the learner's verbs keep the
//! network's invariants, and replay identically from the same seed.

mod common;

use common::*;
use distlab::prelude::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Verb {
    Send(usize, usize),
    Post(usize, usize),
    Broadcast(usize),
    Replicate(usize, u8),
    Sync(usize),
    Crash(usize),
    Recover(usize),
    CrashLater(usize, u16),
    Partition(usize),
    OneWay(usize, usize),
    Heal,
    Run(u16),
}

fn verb() -> impl Strategy<Value = Verb> {
    let n = 0usize..8; // may name nodes the cluster does not have: those must be errors
    prop_oneof![
        4 => (n.clone(), n.clone()).prop_map(|(a, b)| Verb::Send(a, b)),
        4 => (n.clone(), n.clone()).prop_map(|(a, b)| Verb::Post(a, b)),
        2 => n.clone().prop_map(Verb::Broadcast),
        3 => (n.clone(), 0u8..4).prop_map(|(a, v)| Verb::Replicate(a, v)),
        2 => n.clone().prop_map(Verb::Sync),
        2 => n.clone().prop_map(Verb::Crash),
        2 => n.clone().prop_map(Verb::Recover),
        1 => (n.clone(), 0u16..300).prop_map(|(a, t)| Verb::CrashLater(a, t)),
        1 => n.clone().prop_map(Verb::Partition),
        1 => (n.clone(), n.clone()).prop_map(|(a, b)| Verb::OneWay(a, b)),
        1 => Just(Verb::Heal),
        2 => (0u16..500).prop_map(Verb::Run),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (1usize..7, 0.0f64..=1.0, 0.0f64..0.5, any::<bool>(), any::<u64>(), 0u8..3).prop_map(
        |(nodes, loss, dup, durable, seed, lat)| {
            let latency = match lat {
                0 => Latency::constant(15.0),
                1 => Latency::uniform(10.0, 50.0),
                _ => Latency::exponential(30.0),
            };
            Config::builder()
                .nodes(nodes)
                .loss(loss)
                .duplication(dup)
                .durable(durable)
                .seed(seed)
                .latency(latency)
                .build()
                .expect("the strategy only makes valid configurations")
        },
    )
}

/// Applies a verb; an error is fine only when the verb named a node the cluster lacks, or
/// asked a down node to act.
fn apply(c: &mut Cluster, v: &Verb) {
    let n = c.len();
    let known = |i: usize| i < n;
    let result: Result<(), Error> = match *v {
        Verb::Send(a, b) => c.send(a, b, "m").map(drop),
        Verb::Post(a, b) => c.post(a, b, "p").map(drop),
        Verb::Broadcast(a) => c.broadcast(a, "b").map(drop),
        Verb::Replicate(a, val) => c.replicate_from(a, "k", &val.to_string()).map(drop),
        Verb::Sync(a) => c.sync(a).map(drop),
        Verb::Crash(a) => c.crash(a).map(drop),
        Verb::Recover(a) => c.recover(a).map(drop),
        Verb::CrashLater(a, t) => c.crash_at(a, c.now().as_ms() + t as f64),
        Verb::Partition(a) => c.partition([vec![a]]).map(drop),
        Verb::OneWay(a, b) => c.partition_one_way([a], [b]).map(drop),
        Verb::Heal => {
            c.heal();
            Ok(())
        }
        Verb::Run(ms) => c.run_until(c.now().as_ms() + ms as f64).map(drop),
    };
    if let Err(e) = result {
        let named_unknown = match *v {
            Verb::Send(a, b) | Verb::Post(a, b) | Verb::OneWay(a, b) => !known(a) || !known(b),
            Verb::Broadcast(a)
            | Verb::Replicate(a, _)
            | Verb::Sync(a)
            | Verb::Crash(a)
            | Verb::Recover(a)
            | Verb::CrashLater(a, _)
            | Verb::Partition(a) => !known(a),
            Verb::Heal | Verb::Run(_) => false,
        };
        let down_actor = matches!(e, Error::NodeDown { .. });
        assert!(named_unknown || down_actor, "unexpected error for {v:?}: {e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_sequence_of_verbs(config in config(), verbs in prop::collection::vec(verb(), 1..40)) {
        let mut c = Cluster::new(config.clone());
        for v in &verbs {
            apply(&mut c, v);
            assert_conserved(&c);
        }
        while c.step().is_some() {
            assert_conserved(&c);
        }
        prop_assert_eq!(c.in_flight(), 0);
        assert_no_forbidden_delivery(&c);
        assert_every_message_accounted(&c);

        // The same configuration and verbs replay byte for byte.
        let mut again = Cluster::new(config);
        for v in &verbs {
            apply(&mut again, v);
        }
        again.run();
        prop_assert_eq!(c.trace().to_jsonl(), again.trace().to_jsonl());
    }

    #[test]
    fn any_float_is_either_accepted_or_named_in_the_error(loss in any::<f64>(), min in any::<f64>(), max in any::<f64>()) {
        match Config::builder().loss(loss).latency(Latency::uniform(min, max)).build() {
            Ok(c) => {
                prop_assert!((0.0..=1.0).contains(&c.loss()));
                prop_assert!(min <= max && min >= 0.0);
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.contains("loss") || msg.contains("latency."), "{}", msg);
                prop_assert!(msg.contains("allowed"), "{}", msg);
            }
        }
    }
}
