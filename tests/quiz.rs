//! The scenario quiz: every question has exactly one right answer among its choices, grading
//! handles right, wrong, empty and unknown answers without errors, bad files are located, and
//! success criterion 5 rests on it.

use std::collections::HashSet;
use std::path::PathBuf;

use distlab::lesson::{Lesson, Quiz, CORE_TERMS};
use distlab::Error;

fn letters(quiz: &Quiz) -> Vec<String> {
    quiz.questions.iter().map(|q| q.answer.clone()).collect()
}

#[test]
fn the_quiz_covers_terms_architectures_and_challenges_with_one_right_answer_each() {
    let quiz = Quiz::builtin().unwrap();
    assert!(quiz.questions.len() >= 12, "{}", quiz.questions.len());
    let topics: HashSet<&str> = quiz.questions.iter().map(|q| q.topic.as_str()).collect();
    let needed = CORE_TERMS.iter().copied().chain([
        "Centralized",
        "Client-server",
        "Peer-to-peer",
        "Coordination",
        "Consistency",
        "Scalability",
        "Transparency",
    ]);
    for topic in needed {
        assert!(topics.contains(topic), "no question on {topic}");
    }
    for (i, q) in quiz.questions.iter().enumerate() {
        // The answer is exactly one letter naming one of the choices, and the choices differ.
        assert_eq!(q.answer.len(), 1, "question {}", i + 1);
        let index = usize::from(q.answer.as_bytes()[0] - b'a');
        assert!(index < q.choices.len(), "question {}", i + 1);
        let distinct: HashSet<String> = q.choices.iter().map(|c| c.to_lowercase()).collect();
        assert_eq!(distinct.len(), q.choices.len(), "question {}", i + 1);
        assert!(!q.explanation.trim().is_empty());
    }
    // The right answers are not all the same letter.
    assert!(letters(&quiz).iter().collect::<HashSet<_>>().len() >= 3);
    let loaded = Quiz::load(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/quiz.json")).unwrap();
    assert_eq!(loaded, quiz);
}

#[test]
fn questions_are_numbered_with_lettered_choices_and_hide_the_answers() {
    let quiz = Quiz::builtin().unwrap();
    let t = quiz.questions();
    assert_eq!(t.headers, ["#", "question", "choices"]);
    let choices: usize = quiz.questions.iter().map(|q| q.choices.len()).sum();
    assert_eq!(t.rows.len(), choices);
    assert_eq!(t.rows[0][0], "1");
    assert_eq!(t.rows[0][2], format!("a) {}", quiz.questions[0].choices[0]));
    assert_eq!(t.rows[1][2], format!("b) {}", quiz.questions[0].choices[1]));
    let shown = quiz.to_string();
    for q in &quiz.questions {
        assert!(!shown.contains(&q.explanation), "explanation shown before answering");
    }
}

#[test]
fn grading_right_wrong_empty_and_unknown_answers() {
    let quiz = Quiz::builtin().unwrap();
    let n = quiz.questions.len();
    let right = letters(&quiz);
    let all_right: Vec<&str> = right.iter().map(String::as_str).collect();
    let t = quiz.grade(&all_right);
    assert!(t.rows.iter().all(|r| r[2] == "right"), "{t}");
    assert_eq!(t.notes[0], format!("{n} of {n} right"));
    assert_eq!(quiz.score(&all_right), n);
    // Each row explains itself.
    for (row, q) in t.rows.iter().zip(&quiz.questions) {
        assert_eq!(row[3], q.explanation);
    }

    // A wrong answer names the right one; an upper-case or "b)" answer counts like "b".
    let wrong = if right[0] == "a" { "b" } else { "a" };
    let second = format!("{})", right[1].to_uppercase());
    let t = quiz.grade(&[wrong, &second, "", "zz", "7"]);
    assert!(
        t.rows[0][2].starts_with("not quite: the answer is ")
            && t.rows[0][2].contains(&format!("{})", right[0]))
    );
    assert_eq!(t.rows[0][3], quiz.questions[0].explanation);
    assert_eq!(t.rows[1][2], "right");
    // Empty and missing answers are a friendly note, and do not give the answer away.
    assert_eq!(t.rows[2][2], "not answered yet");
    assert_eq!(t.rows[2][3], "");
    assert!(t.rows[5..].iter().all(|r| r[2] == "not answered yet"));
    // An unknown letter says which letters are allowed.
    assert_eq!(t.rows[3][2], "\"zz\" is not a choice");
    assert!(t.rows[3][3].contains("from a to"), "{:?}", t.rows[3]);
    assert_eq!(t.rows[4][2], "\"7\" is not a choice");
    assert_eq!(t.notes[0], format!("1 of {n} right ({} not answered yet)", n - 4));

    // Nothing answered, and too many answers: no error.
    assert_eq!(quiz.grade(&[]).notes[0], format!("0 of {n} right ({n} not answered yet)"));
    let mut many = all_right.clone();
    many.push("a");
    let t = quiz.grade(&many);
    assert!(t.notes[1].contains("the last 1 are not used"), "{:?}", t.notes);
    // The learner's text is escaped in HTML.
    assert!(quiz.grade(&["<b>"]).to_html().contains("&lt;b&gt;"));
}

#[test]
fn a_quiz_file_with_a_bad_answer_or_syntax_is_reported() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("distlab-quiz-{}.json", std::process::id()));
    let mut quiz = Quiz::builtin().unwrap();
    quiz.questions[2].answer = "f".into();
    std::fs::write(&path, serde_json::to_string_pretty(&quiz).unwrap()).unwrap();
    let err = Quiz::load(&path).unwrap_err();
    assert!(err.to_string().contains("question 3: answer \"f\" is not one of its choices (a to d)"), "{err}");

    std::fs::write(&path, "{\n  \"questions\": [\n    {\"topic\": \"x\" \"question\": \"y\"}\n  ]\n}\n")
        .unwrap();
    let err = Quiz::load(&path).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert!(matches!(err, Error::Data { line: 3, .. }), "{err:?}");
}

#[test]
fn success_criterion_five_rests_on_the_quiz() {
    let lesson = Lesson::builtin().unwrap();
    let quiz = Quiz::builtin().unwrap();
    let (_, criterion) = lesson.success_criteria.all()[4];
    assert!(criterion.contains("quiz"), "{criterion}");
    assert!(criterion.contains(&format!("of the {}", quiz.questions.len())), "{criterion}");
}

#[test]
fn data_is_in_own_words_not_the_lessons() {
    // Sentences of the lesson text that data/ once repeated, or nearly (the full check is
    // ../shared/tools/seed_wording.py, outside the repository).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data");
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase().replace("'", "");
        for phrase in [
            "built a client-server app, you have built a distributed system",
            "if youve built a client-server app",
            "the difference between client-server and peer-to-peer",
            "users should not be able to tell that the system is distributed",
            "users shouldnt know the system is distributed",
            "services would stop working if distributed systems did not exist",
            "why is consistency so hard in distributed systems",
            "instead of a central authority",
            "the moment you have two computers talking",
            "collection of independent computers that appears to users",
        ] {
            assert!(!text.contains(phrase), "{}: {phrase}", path.display());
        }
    }
    assert!(files >= 6, "{files}");
}
