//! What travels in a datagram, and how a node decides whether to accept one.

use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::ops::OpTag;

/// The largest datagram a node accepts; a larger one is refused and counted.
pub const MAX_DATAGRAM: usize = 16 * 1024;

/// One message on the wire, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Wire<M> {
    /// Message number.
    pub msg: u64,
    /// Sender id.
    pub from: u32,
    /// Receiver id.
    pub to: u32,
    /// Wall-clock send time, microseconds since the Unix epoch (one machine, one clock).
    pub sent_us: u64,
    /// The operation, target and direction it belongs to; none for a one-way message.
    pub tag: Option<OpTag>,
    /// The payload.
    pub body: Arc<M>,
}

/// Datagrams a node refused, by cause. None of them can stop or panic a node, and none stops
/// it answering its peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rejected {
    /// Not a message: bad JSON, a missing field, a wrong type or a number out of range.
    pub garbage: u64,
    /// Larger than [`MAX_DATAGRAM`].
    pub oversize: u64,
    /// From an address that is not a peer.
    pub stranger: u64,
    /// A sender or receiver id that does not match the addresses (unknown or spoofed ids).
    pub wrong_id: u64,
    /// An operation tag that belongs to no operation of this run, or not to these two nodes.
    pub forged_tag: u64,
}

impl Rejected {
    /// All refused datagrams.
    pub fn total(&self) -> u64 {
        self.garbage + self.oversize + self.stranger + self.wrong_id + self.forged_tag
    }
}

/// Why a datagram was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Garbage,
    Oversize,
    Stranger,
    WrongId,
    ForgedTag,
}

impl Rejected {
    pub(crate) fn count(&mut self, why: Refusal) {
        match why {
            Refusal::Garbage => self.garbage += 1,
            Refusal::Oversize => self.oversize += 1,
            Refusal::Stranger => self.stranger += 1,
            Refusal::WrongId => self.wrong_id += 1,
            Refusal::ForgedTag => self.forged_tag += 1,
        }
    }
}

/// Decodes a datagram of `n` bytes from `src` for node `me`: the size, the sender's address,
/// the JSON and the ids are checked in that order. (Tags are checked against the operations
/// by the runtime.)
pub(crate) fn decode<M: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    src: SocketAddr,
    addrs: &[SocketAddr],
    me: u32,
) -> Result<Wire<M>, Refusal> {
    if bytes.len() > MAX_DATAGRAM {
        return Err(Refusal::Oversize);
    }
    if !addrs.contains(&src) {
        return Err(Refusal::Stranger);
    }
    let wire: Wire<M> = serde_json::from_slice(bytes).map_err(|_| Refusal::Garbage)?;
    if wire.to != me || addrs.get(wire.from as usize) != Some(&src) {
        return Err(Refusal::WrongId);
    }
    Ok(wire)
}
