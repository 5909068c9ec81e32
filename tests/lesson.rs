//! The lesson data: every built-in file loads and fits, the self-check scores what it should,
//! bad files and bad arguments give errors that name the problem, and HTML escapes the
//! learner's text.

use std::path::PathBuf;

use distlab::lesson::{Examples, Glossary, Lesson, Reflection, Troubleshooting, CORE_TERMS};
use distlab::table::Tabular;
use distlab::Error;

/// A file in the temp directory with a name no other test or run uses; removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, text: &str) -> TempFile {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let path =
            std::env::temp_dir().join(format!("distlab-lesson-{tag}-{}-{nanos}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn every_builtin_file_loads() {
    let g = Glossary::builtin().unwrap();
    let r = Reflection::builtin().unwrap();
    let e = Examples::builtin().unwrap();
    let t = Troubleshooting::builtin().unwrap();
    let l = Lesson::builtin().unwrap();
    assert_eq!(r.questions.len(), 5);
    assert_eq!(e.examples.len(), 5);
    assert!(!t.items.is_empty());
    assert_eq!(l.title, "Day 001: Introduction to Distributed Systems");
    // Every type shows itself as text and as HTML.
    for (text, html) in [
        (g.to_string(), g.to_html()),
        (r.to_string(), r.to_html()),
        (e.to_string(), e.to_html()),
        (t.to_string(), t.to_html()),
        (l.to_string(), l.to_html()),
    ] {
        assert!(text.lines().count() > 5, "{text}");
        assert!(html.contains("<table>"), "{html}");
    }
}

#[test]
fn loading_a_builtin_file_from_its_path_gives_the_same_data() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    assert_eq!(Glossary::load(data.join("glossary.json")).unwrap(), Glossary::builtin().unwrap());
    assert_eq!(Reflection::load(data.join("reflection.json")).unwrap(), Reflection::builtin().unwrap());
    assert_eq!(Examples::load(data.join("examples.json")).unwrap(), Examples::builtin().unwrap());
    assert_eq!(
        Troubleshooting::load(data.join("troubleshooting.json")).unwrap(),
        Troubleshooting::builtin().unwrap()
    );
    assert_eq!(Lesson::load(data.join("lesson.json")).unwrap(), Lesson::builtin().unwrap());
}

#[test]
fn glossary_has_the_core_terms_and_at_least_twenty_terms() {
    let g = Glossary::builtin().unwrap();
    assert!(g.terms.len() >= 20, "only {} terms", g.terms.len());
    assert_eq!(g.core_terms(), CORE_TERMS);
    for term in CORE_TERMS {
        let entry = g.get(&term.to_uppercase()).unwrap_or_else(|| panic!("{term} missing"));
        assert!(entry.core && entry.key_ideas.len() >= 2, "{term}");
    }
    let table = g.table();
    assert_eq!(table.rows.len(), g.terms.len());
    assert_eq!(table.headers[..2], ["term", "definition"]);
}

#[test]
fn a_definition_touches_key_ideas_by_whole_words_and_an_empty_one_gets_a_prompt() {
    let g = Glossary::builtin().unwrap();
    let good = g
        .check(
            "Distributed system",
            "Several independent computers that communicate by sending messages over a network and \
             appear to users as one coherent system, even though any of them can fail.",
        )
        .unwrap();
    assert_eq!(good.untouched, Vec::<String>::new(), "{good}");
    assert_eq!(good.touched.len(), 4);
    assert!(!good.flagged());

    for empty in ["", "   \n\t"] {
        let check = g.check("Distributed system", empty).unwrap();
        assert!(check.touched.is_empty());
        assert_eq!(check.untouched.len(), 4);
        assert!(!check.flagged());
        assert!(check.note.as_deref().unwrap().contains("write your definition of distributed system first"));
        // The model answer is not shown before the learner has written something.
        assert!(check.to_string().contains("write your definition"));
        assert!(!check.to_string().contains(&check.model_answer));
    }

    let partial = g.check("Distributed system", "Many computers.").unwrap();
    assert_eq!(partial.touched, ["several independent computers (nodes)"]);
    assert_eq!(partial.found, ["many computers"]);
    // Words, not parts of words: "networked" is a network word, "worknet" is not one.
    assert_eq!(g.check("Distributed system", "worknet").unwrap().touched.len(), 0);
    assert_eq!(g.check("Distributed system", "networked").unwrap().found, ["networked"]);
}

