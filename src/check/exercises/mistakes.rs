//! The classic mistake of step 5, as a protocol: a majority register whose reads do not write
//! back. Notebook 07 runs the random seeds and the exhaustive search on it side by side.

use crate::check::ClientOp;
use crate::node::NodeId;
use crate::protocol::{Context, Out, Protocol};

use super::solutions::{Majority, RegisterMsg, RegisterState};

/// The majority register ([`Majority`]) with one change: a read answers with the newest value
/// a majority holds, without first storing it at a majority (the write-back of ABD).
///
/// Why that breaks linearizability: a write that has reached one replica but not yet a
/// majority is half finished. A read whose majority includes that replica returns the new
/// value; a read that starts after it returned, and asks a majority without that replica,
/// returns the old one. The old value came back after the new one was seen: a new-old
/// inversion, which no order of the calls explains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoWriteBack;

impl Protocol for NoWriteBack {
    type State = RegisterState;
    type Msg = RegisterMsg;
    type Request = ClientOp;
    type Output = u64;

    fn on_request(
        &self,
        node: &Context,
        state: &mut RegisterState,
        request: &ClientOp,
        out: &mut Out<RegisterMsg>,
    ) {
        Majority.on_request(node, state, request, out)
    }
    fn on_message(
        &self,
        node: &Context,
        state: &mut RegisterState,
        from: NodeId,
        msg: &RegisterMsg,
        out: &mut Out<RegisterMsg>,
    ) {
        if let RegisterMsg::Held { id, stamp, value } = *msg {
            if let Some(p) = state.pending.get_mut(&id).filter(|p| !p.storing && p.write.is_none()) {
                if Majority::heard(node, p, from, stamp, value) {
                    let answer = p.best.1;
                    state.pending.remove(&id);
                    out.respond(answer); // the mistake: no write-back before answering
                }
                return;
            }
        }
        Majority.on_message(node, state, from, msg, out)
    }
    fn on_timer(&self, node: &Context, state: &mut RegisterState, id: u64, out: &mut Out<RegisterMsg>) {
        Majority.on_timer(node, state, id, out)
    }
    fn describe(&self, msg: &RegisterMsg) -> String {
        Majority.describe(msg)
    }
    fn held(&self, state: &RegisterState) -> Vec<u64> {
        Majority.held(state)
    }
}
