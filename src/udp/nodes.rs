//! Any protocol over real sockets: a learner's own node, one thread and one socket per node.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::node::NodeRef;
use crate::protocol::Networked;
use crate::report::{OpReport, Verb};
use crate::time::Time;
use crate::trace::{Recorded, Trace};

use super::runtime::{bind_all, lock, start_all, Endpoint, Shared};
use super::MAX_REAL_NODES;

/// Every node of a protocol on 127.0.0.1, in this process: the same handlers as on
/// [`Sim`](crate::sim::Sim), with real sockets and real time. Dropping it stops every thread.
#[derive(Debug)]
pub struct RealNodes<P: Networked> {
    shared: Arc<Shared<P>>,
    endpoints: Vec<Option<Endpoint>>,
}

impl<P: Networked> RealNodes<P> {
    /// Starts every node on a port the system picks.
    pub fn start(protocol: P, config: Config) -> Result<Self> {
        if config.nodes() > MAX_REAL_NODES {
            return Err(Error::argument(
                "nodes",
                config.nodes(),
                format!("1 to {MAX_REAL_NODES} on real sockets"),
            ));
        }
        let (sockets, addrs) = bind_all(&vec![0; config.nodes()])?;
        let shared = Arc::new(Shared::new(protocol, config, addrs, true, 0));
        let endpoints = start_all(&shared, sockets)?;
        Ok(RealNodes { shared, endpoints })
    }

    /// Starts an operation at `origin` and waits (real time) until a handler finishes it or
    /// the timeout passes.
    pub fn request(&mut self, origin: impl Into<NodeRef>, request: P::Request) -> Result<OpReport> {
        let origin = self.shared.config.resolve(origin)?;
        let started = Instant::now();
        let socket = self.endpoints[origin.index()].as_ref().map(|e| e.socket.clone());
        let op = self.shared.start(socket.as_deref(), Verb::Request, origin, &request, Some("request"))?;
        lock(&self.shared.book).describe(op, format!("{request:?}"));
        Ok(self.shared.finish(op, started))
    }

    /// A copy of a node's state.
    pub fn state(&self, node: impl Into<NodeRef>) -> Result<P::State> {
        let id = self.shared.config.resolve(node)?;
        Ok(lock(&self.shared.nodes[id.index()]).state.clone())
    }

    /// A copy of the trace so far.
    pub fn trace(&self) -> Trace {
        lock(&self.shared.trace).clone()
    }

    /// Stops every node thread and closes every socket.
    pub fn shutdown(mut self) {
        self.endpoints.clear();
    }
}

impl<P: Networked> Recorded for RealNodes<P> {
    fn events(&self) -> Cow<'_, Trace> {
        Cow::Owned(self.trace())
    }
    fn node_count(&self) -> usize {
        self.shared.addrs.len()
    }
    fn node_name(&self, i: usize) -> String {
        self.shared.config.name(i)
    }
    fn clock(&self) -> Time {
        self.shared.now()
    }
    fn latency_histogram(&self) -> Vec<(f64, u64)> {
        lock(&self.shared.latency).buckets()
    }
    fn tracing(&self) -> bool {
        self.shared.config.trace()
    }
}
