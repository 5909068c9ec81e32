//! Descriptions of architectures (who talks to whom) for the lesson's "simple diagram"
//! activity: build one in code or write it as JSON, then draw it with
//! [`Topology::chart`].
//!
//! ```
//! use distlab::topology::Topology;
//! let t = Topology::new("my web app")
//!     .client("Browser")
//!     .server("DNS")
//!     .server("Web server")
//!     .link("Browser", "DNS")?
//!     .link("Browser", "Web server")?;
//! assert_eq!(t.links.len(), 2);
//! let svg = t.chart().svg();
//! assert!(svg.contains("Web server"));
//! # Ok::<(), distlab::Error>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use plotters::prelude::*;

use crate::chart::{color, err, font, note, titled, Area, Chart, Draw, Drawing, Drawn, MAX_DRAWN_NODES};
use crate::error::{Error, Result};
use crate::table::Table;

/// Most nodes a topology may have.
pub const MAX_TOPOLOGY_NODES: usize = 10_000;
/// Most links a generated topology may have (a full mesh of 1,000 peers has 499,500).
pub const MAX_LINKS: usize = 1_000_000;

fn links_ok(what: &'static str, value: impl std::fmt::Display, links: usize) -> Result<()> {
    if links <= MAX_LINKS {
        Ok(())
    } else {
        Err(Error::argument(
            what,
            value,
            format!("a shape with at most {MAX_LINKS} links (this one has {links})"),
        ))
    }
}

/// What a node does in an architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Asks for things.
    Client,
    /// Answers.
    Server,
    /// Both asks and answers.
    Peer,
}

impl Role {
    /// "client", "server" or "peer".
    pub fn label(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
            Role::Peer => "peer",
        }
    }
}

/// A node of a topology.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Its name, unique in the topology.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// Nodes and the links between them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// Shown as the chart's title.
    pub name: String,
    /// The nodes.
    pub nodes: Vec<Member>,
    /// Links, as indices into `nodes`.
    pub links: Vec<(usize, usize)>,
}

/// The JSON form: `{"name": .., "nodes": [{"name": .., "role": "client"}], "links": [["a", "b"]]}`
/// (other fields, such as an everyday example's "summary", are ignored).
#[derive(Deserialize)]
struct Description {
    name: String,
    nodes: Vec<Member>,
    #[serde(default)]
    links: Vec<[String; 2]>,
}

fn count_ok(what: &'static str, n: usize) -> Result<()> {
    if (1..=MAX_TOPOLOGY_NODES).contains(&n) {
        Ok(())
    } else {
        Err(Error::argument(what, n, format!("1 to {MAX_TOPOLOGY_NODES}")))
    }
}

