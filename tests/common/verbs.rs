//! Random configurations and random sequences of calls (the crate's verb table,
//! [`Call`]), shared by the property tests.

use distlab::prelude::*;
use proptest::prelude::*;

/// One call. Nodes are drawn from 0..8, so a call may name nodes the cluster does not have:
/// those must be errors. Times (`crash_at`, `recover_at`, `run_until`) are offsets here;
/// [`calls`] makes them times of the run.
pub fn call() -> impl Strategy<Value = Call> {
    let n = 0u32..8;
    prop_oneof![
        4 => (n.clone(), n.clone()).prop_map(|(from, to)| Call::Send { from, to, text: "m".into() }),
        4 => (n.clone(), n.clone()).prop_map(|(from, to)| Call::Post { from, to, text: "p".into() }),
        2 => n.clone().prop_map(|from| Call::Broadcast { from, text: "b".into() }),
        1 => (0u8..4).prop_map(|v| Call::Replicate { key: "k".into(), value: v.to_string() }),
        3 => (n.clone(), 0u8..4)
            .prop_map(|(node, v)| Call::ReplicateFrom { node, key: "k".into(), value: v.to_string() }),
        2 => n.clone().prop_map(|node| Call::Sync { node }),
        2 => n.clone().prop_map(|node| Call::Crash { node }),
        2 => n.clone().prop_map(|node| Call::Recover { node }),
        1 => (n.clone(), 0u16..300).prop_map(|(node, t)| Call::CrashAt { node, at_ms: f64::from(t) }),
        1 => (n.clone(), 0u16..600).prop_map(|(node, t)| Call::RecoverAt { node, at_ms: f64::from(t) }),
        1 => n.clone().prop_map(|a| Call::Partition { groups: vec![vec![a]] }),
        1 => (n.clone(), n.clone()).prop_map(|(a, b)| Call::PartitionOneWay { from: vec![a], to: vec![b] }),
        1 => Just(Call::Heal),
        1 => Just(Call::Step),
        2 => (0u16..500).prop_map(|t| Call::RunUntil { t_ms: f64::from(t) }),
    ]
}

/// Sequences of [`call`]s whose times are times of the run: call `i`'s offset is added to
/// `150 * i` ms, about where the clock is by then (an operation takes up to its 200 ms
/// timeout). Some still fall before the clock, which a scheduled fault must refuse.
pub fn calls(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Call>> {
    prop::collection::vec(call(), len).prop_map(|mut calls| {
        for (i, call) in calls.iter_mut().enumerate() {
            let base = 150.0 * i as f64;
            match call {
                Call::CrashAt { at_ms, .. } | Call::RecoverAt { at_ms, .. } => *at_ms += base,
                Call::RunUntil { t_ms } => *t_ms += base,
                _ => {}
            }
        }
        calls
    })
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

/// Applies a call; an error is fine only when the call named a node the cluster lacks, asked
/// a down node to act (or wrote with every node down), or scheduled a fault before now.
pub fn apply(c: &mut Cluster, call: &Call) {
    let now = c.now().as_ms();
    if let Err(e) = c.apply(call.clone()) {
        let named_unknown = call.check(c.config()).is_err();
        let down_actor = matches!(e, Error::NodeDown { .. } | Error::AllDown { .. });
        let past = match (call, &e) {
            (
                Call::CrashAt { at_ms, .. } | Call::RecoverAt { at_ms, .. },
                Error::InvalidArgument { name, .. },
            ) => *name == "at_ms" && *at_ms < now,
            _ => false,
        };
        assert!(named_unknown || down_actor || past, "unexpected error for {call:?}: {e}");
    }
}
