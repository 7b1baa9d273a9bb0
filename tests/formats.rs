//! File formats: BIF and XMLBIF in and out, the TOML writer, and their error messages.
//!
//! The BIF networks under `tests/data/bn/` are copies of the bnlearn repository files that
//! pgmpy ships (see `tests/data/bn/SOURCES.md`).
//!
//! Round trips and the builder. `NetworkBuilder` divides every row by its `f64` sum, also when
//! that sum is 1 to the last bit or two, so a row written out and read back comes back as
//! `written / sum(written)`. The round-trip checks below assert exactly that, bit for bit: the
//! re-read row equals the original row divided by its own `f64` sum, which is the original row
//! itself whenever that sum is exactly 1.0 (most rows). Any loss in printing or parsing a number
//! would break the equality.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use radix::format::{self, LoadError, bif, toml_writer, xmlbif};
use radix::network::{Network, Parameterisation};

const SHARED: [(&str, usize); 15] = [
    ("asia", 8),
    ("alarm", 37),
    ("child", 20),
    ("insurance", 27),
    ("hepar2", 70),
    ("win95pts", 76),
    ("water", 32),
    ("mildew", 35),
    ("barley", 48),
    ("pigs", 441),
    ("munin2", 1003),
    ("sachs", 11),
    ("survey", 6),
    ("cancer", 5),
    ("earthquake", 5),
];

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// Every shared network, loaded once for all tests.
fn shared() -> &'static [(&'static str, Network)] {
    static NETS: OnceLock<Vec<(&'static str, Network)>> = OnceLock::new();
    NETS.get_or_init(|| {
        SHARED
            .iter()
            .map(|&(name, _)| {
                let path = data(&format!("bn/{name}.bif"));
                let net = format::load(&path).unwrap_or_else(|e| panic!("{e}"));
                (name, net)
            })
            .collect()
    })
}

fn net(name: &str) -> &'static Network {
    &shared().iter().find(|(n, _)| *n == name).unwrap().1
}

/// A row after a write and a read: identical, or (for a row written as numbers) the written
/// numbers divided by their `f64` sum, as the builder does.
fn assert_row(what: &str, original: &[f64], reread: &[f64]) {
    assert_eq!(original.len(), reread.len(), "{what}");
    if original == reread {
        return;
    }
    let sum: f64 = original.iter().sum();
    for (i, (&a, &b)) in original.iter().zip(reread).enumerate() {
        assert!(
            b == a / sum,
            "{what}, entry {i}: wrote {a:?}, read back {b:?} (row sum {sum:?})"
        );
    }
}

/// Same variables, states, parents and tables (see the module docs for "same" tables).
fn assert_same_tables(a: &Network, b: &Network, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: variable count");
    for v in 0..a.len() {
        let (x, y) = (a.variable(v), b.variable(v));
        assert_eq!(x.id(), y.id(), "{what}");
        assert_eq!(x.states(), y.states(), "{what}: states of {}", x.id());
        assert_eq!(a.parents(v), b.parents(v), "{what}: parents of {}", x.id());
        let k = x.cardinality();
        let (fa, fb) = (a.cpd(v).factor().values(), b.cpd(v).factor().values());
        assert_eq!(fa.len(), fb.len(), "{what}: table size of {}", x.id());
        for (r, (ra, rb)) in fa.chunks(k).zip(fb.chunks(k)).enumerate() {
            assert_row(&format!("{what}: `{}` row {r}", x.id()), ra, rb);
        }
    }
}

/// Same labels, descriptions, roles, positive states and model metadata.
fn assert_same_descriptions(a: &Network, b: &Network, what: &str) {
    assert_eq!(a.info(), b.info(), "{what}: model info");
    for (x, y) in a.variables().iter().zip(b.variables()) {
        assert_eq!(x.label(), y.label(), "{what}: label of {}", x.id());
        assert_eq!(
            x.description(),
            y.description(),
            "{what}: description of {}",
            x.id()
        );
        assert_eq!(x.role(), y.role(), "{what}: role of {}", x.id());
        assert_eq!(x.positive_state(), y.positive_state(), "{what}: {}", x.id());
    }
}