impl Topology {
    /// An empty topology.
    pub fn new(name: impl Into<String>) -> Self {
        Topology { name: name.into(), nodes: Vec::new(), links: Vec::new() }
    }
    /// Adds a node (or changes the role of one with that name).
    pub fn node(mut self, name: impl Into<String>, role: Role) -> Self {
        let name = name.into();
        match self.nodes.iter_mut().find(|m| m.name == name) {
            Some(m) => m.role = role,
            None => self.nodes.push(Member { name, role }),
        }
        self
    }
    /// Adds a client.
    pub fn client(self, name: impl Into<String>) -> Self {
        self.node(name, Role::Client)
    }
    /// Adds a server.
    pub fn server(self, name: impl Into<String>) -> Self {
        self.node(name, Role::Server)
    }
    /// Adds a peer.
    pub fn peer(self, name: impl Into<String>) -> Self {
        self.node(name, Role::Peer)
    }
    /// Links two nodes by name; an unknown name is an error that lists the known ones.
    pub fn link(mut self, a: &str, b: &str) -> Result<Self> {
        let (i, j) = (self.index(a)?, self.index(b)?);
        if i != j && !self.links.contains(&(i, j)) && !self.links.contains(&(j, i)) {
            self.links.push((i, j));
        }
        Ok(self)
    }
    fn index(&self, name: &str) -> Result<usize> {
        self.nodes.iter().position(|m| m.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.nodes.iter().map(|m| m.name.as_str()).take(20).collect();
            Error::argument(
                "link",
                format!("{name:?}"),
                format!("a node of this topology: {}", known.join(", ")),
            )
        })
    }

    /// Centralized: one server, every client linked to it (a star).
    pub fn centralized(clients: usize) -> Result<Self> {
        count_ok("clients", clients)?;
        let mut t = Topology::new(format!("centralized: {clients} clients, 1 server")).server("server");
        for i in 1..=clients {
            t = t.client(format!("client-{i}"));
            t.links.push((0, i));
        }
        Ok(t)
    }
    /// Client-server with replicas: every client linked to every server, servers linked to
    /// each other (they replicate).
    pub fn client_server(clients: usize, servers: usize) -> Result<Self> {
        count_ok("clients", clients)?;
        count_ok("servers", servers)?;
        links_ok("servers", servers, clients * servers + servers * (servers - 1) / 2)?;
        let mut t = Topology::new(format!("client-server: {clients} clients, {servers} servers"));
        for s in 1..=servers {
            t = t.server(format!("server-{s}"));
        }
        for c in 1..=clients {
            t = t.client(format!("client-{c}"));
        }
        for s in 0..servers {
            for s2 in s + 1..servers {
                t.links.push((s, s2));
            }
            for c in 0..clients {
                t.links.push((servers + c, s));
            }
        }
        Ok(t)
    }
    /// Peer-to-peer, full mesh: every peer linked to every other.
    pub fn peer_to_peer(peers: usize) -> Result<Self> {
        count_ok("peers", peers)?;
        links_ok("peers", peers, peers * (peers - 1) / 2)?;
        let mut t = Topology::new(format!("peer-to-peer: {peers} peers, full mesh"));
        for i in 0..peers {
            t = t.peer(format!("peer-{i}"));
        }
        for i in 0..peers {
            for j in i + 1..peers {
                t.links.push((i, j));
            }
        }
        Ok(t)
    }
    /// A ring of peers: each linked to the next.
    pub fn ring(peers: usize) -> Result<Self> {
        count_ok("peers", peers)?;
        let mut t = Topology::new(format!("ring of {peers} peers"));
        for i in 0..peers {
            t = t.peer(format!("peer-{i}"));
        }
        if peers > 1 {
            t.links = (0..peers).map(|i| (i, (i + 1) % peers)).collect();
            t.links.dedup();
        }
        Ok(t)
    }

    /// Reads the JSON form; `source` names it in errors (a path, or "my diagram").
    pub fn parse(json: &str, source: &str) -> Result<Self> {
        let d: Description = serde_json::from_str(json).map_err(|e| Error::json(source, &e))?;
        let fail = |message: String| Error::Data { file: source.to_string(), line: 0, column: 0, message };
        if d.nodes.len() > MAX_TOPOLOGY_NODES {
            return Err(fail(format!("{} nodes; at most {MAX_TOPOLOGY_NODES}", d.nodes.len())));
        }
        let mut t = Topology::new(d.name);
        for m in d.nodes {
            if t.nodes.iter().any(|x| x.name == m.name) {
                return Err(fail(format!("node {:?} is listed twice", m.name)));
            }
            t.nodes.push(m);
        }
        for [a, b] in &d.links {
            t = t.link(a, b).map_err(|e| fail(format!("link [{a:?}, {b:?}]: {e}")))?;
        }
        Ok(t)
    }
    /// Reads the JSON form from a file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
        Self::parse(&text, &path.display().to_string())
    }
    /// The topology of one of the lesson's everyday examples.
    pub fn from_example(e: &crate::lesson::Example) -> Result<Self> {
        let mut t = Topology::new(format!("{} ({})", e.name, e.architecture));
        for n in &e.nodes {
            let role = match n.role.as_str() {
                "client" => Role::Client,
                "server" => Role::Server,
                "peer" => Role::Peer,
                other => {
                    return Err(Error::argument(
                        "role",
                        format!("{other:?} of {}", n.name),
                        "client, server or peer",
                    ))
                }
            };
            t = t.node(n.name.clone(), role);
        }
        for [a, b] in &e.links {
            t = t.link(a, b)?;
        }
        Ok(t)
    }
    /// One row per topology: its name, its clients, its servers and peers, and how many links
    /// it has; the title is `name` with the number of systems.
    ///
    /// ```
    /// use distlab::topology::Topology;
    /// let chat = Topology::new("chat").client("phone").server("chat server").link("phone", "chat server")?;
    /// let t = Topology::summary("my day", &[chat]);
    /// assert_eq!(t.rows[0], ["chat", "phone", "chat server", "1"]);
    /// # Ok::<(), distlab::Error>(())
    /// ```
    pub fn summary(name: &str, systems: &[Topology]) -> Table {
        let mut t = Table::new(
            format!("{name}: {} system{}", systems.len(), if systems.len() == 1 { "" } else { "s" }),
            ["system", "clients", "servers and peers", "links"],
        );
        for s in systems {
            let names = |clients: bool| {
                let parts = s.nodes.iter().filter(|m| (m.role == Role::Client) == clients);
                parts.map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            };
            t.row([s.name.clone(), names(true), names(false), s.links.len().to_string()]);
        }
        t
    }

    /// All `systems` as one topology called `name`: a part with the same name in several
    /// systems (your phone in every one of them) is drawn once, with every link it has, and
    /// keeps the role it has where it first appears. A link found twice is drawn once.
    ///
    /// Errors: `InvalidArgument` naming `merge` when the result would have more than
    /// [`MAX_TOPOLOGY_NODES`] nodes or [`MAX_LINKS`] links.
    pub fn merge(name: impl Into<String>, systems: &[Topology]) -> Result<Topology> {
        let mut merged = Topology::new(name);
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        for s in systems {
            let ids: Vec<usize> = (s.nodes.iter())
                .map(|m| {
                    *index.entry(m.name.clone()).or_insert_with(|| {
                        merged.nodes.push(m.clone());
                        merged.nodes.len() - 1
                    })
                })
                .collect();
            if merged.nodes.len() > MAX_TOPOLOGY_NODES {
                return Err(Error::argument(
                    "merge",
                    format!("{} nodes", merged.nodes.len()),
                    format!("at most {MAX_TOPOLOGY_NODES}"),
                ));
            }
            for &(a, b) in &s.links {
                let (Some(&i), Some(&j)) = (ids.get(a), ids.get(b)) else { continue };
                if i != j && seen.insert((i.min(j), i.max(j))) {
                    merged.links.push((i, j));
                }
            }
            links_ok("merge", format!("{} links", merged.links.len()), merged.links.len())?;
        }
        Ok(merged)
    }

    /// The drawing.
    pub fn chart(&self) -> Chart {
        Chart::new(self.name.clone(), (620, 520), Drawing::of(self.clone()))
    }
    /// Shows the drawing under the cell.
    pub fn evcxr_display(&self) {
        self.chart().evcxr_display();
    }
}

