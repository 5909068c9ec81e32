//! One distlab node as its own process, talking UDP to its peers on this machine.
//!
//! ```text
//! distlab-node --id 0 --peers 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 [--loss P] [--seed S] [--timeout-ms T]
//! ```
//! `--peers` lists every node's address in id order; this process runs node `--id` at its
//! address. Type commands on standard input:
//!   send TO TEXT | broadcast TEXT | replicate KEY VALUE | sync | check KEY | status | quit
//! Everything the node sees is printed as it happens, in the lesson's narration style.

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use distlab::udp::Member;
use distlab::{Config, Error};

const HELP: &str =
    "commands: send TO TEXT | broadcast TEXT | replicate KEY VALUE | sync | check KEY | status | quit";

struct Args {
    id: usize,
    peers: Vec<SocketAddr>,
    loss: f64,
    seed: u64,
    timeout_ms: f64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { id: usize::MAX, peers: Vec::new(), loss: 0.0, seed: 1, timeout_ms: 500.0 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |what: &str| format!("invalid {flag}: {value:?} (allowed: {what})");
        match flag.as_str() {
            "--id" => a.id = value.parse().map_err(|_| bad("a node id: 0, 1, 2, ..."))?,
            "--peers" => {
                a.peers =
                    value
                        .split(',')
                        .map(|p| p.trim().parse::<SocketAddr>())
                        .collect::<Result<_, _>>()
                        .map_err(|_| bad("comma-separated addresses such as 127.0.0.1:7000,127.0.0.1:7001"))?
            }
            "--loss" => a.loss = value.parse().map_err(|_| bad("a probability in [0, 1]"))?,
            "--seed" => a.seed = value.parse().map_err(|_| bad("a whole number"))?,
            "--timeout-ms" => a.timeout_ms = value.parse().map_err(|_| bad("milliseconds, > 0"))?,
            _ => {
                return Err(format!(
                    "unknown option {flag} (options: --id --peers --loss --seed --timeout-ms)"
                ))
            }
        }
    }
    if a.id == usize::MAX || a.peers.is_empty() {
        return Err("--id and --peers are required".into());
    }
    Ok(a)
}

fn run(a: Args) -> Result<(), Error> {
    let config =
        Config::builder().nodes(a.peers.len()).loss(a.loss).seed(a.seed).timeout_ms(a.timeout_ms).build()?;
    let mut node = Member::start(config, a.id, &a.peers)?;
    let me = node.name();
    println!("{me} listening on {}; {HELP}", a.peers[a.id]);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut mark = 0;
    loop {
        let command = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(c) => Some(c),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => Some("quit".to_string()),
        };
        let (lines, next) = node.narration_since(mark);
        mark = next;
        for l in lines {
            println!("{l}");
        }
        let Some(command) = command else { continue };
        let words: Vec<&str> = command.split_whitespace().collect();
        let result = match words.as_slice() {
            [] => Ok(String::new()),
            ["quit"] | ["exit"] => break,
            ["send", to, text @ ..] => node.send(target(to), &text.join(" ")).map(|r| r.summary()),
            ["broadcast", text @ ..] => node.broadcast(&text.join(" ")).map(|r| r.summary()),
            ["replicate", key, value @ ..] => node.replicate(key, &value.join(" ")).map(|r| r.summary()),
            ["sync"] => node.sync().map(|r| r.summary()),
            ["check", key] => node.read_all(key).map(|r| r.to_string()),
            ["status"] => Ok(node.status().to_string()),
            _ => Ok(format!("unknown command {command:?}; {HELP}")),
        };
        let (lines, next) = node.narration_since(mark);
        mark = next;
        for l in lines {
            println!("{l}");
        }
        match result {
            Ok(text) if !text.is_empty() => println!("{}", text.trim_end()),
            Ok(_) => {}
            Err(e) => println!("error: {e}"),
        }
    }
    node.shutdown();
    println!("{me} stopped");
    Ok(())
}

/// A target as typed: a number is an id, anything else a name.
fn target(word: &str) -> distlab::node::NodeRef {
    match word.parse::<i64>() {
        Ok(i) => i.into(),
        Err(_) => word.into(),
    }
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("distlab-node: {e}\nusage: distlab-node --id N --peers ADDR,ADDR,... [--loss P] [--seed S] [--timeout-ms T]");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("distlab-node: {e}");
            ExitCode::from(1)
        }
    }
}