/// Same parameterisations (kind, numbers, sources) and triage rules.
fn assert_same_parameterisation(a: &Network, b: &Network, what: &str) {
    for v in 0..a.len() {
        let id = a.variable(v).id();
        match (a.cpd(v).parameterisation(), b.cpd(v).parameterisation()) {
            (Parameterisation::Table(ra), Parameterisation::Table(rb)) => {
                assert_eq!(ra.len(), rb.len(), "{what}: rows of {id}");
                for (r, (x, y)) in ra.iter().zip(rb).enumerate() {
                    assert_eq!(x.source, y.source, "{what}: source of {id} row {r}");
                    assert_row(
                        &format!("{what}: {id} row {r}"),
                        &x.probabilities,
                        &y.probabilities,
                    );
                }
            }
            (x @ Parameterisation::NoisyOr { .. }, y @ Parameterisation::NoisyOr { .. }) => {
                assert_eq!(x, y, "{what}: noisy-OR of {id}");
                assert_eq!(
                    a.cpd(v).factor().values(),
                    b.cpd(v).factor().values(),
                    "{what}: expanded noisy-OR of {id}"
                );
            }
            _ => panic!("{what}: {id} changed its parameterisation"),
        }
    }
    assert_eq!(a.triage_rules(), b.triage_rules(), "{what}: triage rules");
}

#[test]
fn every_shared_bif_loads_with_its_variable_count() {
    for (&(name, count), (_, net)) in SHARED.iter().zip(shared()) {
        assert_eq!(net.len(), count, "{name}");
        assert!(net.variables().iter().all(|v| v.label() == v.id()));
        assert!(
            net.variables()
                .iter()
                .all(|v| v.role() == radix::network::Role::Other)
        );
    }
    assert_eq!(net("asia").name(), "asia");
    // barley's rows sum to one only within 3e-7: renormalised, with warnings naming variables.
    let barley = net("barley");
    assert!(!barley.warnings().is_empty());
    assert!(
        barley
            .warnings()
            .iter()
            .all(|w| w.starts_with("variable `")),
        "{:?}",
        barley.warnings()
    );
    for name in ["sachs", "munin2", "mildew"] {
        assert!(!net(name).warnings().is_empty(), "{name} should warn");
    }
    assert!(net("asia").warnings().is_empty());
    // Odd state names of child.bif are kept as they are.
    let child = net("child");
    let chest = child.id_of("ChestXray").unwrap();
    assert_eq!(child.variable(chest).states()[4], "Asy/Patch");
    let co2 = child.id_of("CO2Report").unwrap();
    assert_eq!(child.variable(co2).states(), ["<7.5", ">=7.5"]);
}

#[test]
fn asia_bif_numbers_are_read_in_full() {
    let asia = net("asia");
    let either = asia.id_of("either").unwrap();
    let parents: Vec<&str> = asia
        .parents(either)
        .iter()
        .map(|&p| asia.variable(p).id())
        .collect();
    assert_eq!(parents, ["lung", "tub"]);
    // Rows "(no, yes) 1.0, 0.0" and "(no, no) 0.0, 1.0": lung=no, tub=yes is row 2.
    assert_eq!(
        asia.cpd(either).factor().values(),
        vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    );
    // insurance.bif: `(Mild, Football) 9.799657e-01, 9.999650e-03, 9.984651e-03, 4.999825e-05;`
    let ins = net("insurance");
    let cost = ins.id_of("OtherCarCost").unwrap();
    let (accident, rugged) = (
        ins.id_of("Accident").unwrap(),
        ins.id_of("RuggedAuto").unwrap(),
    );
    assert_eq!(ins.parents(cost), [accident, rugged]);
    let row_index = ins.variable(accident).state_index("Mild").unwrap() * 3
        + ins.variable(rugged).state_index("Football").unwrap();
    let written = [9.799657e-01, 9.999650e-03, 9.984651e-03, 4.999825e-05];
    let sum: f64 = written.iter().sum();
    let expected: Vec<f64> = written.iter().map(|x| x / sum).collect();
    assert_eq!(
        ins.cpd(cost).factor().values()[row_index * 4..row_index * 4 + 4],
        expected[..]
    );
}

#[test]
fn bif_round_trip_gives_identical_tables() {
    for (name, original) in shared() {
        let text = bif::to_string(original);
        let back = bif::from_str(&text, &format!("{name}.bif")).unwrap_or_else(|e| panic!("{e}"));
        assert_same_tables(original, &back, &format!("{name} via BIF"));
        assert_eq!(back.name(), original.name());
    }
}

