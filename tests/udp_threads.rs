//! Alone in its test binary, so no other test's threads are counted: every node thread is
//! joined on shutdown and on drop.

use distlab::prelude::*;
use distlab::udp::RealCluster;

fn node_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|t| {
                    std::fs::read_to_string(t.path().join("comm"))
                        .is_ok_and(|c| c.starts_with("distlab-node"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// The count once it settles: a new thread names itself only when it starts running.
fn settled_count(expected: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let n = node_threads();
        if n == expected || std::time::Instant::now() > deadline {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn every_node_thread_is_joined_on_shutdown_and_drop() {
    if !std::path::Path::new("/proc/self/task").exists() {
        return; // no /proc: nothing to count on this system
    }
    assert_eq!(settled_count(0), 0);
    let mut c = RealCluster::start(Config::builder().nodes(5).loss(0.0).build().unwrap()).unwrap();
    assert_eq!(settled_count(5), 5);
    c.crash(1).unwrap();
    assert_eq!(settled_count(4), 4, "a crash stops the node's thread");
    c.recover(1).unwrap();
    assert_eq!(settled_count(5), 5);
    c.broadcast(0, "x").unwrap();
    c.shutdown();
    assert_eq!(settled_count(0), 0, "shutdown joins every thread");
    {
        let _dropped = RealCluster::start(Config::builder().nodes(3).build().unwrap()).unwrap();
        assert_eq!(settled_count(3), 3);
    }
    assert_eq!(settled_count(0), 0, "drop joins every thread");
}
