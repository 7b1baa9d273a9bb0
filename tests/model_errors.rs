//! Every kind of malformed model is rejected with a message that names the file, the item, the
//! line where known, and what to fix.

use radix::format::{self, LoadError};

const HEADER: &str = "[model]\nname = \"bad\"\n";

const A: &str = r#"
[[variable]]
id = "a"
label = "A"
role = "origin"
states = ["present", "absent"]
cpt = { p = [0.3, 0.7], source = "expert estimate" }
"#;

fn load(body: &str) -> LoadError {
    let text = format!("{HEADER}{body}");
    format::toml::from_str(&text, "models/bad.toml").expect_err("the model must be rejected")
}

/// Asserts the message names the file and line and contains every fragment.
fn assert_message(e: &LoadError, line: usize, fragments: &[&str]) {
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("models/bad.toml:{line}:")),
        "wrong file/line in: {msg}"
    );
    for f in fragments {
        assert!(msg.contains(f), "`{f}` missing from: {msg}");
    }
}

#[test]
fn toml_syntax_error_has_line_and_column() {
    let e = load("[[variable]]\nid = \"a\nlabel = \"A\"\n");
    assert_eq!(e.line, Some(4));
    assert!(e.column.is_some());
    assert!(e.to_string().starts_with("models/bad.toml:4:"), "{e}");
}

#[test]
fn unknown_key_is_named() {
    let e = load(&A.replace("label = \"A\"", "label = \"A\"\nlabl = \"x\""));
    assert!(e.to_string().contains("unknown field `labl`"), "{e}");
    assert!(e.line.is_some());
}

#[test]
fn unknown_role_lists_roles() {
    let e = load(&A.replace("role = \"origin\"", "role = \"cause\""));
    let msg = e.to_string();
    assert!(
        msg.contains("unknown variant `cause`") && msg.contains("origin"),
        "{msg}"
    );
}

#[test]
fn unknown_parent_suggests_the_nearest_id() {
    let body = format!(
        "{A}\n[[variable]]\nid = \"b\"\nlabel = \"B\"\nrole = \"finding\"\nstates = [\"present\", \"absent\"]\n\
         noisy_or = {{ leak = {{ p = 0.1, source = \"x\" }}, causes = [{{ parent = \"aa\", p = 0.5, source = \"x\" }}] }}\n"
    );
    let e = load(&body);
    assert_message(
        &e,
        11,
        &["variable `b`", "unknown parent `aa`", "did you mean `a`?"],
    );
}

#[test]
fn unknown_state_in_a_row_lists_the_states() {
    let body = format!(
        "{A}\n[[variable]]\nid = \"b\"\nlabel = \"B\"\nrole = \"finding\"\nstates = [\"present\", \"absent\"]\n\
         parents = [\"a\"]\n[variable.cpt]\nsource = \"x\"\nrows = [\n\
           {{ when = {{ a = \"present\" }}, p = [0.9, 0.1] }},\n\
           {{ when = {{ a = \"absnt\" }}, p = [0.1, 0.9] }},\n]\n"
    );
    let e = load(&body);
    assert_message(
        &e,
        21,
        &[
            "variable `b`, row 2",
            "`a` has no state `absnt`",
            "did you mean `absent`?",
            "`present`, `absent`",
        ],
    );
}

#[test]
fn duplicate_id_points_at_the_second() {
    let e = load(&format!("{A}{A}"));
    assert_message(&e, 11, &["variable `a`", "must be unique"]);
}

#[test]
fn cycle_is_named() {
    let var = |id: &str, parent: &str| {
        format!(
            "\n[[variable]]\nid = \"{id}\"\nlabel = \"{id}\"\nrole = \"intermediate\"\nstates = [\"present\", \"absent\"]\n\
             noisy_or = {{ leak = {{ p = 0.1, source = \"x\" }}, causes = [{{ parent = \"{parent}\", p = 0.5, source = \"x\" }}] }}\n"
        )
    };
    let e = load(&format!(
        "{A}{}{}{}",
        var("b", "d"),
        var("c", "b"),
        var("d", "c")
    ));
    let msg = e.to_string();
    assert!(msg.contains("cycle"), "{msg}");
    assert!(
        ["b -> c -> d -> b", "c -> d -> b -> c", "d -> b -> c -> d"]
            .iter()
            .any(|c| msg.contains(c)),
        "cycle not written out: {msg}"
    );
    assert!(e.line.is_some());
}

fn child_with_rows(rows: &str) -> String {
    format!(
        "{A}\n[[variable]]\nid = \"b\"\nlabel = \"B\"\nrole = \"finding\"\nstates = [\"present\", \"absent\"]\n\
         parents = [\"a\"]\n[variable.cpt]\nsource = \"x\"\nrows = [\n{rows}]\n"
    )
}

#[test]
fn missing_row_names_the_combination() {
    let e = load(&child_with_rows(
        "  { when = { a = \"present\" }, p = [0.9, 0.1] },\n",
    ));
    assert_message(&e, 11, &["variable `b`", "no row for `a=absent`"]);
}

#[test]
fn extra_row_is_reported() {
    let e = load(&child_with_rows(
        "  { when = { a = \"present\" }, p = [0.9, 0.1] },\n  { when = { a = \"absent\" }, p = [0.1, 0.9] },\n  { when = { a = \"present\" }, p = [0.5, 0.5] },\n",
    ));
    assert_message(
        &e,
        22,
        &["variable `b`, row 3", "a second row for `a=present`"],
    );
}