#[test]
fn xmlbif_round_trip_gives_identical_tables() {
    for (name, original) in shared() {
        let text = xmlbif::to_string(original);
        let back =
            xmlbif::from_str(&text, &format!("{name}.xml")).unwrap_or_else(|e| panic!("{e}"));
        assert_same_tables(original, &back, &format!("{name} via XMLBIF"));
        assert_same_descriptions(original, &back, &format!("{name} via XMLBIF"));
    }
}

#[test]
fn xmlbif_keeps_labels_and_roles_of_radix_models() {
    for path in [data("asia.toml"), data("../../models/hip_leg_pain.toml")] {
        let original = format::load(&path).unwrap();
        let text = xmlbif::to_string(&original);
        assert!(text.contains("<PROPERTY>role = "), "{}", path.display());
        let back = xmlbif::from_str(&text, "model.xml").unwrap_or_else(|e| panic!("{e}"));
        let what = format!("{} via XMLBIF", path.display());
        assert_same_tables(&original, &back, &what);
        assert_same_descriptions(&original, &back, &what);
    }
}

#[test]
fn toml_writer_round_trips_radix_models() {
    for path in [data("asia.toml"), data("../../models/hip_leg_pain.toml")] {
        let original = format::load(&path).unwrap();
        let text = toml_writer::to_string(&original);
        let back = format::toml::from_str(&text, "written.toml").unwrap_or_else(|e| panic!("{e}"));
        let what = format!("{} via the TOML writer", path.display());
        assert_same_tables(&original, &back, &what);
        assert_same_descriptions(&original, &back, &what);
        assert_same_parameterisation(&original, &back, &what);
    }
    let hip = format::load(data("../../models/hip_leg_pain.toml")).unwrap();
    assert!(!hip.triage_rules().is_empty());
    assert!((0..hip.len()).any(|v| matches!(
        hip.cpd(v).parameterisation(),
        Parameterisation::NoisyOr { .. }
    )));
    assert!(toml_writer::to_string(&hip).contains("[variable.noisy_or]"));
}

