//! The parameters of a simulated cluster, checked once when they are built.
//!
//! Defaults follow the lesson's Python simulation: 3 nodes named `Node-0`.., latency uniform
//! in [10, 50) ms, 5 % loss, no duplication; a store survives a crash; a fixed seed, so a
//! notebook re-run prints the same thing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::node::{NodeId, NodeRef};

/// The largest cluster a [`Config`] accepts.
pub const MAX_NODES: usize = 1_000_000;
/// The longest latency or timeout accepted, in virtual milliseconds (one hour).
pub const MAX_MS: f64 = 3_600_000.0;
/// The seed used when none is given.
pub const DEFAULT_SEED: u64 = 2026;

/// How long a message takes from sender to receiver, in virtual milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Latency {
    /// Every message takes exactly `ms`.
    Constant {
        /// The delay.
        ms: f64,
    },
    /// Uniform in `[min_ms, max_ms)` (the lesson's `random.uniform(0.01, 0.05)` seconds).
    Uniform {
        /// Smallest delay.
        min_ms: f64,
        /// Upper bound, not reached.
        max_ms: f64,
    },
    /// Exponential with the given mean: mostly short, with a long tail.
    Exponential {
        /// The mean delay.
        mean_ms: f64,
    },
}

impl Latency {
    /// A constant delay.
    pub fn constant(ms: f64) -> Self {
        Latency::Constant { ms }
    }
    /// A delay uniform in `[min_ms, max_ms)`.
    pub fn uniform(min_ms: f64, max_ms: f64) -> Self {
        Latency::Uniform { min_ms, max_ms }
    }
    /// An exponential delay with mean `mean_ms`.
    pub fn exponential(mean_ms: f64) -> Self {
        Latency::Exponential { mean_ms }
    }

    fn validate(&self) -> Result<()> {
        let range = format!("a finite number of milliseconds in [0, {MAX_MS}]");
        let check = |field: &'static str, v: f64| {
            if v.is_finite() && (0.0..=MAX_MS).contains(&v) {
                Ok(())
            } else {
                Err(Error::config(field, v, range.clone()))
            }
        };
        match *self {
            Latency::Constant { ms } => check("latency.ms", ms),
            Latency::Uniform { min_ms, max_ms } => {
                check("latency.min_ms", min_ms)?;
                check("latency.max_ms", max_ms)?;
                if min_ms > max_ms {
                    return Err(Error::config(
                        "latency.min_ms",
                        format!("{min_ms} > max_ms {max_ms}"),
                        "min_ms <= max_ms",
                    ));
                }
                Ok(())
            }
            Latency::Exponential { mean_ms } => {
                check("latency.mean_ms", mean_ms)?;
                if mean_ms == 0.0 {
                    return Err(Error::config(
                        "latency.mean_ms",
                        mean_ms,
                        format!("a mean in (0, {MAX_MS}]"),
                    ));
                }
                Ok(())
            }
        }
    }
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Uniform { min_ms: 10.0, max_ms: 50.0 }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Constant { ms } => write!(f, "constant {ms} ms"),
            Latency::Uniform { min_ms, max_ms } => write!(f, "uniform [{min_ms}, {max_ms}) ms"),
            Latency::Exponential { mean_ms } => write!(f, "exponential, mean {mean_ms} ms"),
        }
    }
}

/// A validated cluster configuration. Build one with [`Config::builder`].
///
/// Cloning is cheap (names are shared), so experiments build many clusters from one config.
///
/// It reads and writes as JSON (a run file's header holds one): reading goes through
/// [`ConfigBuilder::build`], so a value out of range in a file is the same [`Error`] as in
/// code, naming the field, the value and the allowed range. `names` and `seed` may be left
/// out (no names; [`DEFAULT_SEED`]); every other field is required.
///
/// ```
/// # use distlab::prelude::*;
/// let config: Config = serde_json::from_str(
///     r#"{"nodes":3,"latency":{"kind":"constant","ms":5.0},"loss":0.0,"duplication":0.0,
///         "durable":true,"seed":7,"timeout_ms":200.0,"trace":true}"#,
/// ).unwrap();
/// let text = serde_json::to_string(&config).unwrap();
/// assert_eq!(serde_json::from_str::<Config>(&text).unwrap(), config);
/// let bad = serde_json::from_str::<Config>(&text.replace("\"loss\":0.0", "\"loss\":2.0"));
/// assert!(bad.unwrap_err().to_string().starts_with("invalid loss: 2 (allowed: a probability in [0, 1])"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConfigFile", into = "ConfigFile")]
pub struct Config {
    pub(crate) nodes: usize,
    pub(crate) names: Option<Arc<Names>>,
    pub(crate) latency: Latency,
    pub(crate) loss: f64,
    pub(crate) duplication: f64,
    pub(crate) durable: bool,
    pub(crate) seed: u64,
    pub(crate) timeout_ms: f64,
    pub(crate) trace: bool,
}

/// Learner-given node names and their index.
#[derive(Debug, PartialEq)]
pub(crate) struct Names {
    pub(crate) list: Vec<String>,
    pub(crate) index: BTreeMap<String, u32>,
}