#[test]
fn row_naming_a_non_parent_is_reported() {
    let e = load(&child_with_rows(
        "  { when = { a = \"present\", z = \"present\" }, p = [0.9, 0.1] },\n  { when = { a = \"absent\" }, p = [0.1, 0.9] },\n",
    ));
    assert_message(
        &e,
        20,
        &[
            "variable `b`, row 1",
            "`when` names `z`, which is not a parent",
        ],
    );
}

#[test]
fn probability_out_of_range_or_not_finite() {
    let e = load(&child_with_rows(
        "  { when = { a = \"present\" }, p = [1.2, -0.2] },\n  { when = { a = \"absent\" }, p = [0.1, 0.9] },\n",
    ));
    assert_message(
        &e,
        20,
        &[
            "variable `b`, row 1",
            "probability 1.2 is not a number in [0, 1]",
        ],
    );
    let e = load(&child_with_rows(
        "  { when = { a = \"present\" }, p = [0.9, 0.1] },\n  { when = { a = \"absent\" }, p = [nan, 0.9] },\n",
    ));
    assert_message(&e, 21, &["variable `b`, row 2", "probability NaN"]);
    let e = load(&A.replace("p = [0.3, 0.7]", "p = [inf, 0.7]"));
    assert_message(&e, 4, &["variable `a`", "probability inf"]);
}

#[test]
fn row_not_summing_to_one() {
    let e = load(&child_with_rows(
        "  { when = { a = \"present\" }, p = [0.9, 0.1] },\n  { when = { a = \"absent\" }, p = [0.1, 0.8] },\n",
    ));
    assert_message(&e, 21, &["variable `b`, row 2", "sum to 0.9", "not 1"]);
    // 1e-9 is the tolerance: 1e-8 off is an error.
    let e = load(&A.replace("p = [0.3, 0.7]", "p = [0.3, 0.70000001]"));
    assert!(e.to_string().contains("not 1"), "{e}");
}

#[test]
fn wrong_number_of_probabilities() {
    let e = load(&A.replace("p = [0.3, 0.7]", "p = [0.3, 0.2, 0.5]"));
    assert_message(
        &e,
        4,
        &["variable `a`", "3 probabilities; give one per state (2)"],
    );
}

#[test]
fn noisy_or_on_a_non_binary_variable() {
    let body = format!(
        "{A}\n[[variable]]\nid = \"pain\"\nlabel = \"Pain\"\nrole = \"finding\"\nstates = [\"none\", \"mild\", \"severe\"]\n\
         noisy_or = {{ leak = {{ p = 0.1, source = \"x\" }}, causes = [{{ parent = \"a\", p = 0.5, source = \"x\" }}] }}\n"
    );
    let e = load(&body);
    assert_message(
        &e,
        11,
        &[
            "variable `pain`",
            "noisy-OR needs a binary effect",
            "3 states",
        ],
    );
}

#[test]
fn noisy_or_cause_out_of_range() {
    let body = format!(
        "{A}\n[[variable]]\nid = \"b\"\nlabel = \"B\"\nrole = \"finding\"\nstates = [\"present\", \"absent\"]\n\
         [variable.noisy_or]\nleak = {{ p = 0.1, source = \"x\" }}\ncauses = [\n  {{ parent = \"a\", p = 1.5, source = \"x\" }},\n]\n"
    );
    let e = load(&body);
    assert_message(&e, 19, &["variable `b`, cause 1", "probability 1.5"]);
}

#[test]
fn both_or_neither_distribution() {
    let e = load(&A.replace("cpt = { p = [0.3, 0.7], source = \"expert estimate\" }", ""));
    assert_message(&e, 4, &["variable `a`", "no distribution"]);
}

#[test]
fn triage_rule_with_unknown_finding() {
    let body = format!(
        "{A}\n[[triage]]\nid = \"red\"\nlevel = \"emergency\"\nmessage = \"go\"\nwhen_any = [{{ variable = \"b\", state = \"present\" }}]\n"
    );
    let e = load(&body);
    assert_message(
        &e,
        11,
        &["triage rule `red`, trigger 1", "unknown variable `b`"],
    );
    let body = format!(
        "{A}\n[[triage]]\nid = \"red\"\nlevel = \"emergency\"\nmessage = \"go\"\nwhen_any = [{{ variable = \"a\", state = \"yes\" }}]\n"
    );
    assert_message(
        &load(&body),
        11,
        &["triage rule `red`", "`a` has no state `yes`"],
    );
    let body = format!(
        "{A}\n[[triage]]\nid = \"red\"\nlevel = \"critical\"\nmessage = \"go\"\nwhen_any = []\n"
    );
    assert!(
        load(&body)
            .to_string()
            .contains("unknown variant `critical`")
    );
}

#[test]
fn unreadable_file_and_unknown_extension() {
    let e = format::load("tests/data/no_such_model.toml").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("tests/data/no_such_model.toml: cannot read the file"),
        "{msg}"
    );
    let e = format::load("tests/data/model.xyz").unwrap_err();
    assert!(e.to_string().contains("unknown model format `xyz`"), "{e}");
}