#[test]
fn known_good_definitions_touch_at_least_two_ideas_and_show_no_misconception() {
    let g = Glossary::builtin().unwrap();
    let learner = [
        ("Distributed system", "Many machines that talk over a network and look like one system."),
        ("Concurrency", "Lots of users and processes doing things at the same time on shared data."),
        ("Transparency", "Hiding that the system is spread out, so it looks like a single computer."),
        ("Scalability", "Handling more users and load by adding more servers without a redesign."),
        ("Fault tolerance", "The system keeps working when a node crashes because it has replicas."),
    ];
    for (term, definition) in learner {
        let check = g.check(term, definition).unwrap();
        assert!(check.touched.len() >= 2, "{term}: {check}");
        assert_eq!(check.touched.len(), check.found.len());
        assert!(!check.flagged(), "{term}: {check}");
    }
    // The glossary's own definitions touch their own key ideas.
    for term in CORE_TERMS {
        let reference = g.get(term).unwrap().definition.clone();
        let check = g.check(term, &reference).unwrap();
        assert!(check.touched.len() >= 2, "{term}: {check}");
    }
}

#[test]
fn a_malformed_file_names_the_path_line_and_column() {
    // Line 3 misses a comma between two fields: serde_json stops at the second field.
    let text = "{\n  \"terms\": [\n    { \"term\": \"X\" \"definition\": \"y\" }\n  ]\n}\n";
    let column = text.lines().nth(2).unwrap().find("\"definition\"").unwrap() + 1;
    let file = TempFile::new("syntax", text);
    let err = Glossary::load(&file.0).unwrap_err();
    let path = file.0.display().to_string();
    match &err {
        Error::Data { file, line, column: c, message } => {
            assert_eq!(file, &path);
            assert_eq!(*line, 3);
            assert_eq!(*c, column, "{err}");
            assert!(!message.contains("at line"), "position repeated in the message: {message}");
        }
        other => panic!("expected a data error, got {other:?}"),
    }
    let shown = err.to_string();
    assert!(shown.contains(&path), "{shown}");
    assert!(shown.contains(&format!(":3:{column}:")), "{shown}");
}