/// A [`Config`] as JSON holds it: the builder's inputs, not yet checked. [`Config`] reads
/// and writes through it, and a run file's header keeps one (with its seed beside it, as
/// run files always had it), so there is one schema and one check, the builder's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigFile {
    pub(crate) nodes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) names: Option<Vec<String>>,
    pub(crate) latency: Latency,
    pub(crate) loss: f64,
    pub(crate) duplication: f64,
    pub(crate) durable: bool,
    /// Left out in a run file's header, which gives the seed before the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) seed: Option<u64>,
    pub(crate) timeout_ms: f64,
    pub(crate) trace: bool,
}

impl From<Config> for ConfigFile {
    fn from(c: Config) -> Self {
        ConfigFile {
            nodes: c.nodes,
            names: c.names.as_ref().map(|n| n.list.clone()),
            latency: c.latency,
            loss: c.loss,
            duplication: c.duplication,
            durable: c.durable,
            seed: Some(c.seed),
            timeout_ms: c.timeout_ms,
            trace: c.trace,
        }
    }
}

impl TryFrom<ConfigFile> for Config {
    type Error = Error;

    /// Through [`ConfigBuilder::build`]: the same checks and errors as in code.
    fn try_from(f: ConfigFile) -> Result<Config> {
        let b = Config::builder()
            .latency(f.latency)
            .loss(f.loss)
            .duplication(f.duplication)
            .durable(f.durable)
            .seed(f.seed.unwrap_or(DEFAULT_SEED))
            .timeout_ms(f.timeout_ms)
            .trace(f.trace);
        match f.names {
            Some(names) => b.names(names).nodes(f.nodes),
            None => b.nodes(f.nodes),
        }
        .build()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            nodes: 3,
            names: None,
            latency: Latency::default(),
            loss: 0.05,
            duplication: 0.0,
            durable: true,
            seed: DEFAULT_SEED,
            timeout_ms: 200.0,
            trace: true,
        }
    }
}

impl Config {
    /// Starts from the defaults: 3 nodes, latency uniform [10, 50) ms, loss 0.05, no
    /// duplication, durable stores, seed [`DEFAULT_SEED`], timeout 200 ms, trace on.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder { config: Config::default(), names: None, nodes_set: None }
    }
    /// A builder that starts from this configuration, to change one parameter.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            config: self.clone(),
            names: self.names.as_ref().map(|n| n.list.clone()),
            nodes_set: None,
        }
    }
    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.nodes
    }
    /// The latency model.
    pub fn latency(&self) -> Latency {
        self.latency
    }
    /// Probability that the network loses a message.
    pub fn loss(&self) -> f64 {
        self.loss
    }
    /// Probability that the network delivers a second copy of a message.
    pub fn duplication(&self) -> f64 {
        self.duplication
    }
    /// Whether a node's store survives a crash.
    pub fn durable(&self) -> bool {
        self.durable
    }
    /// The generator's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// How long a sender waits for a reply before it gives up, in virtual ms.
    pub fn timeout_ms(&self) -> f64 {
        self.timeout_ms
    }
    /// Whether every event is recorded.
    pub fn trace(&self) -> bool {
        self.trace
    }
    /// The name of node `id` (`Node-<id>` unless names were given).
    pub fn name(&self, id: usize) -> String {
        match &self.names {
            Some(n) => n.list.get(id).cloned().unwrap_or_else(|| format!("#{id}")),
            None => format!("Node-{id}"),
        }
    }
    /// Finds a node by index or name; an unknown one is an error that names it.
    pub fn resolve(&self, node: impl Into<NodeRef>) -> Result<NodeId> {
        let r = node.into();
        let found = match &r {
            NodeRef::Index(i) => usize::try_from(*i).ok().filter(|&i| i < self.nodes),
            NodeRef::Name(s) => self.lookup(s),
        };
        found
            .map(|i| NodeId(i as u32))
            .ok_or_else(|| Error::UnknownNode { given: r.to_string(), nodes: self.nodes })
    }
    /// [`Config::resolve`] for each node of a list.
    pub fn resolve_all<N: Into<NodeRef>>(&self, nodes: impl IntoIterator<Item = N>) -> Result<Vec<NodeId>> {
        nodes.into_iter().map(|n| self.resolve(n)).collect()
    }
    /// What `other` changes: "field value" for each field that differs (a field `other`
    /// leaves out, such as names, shows as `null`; the latency in words). Derived from the
    /// serialized configuration, so a field added to [`Config`] is compared without a change
    /// here.
    pub fn differences(&self, other: &Config) -> Vec<String> {
        let shown = |c: &Config| {
            let mut v = serde_json::to_value(c).ok()?;
            v["latency"] = serde_json::Value::String(c.latency.to_string());
            match v {
                serde_json::Value::Object(map) => Some(map),
                _ => None,
            }
        };
        let (Some(a), Some(b)) = (shown(self), shown(other)) else {
            return Vec::new();
        };
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        keys.into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| match b.get(k) {
                Some(serde_json::Value::String(text)) => format!("{k} {text}"),
                Some(v) => format!("{k} {v}"),
                None => format!("{k} null"),
            })
            .collect()
    }
    /// Each node's group for `partition(groups)` (0: in no group) and the number of groups,
    /// counting the nodes left out as one. A node in two groups is an error.
    pub(crate) fn groups<G, N>(&self, groups: impl IntoIterator<Item = G>) -> Result<(Vec<usize>, usize)>
    where
        G: IntoIterator<Item = N>,
        N: Into<NodeRef>,
    {
        let mut group_of = vec![0usize; self.nodes];
        let mut count = 1;
        for g in groups {
            for node in g {
                let id = self.resolve(node)?;
                if group_of[id.index()] != 0 {
                    return Err(Error::argument(
                        "groups",
                        self.name(id.index()),
                        "each node in at most one group",
                    ));
                }
                group_of[id.index()] = count;
            }
            count += 1;
        }
        Ok((group_of, count))
    }
    pub(crate) fn lookup(&self, name: &str) -> Option<usize> {
        match &self.names {
            Some(n) => n.index.get(name).map(|&i| i as usize),
            None => {
                let id: usize = name.strip_prefix("Node-")?.parse().ok()?;
                (id < self.nodes && name == format!("Node-{id}")).then_some(id)
            }
        }
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} nodes, latency {}, loss {}, duplication {}, {} stores, timeout {} ms, seed {}",
            self.nodes,
            self.latency,
            self.loss,
            self.duplication,
            if self.durable { "durable" } else { "volatile" },
            self.timeout_ms,
            self.seed
        )
    }
}