#[test]
fn toml_writer_round_trips_bif_networks() {
    for name in ["asia", "child", "alarm", "insurance", "win95pts"] {
        let original = net(name);
        let text = toml_writer::to_string(original);
        let back = format::toml::from_str(&text, "written.toml").unwrap_or_else(|e| panic!("{e}"));
        let what = format!("{name} via the TOML writer");
        assert_same_tables(original, &back, &what);
        assert_same_descriptions(original, &back, &what);
        assert_same_parameterisation(original, &back, &what);
    }
    // child's state names need quoting as TOML keys' values; parents with dots as keys.
    let text = toml_writer::to_string(net("child"));
    assert!(text.contains(r#"CardiacMixing = "Transp.""#), "{text}");
}

#[test]
fn save_picks_the_writer_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let original = format::load(data("asia.toml")).unwrap();
    for ext in ["bif", "xml", "xmlbif", "toml", "BIF"] {
        let path = dir.path().join(format!("asia.{ext}"));
        format::save(&original, &path).unwrap();
        let back = format::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_same_tables(&original, &back, ext);
    }
    let e = format::save(&original, dir.path().join("asia.json")).unwrap_err();
    assert!(e.to_string().contains("unknown model format `json`"), "{e}");
    let e = format::load(dir.path().join("missing.bif")).unwrap_err();
    assert!(e.to_string().contains("cannot read the file"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Errors

const SMALL: &str = "network small {
}
variable asia {
  type discrete [ 2 ] { yes, no };
}
variable tub {
  type discrete [ 2 ] { yes, no };
}
probability ( asia ) {
  table 0.01, 0.99;
}
probability ( tub | asia ) {
  (yes) 0.05, 0.95;
  (no) 0.01, 0.99;
}
";

fn bif_err(text: &str) -> LoadError {
    bif::from_str(text, "small.bif").expect_err("the text should be rejected")
}

fn at(e: &LoadError) -> (usize, usize) {
    (e.line.expect("a line"), e.column.expect("a column"))
}

#[test]
fn small_bif_loads() {
    let net = bif::from_str(SMALL, "small.bif").unwrap();
    assert_eq!(net.name(), "small");
    assert_eq!(net.len(), 2);
}

#[test]
fn missing_semicolon_is_located() {
    let e = bif_err(&SMALL.replace("(yes) 0.05, 0.95;", "(yes) 0.05, 0.95"));
    assert_eq!(at(&e), (14, 3), "{e}");
    assert_eq!(
        e.to_string(),
        "small.bif:14:3: expected `;` after the probability row, found `(`"
    );
    let e = bif_err(&SMALL.replace(
        "{ yes, no };\n}\nvariable tub",
        "{ yes, no }\n}\nvariable tub",
    ));
    assert_eq!(at(&e), (5, 1), "{e}");
    assert!(
        e.to_string()
            .contains("expected `;` after the list of states, found `}`")
    );
}

#[test]
fn truncated_bif_is_located_at_the_end() {
    let cut = &SMALL[..SMALL.find("0.95").unwrap()];
    let e = bif_err(cut);
    assert_eq!(at(&e), (13, 15), "{e}");
    assert!(
        e.to_string()
            .contains("expected a probability (a number), found the end of the file"),
        "{e}"
    );
    let e = bif_err(&SMALL[..SMALL.find("probability ( tub").unwrap()]);
    assert_eq!(at(&e), (6, 10), "{e}");
    assert!(
        e.to_string()
            .contains("variable `tub` has no probability block"),
        "{e}"
    );
}

#[test]
fn unknown_parent_and_variable_are_named() {
    let e = bif_err(&SMALL.replace("( tub | asia )", "( tub | asai )"));
    assert_eq!(at(&e), (12, 21), "{e}");
    assert!(
        e.to_string()
            .ends_with("variable `tub`: unknown parent `asai` (did you mean `asia`?)"),
        "{e}"
    );
    let e = bif_err(&SMALL.replace("probability ( asia )", "probability ( asai )"));
    assert_eq!(at(&e), (9, 15), "{e}");
    assert!(
        e.to_string().contains(
            "probability block for `asai`, which is not a declared variable (did you mean `asia`?)"
        ),
        "{e}"
    );
    let e = bif_err(&SMALL.replace("(no) 0.01", "(nope) 0.01"));
    assert_eq!(at(&e), (14, 4), "{e}");
    assert!(e.to_string().contains("`asia` has no state `nope`"), "{e}");
}

#[test]
fn wrong_value_counts_name_the_variable() {
    let e = bif_err(&SMALL.replace("(no) 0.01, 0.99;", "(no) 0.01, 0.98, 0.01;"));
    assert_eq!(at(&e), (14, 3), "{e}");
    assert!(
        e.to_string()
            .ends_with("variable `tub`, row 2: has 3 probabilities; give one per state (2)"),
        "{e}"
    );
    let e = bif_err(&SMALL.replace("table 0.01, 0.99;", "table 0.01, 0.49, 0.5;"));
    assert_eq!(at(&e), (10, 3), "{e}");
    assert!(e.to_string().contains("variable `asia`"), "{e}");
    let e = bif_err(&SMALL.replace(
        "[ 2 ] { yes, no };\n}\nvariable tub",
        "[ 3 ] { yes, no };\n}\nvariable tub",
    ));
    assert!(
        e.to_string().contains("declares 3 state(s) but lists 2"),
        "{e}"
    );
    // A row that does not sum to one within 1e-5.
    let e = bif_err(&SMALL.replace("(no) 0.01, 0.99;", "(no) 0.02, 0.99;"));
    assert_eq!(at(&e), (14, 3), "{e}");
    assert!(
        e.to_string()
            .contains("variable `tub`, row 2: probabilities sum to 1.01"),
        "{e}"
    );
    // A missing row.
    let e = bif_err(&SMALL.replace("  (no) 0.01, 0.99;\n", ""));
    assert!(e.to_string().contains("no row for `asia=no`"), "{e}");
}

#[test]
fn forbidden_characters_in_names_are_reported() {
    let e = bif_err(
        &SMALL
            .replace("variable tub", "variable tub=x")
            .replace("( tub |", "( tub=x |"),
    );
    assert_eq!(at(&e), (6, 10), "{e}");
    assert!(
        e.to_string().contains("variable name `tub=x` contains `=`"),
        "{e}"
    );
    let e = bif_err(
        &SMALL
            .replace("variable tub", "variable \"t b\"")
            .replace("( tub |", "( \"t b\" |"),
    );
    assert!(e.to_string().contains("contains whitespace"), "{e}");
}

#[test]
fn truncated_alarm_gives_errors_not_panics() {
    let text = std::fs::read_to_string(data("bn/alarm.bif")).unwrap();
    let n = 48;
    for i in 1..n {
        let mut cut = i * text.len() / n;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let e =
            bif::from_str(&text[..cut], "alarm.bif").expect_err("a truncated file must not load");
        assert!(e.line.is_some(), "no position in {e}");
    }
    let xml = xmlbif::to_string(net("alarm"));
    for i in 1..n {
        let cut = i * xml.len() / n;
        let e =
            xmlbif::from_str(&xml[..cut], "alarm.xml").expect_err("a truncated file must not load");
        assert!(e.line.is_some(), "no position in {e}");
    }
}

#[test]
fn mangled_files_give_errors_not_panics() {
    let text = std::fs::read_to_string(data("bn/child.bif")).unwrap();
    let inserts = [
        "{", "}", "(", ")", ";", ",", "|", "\"", "/*", "//", "1e999", "-0.5", "x", " ", "[", "nan",
    ];
    let mut step = 0;
    for (i, _) in text.char_indices().step_by(37) {
        let insert = inserts[step % inserts.len()];
        step += 1;
        let mangled = format!("{}{insert}{}", &text[..i], &text[i..]);
        let _ = bif::from_str(&mangled, "child.bif");
    }
    let xml = xmlbif::to_string(net("child"));
    let inserts = [
        "<",
        ">",
        "&",
        "&amp;",
        "</X>",
        "<X>",
        "\"",
        "]]>",
        "x",
        "<![CDATA[",
    ];
    for (i, _) in xml.char_indices().step_by(53) {
        let insert = inserts[step % inserts.len()];
        step += 1;
        let mangled = format!("{}{insert}{}", &xml[..i], &xml[i..]);
        let _ = xmlbif::from_str(&mangled, "child.xml");
    }
}

fn small_xml() -> String {
    xmlbif::to_string(&bif::from_str(SMALL, "small.bif").unwrap())
}

#[test]
fn bad_xml_is_located() {
    let xml = small_xml();
    let line_of = |needle: &str| xml[..xml.find(needle).unwrap()].matches('\n').count() + 1;

    // A mismatched closing tag.
    let bad = xml.replacen("</OUTCOME>", "</OUTCOMES>", 1);
    let e = xmlbif::from_str(&bad, "small.xml").unwrap_err();
    assert_eq!(e.line, Some(line_of("</OUTCOME>")), "{e}");
    assert!(e.to_string().contains("not well-formed XML"), "{e}");

    // Truncated.
    let cut = &xml[..xml.find("<DEFINITION>").unwrap()];
    let e = xmlbif::from_str(cut, "small.xml").unwrap_err();
    assert!(
        e.to_string().contains("the file ends inside `<NETWORK>`"),
        "{e}"
    );

    // A bad number, located at the number itself.
    let bad = xml.replacen("0.01 0.99", "0.01 O.99", 1);
    let e = xmlbif::from_str(&bad, "small.xml").unwrap_err();
    let line = line_of("0.01 0.99");
    let column = xml.lines().nth(line - 1).unwrap().find("0.99").unwrap() + 1;
    assert_eq!(at(&e), (line, column), "{e}");
    assert!(e.to_string().contains("found `O.99`"), "{e}");

    // Wrong count and unknown parent.
    let bad = xml.replacen("0.01 0.99", "0.01 0.49 0.5", 1);
    let e = xmlbif::from_str(&bad, "small.xml").unwrap_err();
    assert!(
        e.to_string()
            .contains("`<TABLE>` of `asia` has 3 probabilities"),
        "{e}"
    );
    let bad = xml.replacen("<GIVEN>asia</GIVEN>", "<GIVEN>asai</GIVEN>", 1);
    let e = xmlbif::from_str(&bad, "small.xml").unwrap_err();
    assert_eq!(e.line, Some(line_of("<GIVEN>")), "{e}");
    assert!(
        e.to_string()
            .contains("unknown parent `asai` (did you mean `asia`?)"),
        "{e}"
    );

    // Not XMLBIF at all.
    let e = xmlbif::from_str("<html></html>", "page.xml").unwrap_err();
    assert!(
        e.to_string().contains("expected the root element `<BIF>`"),
        "{e}"
    );
}

/// A radix model whose names need quoting in every format.
const AWKWARD: &str = r#"
[model]
name = "awkward model"
title = "Names with \"quotes\", <angles> & spaces"
[[variable]]
id = "age.band"
label = "Age band \"(years)\""
description = "Line one.\nLine two & <three>."
role = "context"
states = ["under 40", "40-59", "60 and {over}"]
cpt = { p = [0.3, 0.4, 0.3], source = "a source; with ; semicolons" }
[[variable]]
id = "pain/severe"
label = "Severe pain"
role = "origin"
states = ["yes", "no"]
positive_state = "yes"
parents = ["age.band"]
[variable.cpt]
rows = [
  { when = { "age.band" = "under 40" }, p = [0.1, 0.9], source = "one" },
  { when = { "age.band" = "40-59" }, p = [0.2, 0.8] },
  { when = { "age.band" = "60 and {over}" }, p = [0.3, 0.7], source = "three" },
]
[[variable]]
id = "x"
label = "x"
role = "finding"
states = ["on", "off"]
[variable.noisy_or]
leak = { p = 0.01 }
causes = [{ parent = "pain/severe", p = 0.5, source = "s" }, { parent = "age.band", state = "60 and {over}", p = 0.25, source = "s" }]
[[triage]]
id = "red"
level = "urgent"
message = "See \"someone\" today."
when_any = [{ variable = "x", state = "on" }]
names = ["pain/severe"]
"#;

#[test]
fn awkward_names_round_trip_in_every_format() {
    let original = format::toml::from_str(AWKWARD, "awkward.toml").unwrap();

    let text = bif::to_string(&original);
    assert!(
        text.contains(r#"{ "under 40", 40-59, "60 and {over}" }"#),
        "{text}"
    );
    let back = bif::from_str(&text, "awkward.bif").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_same_tables(&original, &back, "awkward via BIF");
    assert_eq!(back.name(), "awkward model");

    let text = xmlbif::to_string(&original);
    let back = xmlbif::from_str(&text, "awkward.xml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_same_tables(&original, &back, "awkward via XMLBIF");
    assert_same_descriptions(&original, &back, "awkward via XMLBIF");

    let text = toml_writer::to_string(&original);
    let back =
        format::toml::from_str(&text, "awkward.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_same_tables(&original, &back, "awkward via TOML");
    assert_same_descriptions(&original, &back, "awkward via TOML");
    assert_same_parameterisation(&original, &back, "awkward via TOML");
}

#[test]
fn oversized_and_degenerate_inputs_are_refused() {
    // 12 parents of 10 states: a `default` would expand to 10^12 rows.
    let mut text = String::from("network big { }\n");
    for i in 0..12 {
        text.push_str(&format!(
            "variable p{i} {{ type discrete [ 10 ] {{ a, b, c, d, e, f, g, h, i, j }}; }}\nprobability ( p{i} ) {{ table 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1; }}\n"
        ));
    }
    text.push_str("variable c { type discrete [ 2 ] { y, n }; }\n");
    let parents: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
    let header = format!("probability ( c | {} ) {{", parents.join(", "));
    let e =
        bif::from_str(&format!("{text}{header} default 0.5, 0.5; }}\n"), "big.bif").unwrap_err();
    assert!(e.to_string().contains("would expand to"), "{e}");
    let e = bif::from_str(
        &format!("{text}{header} (a, a, a, a, a, a, a, a, a, a, a, a) 0.5, 0.5; }}\n"),
        "big.bif",
    )
    .unwrap_err();
    assert!(e.to_string().contains("no row for `p0=a, p1=a"), "{e}");

    let e = bif::from_str(
        "network n { } variable a { type discrete [ 1 ] { only }; }",
        "one.bif",
    )
    .unwrap_err();
    assert!(e.to_string().contains("needs at least two"), "{e}");

    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let e = xmlbif::from_str(&deep, "deep.xml").unwrap_err();
    assert!(e.to_string().contains("nested more than"), "{e}");

    let e = bif::from_str("", "empty.bif").unwrap_err();
    assert!(e.to_string().contains("declares no variable"), "{e}");
    let e = xmlbif::from_str("", "empty.xml").unwrap_err();
    assert!(e.to_string().contains("expected `<BIF>`"), "{e}");
}
