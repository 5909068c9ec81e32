//! Random configurations and random sequences of the learner's verbs, shared by the
//! property tests.

use distlab::prelude::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
pub enum Verb {
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

pub fn verb() -> impl Strategy<Value = Verb> {
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

pub fn config() -> impl Strategy<Value = Config> {
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
pub fn apply(c: &mut Cluster, v: &Verb) {
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