/// The nodes on rings (servers inside, the others around), a line per link, a legend of roles.
impl Draw for Topology {
    fn draw(&self, root: &Area, title: &str) -> Drawn {
        let t = self;
        let area = titled(root, title)?;
        let (w, h) = area.dim_in_pixel();
        let shown = t.nodes.len().min(MAX_DRAWN_NODES);
        let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0 + 8.0);
        let outer = (w.min(h) as f64 / 2.0 - 60.0).max(20.0);
        let servers: Vec<usize> = (0..shown).filter(|&i| t.nodes[i].role == Role::Server).collect();
        let others: Vec<usize> = (0..shown).filter(|&i| t.nodes[i].role != Role::Server).collect();
        let mut pos = vec![(0i32, 0i32); shown];
        let ring = |ids: &[usize], r: f64, phase: f64, pos: &mut Vec<(i32, i32)>| {
            for (k, &i) in ids.iter().enumerate() {
                let a = phase + std::f64::consts::TAU * k as f64 / ids.len() as f64;
                pos[i] = ((cx + r * a.cos()).round() as i32, (cy + r * a.sin()).round() as i32);
            }
        };
        if others.is_empty() || servers.is_empty() {
            ring(&(0..shown).collect::<Vec<_>>(), outer, -std::f64::consts::FRAC_PI_2, &mut pos);
        } else {
            let inner = if servers.len() == 1 { 0.0 } else { outer * 0.38 };
            ring(&servers, inner, 0.0, &mut pos);
            // Half a step off the vertical, so no client sits on the line through the servers.
            let phase = -std::f64::consts::FRAC_PI_2 + std::f64::consts::PI / others.len() as f64;
            ring(&others, outer, phase, &mut pos);
        }
        for &(a, b) in &t.links {
            if a < shown && b < shown {
                area.draw(&PathElement::new(vec![pos[a], pos[b]], RGBColor(120, 120, 120).stroke_width(2)))
                    .map_err(err)?;
            }
        }
        let role_color = |r: Role| match r {
            Role::Client => color(0),
            Role::Server => color(1),
            Role::Peer => color(2),
        };
        for (i, n) in t.nodes.iter().take(shown).enumerate() {
            let (x, y) = pos[i];
            area.draw(&Circle::new((x, y), 16, role_color(n.role).filled())).map_err(err)?;
            area.draw(&Circle::new((x, y), 16, BLACK.stroke_width(1))).map_err(err)?;
            let label = if n.name.chars().count() > 28 {
                format!("{}...", n.name.chars().take(26).collect::<String>())
            } else {
                n.name.clone()
            };
            let dx = (label.chars().count() as i32 * 7) / 2;
            area.draw(&Text::new(label, (x - dx, y + 19), font(13))).map_err(err)?;
        }
        let present = [Role::Client, Role::Server, Role::Peer]
            .into_iter()
            .filter(|r| t.nodes.iter().any(|n| n.role == *r));
        for (k, role) in present.enumerate() {
            let y = 14 + 20 * k as i32;
            area.draw(&Circle::new((16, y), 7, role_color(role).filled())).map_err(err)?;
            area.draw(&Text::new(role.label(), (28, y - 7), font(13))).map_err(err)?;
        }
        let mut text = format!("{} nodes, {} links", t.nodes.len(), t.links.len());
        if shown < t.nodes.len() {
            text += &format!("; showing the first {shown} nodes");
        }
        note(root, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reports_line_and_column_and_unknown_links() {
        let bad = "{\n  \"name\": \"x\",\n  \"nodes\": [ {\"name\": \"a\", \"role\": \"boss\"} ]\n}";
        let e = Topology::parse(bad, "mine.json").unwrap_err().to_string();
        assert!(e.starts_with("mine.json:3:"), "{e}");
        let dangling = r#"{"name": "x", "nodes": [{"name": "a", "role": "client"}], "links": [["a", "b"]]}"#;
        let e = Topology::parse(dangling, "mine.json").unwrap_err().to_string();
        assert!(e.contains("\"b\"") && e.contains("a node of this topology: a"), "{e}");
    }

    #[test]
    fn shapes_have_the_expected_links() {
        assert_eq!(Topology::centralized(4).unwrap().links.len(), 4);
        assert_eq!(Topology::client_server(3, 2).unwrap().links.len(), 3 * 2 + 1);
        assert_eq!(Topology::peer_to_peer(5).unwrap().links.len(), 10);
        assert_eq!(Topology::ring(5).unwrap().links.len(), 5);
        assert_eq!(Topology::ring(1).unwrap().links.len(), 0);
        assert!(Topology::peer_to_peer(0).is_err());
        let e = Topology::peer_to_peer(5000).unwrap_err().to_string();
        assert!(e.contains("peers") && e.contains("5000") && e.contains("12497500"), "{e}");
    }

    #[test]
    fn summary_lists_roles_and_merge_draws_shared_parts_once() {
        let chat = Topology::new("chat")
            .client("my phone")
            .server("chat server")
            .client("friend's phone")
            .link("my phone", "chat server")
            .unwrap()
            .link("friend's phone", "chat server")
            .unwrap();
        let map = Topology::new("map")
            .client("my phone")
            .server("map server")
            .peer("chat server")
            .link("my phone", "map server")
            .unwrap()
            .link("chat server", "my phone")
            .unwrap();
        let s = Topology::summary("my day", &[chat.clone(), map.clone()]);
        assert_eq!(s.title, "my day: 2 systems");
        assert_eq!(s.headers, ["system", "clients", "servers and peers", "links"]);
        assert_eq!(s.rows[0], ["chat", "my phone, friend's phone", "chat server", "2"]);
        assert_eq!(s.rows[1], ["map", "my phone", "map server, chat server", "2"]);
        assert_eq!(Topology::summary("none", &[]).rows.len(), 0);

        let day = Topology::merge("my day", &[chat, map]).unwrap();
        let names: Vec<&str> = day.nodes.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["my phone", "chat server", "friend's phone", "map server"]);
        // "chat server" keeps the role it had first; the phone-chat link, in both, is drawn once.
        assert_eq!(day.nodes[1].role, Role::Server);
        assert_eq!(day.links, [(0, 1), (2, 1), (0, 3)]);
        assert_eq!(Topology::merge("empty", &[]).unwrap().nodes.len(), 0);
    }

    #[test]
    fn merge_refuses_too_many_nodes() {
        let big = Topology::peer_to_peer(2).unwrap();
        let many: Vec<Topology> = (0..MAX_TOPOLOGY_NODES / 2 + 1)
            .map(|i| {
                let mut t = big.clone();
                t.nodes.iter_mut().for_each(|m| m.name = format!("{}-{i}", m.name));
                t
            })
            .collect();
        let e = Topology::merge("too big", &many).unwrap_err().to_string();
        assert!(e.contains("merge") && e.contains("at most 10000"), "{e}");
    }

    #[test]
    fn every_everyday_example_becomes_a_topology() {
        let examples = crate::lesson::Examples::builtin().unwrap();
        assert_eq!(examples.examples.len(), 5);
        for e in &examples.examples {
            let t = Topology::from_example(e).unwrap();
            assert_eq!(t.nodes.len(), e.nodes.len(), "{}", e.name);
            assert_eq!(t.links.len(), e.links.len(), "{}", e.name);
        }
    }
}