/// Sets a [`Config`]'s fields; [`ConfigBuilder::build`] checks them all.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    config: Config,
    names: Option<Vec<String>>,
    nodes_set: Option<usize>,
}

impl ConfigBuilder {
    /// Number of nodes, 1 to [`MAX_NODES`] (default 3).
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes_set = Some(n);
        self
    }
    /// Node names, unique and non-empty; their count is the number of nodes.
    pub fn names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.names = Some(names.into_iter().map(Into::into).collect());
        self
    }
    /// The latency model (default uniform [10, 50) ms).
    pub fn latency(mut self, latency: Latency) -> Self {
        self.config.latency = latency;
        self
    }
    /// Probability in [0, 1] that a message is lost (default 0.05).
    pub fn loss(mut self, p: f64) -> Self {
        self.config.loss = p;
        self
    }
    /// Probability in [0, 1] that a message is delivered twice (default 0).
    pub fn duplication(mut self, p: f64) -> Self {
        self.config.duplication = p;
        self
    }
    /// Whether a node keeps its store through a crash (default true).
    pub fn durable(mut self, durable: bool) -> Self {
        self.config.durable = durable;
        self
    }
    /// The seed: the same seed gives the same run, byte for byte.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }
    /// How long a sender waits for a reply, in (0, 3 600 000] virtual ms (default 200).
    pub fn timeout_ms(mut self, ms: f64) -> Self {
        self.config.timeout_ms = ms;
        self
    }
    /// Record every event (default true). Switch off for large runs: statistics still work.
    pub fn trace(mut self, on: bool) -> Self {
        self.config.trace = on;
        self
    }

    /// Checks every field and returns the configuration, or the first invalid field.
    pub fn build(self) -> Result<Config> {
        let mut c = self.config;
        let probability = |field: &'static str, p: f64| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(Error::config(field, p, "a probability in [0, 1]"))
            }
        };
        probability("loss", c.loss)?;
        probability("duplication", c.duplication)?;
        c.latency.validate()?;
        if !(c.timeout_ms.is_finite() && c.timeout_ms > 0.0 && c.timeout_ms <= MAX_MS) {
            return Err(Error::config(
                "timeout_ms",
                c.timeout_ms,
                format!("a number of milliseconds in (0, {MAX_MS}]"),
            ));
        }
        let allowed_nodes = format!("1 to {MAX_NODES}");
        match self.names {
            Some(list) => {
                if list.is_empty() || list.len() > MAX_NODES {
                    return Err(Error::config("names", format!("{} names", list.len()), allowed_nodes));
                }
                if let Some(n) = self.nodes_set {
                    if n != list.len() {
                        return Err(Error::config(
                            "nodes",
                            n,
                            format!("the number of names given ({})", list.len()),
                        ));
                    }
                }
                let mut index = BTreeMap::new();
                for (i, name) in list.iter().enumerate() {
                    if name.trim().is_empty() {
                        return Err(Error::config(
                            "names",
                            format!("{name:?} at position {i}"),
                            "a non-empty name",
                        ));
                    }
                    if index.insert(name.clone(), i as u32).is_some() {
                        return Err(Error::config(
                            "names",
                            format!("{name:?} (given twice)"),
                            "unique names",
                        ));
                    }
                }
                c.nodes = list.len();
                c.names = Some(Arc::new(Names { list, index }));
            }
            None => {
                let n = self.nodes_set.unwrap_or(c.nodes);
                if !(1..=MAX_NODES).contains(&n) {
                    return Err(Error::config("nodes", n, allowed_nodes));
                }
                c.nodes = n;
                c.names = None;
            }
        }
        Ok(c)
    }
}