#[test]
fn a_wrong_shape_is_located_too() {
    let text = "{\n  \"terms\": [\n    { \"term\": \"X\", \"definiton\": \"y\" }\n  ]\n}\n";
    let file = TempFile::new("shape", text);
    let err = Glossary::load(&file.0).unwrap_err();
    assert!(matches!(err, Error::Data { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("definiton"), "{err}");
}

#[test]
fn a_link_that_is_not_a_pair_is_located() {
    let text = "{\"examples\": [{\"name\": \"a\", \"architecture\": \"p2p\", \"summary\": \"s\",\n  \"nodes\": [{\"name\": \"A\", \"role\": \"peer\"}, {\"name\": \"B\", \"role\": \"peer\"}],\n  \"links\": [[\"A\", \"B\", \"A\"]]}]}\n";
    let file = TempFile::new("triple", text);
    let err = Examples::load(&file.0).unwrap_err();
    assert!(matches!(err, Error::Data { line: 3, .. }), "{err}");
    assert!(err.to_string().contains("invalid length 3, expected a link of 2 node names"), "{err}");
}

#[test]
fn a_missing_file_is_an_io_error_naming_the_path() {
    let path = std::env::temp_dir().join(format!("distlab-lesson-missing-{}.json", std::process::id()));
    let err = Lesson::load(&path).unwrap_err();
    match &err {
        Error::Io { path: p, message } => {
            assert_eq!(p, &path.display().to_string());
            assert!(!message.is_empty());
        }
        other => panic!("expected an io error, got {other:?}"),
    }
    assert!(err.to_string().contains(&path.display().to_string()));
}

#[test]
fn content_that_parses_but_does_not_fit_is_rejected() {
    // A glossary without the core terms.
    let file = TempFile::new("nocore", r#"{"terms": [{"term": "Node", "definition": "A computer."}]}"#);
    let err = Glossary::load(&file.0).unwrap_err();
    assert!(matches!(err, Error::Data { line: 0, column: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("Distributed system"), "{err}");

    // A core term that is not marked core would drop out of the self-check.
    let mut glossary = Glossary::builtin().unwrap();
    glossary.terms.iter_mut().find(|t| t.term == "Scalability").unwrap().core = false;
    let file = TempFile::new("notcore", &serde_json::to_string(&glossary).unwrap());
    let err = Glossary::load(&file.0).unwrap_err();
    assert!(err.to_string().contains("\"Scalability\" must be marked"), "{err}");

    // A link to a node the example does not list.
    let mut examples = Examples::builtin().unwrap();
    examples.examples[0].links.push(["Browser".into(), "Mainframe".into()]);
    let file = TempFile::new("badlink", &serde_json::to_string_pretty(&examples).unwrap());
    let err = Examples::load(&file.0).unwrap_err();
    assert!(matches!(err, Error::Data { line: 0, .. }), "{err:?}");
    assert!(err.to_string().contains("\"Mainframe\"") && err.to_string().contains("Web browsing"), "{err}");

    // An empty keyword would count as a match for every definition.
    let mut glossary = Glossary::builtin().unwrap();
    glossary.terms[0].key_ideas[0].keywords.push(" ".into());
    let file = TempFile::new("blankkw", &serde_json::to_string(&glossary).unwrap());
    let err = Glossary::load(&file.0).unwrap_err();
    assert!(err.to_string().contains("empty keyword"), "{err}");
}

#[test]
fn unknown_term_is_an_error_naming_it_and_the_core_terms() {
    let g = Glossary::builtin().unwrap();
    for term in ["Blockchain", "Node"] {
        let err = g.check(term, "anything").unwrap_err();
        match &err {
            Error::InvalidArgument { name, value, allowed } => {
                assert_eq!(*name, "term");
                assert_eq!(value, term);
                assert_eq!(allowed, &CORE_TERMS.join(", "));
            }
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }
    // Case and surrounding spaces do not matter; the glossary's spelling is kept.
    assert_eq!(g.check("  fault TOLERANCE ", "x").unwrap().term, "Fault tolerance");
}

#[test]
fn questions_and_hints_are_numbered_from_one_and_checked() {
    let r = Reflection::builtin().unwrap();
    assert_eq!(r.question(1).unwrap(), r.questions[0].question);
    assert_eq!(r.question(5).unwrap(), r.questions[4].question);
    assert_eq!(r.hint(2, 3).unwrap(), r.questions[1].hints[2]);
    assert_eq!(r.hint_count(1).unwrap(), r.questions[0].hints.len());

    for n in [0, 6] {
        let err = r.question(n).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidArgument { name: "question", value: n.to_string(), allowed: "1 to 5".into() }
        );
        assert!(err.to_string().contains(&n.to_string()) && err.to_string().contains("1 to 5"));
        assert!(r.hint(n, 1).is_err());
    }
    for k in [0, 4] {
        let err = r.hint(1, k).unwrap_err();
        match &err {
            Error::InvalidArgument { name, value, allowed } => {
                assert_eq!((*name, value.as_str()), ("hint", k.to_string().as_str()));
                assert!(allowed.contains("1 to 3"), "{err}");
            }
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }

    // The table of questions does not give the hints away.
    let table = r.questions();
    assert_eq!(table.rows.len(), 5);
    let shown = r.to_string();
    for q in &r.questions {
        assert!(shown.contains(&q.question));
        for h in &q.hints {
            assert!(!shown.contains(h), "hint shown: {h}");
        }
    }
}

#[test]
fn checklist_ticks_by_number_and_rejects_numbers_out_of_range() {
    let l = Lesson::builtin().unwrap();
    let total = l.success_criteria.all().len();
    assert_eq!(total, 11);
    let empty = l.success_criteria();
    assert_eq!(empty.headers, ["#", "level", "criterion", "done"]);
    assert!(empty.rows.iter().all(|r| r[3] == "[ ]"));

    let t = l.checklist(&[1, 5, 5]).unwrap();
    let done: Vec<&str> = t.rows.iter().filter(|r| r[3] == "[x]").map(|r| r[0].as_str()).collect();
    assert_eq!(done, ["1", "5"]);
    assert_eq!(t.rows[4][2], l.success_criteria.target[1]);
    assert!(t.notes[0].starts_with("done: 2 of 11"), "{:?}", t.notes);

    for bad in [0, 12] {
        let err = l.checklist(&[1, bad]).unwrap_err();
        match &err {
            Error::InvalidArgument { name, value, allowed } => {
                assert_eq!(*name, "criterion");
                assert_eq!(value, &bad.to_string());
                assert!(allowed.starts_with("1 to 11"), "{err}");
            }
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }
    assert_eq!(l.objectives().rows.len(), l.objectives.len());
    let steps: usize = l.plan.iter().map(|p| p.steps.len()).sum();
    assert_eq!(l.plan().rows.len(), steps);
}

#[test]
fn examples_show_their_parts_and_are_found_by_name() {
    let e = Examples::builtin().unwrap();
    let t = e.table();
    assert_eq!(t.headers, ["example", "architecture", "components"]);
    assert!(t.rows[0][2].contains("DNS resolver (server)"), "{:?}", t.rows[0]);
    let web = e.get("web BROWSING").unwrap();
    assert_eq!(web.links[0], ["Browser".to_string(), "DNS resolver".to_string()]);
    assert!(web.to_string().contains("CDN edge server"));
    let err = e.get("Fax").unwrap_err();
    assert!(err.to_string().contains("Fax") && err.to_string().contains("Email"), "{err}");
}

#[test]
fn html_escapes_the_learners_text() {
    let g = Glossary::builtin().unwrap();
    let check = g.check("Concurrency", "<script>alert(1)</script> many users at the same time").unwrap();
    let html = check.to_html();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
    // The text form shows it as written.
    assert!(check.to_string().contains("<script>alert(1)</script>"));
}

#[test]
fn the_missing_parts_of_the_lesson_show_as_tables() {
    let l = Lesson::builtin().unwrap();
    let insights = l.key_insights();
    assert_eq!(insights.headers, ["#", "insight", "where you saw it"]);
    assert_eq!(insights.rows.len(), 5);
    assert!(insights.rows.iter().all(|r| !r[2].is_empty()));
    assert!(
        insights.rows[2][1].contains("replies") && insights.rows[2][2].contains("03 test 4"),
        "{insights}"
    );
    assert_eq!(l.tips().rows.len(), 4);
    let territory = l.territory();
    assert!(territory.rows.len() >= 5 && territory.rows.iter().all(|r| r[2] == "[ ]"));
    assert!(!l.after_the_insight().rows.is_empty());
    assert_eq!(l.meta_insight().rows, [vec![l.meta_insight.clone()]]);
    let bridge = l.os_bridge();
    assert_eq!(bridge.headers, ["on one machine", "across machines", "what changes"]);
    for (one, many) in
        [("a process", "a node"), ("a lock or a semaphore", "coordination"), ("a pipe", "a message")]
    {
        assert!(bridge.rows.iter().any(|r| r[0].starts_with(one) && r[1].starts_with(many)), "{one}");
    }
    assert!(
        bridge.rows.iter().any(|r| r[0].contains("clock"))
            && bridge.rows.iter().any(|r| r[1] == "partial failure")
    );
    let challenges = l.challenges();
    assert_eq!(challenges.headers[2], "why it is hard");
    assert_eq!(challenges.rows.len(), 5);
    let ants = l.ants();
    assert!(ants.rows.iter().any(|r| r[0] == "an ant" && r[1] == "a node"));
    assert_eq!(ants.notes.len(), 1);
    assert_eq!(ants.notes[0], l.ants.story);
    // Every table escapes its text in HTML.
    for t in [insights, l.tips(), territory, l.after_the_insight(), l.meta_insight(), bridge, ants] {
        assert!(t.to_html().starts_with("<div class=\"distlab-table\">") && !t.title.is_empty());
    }
}

#[test]
fn lesson_data_is_consistent_about_redundancy_leaders_transparency_and_latency() {
    let l = Lesson::builtin().unwrap();
    // Redundancy, not distribution by itself, removes the single point of failure (issue 9 c).
    assert!(l.why_distributed[1].contains("redundancy"), "{}", l.why_distributed[1]);
    assert!(
        l.key_insights[1].insight.starts_with("Redundancy")
            && l.key_insights[1].insight.contains("(1 - p)^m")
    );
    assert!(l.misconceptions[5].reality.contains("0.95"));
    // Consensus elects a replaceable leader (f).
    let t = Troubleshooting::builtin().unwrap();
    assert!(t.items[2].answer.contains("leader") && !t.items[2].answer.contains("central authority"));
    // Transparency is never complete (g).
    assert!(l.key_insights[4].insight.contains("never"), "{}", l.key_insights[4].insight);
    // One-way latency and round-trip time are both named (h).
    let g = Glossary::builtin().unwrap();
    assert!(g.get("Latency").unwrap().definition.contains("one way"));
    assert!(g.get("Round-trip time").unwrap().definition.contains("reply"));
    // After a timeout the outcome is unknown; protocols are agreed rules, often with a leader
    // (issue 21).
    let timeout = &g.get("Timeout").unwrap().definition;
    assert!(!timeout.contains("assumes") && timeout.contains("does not know"), "{timeout}");
    assert!(timeout.contains("reply may have been lost") && timeout.contains("slow"), "{timeout}");
    let protocol = &g.get("Protocol").unwrap().definition;
    assert!(!protocol.contains("without a boss") && protocol.contains("lead"), "{protocol}");
}

#[test]
fn a_lesson_with_an_empty_new_part_is_rejected() {
    let mut l = Lesson::builtin().unwrap();
    l.os_bridge.clear();
    let file = TempFile::new("nobridge", &serde_json::to_string(&l).unwrap());
    let err = Lesson::load(&file.0).unwrap_err();
    assert!(err.to_string().contains("os_bridge is empty"), "{err}");
    let mut l = Lesson::builtin().unwrap();
    l.tips[1] = " ".into();
    let file = TempFile::new("blanktip", &serde_json::to_string(&l).unwrap());
    assert!(Lesson::load(&file.0).unwrap_err().to_string().contains("tips has an empty entry"));
}
