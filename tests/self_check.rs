//! The glossary self-check teaches: classic misconceptions are flagged with what they resemble
//! and why, right definitions in a learner's own words pass, and the five-term review shows
//! one row per term.

use distlab::lesson::{Glossary, CORE_TERMS};
use distlab::table::Tabular;

/// Wrong definitions, each with the term and a word of what it should be said to resemble.
const MISCONCEPTIONS: [(&str, &str, &str); 35] = [
    // The four from issue 9: they passed the keyword-only check.
    ("Transparency", "Users can see where every server is; nothing is hidden from them", "nothing is hidden"),
    ("Scalability", "adding more machines makes the system slower", "slower"),
    ("Concurrency", "one user request is handled at a time, strictly in order", "one thing at a time"),
    ("Distributed system", "one big mainframe that many users share over a network", "mainframe"),
    // Distributed system
    ("Distributed system", "A single powerful server that every client connects to.", "mainframe"),
    (
        "Distributed system",
        "Several programs running on the same computer and sharing its memory.",
        "multitasking",
    ),
    (
        "Distributed system",
        "Something only big companies like Google need, with thousands of servers.",
        "huge companies",
    ),
    (
        "Distributed system",
        "Many computers that work alone and do not communicate with each other.",
        "do not talk",
    ),
    // Concurrency
    ("Concurrency", "Using several CPU cores so that a program runs faster.", "parallel hardware"),
    (
        "Concurrency",
        "Tasks run one after another, each waiting for the previous one to finish.",
        "one thing at a time",
    ),
    ("Concurrency", "Two things can never happen at the same time in a system.", "never happen"),
    (
        "Concurrency",
        "The computer processes requests sequentially, in the order they arrive.",
        "one thing at a time",
    ),
    // Transparency
    ("Transparency", "The source code is public so anyone can inspect how the system works.", "openness"),
    (
        "Transparency",
        "The system hides its distribution completely, so users never notice a delay.",
        "completely",
    ),
    ("Transparency", "Being honest with users about what the company does with their data.", "openness"),
    (
        "Transparency",
        "Users always know where their data is stored and which server answers.",
        "nothing is hidden",
    ),
    // Scalability
    ("Scalability", "The system keeps running when a server crashes.", "fault tolerance"),
    ("Scalability", "Adding more machines always makes it faster.", "always make it faster"),
    ("Scalability", "A system that cannot grow beyond one server.", "cannot grow"),
    ("Scalability", "Having backups so that nothing is lost when a disk dies.", "fault tolerance"),
    // Fault tolerance
    ("Fault tolerance", "A fault-tolerant system never fails.", "never fails"),
    ("Fault tolerance", "Handling more users by adding servers.", "scalability"),
    ("Fault tolerance", "Writing code without bugs, so that no errors occur.", "bug-free"),
    ("Fault tolerance", "When one server fails, the whole system stops.", "single point of failure"),
    ("Fault tolerance", "The system does not keep working when a node crashes.", "when something fails"),
    ("Fault tolerance", "Preventing all failures so the system is always up.", "never fails"),
    // Nearer misses, still wrong.
    ("Distributed system", "A computer network like the internet.", "the network itself"),
    ("Concurrency", "Doing one thing and then the next.", "one thing at a time"),
    ("Concurrency", "Running a program faster by splitting it across processors.", "parallel hardware"),
    ("Transparency", "Everything about the system is visible to the user.", "nothing is hidden"),
    ("Transparency", "Users are told which server they are talking to and where it is.", "nothing is hidden"),
    ("Scalability", "The system works even if a server goes down.", "fault tolerance"),
    ("Scalability", "It does not scale beyond a few users.", "cannot grow"),
    (
        "Fault tolerance",
        "When a server crashes, nothing works until it is repaired.",
        "single point of failure",
    ),
    ("Fault tolerance", "Data is lost when a node dies.", "loses data"),
];

/// Right definitions, written as a learner might, that must pass.
const RIGHT: [(&str, &str); 20] = [
    (
        "Distributed system",
        "Several independent computers that cooperate by sending messages over a network and look to \
         their users like one system.",
    ),
    (
        "Distributed system",
        "A set of machines with no shared memory or common clock that exchange messages to do one job; \
         any of them can crash on its own.",
    ),
    (
        "Distributed system",
        "Programs on different computers that talk over a network and appear to be a single machine.",
    ),
    ("Concurrency", "Many users and processes acting at the same time on shared data, in no fixed order."),
    (
        "Concurrency",
        "Several requests in progress at once whose steps interleave unpredictably, even on a single CPU, \
         so access to shared data needs coordination.",
    ),
    (
        "Transparency",
        "Hiding that the work is spread over many machines, so users do not need to know where data is \
         stored or how many copies exist.",
    ),
    (
        "Transparency",
        "Making many servers look like one system to the user, although network delays and failures can \
         never be hidden completely.",
    ),
    (
        "Transparency",
        "The system shows one face to users and hides where its parts run and when a replica takes over.",
    ),
    (
        "Scalability",
        "Handling growing load, more users or more data, by adding servers, without a redesign and without \
         getting slower.",
    ),
    (
        "Scalability",
        "The ability to serve ten times the users by adding machines while response times stay acceptable.",
    ),
    (
        "Fault tolerance",
        "The service keeps working, maybe more slowly, when some machines crash or messages are lost, \
         because copies on other machines take over.",
    ),
    (
        "Fault tolerance",
        "Surviving partial failures: a timeout detects a dead node, a replica takes over, and the node is \
         repaired and resynced.",
    ),
    (
        "Fault tolerance",
        "The system does not stop working when a disk or a node fails, thanks to redundancy.",
    ),
    ("Concurrency", "Lots of clients sending requests simultaneously, so their updates can conflict."),
    ("Concurrency", "Several threads executing in parallel on multiple cores and sharing data."),
    ("Distributed system", "Several nodes that do not share memory and talk over the network."),
    ("Transparency", "The user does not see that the system is distributed; it looks like one machine."),
    ("Transparency", "Hiding complexity: users don't know which server handles their request."),
    ("Scalability", "The system can handle more load by adding more machines."),
    ("Fault tolerance", "If a server crashes, another one takes over, so users don't notice."),
];

