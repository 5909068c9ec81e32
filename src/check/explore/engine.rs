//! The engine: the initial state, the steps enabled in a state, and each step carried out
//! as the runtimes carry out a handler's effects.

use super::*;

impl<'a, P> Engine<'a, P>
where
    P: Protocol<Request = ClientOp, Output = u64>,
    P::State: Hash + Eq,
    P::Msg: Hash + Eq,
{
    pub(super) fn new(protocol: &'a P, scope: &'a Scope, durable: bool) -> Self {
        let mut per_node = vec![Vec::new(); scope.nodes];
        for (i, (n, _)) in scope.calls.iter().enumerate() {
            per_node[n.index()].push(i);
        }
        Engine { protocol, scope, durable, per_node }
    }

    pub(super) fn initial(&self) -> World<P::State, P::Msg> {
        let states: Vec<Arc<P::State>> =
            (0..self.scope.nodes).map(|_| Arc::new(P::State::default())).collect();
        World {
            hashes: states.iter().map(|s| fingerprint(&**s)).collect(),
            states,
            up: ((1u16 << self.scope.nodes) - 1) as u8,
            flight: Vec::new(),
            timers: Vec::new(),
            status: vec![Status::Waiting; self.scope.calls.len()],
            history: Vec::new(),
            crashes: Vec::new(),
            lost: 0,
            duplicated: 0,
            crashed: 0,
            fired: 0,
            depth: 0,
            next_id: 0,
        }
    }

    pub(super) fn context(&self, me: usize, in_operation: bool) -> Context {
        Context {
            me: NodeId(me as u32),
            nodes: self.scope.nodes,
            durable: self.durable,
            in_operation,
            now: Time(0),
        }
    }

    /// The call the client at `node` may issue now.
    pub(super) fn next_call(&self, w: &World<P::State, P::Msg>, node: usize) -> Option<usize> {
        if !w.is_up(node) {
            return None;
        }
        for &c in &self.per_node[node] {
            match w.status[c] {
                Status::Running => return None,
                Status::Waiting => return Some(c),
                Status::Returned | Status::Abandoned => {}
            }
        }
        None
    }

    /// Carries out a handler's effects at `node`. `call` is the handler's call; `reply_to`
    /// the sender of the message being handled. `trace` records sends for the diagram.
    pub(super) fn carry_out(
        &self,
        w: &mut World<P::State, P::Msg>,
        node: usize,
        call: Option<u8>,
        reply_to: Option<u8>,
        out: Out<P::Msg, u64>,
        trace: &mut Option<&mut Trace>,
    ) {
        for effect in out.effects {
            match effect {
                Effect::Send { to, msg } => self.send(w, node, to.index(), call, msg, trace),
                Effect::Reply { msg } => {
                    if let Some(to) = reply_to {
                        self.send(w, node, to.into(), call, msg, trace);
                    }
                }
                Effect::Timer { id, .. } => {
                    let t = PendingTimer { node: node as u8, id, call };
                    let at = w.timers.partition_point(|x| *x < t);
                    w.timers.insert(at, t);
                }
                Effect::CancelTimer { id } => w.timers.retain(|t| !(t.node as usize == node && t.id == id)),
                Effect::Note { .. } => {}
                Effect::Finish { output } => {
                    if let Some(c) = call {
                        if w.status[c as usize] == Status::Running {
                            w.status[c as usize] = Status::Returned;
                            w.history.push(HistoryEvent { call: c, returned: Some(output) });
                        }
                    }
                }
            }
        }
    }

    pub(super) fn send(
        &self,
        w: &mut World<P::State, P::Msg>,
        from: usize,
        to: usize,
        call: Option<u8>,
        msg: Arc<P::Msg>,
        trace: &mut Option<&mut Trace>,
    ) {
        if to >= self.scope.nodes {
            return;
        }
        let key = fingerprint(&(from as u8, to as u8, call, &*msg));
        let id = w.next_id;
        w.next_id += 1;
        if let Some(t) = trace {
            let body = self.protocol.trace_body(&msg);
            t.push(Event {
                at: step_time(w.depth),
                kind: EventKind::Sent {
                    msg: MsgId(id),
                    from: NodeId(from as u32),
                    to: NodeId(to as u32),
                    body,
                },
            });
        }
        let at = w.flight.partition_point(|f| f.key <= key);
        w.flight.insert(at, Flight { key, from: from as u8, to: to as u8, call, msg, id, sent: w.depth });
    }

    pub(super) fn set_state(w: &mut World<P::State, P::Msg>, node: usize, state: P::State) {
        w.hashes[node] = fingerprint(&state);
        w.states[node] = Arc::new(state);
    }

    /// Every step enabled in `w`, in a fixed order, each with the state it leads to.
    /// Returns the states with steps left that the timer budget stopped (0 or 1).
    pub(super) fn successors(
        &self,
        w: &World<P::State, P::Msg>,
        mut each: impl FnMut(Move, World<P::State, P::Msg>) -> bool,
    ) -> bool {
        let mut timer_budget_stopped = false;
        for node in 0..self.scope.nodes {
            if let Some(c) = self.next_call(w, node) {
                if !each(Move::Call(c), self.apply(w, Move::Call(c), &mut None).0) {
                    return timer_budget_stopped;
                }
            }
        }
        for i in 0..w.flight.len() {
            if i > 0 && w.flight[i - 1].key == w.flight[i].key {
                continue; // an identical copy: the same steps
            }
            let target_up = w.is_up(w.flight[i].to as usize);
            let mut moves = vec![Move::Deliver(i, false)];
            if target_up && u32::from(w.duplicated) < self.scope.duplicates {
                moves.push(Move::Deliver(i, true));
            }
            if target_up && u32::from(w.lost) < self.scope.losses {
                moves.push(Move::Lose(i));
            }
            for m in moves {
                if !each(m, self.apply(w, m, &mut None).0) {
                    return timer_budget_stopped;
                }
            }
        }
        for i in 0..w.timers.len() {
            if i > 0 && w.timers[i - 1] == w.timers[i] {
                continue;
            }
            let (next, counted) = self.apply(w, Move::Fire(i), &mut None);
            if counted && u32::from(w.fired) >= self.scope.timer_fires {
                timer_budget_stopped = true;
                continue;
            }
            if !each(Move::Fire(i), next) {
                return timer_budget_stopped;
            }
        }
        for node in 0..self.scope.nodes {
            let m = if w.is_up(node) {
                if u32::from(w.crashed) >= self.scope.crashes {
                    continue;
                }
                Move::Crash(node)
            } else {
                Move::Recover(node)
            };
            if !each(m, self.apply(w, m, &mut None).0) {
                return timer_budget_stopped;
            }
        }
        timer_budget_stopped
    }

    /// The state after `m`; for a timer, also whether the firing did something (and so
    /// counts against the budget, which the returned state already includes).
    pub(super) fn apply(
        &self,
        w: &World<P::State, P::Msg>,
        m: Move,
        trace: &mut Option<&mut Trace>,
    ) -> (World<P::State, P::Msg>, bool) {
        let mut w = w.clone();
        w.depth += 1;
        let at = step_time(w.depth);
        let mut counted = false;
        match m {
            Move::Call(c) => {
                let node = self.scope.calls[c].0.index();
                w.status[c] = Status::Running;
                w.history.push(HistoryEvent { call: c as u8, returned: None });
                let mut state = (*w.states[node]).clone();
                let mut out = Out::default();
                self.protocol.on_request(
                    &self.context(node, true),
                    &mut state,
                    &self.scope.calls[c].1,
                    &mut out,
                );
                Self::set_state(&mut w, node, state);
                self.carry_out(&mut w, node, Some(c as u8), None, out, trace);
            }
            Move::Deliver(i, copy) => {
                let f = if copy {
                    w.duplicated += 1;
                    w.flight[i].clone()
                } else {
                    w.flight.remove(i)
                };
                let (from, to) = (NodeId(f.from.into()), NodeId(f.to.into()));
                if !w.is_up(f.to as usize) {
                    if let Some(t) = trace {
                        t.push(Event {
                            at,
                            kind: EventKind::Dropped {
                                msg: MsgId(f.id),
                                from,
                                to,
                                cause: DropCause::TargetDown,
                            },
                        });
                    }
                } else {
                    if let Some(t) = trace {
                        if copy {
                            t.push(Event { at, kind: EventKind::Duplicated { msg: MsgId(f.id), from, to } });
                        }
                        let body = self.protocol.trace_body(&f.msg);
                        t.push(Event {
                            at,
                            kind: EventKind::Delivered {
                                msg: MsgId(f.id),
                                from,
                                to,
                                sent: step_time(f.sent),
                                body,
                            },
                        });
                    }
                    let node = f.to as usize;
                    let mut state = (*w.states[node]).clone();
                    let mut out = Out::default();
                    let ctx = self.context(node, f.call.is_some());
                    self.protocol.on_message(&ctx, &mut state, from, &f.msg, &mut out);
                    Self::set_state(&mut w, node, state);
                    self.carry_out(&mut w, node, f.call, Some(f.from), out, trace);
                }
            }
            Move::Lose(i) => {
                let f = w.flight.remove(i);
                w.lost += 1;
                if let Some(t) = trace {
                    let (from, to) = (NodeId(f.from.into()), NodeId(f.to.into()));
                    t.push(Event {
                        at,
                        kind: EventKind::Dropped { msg: MsgId(f.id), from, to, cause: DropCause::Lost },
                    });
                }
            }
            Move::Fire(i) => {
                let t = w.timers.remove(i);
                let node = t.node as usize;
                let mut state = (*w.states[node]).clone();
                let mut out = Out::default();
                self.protocol.on_timer(&self.context(node, t.call.is_some()), &mut state, t.id, &mut out);
                let hash = fingerprint(&state);
                counted = !out.effects.is_empty() || hash != w.hashes[node];
                if counted {
                    w.fired += 1;
                }
                Self::set_state(&mut w, node, state);
                self.carry_out(&mut w, node, t.call, None, out, trace);
            }
            Move::Crash(node) => {
                w.up &= !(1 << node);
                w.crashed += 1;
                let mut state = (*w.states[node]).clone();
                self.protocol.on_crash(&self.context(node, false), &mut state);
                Self::set_state(&mut w, node, state);
                w.timers.retain(|t| t.node as usize != node);
                for &c in &self.per_node[node] {
                    if w.status[c] == Status::Running {
                        w.status[c] = Status::Abandoned;
                    }
                }
                w.crashes.push((w.history.len() as u32, node as u8));
                if let Some(t) = trace {
                    t.push(Event { at, kind: EventKind::Crashed { node: NodeId(node as u32) } });
                }
            }
            Move::Recover(node) => {
                w.up |= 1 << node;
                if let Some(t) = trace {
                    t.push(Event { at, kind: EventKind::Recovered { node: NodeId(node as u32) } });
                }
                let mut state = (*w.states[node]).clone();
                let mut out = Out::default();
                self.protocol.on_recover(&self.context(node, false), &mut state, &mut out);
                Self::set_state(&mut w, node, state);
                self.carry_out(&mut w, node, None, None, out, trace);
            }
        }
        (w, counted)
    }

    /// The step as data, in the state it is taken from.
    pub(super) fn step(&self, w: &World<P::State, P::Msg>, m: Move) -> Step {
        let call = |c: Option<u8>| c.map(usize::from);
        match m {
            Move::Call(c) => Step::Call { node: self.scope.calls[c].0, call: c },
            Move::Deliver(i, copy_stays) => {
                let f = &w.flight[i];
                Step::Deliver {
                    from: NodeId(f.from.into()),
                    to: NodeId(f.to.into()),
                    call: call(f.call),
                    message: self.protocol.describe(&f.msg),
                    key: f.key,
                    copy_stays,
                }
            }
            Move::Lose(i) => {
                let f = &w.flight[i];
                Step::Lose {
                    from: NodeId(f.from.into()),
                    to: NodeId(f.to.into()),
                    call: call(f.call),
                    message: self.protocol.describe(&f.msg),
                    key: f.key,
                }
            }
            Move::Fire(i) => {
                let t = w.timers[i];
                Step::Timer { node: NodeId(t.node.into()), id: t.id, call: call(t.call) }
            }
            Move::Crash(n) => Step::Crash { node: NodeId(n as u32) },
            Move::Recover(n) => Step::Recover { node: NodeId(n as u32) },
        }
    }

    /// Whether nothing is left to happen but crashes and recoveries.
    pub(super) fn quiescent(&self, w: &World<P::State, P::Msg>) -> bool {
        w.flight.is_empty()
            && w.timers.iter().all(|t| !w.is_up(t.node as usize))
            && (0..self.scope.nodes).all(|n| self.next_call(w, n).is_none())
    }

    pub(super) fn history(&self, w: &World<P::State, P::Msg>) -> History {
        let mut calls: Vec<(u8, Call)> = Vec::new();
        for (pos, e) in w.history.iter().enumerate() {
            let (node, op) = self.scope.calls[e.call as usize];
            match e.returned {
                None => calls.push((e.call, Call { node, op, invoked: event_time(pos), returned: None })),
                Some(output) => {
                    if let Some((_, c)) = calls.iter_mut().find(|(i, _)| *i == e.call) {
                        c.returned = Some((event_time(pos), output));
                    }
                }
            }
        }
        History { calls: calls.into_iter().map(|(_, c)| c).collect() }
    }

    /// [`Property::NoDuplicates`] on the state, without building an outcome.
    pub(super) fn duplicate(&self, w: &World<P::State, P::Msg>) -> Option<String> {
        let held: Vec<Vec<u64>> = w.states.iter().map(|s| self.protocol.held(s)).collect();
        properties::no_duplicates(&held).err()
    }

    /// [`Property::Linearizable`] on the state's history, without building an outcome.
    pub(super) fn not_linearizable(&self, w: &World<P::State, P::Msg>) -> Option<String> {
        properties::linearizable(&self.history(w)).err()
    }

    pub(super) fn outcome(&self, w: &World<P::State, P::Msg>, stats: &RunStats) -> Outcome<P> {
        Outcome {
            states: w.states.iter().map(|s| (**s).clone()).collect(),
            up: (0..self.scope.nodes).map(|n| w.is_up(n)).collect(),
            history: self.history(w),
            stats: stats.clone(),
            crashes: w.crashes.iter().map(|&(at, n)| (event_time(at as usize), NodeId(n.into()))).collect(),
        }
    }
}

/// The history's clock: event `k` (a call made or answered) at `k` milliseconds. Only the
/// order means anything.
pub(super) fn event_time(position: usize) -> Time {
    Time(position as u64 * 1000)
}

/// The diagram's clock: step `k` of the path at `k` milliseconds.
pub(super) fn step_time(depth: u32) -> Time {
    Time(u64::from(depth) * 1000)
}

pub(super) fn is_safety<P: Protocol>(p: &Property<P>) -> bool {
    matches!(p, Property::Linearizable | Property::NoDuplicates)
}

/// A path's trace, for the space-time diagram.
pub(super) struct PathRun {
    pub(super) trace: Trace,
    pub(super) nodes: usize,
    pub(super) end: Time,
}

impl Recorded for PathRun {
    fn events(&self) -> std::borrow::Cow<'_, Trace> {
        std::borrow::Cow::Borrowed(&self.trace)
    }
    fn node_count(&self) -> usize {
        self.nodes
    }
    fn node_name(&self, i: usize) -> String {
        format!("Node-{i}")
    }
    fn clock(&self) -> Time {
        self.end
    }
    fn latency_histogram(&self) -> Vec<(f64, u64)> {
        Vec::new()
    }
    fn tracing(&self) -> bool {
        true
    }
}
