//! The readable log: one line per event, in the lesson's style ("Node-1 received from
//! Node-0: Hello from Node-0!"), for simulated and real runs alike.

use crate::config::Config;
use crate::node::NodeId;
use crate::trace::{Body, DropCause, Event, EventKind};

/// One narration line for an event, or None for events not worth a line (sends).
pub fn narrate(e: &Event, config: &Config) -> Option<String> {
    let n = |id: &NodeId| config.name(id.index());
    let text = match &e.kind {
        EventKind::Sent { .. } => return None,
        EventKind::Delivered { from, to, body, .. } => match &**body {
            Body::Text { text } => format!("{} received from {}: {text}", n(to), n(from)),
            Body::Ack => format!("{} got an ack from {}", n(to), n(from)),
            Body::Write { record } => format!(
                "{} received from {}: write {} = {} ({})",
                n(to),
                n(from),
                record.key,
                record.value,
                record.version
            ),
            Body::SyncRequest { .. } => format!("{} asked {} for newer versions", n(from), n(to)),
            Body::SyncReply { records } => {
                format!("{} answered {}'s sync with {} newer record(s)", n(from), n(to), records.len())
            }
            Body::Read { .. } | Body::ReadReply { .. } => {
                format!("{} received from {}: {}", n(to), n(from), body.summary())
            }
        },
        EventKind::Dropped { from, to, cause, .. } => match cause {
            DropCause::Lost => format!("network failure: message from {} to {} lost", n(from), n(to)),
            DropCause::TargetDown => {
                format!("message from {} to {} dropped: {} is down", n(from), n(to), n(to))
            }
            DropCause::SenderDown => format!("{} is down and cannot send to {}", n(from), n(to)),
            DropCause::Partitioned => format!("message from {} to {} cut by a partition", n(from), n(to)),
        },
        EventKind::Duplicated { from, to, .. } => {
            format!("the network duplicated a message from {} to {}", n(from), n(to))
        }
        EventKind::Crashed { node } => {
            format!("{} has crashed{}", n(node), if config.durable() { "" } else { " (its store is lost)" })
        }
        EventKind::Recovered { node } => format!("{} has recovered", n(node)),
        EventKind::Stored { node, record } => {
            format!("{} stored {} = {} ({})", n(node), record.key, record.value, record.version)
        }
        EventKind::TimedOut { node, peer } => {
            format!("{} gave up waiting for {} after {} ms", n(node), n(peer), config.timeout_ms())
        }
        EventKind::Partitioned { cut } => {
            let names = |v: &[NodeId]| v.iter().map(n).collect::<Vec<_>>().join(", ");
            format!("partition: nothing from {{{}}} reaches {{{}}}", names(&cut.from), names(&cut.to))
        }
        EventKind::Healed => "partitions healed".to_string(),
    };
    Some(format!("[{:>9.3} ms] {text}", e.at.as_ms()))
}
