//! The lesson's two-axis view of architectures, its reading list and its "next" pointer, and
//! predictions graded against an exact value.

use distlab::lesson::Lesson;
use distlab::predict::Prediction;

#[test]
fn architectures_sit_on_two_independent_axes() {
    let l = Lesson::builtin().unwrap();
    let t = l.architecture_axes();
    assert_eq!(t.rows.len(), 2);
    assert_eq!(t.headers.len(), 3);
    assert!(t.rows[0][0].starts_with("centralized") && t.rows[1][0].starts_with("decentralized"));
    assert!(t.headers[1].starts_with("client-server") && t.headers[2].starts_with("peer-to-peer"));
    // a single web server: centralized and client-server
    assert!(t.rows[0][1].contains("web server"), "{t}");
    assert!(t.rows.iter().all(|r| r.iter().all(|c| !c.is_empty())));
}

#[test]
fn a_missing_or_doubled_pair_of_axes_is_refused() {
    let text = include_str!("../data/lesson.json");
    let broken = text.replacen("\"talk\": \"peer-to-peer\"", "\"talk\": \"client-server\"", 1);
    let dir = std::env::temp_dir().join(format!("distlab-axes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lesson.json");
    std::fs::write(&path, broken).unwrap();
    let err = Lesson::load(&path).unwrap_err().to_string();
    assert!(err.contains("architecture_axes needs exactly one entry"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn resources_say_what_they_cover_and_what_comes_next() {
    let l = Lesson::builtin().unwrap();
    let t = l.resources();
    assert!(t.rows.len() >= 4);
    assert!(t.rows.iter().all(|r| r[0] == "read" || r[0] == "watch"));
    assert!(t.rows.iter().all(|r| r[4].ends_with(" min")));
    assert!(t.rows.iter().any(|r| r[2].contains("Kleppmann")));
    assert!(t.notes.iter().any(|n| n.starts_with("Next: ") && n.contains("Day 002")));
}

#[test]
fn the_os_bridge_says_a_process_can_crash_alone() {
    let l = Lesson::builtin().unwrap();
    let crash = l.os_bridge.iter().find(|b| b.many_machines == "partial failure").unwrap();
    assert!(crash.one_machine.contains("a process crashes alone"), "{crash:?}");
}

#[test]
fn an_exact_prediction_is_graded_against_the_model_not_the_sample() {
    // 1000 broadcasts to 4 targets at 5 % loss: the model says 0.95^4 = 0.8145
    let exact = 0.95f64.powi(4);
    let right = Prediction::exact("reach all 4", "0.81", exact, "0.79 over 1000 broadcasts", 0.03, "0.95^4");
    assert!(right.is_close());
    assert!(right.to_string().contains("exact: 0.815 (this run measured 0.79 over 1000 broadcasts)"));
    assert!(!Prediction::exact("reach all 4", "0.95", exact, "0.79", 0.03, "0.95^4").is_close());
}

#[test]
fn fundamentals_show_three_tables_in_one_output() {
    let l = Lesson::builtin().unwrap();
    let f = l.fundamentals();
    let titles: Vec<_> = f.0.iter().map(|t| t.title.clone()).collect();
    assert_eq!(titles, ["key characteristics", "why distribute a system", "key challenges"]);
    let html = distlab::table::Tabular::to_html(&f);
    assert!(html.contains("key characteristics") && html.contains("key challenges"));
    assert!(f.to_string().contains("why distribute a system"));
}
