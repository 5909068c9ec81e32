//! Hostile datagrams: whatever reaches a node's socket, the node counts what it refuses by
//! cause, never panics, and goes on answering its peers.
//!
//! The test plays Node-1 of a two-node cluster whose Node-0 is a [`Member`] (one node per
//! process), so it can send anything from a peer's address, and a stranger besides.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use distlab::ops::OpTag;
use distlab::prelude::*;
use distlab::trace::Body;
use distlab::udp::{Member, Rejected, Wire, MAX_DATAGRAM};
use proptest::prelude::*;

/// One hostile datagram, and the cause it must be counted under.
#[derive(Debug, Clone)]
enum Attack {
    /// Random bytes (garbage).
    Bytes(Vec<u8>),
    /// A valid message cut short (garbage).
    Truncated(usize),
    /// More than the largest datagram a node accepts (oversize).
    Oversize(usize),
    /// A sender or receiver id that does not match the address (wrong id).
    UnknownId { from: u32, to: u32 },
    /// A number out of its field's range (garbage).
    OutOfRange(usize),
    /// A reply tag for an operation the node never started (forged tag).
    ForgedTag { op: u32, target: u32 },
    /// Anything at all, from an address that is not a peer (stranger).
    Stranger(Vec<u8>),
}

fn ping(msg: u64, tag: Option<OpTag>, from: u32, to: u32) -> Vec<u8> {
    let wire = Wire { msg, from, to, sent_us: 0, tag, body: Body::Text { text: "ping".into() }.into() };
    serde_json::to_vec(&wire).unwrap()
}

impl Attack {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Attack::Bytes(b) | Attack::Stranger(b) => b.clone(),
            Attack::Truncated(cut) => {
                let full = ping(1, None, 1, 0);
                full[..cut % full.len()].to_vec()
            }
            Attack::Oversize(extra) => vec![b' '; MAX_DATAGRAM + 1 + extra],
            Attack::UnknownId { from, to } => ping(2, None, *from, *to),
            Attack::OutOfRange(which) => {
                let fields = [
                    r#"{"msg":18446744073709551616,"from":1,"to":0,"sent_us":0,"tag":null,"body":{"type":"ack"}}"#,
                    r#"{"msg":1,"from":4294967296,"to":0,"sent_us":0,"tag":null,"body":{"type":"ack"}}"#,
                    r#"{"msg":1,"from":1,"to":-1,"sent_us":0,"tag":null,"body":{"type":"ack"}}"#,
                    r#"{"msg":1,"from":1,"to":0,"sent_us":1e400,"tag":null,"body":{"type":"ack"}}"#,
                    r#"{"msg":1,"from":1,"to":0,"sent_us":0,"tag":{"op":-3,"target":0,"reply":true},"body":{"type":"ack"}}"#,
                    r#"{"msg":1,"from":1,"to":0,"sent_us":0,"tag":null,"body":{"type":"write","record":{"key":"k","value":"v","version":{"counter":-1,"writer":0}}}}"#,
                ];
                fields[which % fields.len()].as_bytes().to_vec()
            }
            Attack::ForgedTag { op, target } => {
                ping(3, Some(OpTag { op: *op, target: *target, reply: true }), 1, 0)
            }
        }
    }

    fn expect(&self, r: &mut Rejected) {
        match self {
            Attack::Bytes(_) | Attack::Truncated(_) | Attack::OutOfRange(_) => r.garbage += 1,
            Attack::Oversize(_) => r.oversize += 1,
            Attack::UnknownId { .. } => r.wrong_id += 1,
            Attack::ForgedTag { .. } => r.forged_tag += 1,
            Attack::Stranger(_) => r.stranger += 1,
        }
    }
}

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        // Random bytes are never a message: at worst valid JSON that is not a Wire.
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Attack::Bytes),
        (0usize..200).prop_map(Attack::Truncated),
        (0usize..2000).prop_map(Attack::Oversize),
        (any::<u32>(), any::<u32>())
            .prop_filter("not the real ids", |(f, t)| (*f, *t) != (1, 0))
            .prop_map(|(from, to)| Attack::UnknownId { from, to }),
        (0usize..6).prop_map(Attack::OutOfRange),
        (any::<u32>(), any::<u32>()).prop_map(|(op, target)| Attack::ForgedTag { op, target }),
        proptest::collection::vec(any::<u8>(), 0..100).prop_map(Attack::Stranger),
    ]
}

/// Node-0 as a member, and the sockets of its peer (us) and of a stranger.
fn target() -> (Member, UdpSocket, UdpSocket, SocketAddr) {
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let free = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let config = Config::builder().nodes(2).loss(0.0).build().unwrap();
    let member = Member::start(config, 0, &[addr, peer.local_addr().unwrap()]).unwrap();
    (member, peer, UdpSocket::bind("127.0.0.1:0").unwrap(), addr)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn hostile_datagrams_are_counted_by_cause_and_the_node_still_answers(
        attacks in proptest::collection::vec(attack(), 1..24)
    ) {
        let (member, peer, stranger, addr) = target();
        let mut expected = Rejected::default();
        for a in &attacks {
            let from = if matches!(a, Attack::Stranger(_)) { &stranger } else { &peer };
            from.send_to(&a.bytes(), addr).unwrap();
            a.expect(&mut expected);
        }
        // A well-formed request after all of it: the node answers, so it processed them all
        // (one thread reads its socket in order).
        let request = OpTag { op: 7, target: 0, reply: false };
        peer.send_to(&ping(9, Some(request), 1, 0), addr).unwrap();
        let mut buf = vec![0u8; 4096];
        let (n, _) = peer.recv_from(&mut buf).expect("the node answers its peer after the attack");
        let reply: Wire<Body> = serde_json::from_slice(&buf[..n]).unwrap();
        prop_assert_eq!(reply.tag, Some(OpTag { reply: true, ..request }));
        prop_assert_eq!(&*reply.body, &Body::Ack);
        prop_assert_eq!(member.rejected(), expected);
        member.shutdown();
    }
}