#[test]
fn every_misconception_is_flagged_and_says_what_it_resembles() {
    let g = Glossary::builtin().unwrap();
    for (term, text, resembles) in MISCONCEPTIONS {
        let check = g.check(term, text).unwrap();
        assert!(!check.flags.is_empty(), "{term}: not flagged: {text:?}\n{check}");
        assert!(!check.passed(), "{term}: passed: {text:?}");
        assert_eq!(check.verdict(), "reconsider");
        let first = &check.flags[0];
        let described = format!("{} {}", first.resembles, first.why).to_lowercase();
        assert!(
            described.contains(resembles),
            "{term}: {text:?} flagged as {first:?}, expected {resembles:?}"
        );
        // The flag quotes the learner's words, and the output explains it.
        assert!(text.to_lowercase().contains(first.words.split(' ').next().unwrap()), "{first:?}");
        let shown = check.to_string();
        assert!(shown.contains(&first.resembles) && shown.contains(&first.why), "{shown}");
        assert!(check.to_html().contains("why it is wrong"));
    }
}

#[test]
fn right_definitions_in_own_words_pass_unflagged() {
    let g = Glossary::builtin().unwrap();
    for (term, text) in RIGHT {
        let check = g.check(term, text).unwrap();
        assert!(check.flags.is_empty(), "{term}: flagged {:?} in {text:?}", check.flags);
        assert!(check.passed(), "{term}: not passed: {text:?}\n{check}");
        assert_eq!(check.verdict(), "passed");
    }
    // The reference definitions pass their own check.
    for term in CORE_TERMS {
        let check = g.check(term, &g.get(term).unwrap().definition).unwrap();
        assert!(check.flags.is_empty() && check.passed(), "{term}: {check}");
    }
}

#[test]
fn every_core_term_has_pitfalls_and_the_sets_cover_every_term() {
    let g = Glossary::builtin().unwrap();
    for term in CORE_TERMS {
        assert!(g.get(term).unwrap().pitfalls.len() >= 3, "{term}");
        assert!(MISCONCEPTIONS.iter().filter(|m| m.0 == term).count() >= 4, "{term}");
        assert!(RIGHT.iter().filter(|r| r.0 == term).count() >= 2, "{term}");
    }
}

#[test]
fn review_shows_one_row_per_core_term_with_ideas_flags_and_result() {
    let g = Glossary::builtin().unwrap();
    let t = g
        .review([
            RIGHT[0].1,
            "one user request is handled at a time, strictly in order",
            "",
            RIGHT[8].1,
            "Keeps working.",
        ])
        .unwrap();
    assert_eq!(
        t.headers,
        ["term", "your definition", "key ideas covered", "resembles a misconception", "result"]
    );
    assert_eq!(t.rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), CORE_TERMS);
    let results: Vec<&str> = t.rows.iter().map(|r| r[4].as_str()).collect();
    assert_eq!(results, ["passed", "reconsider", "write it first", "passed", "not yet"]);
    assert!(
        t.rows[1][3].contains("one thing at a time") && t.rows[1][3].contains("strictly"),
        "{:?}",
        t.rows[1]
    );
    assert_eq!(t.rows[2][1], "(not written yet)");
    assert_eq!(t.rows[0][2], "3 of 4");
    assert!(t.title.ends_with("2 of 5 passed"), "{}", t.title);

    // check_all takes any core terms, and names a term that is not one.
    let t = g.check_all(&[("scalability", RIGHT[9].1)]).unwrap();
    assert_eq!(t.rows[0][0], "Scalability");
    let err = g.check_all(&[("Scalability", "x"), ("Blockchain", "y")]).unwrap_err();
    assert!(err.to_string().contains("Blockchain"), "{err}");
}

#[test]
fn a_pitfall_without_words_is_rejected_when_loading() {
    let mut g = Glossary::builtin().unwrap();
    g.terms[0].pitfalls[0].phrases.push(" ".into());
    let path = std::env::temp_dir().join(format!("distlab-self-check-{}.json", std::process::id()));
    std::fs::write(&path, serde_json::to_string(&g).unwrap()).unwrap();
    let err = Glossary::load(&path).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert!(err.to_string().contains("no words"), "{err}");
}
