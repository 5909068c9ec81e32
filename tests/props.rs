//! Property tests: random configurations and random sequences of the learner's verbs (as
//! [`Call`]s, the crate's verb table) keep the network's invariants, and replay identically
//! from the same seed.

mod common;

use common::verbs::*;
use common::*;
use distlab::prelude::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_for_any_sequence_of_verbs(config in config(), verbs in calls(1..40)) {
        let mut c = Cluster::new(config.clone());
        let mut kept = Vec::new();
        for v in &verbs {
            let before = c.calls().len();
            apply(&mut c, v);
            assert_conserved(&c);
            if c.calls().len() > before {
                kept.push(v.clone());
            }
        }
        // Exactly the calls that succeeded are recorded, as they were given.
        prop_assert_eq!(c.calls(), kept.as_slice());
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
