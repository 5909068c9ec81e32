//! The scenario quiz: every wrong choice is a named misconception (none can be answered by
//! matching a term's name), some questions ask which definition is wrong and why, the single
//! web server is centralized *and* client-server, grading takes a slice of any length and says
//! why for each answer, bad files are located, and success criterion 5 rests on the quiz.

use std::collections::HashSet;
use std::path::PathBuf;

use distlab::lesson::{Glossary, Lesson, Quiz, CORE_TERMS};
use distlab::Error;

fn letters(quiz: &Quiz) -> Vec<String> {
    quiz.questions.iter().map(|q| q.answer.clone()).collect()
}

fn index(letter: &str) -> usize {
    usize::from(letter.as_bytes()[0] - b'a')
}

#[test]
fn every_wrong_choice_is_a_named_misconception_not_a_term_name() {
    let quiz = Quiz::builtin().unwrap();
    let glossary = Glossary::builtin().unwrap();
    assert!((8..=10).contains(&quiz.questions.len()), "{}", quiz.questions.len());
    let terms: HashSet<String> = glossary.terms.iter().map(|t| t.term.to_lowercase()).collect();
    for (i, q) in quiz.questions.iter().enumerate() {
        let n = i + 1;
        let right = index(&q.answer);
        assert!(right < q.choices.len(), "question {n}");
        let distinct: HashSet<String> = q.choices.iter().map(|c| c.text.to_lowercase()).collect();
        assert_eq!(distinct.len(), q.choices.len(), "question {n}");
        assert!(q.choices.len() >= 3, "question {n}: at least two misconceptions to choose from");
        for (c, choice) in q.choices.iter().enumerate() {
            // A choice is a sentence, never a bare name to match against the question.
            let text = choice.text.trim_end_matches('.').to_lowercase();
            assert!(!terms.contains(&text), "question {n}: choice {:?} is a term's name", choice.text);
            assert!(choice.text.split_whitespace().count() >= 6, "question {n}: {:?}", choice.text);
            if c == right {
                assert!(choice.misconception.is_empty() && choice.why.is_empty(), "question {n}");
            } else {
                assert!(!choice.misconception.trim().is_empty(), "question {n}, choice {c}");
                assert!(choice.why.split_whitespace().count() >= 6, "question {n}, choice {c}");
            }
        }
    }
    // The right answers are spread over the letters.
    assert!(letters(&quiz).iter().collect::<HashSet<_>>().len() >= 3);
    // Misconceptions the glossary's self-check names appear as quiz distractors too.
    let named: HashSet<&str> =
        quiz.questions.iter().flat_map(|q| &q.choices).map(|c| c.misconception.as_str()).collect();
    for m in [
        "one big central computer",
        "exposing the distribution",
        "a faster or bigger machine",
        "things happen one after another",
    ] {
        assert!(named.contains(m), "{m}");
    }
    let loaded = Quiz::load(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/quiz.json")).unwrap();
    assert_eq!(loaded, quiz);
}

#[test]
fn the_quiz_covers_the_core_terms_architecture_and_which_definition_is_wrong() {
    let quiz = Quiz::builtin().unwrap();
    let topics: HashSet<&str> = quiz.questions.iter().map(|q| q.topic.as_str()).collect();
    for topic in CORE_TERMS.iter().copied().chain(["Architecture", "Consistency"]) {
        assert!(topics.contains(topic), "no question on {topic}");
    }
    let which_wrong: Vec<_> =
        quiz.questions.iter().filter(|q| q.question.starts_with("Which of these definitions")).collect();
    assert!(which_wrong.len() >= 2);
    for q in which_wrong {
        // Each choice quotes a definition and gives a reason; the answer has the wrong
        // definition with the right reason.
        assert!(q.choices.iter().all(|c| c.text.starts_with('\'') && c.text.contains("Wrong:")), "{q:?}");
    }
    // A single web server: centralized (who holds the data and decides) and client-server
    // (who asks whom), two separate axes.
    let web = quiz.questions.iter().find(|q| q.question.contains("one web server")).unwrap();
    let answer = &web.choices[index(&web.answer)].text;
    assert!(answer.starts_with("Centralized and client-server"), "{answer}");
    assert!(web.explanation.contains("two separate axes"), "{}", web.explanation);
    assert!(web.choices.iter().any(|c| c.misconception == "centralized and client-server are alternatives"));
}

#[test]
fn questions_are_numbered_with_lettered_choices_and_hide_the_answers() {
    let quiz = Quiz::builtin().unwrap();
    let t = quiz.questions();
    assert_eq!(t.headers, ["#", "question", "choices"]);
    let choices: usize = quiz.questions.iter().map(|q| q.choices.len()).sum();
    assert_eq!(t.rows.len(), choices);
    assert_eq!(t.rows[0][0], "1");
    assert_eq!(t.rows[0][2], format!("a) {}", quiz.questions[0].choices[0].text));
    assert_eq!(t.rows[1][2], format!("b) {}", quiz.questions[0].choices[1].text));
    assert!(t.notes[0].contains(&format!("({} in all)", quiz.questions.len())), "{:?}", t.notes);
    let shown = quiz.to_string();
    for q in &quiz.questions {
        assert!(!shown.contains(&q.explanation), "explanation shown before answering");
        for c in &q.choices {
            assert!(c.why.is_empty() || !shown.contains(&c.why), "a why shown before answering");
        }
    }
}

#[test]
fn grading_says_why_for_every_answer_and_names_the_misconception_chosen() {
    let quiz = Quiz::builtin().unwrap();
    let n = quiz.questions.len();
    let right = letters(&quiz);
    let all_right: Vec<&str> = right.iter().map(String::as_str).collect();
    let t = quiz.grade(&all_right).unwrap();
    assert!(t.rows.iter().all(|r| r[2] == "right"), "{t}");
    assert_eq!(t.notes, [format!("{n} of {n} right")]);
    assert_eq!(quiz.score(&all_right), n);
    for (row, q) in t.rows.iter().zip(&quiz.questions) {
        assert_eq!(row[3], q.explanation);
    }

    // Every wrong choice of every question: the result names the right answer and the why
    // names the misconception and says why it does not hold.
    for (i, q) in quiz.questions.iter().enumerate() {
        for (c, choice) in q.choices.iter().enumerate().filter(|(c, _)| *c != index(&q.answer)) {
            let mut answers = vec![""; i + 1];
            let letter = ((b'a' + c as u8) as char).to_string();
            answers[i] = &letter;
            let t = quiz.grade(&answers).unwrap();
            let row = &t.rows[i];
            assert!(row[2].starts_with(&format!("not quite: the answer is {})", q.answer)), "{row:?}");
            assert!(
                row[3].starts_with(&format!("{letter}) is the misconception \"{}\": ", choice.misconception))
            );
            assert!(row[3].contains(&choice.why) && row[3].ends_with(&q.explanation), "{row:?}");
            assert_eq!(t.notes[0], format!("0 of {n} right ({} not answered yet)", n - 1));
        }
    }

    // Upper case and "b)" count like "b"; empty and missing answers are a friendly note and
    // do not give the answer away; an unknown letter says which letters are allowed.
    let second = format!("{})", right[1].to_uppercase());
    let t = quiz.grade(&[&right[0], &second, "", "zz", "7"]).unwrap();
    assert_eq!((t.rows[0][2].as_str(), t.rows[1][2].as_str()), ("right", "right"));
    assert_eq!((t.rows[2][2].as_str(), t.rows[2][3].as_str()), ("not answered yet", ""));
    assert!(t.rows[5..].iter().all(|r| r[2] == "not answered yet" && r[1].is_empty() && r[3].is_empty()));
    assert_eq!(t.rows[3][2], "\"zz\" is not a choice");
    assert!(t.rows[3][3].contains("from a to"), "{:?}", t.rows[3]);
    assert_eq!(t.rows[4][2], "\"7\" is not a choice");
    assert_eq!(t.notes[0], format!("2 of {n} right ({} not answered yet)", n - 4));

    // A slice of any length: none, some, all; too many is an error naming the counts.
    for len in 0..=n {
        let t = quiz.grade(&vec!["a"; len]).unwrap();
        assert_eq!(t.rows.len(), n);
        assert!(t.notes[0].contains(&format!("({} not answered yet)", n - len)) || len == n, "{len}");
    }
    let mut many = all_right.clone();
    many.push("a");
    let err = quiz.grade(&many).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { name: "answers", .. }), "{err:?}");
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("{} answers", n + 1)) && shown.contains(&format!("at most {n}")),
        "{shown}"
    );
    assert!(quiz.grade(&["a"; 40]).unwrap_err().to_string().contains("40 answers"));
    // The learner's text is escaped in HTML.
    assert!(quiz.grade(&["<b>"]).unwrap().to_html().contains("&lt;b&gt;"));
}

#[test]
fn a_quiz_file_with_a_bad_answer_an_unnamed_distractor_or_bad_syntax_is_reported() {
    let dir = std::env::temp_dir();
    let path = dir.join(format!("distlab-quiz-{}.json", std::process::id()));
    let mut quiz = Quiz::builtin().unwrap();
    quiz.questions[2].answer = "f".into();
    std::fs::write(&path, serde_json::to_string_pretty(&quiz).unwrap()).unwrap();
    let err = Quiz::load(&path).unwrap_err();
    assert!(err.to_string().contains("question 3: answer \"f\" is not one of its choices (a to d)"), "{err}");

    let mut quiz = Quiz::builtin().unwrap();
    let wrong = (index(&quiz.questions[0].answer) + 1) % quiz.questions[0].choices.len();
    quiz.questions[0].choices[wrong].misconception.clear();
    std::fs::write(&path, serde_json::to_string_pretty(&quiz).unwrap()).unwrap();
    let err = Quiz::load(&path).unwrap_err();
    assert!(err.to_string().contains("names no misconception"), "{err}");

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
            "coordinate without a boss",
        ] {
            assert!(!text.contains(phrase), "{}: {phrase}", path.display());
        }
    }
    assert!(files >= 6, "{files}");
}
