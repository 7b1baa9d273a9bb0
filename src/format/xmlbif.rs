//! XMLBIF 0.3, the XML Bayesian network Interchange Format, in and out.
//!
//! XMLBIF is what Weka, JavaBayes and pgmpy (`XMLBIFReader`/`XMLBIFWriter`) exchange. A file
//! looks like this:
//!
//! ```xml
//! <BIF VERSION="0.3">
//! <NETWORK>
//!   <NAME>asia</NAME>
//!   <VARIABLE TYPE="nature">
//!     <NAME>tub</NAME>
//!     <OUTCOME>yes</OUTCOME>
//!     <OUTCOME>no</OUTCOME>
//!     <PROPERTY>label = Tuberculosis</PROPERTY>
//!   </VARIABLE>
//!   <DEFINITION>
//!     <FOR>tub</FOR>
//!     <GIVEN>asia</GIVEN>
//!     <TABLE>0.05 0.95 0.01 0.99</TABLE>
//!   </DEFINITION>
//! </NETWORK>
//! </BIF>
//! ```
//!
//! **TABLE order**: one distribution over the child's states per parent configuration, the
//! configurations in row-major order of the `GIVEN` parents (last `GIVEN` fastest), so the
//! **child's state varies fastest**. This is the order of the Interchange Format's own example
//! (`dog-out` given `family-out`, `bowel-problem`: `0.99 0.01 0.97 0.03 …`), of Weka's writer,
//! and of pgmpy's reader (which reshapes the numbers column-major into `[child states ×
//! configurations]`); pyAgrum 3.3.1 writes and reads the same order (checked: the writer's
//! output loads there with the tables of the BIF it came from). It is the transpose of BIF's
//! `table` line.
//!
//! Reading: the file is parsed by `quick-xml`; element names are matched case-insensitively;
//! `DEFINITION` may also be spelt `PROBABILITY` (XMLBIF 0.2); numbers in `TABLE` are separated by
//! whitespace (or commas); variables must be of `TYPE="nature"` (decision and utility nodes of
//! influence diagrams are rejected). `PROPERTY` elements of the form `key = value` are read for
//! `label`, `role`, `description` and `positive_state` on a variable and `title`, `version` and
//! `description` on the network; others (such as `position = (x, y)`) are ignored. A variable
//! without them gets its id as label and [`Role::Other`]. Rows are allowed to be off from
//! summing to one by [`ROW_SUM_TOLERANCE`], as in BIF, with a warning naming the variable.
//! Errors name the file, line and column.
//!
//! Writing: every variable, its outcomes and its full table (a noisy-OR is written expanded, so
//! it comes back as a table), with the radix-only facts that XMLBIF can hold as `PROPERTY`
//! elements (`label`, `role`, `description`, `positive_state` where they differ from the
//! defaults above; the model's `title`, `version`, `description`). Sources and triage rules are
//! not written. Probabilities use Rust's shortest round-trip form.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::bif::{ROW_SUM_TOLERANCE, id_problem};
use super::toml_writer::default_positive_state;
use super::{LoadError, LoadErrorKind, line_column};
use crate::network::{
    CpdSpec, Item, ModelInfo, Network, NetworkBuilder, NetworkError, NetworkErrorKind, Part, Role,
    RowSpec, VariableSpec,
};
use crate::suggest;

/// Loads a network from an XMLBIF file.
pub fn load(path: &Path) -> Result<Network, LoadError> {
    parse(&super::read(path)?, path)
}

/// Parses a network from XMLBIF text; `file` names it in error messages.
pub fn from_str(text: &str, file: &str) -> Result<Network, LoadError> {
    parse(text, Path::new(file))
}

/// Writes a network as XMLBIF 0.3 (see the module documentation for what is kept).
pub fn to_string(network: &Network) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<!-- XMLBIF 0.3 written by radix. TABLE: one row per configuration of the GIVEN parents (last GIVEN fastest), the FOR variable's state fastest. -->\n");
    out.push_str("<BIF VERSION=\"0.3\">\n<NETWORK>\n");
    let _ = writeln!(out, "  <NAME>{}</NAME>", escape(network.name()));
    let info = network.info();
    for (key, value) in [
        ("title", &info.title),
        ("version", &info.version),
        ("description", &info.description),
    ] {
        if let Some(value) = value {
            property(&mut out, "  ", key, value);
        }
    }
    for var in network.variables() {
        out.push_str("  <VARIABLE TYPE=\"nature\">\n");
        let _ = writeln!(out, "    <NAME>{}</NAME>", escape(var.id()));
        for s in var.states() {
            let _ = writeln!(out, "    <OUTCOME>{}</OUTCOME>", escape(s.as_str()));
        }
        if var.label() != var.id() {
            property(&mut out, "    ", "label", var.label());
        }
        if var.role() != Role::Other {
            property(&mut out, "    ", "role", var.role().as_str());
        }
        if let Some(d) = var.description() {
            property(&mut out, "    ", "description", d);
        }
        if var.positive_state() != default_positive_state(var) {
            property(
                &mut out,
                "    ",
                "positive_state",
                &var.states()[var.positive_state()],
            );
        }
        out.push_str("  </VARIABLE>\n");
    }
    for (v, var) in network.variables().iter().enumerate() {
        out.push_str("  <DEFINITION>\n");
        let _ = writeln!(out, "    <FOR>{}</FOR>", escape(var.id()));
        for &p in network.parents(v) {
            let _ = writeln!(
                out,
                "    <GIVEN>{}</GIVEN>",
                escape(network.variable(p).id())
            );
        }
        // The factor is over (parents..., child) in row-major order: child fastest, as XMLBIF.
        let values: Vec<String> = network
            .cpd(v)
            .factor()
            .values()
            .iter()
            .map(|x| format!("{x:?}"))
            .collect();
        let _ = writeln!(out, "    <TABLE>{}</TABLE>", values.join(" "));
        out.push_str("  </DEFINITION>\n");
    }
    out.push_str("</NETWORK>\n</BIF>\n");
    out
}

fn property(out: &mut String, indent: &str, key: &str, value: &str) {
    let _ = writeln!(
        out,
        "{indent}<PROPERTY>{}</PROPERTY>",
        escape(format!("{key} = {value}"))
    );
}

// ---------------------------------------------------------------------------------------------
// A small element tree

#[derive(Debug)]
struct Element {
    /// The tag name, upper-cased.
    name: String,
    /// Byte offset of the start tag.
    at: usize,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    /// The element's own text (entities resolved, CDATA included).
    text: String,
    /// Byte offset of the text, when the text is exactly the bytes of the file from there
    /// (one plain run, no entities or CDATA), so positions inside it can be reported.
    text_at: Option<usize>,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Element> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A message and the byte offset it is about.
type Fail = (String, usize);

/// XMLBIF nests four deep (`BIF`, `NETWORK`, `VARIABLE`, `NAME`); anything far deeper is refused
/// rather than built into a tree.
const MAX_DEPTH: usize = 32;

fn tree(text: &str) -> Result<Element, Fail> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut exact: Vec<bool> = Vec::new();
    loop {
        let start = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| {
            (
                format!("not well-formed XML: {e}"),
                reader.error_position() as usize,
            )
        })?;
        let place = |el: Element, stack: &mut Vec<Element>, root: &mut Option<Element>| match stack
            .last_mut()
        {
            Some(parent) => {
                parent.children.push(el);
                Ok(())
            }
            None if root.is_none() => {
                *root = Some(el);
                Ok(())
            }
            None => Err((
                format!(
                    "a second root element `<{}>`; an XMLBIF file has one `<BIF>`",
                    el.name
                ),
                el.at,
            )),
        };
        match event {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err((
                        format!("elements nested more than {MAX_DEPTH} deep; this is not XMLBIF"),
                        start,
                    ));
                }
                stack.push(element(&e, start)?);
                exact.push(true);
            }
            Event::Empty(e) => {
                let el = element(&e, start)?;
                place(el, &mut stack, &mut root)?;
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(("a closing tag with no opening tag".into(), start));
                };
                exact.pop();
                place(el, &mut stack, &mut root)?;
            }
            Event::Text(t) => {
                let s = t
                    .decode()
                    .map_err(|e| (format!("not well-formed XML: {e}"), start))?;
                match stack.last_mut() {
                    Some(top) => {
                        let flag = exact.last_mut().expect("one flag per open element");
                        if top.text.is_empty() && *flag {
                            top.text_at = Some(start);
                        } else {
                            *flag = false;
                            top.text_at = None;
                        }
                        top.text.push_str(&s);
                    }
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err(("text outside the root element".into(), start));
                    }
                }
            }
            Event::CData(c) => {
                let s = c
                    .decode()
                    .map_err(|e| (format!("not well-formed XML: {e}"), start))?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&s);
                    top.text_at = None;
                    *exact.last_mut().expect("one flag per open element") = false;
                }
            }
            Event::GeneralRef(r) => {
                let name = r
                    .decode()
                    .map_err(|e| (format!("not well-formed XML: {e}"), start))?;
                let resolved: String = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match resolve_predefined_entity(&name) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err((format!("unknown entity `&{name};`"), start));
                        }
                    },
                    Err(e) => return Err((format!("bad character reference: {e}"), start)),
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                    top.text_at = None;
                    *exact.last_mut().expect("one flag per open element") = false;
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        let (line, column) = line_column(text, open.at);
        return Err((
            format!(
                "the file ends inside `<{}>` (opened at line {line}, column {column}); it is truncated or a closing tag is missing",
                open.name
            ),
            text.len(),
        ));
    }
    root.ok_or_else(|| ("no XML element: expected `<BIF>`".to_string(), text.len()))
}

fn element(e: &BytesStart, at: usize) -> Result<Element, Fail> {
    let name = String::from_utf8_lossy(e.name().as_ref()).to_ascii_uppercase();
    let mut attributes = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| (format!("bad attribute in `<{name}>`: {err}"), at))?;
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| (format!("bad attribute in `<{name}>`: {err}"), at))?;
        attributes.push((
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        name,
        at,
        attributes,
        children: Vec::new(),
        text: String::new(),
        text_at: None,
    })
}

// ---------------------------------------------------------------------------------------------
// From the tree to the builder

/// The text of a required child, trimmed.
fn required<'e>(parent: &'e Element, name: &str, context: &str) -> Result<&'e Element, Fail> {
    parent
        .child(name)
        .ok_or_else(|| (format!("expected a `<{name}>` in {context}"), parent.at))
}

/// A `key = value` property, trimmed, with line ends normalised.
fn split_property(el: &Element) -> Option<(String, String)> {
    let (key, value) = el.text.split_once('=')?;
    Some((
        key.trim().to_ascii_lowercase(),
        value.trim().replace("\r\n", "\n"),
    ))
}

fn parse_role(s: &str) -> Option<Role> {
    [
        Role::Origin,
        Role::Finding,
        Role::Context,
        Role::Intermediate,
        Role::Other,
    ]
    .into_iter()
    .find(|r| r.as_str() == s)
}

struct Var<'e> {
    el: &'e Element,
    id: String,
    states: Vec<String>,
}

fn parse(text: &str, path: &Path) -> Result<Network, LoadError> {
    let syntax = |(message, at): Fail| {
        LoadError::new(path, LoadErrorKind::Syntax(message)).at(text, Some(at))
    };
    let root = tree(text).map_err(syntax)?;
    if root.name != "BIF" {
        return Err(syntax((
            format!("expected the root element `<BIF>`, found `<{}>`", root.name),
            root.at,
        )));
    }
    let net = required(&root, "NETWORK", "`<BIF>`").map_err(syntax)?;

    let mut info = ModelInfo {
        name: net
            .child("NAME")
            .map(|n| n.text.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| {
                path.file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("network")
                    .to_string()
            }),
        ..ModelInfo::default()
    };
    for p in net.all("PROPERTY") {
        if let Some((key, value)) = split_property(p) {
            match key.as_str() {
                "title" => info.title = Some(value),
                "version" => info.version = Some(value),
                "description" => info.description = Some(value),
                _ => {}
            }
        }
    }
    let mut builder = NetworkBuilder::new(&info.name);
    builder.info(info);
    builder.row_sum_tolerance(ROW_SUM_TOLERANCE);

    // Variables.
    let mut vars: Vec<Var> = Vec::new();
    let mut specs: Vec<VariableSpec> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for el in net.all("VARIABLE") {
        let name = required(el, "NAME", "`<VARIABLE>`").map_err(syntax)?;
        let id = name.text.trim().to_string();
        if let Some(t) = el.attribute("TYPE")
            && !t.eq_ignore_ascii_case("nature")
        {
            return Err(syntax((
                format!(
                    "variable `{id}` has TYPE=\"{t}\"; radix reads only chance variables (TYPE=\"nature\")"
                ),
                el.at,
            )));
        }
        if let Some(problem) = id_problem(&id) {
            return Err(syntax((problem, name.at)));
        }
        if index.insert(id.clone(), vars.len()).is_some() {
            return Err(LoadError::new(
                path,
                LoadErrorKind::Invalid(NetworkError {
                    item: Item::Variable(id),
                    part: None,
                    kind: Box::new(NetworkErrorKind::DuplicateVariable),
                }),
            )
            .at(text, Some(el.at)));
        }
        let states: Vec<String> = el
            .all("OUTCOME")
            .map(|o| o.text.trim().to_string())
            .collect();
        if states.len() < 2 {
            return Err(syntax((
                format!(
                    "variable `{id}` has {} `<OUTCOME>`(s); a variable needs at least two",
                    states.len()
                ),
                el.at,
            )));
        }
        let mut spec = VariableSpec {
            id: id.clone(),
            label: id.clone(),
            description: None,
            role: Role::Other,
            states: states.clone(),
            positive_state: None,
        };
        for p in el.all("PROPERTY") {
            let Some((key, value)) = split_property(p) else {
                continue;
            };
            match key.as_str() {
                "label" => spec.label = value,
                "description" => spec.description = Some(value),
                "positive_state" => spec.positive_state = Some(value),
                "role" => {
                    spec.role = parse_role(&value).ok_or_else(|| {
                        syntax((
                            format!(
                                "variable `{id}` has role `{value}`; use origin, finding, context, intermediate or other"
                            ),
                            p.at,
                        ))
                    })?;
                }
                _ => {}
            }
        }
        vars.push(Var { el, id, states });
        specs.push(spec);
    }
    if vars.is_empty() {
        return Err(syntax(("the network has no `<VARIABLE>`".into(), net.at)));
    }
    let ids = || vars.iter().map(|v| v.id.as_str());

    // Definitions.
    let mut definitions: Vec<Option<&Element>> = vec![None; vars.len()];
    for def in net
        .children
        .iter()
        .filter(|c| c.name == "DEFINITION" || c.name == "PROBABILITY")
    {
        let for_el = required(def, "FOR", "`<DEFINITION>`").map_err(syntax)?;
        let child = for_el.text.trim();
        let Some(&v) = index.get(child) else {
            return Err(syntax((
                format!(
                    "`<DEFINITION>` for `{child}`, which is not a declared variable{}",
                    suggest::hint(&suggest::nearest(child, ids()).map(str::to_string))
                ),
                for_el.at,
            )));
        };
        if definitions[v].is_some() {
            return Err(syntax((
                format!("a second `<DEFINITION>` for `{child}`; give one per variable"),
                for_el.at,
            )));
        }
        definitions[v] = Some(def);
    }

    let mut table_at: HashMap<String, (usize, usize)> = HashMap::new();
    for ((v, var), spec) in vars.iter().enumerate().zip(specs) {
        let invalid = |kind: NetworkErrorKind, part: Option<Part>, at: usize| {
            LoadError::new(
                path,
                LoadErrorKind::Invalid(NetworkError {
                    item: Item::Variable(var.id.clone()),
                    part,
                    kind: Box::new(kind),
                }),
            )
            .at(text, Some(at))
        };
        let Some(def) = definitions[v] else {
            return Err(syntax((
                format!("variable `{}` has no `<DEFINITION>`", var.id),
                var.el.at,
            )));
        };
        let mut parents: Vec<usize> = Vec::new();
        for given in def.all("GIVEN") {
            let name = given.text.trim();
            let Some(&p) = index.get(name) else {
                let kind = NetworkErrorKind::UnknownParent {
                    name: name.to_string(),
                    suggestion: suggest::nearest(name, ids()).map(str::to_string),
                };
                return Err(invalid(kind, None, given.at));
            };
            if parents.contains(&p) {
                return Err(invalid(
                    NetworkErrorKind::RepeatedParent(name.to_string()),
                    None,
                    given.at,
                ));
            }
            parents.push(p);
        }
        let mut tables = def.all("TABLE");
        let table = tables.next().ok_or_else(|| {
            syntax((
                format!("the `<DEFINITION>` of `{}` has no `<TABLE>`", var.id),
                def.at,
            ))
        })?;
        if let Some(second) = tables.next() {
            return Err(syntax((
                format!("the `<DEFINITION>` of `{}` has a second `<TABLE>`", var.id),
                second.at,
            )));
        }
        let mut values = Vec::new();
        let raw = table.text.as_str();
        let mut offset = 0;
        for word in raw.split(|c: char| c.is_whitespace() || c == ',') {
            let here = offset;
            offset += word.len() + 1;
            if word.is_empty() {
                continue;
            }
            let at = table.text_at.map_or(table.at, |t| t + here);
            let x: f64 = word.parse().map_err(|_| {
                syntax((
                    format!(
                        "expected a probability (a number) in the `<TABLE>` of `{}`, found `{}`",
                        var.id,
                        word.chars().take(40).collect::<String>()
                    ),
                    at,
                ))
            })?;
            if !x.is_finite() {
                return Err(syntax((
                    format!("probability `{word}` is not a finite number"),
                    at,
                )));
            }
            values.push(x);
        }
        let k = var.states.len();
        let cards: Vec<usize> = parents.iter().map(|&p| vars[p].states.len()).collect();
        let configs = cards
            .iter()
            .try_fold(1usize, |acc, &c| acc.checked_mul(c))
            .filter(|&c| c.checked_mul(k.max(1)).is_some());
        if configs.map(|c| c * k) != Some(values.len()) {
            let message = match configs {
                Some(1) => format!(
                    "the `<TABLE>` of `{}` has {} probabilities; give one per state ({k})",
                    var.id,
                    values.len()
                ),
                Some(c) => format!(
                    "the `<TABLE>` of `{}` has {} probabilities; expected {} ({k} states × {c} parent configurations)",
                    var.id,
                    values.len(),
                    c * k
                ),
                None => format!("`{}` has too many parent configurations", var.id),
            };
            return Err(syntax((message, table.at)));
        }
        let rows: Vec<RowSpec> = values
            .chunks(k)
            .enumerate()
            .map(|(c, p)| {
                let mut rest = c;
                let mut when = vec![String::new(); parents.len()];
                for i in (0..parents.len()).rev() {
                    when[i] = vars[parents[i]].states[rest % cards[i]].clone();
                    rest /= cards[i];
                }
                RowSpec {
                    when,
                    p: p.to_vec(),
                    source: None,
                }
            })
            .collect();
        table_at.insert(var.id.clone(), (def.at, table.at));
        builder.variable(
            spec,
            CpdSpec::Table {
                parents: parents.iter().map(|&p| vars[p].id.clone()).collect(),
                rows,
                source: None,
            },
        );
    }
    builder.build().map_err(|e| {
        let at = match &e.item {
            Item::Variable(id) => match (e.part, &*e.kind) {
                (Some(Part::Row(_)), _) => table_at.get(id).map(|&(_, t)| t),
                (
                    _,
                    NetworkErrorKind::InvalidId(_)
                    | NetworkErrorKind::DuplicateVariable
                    | NetworkErrorKind::TooFewStates(_)
                    | NetworkErrorKind::BadState(_)
                    | NetworkErrorKind::PositiveState(_),
                ) => index.get(id).map(|&v| vars[v].el.at),
                _ => table_at.get(id).map(|&(d, _)| d),
            },
            _ => None,
        };
        LoadError::new(path, LoadErrorKind::Invalid(e)).at(text, at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOG: &str = r#"<?xml version="1.0"?>
<BIF VERSION="0.3">
<NETWORK>
<NAME>Dog-Problem</NAME>
<VARIABLE TYPE="nature">
  <NAME>family-out</NAME>
  <OUTCOME>true</OUTCOME>
  <OUTCOME>false</OUTCOME>
  <PROPERTY>position = (112, 69)</PROPERTY>
</VARIABLE>
<VARIABLE TYPE="nature">
  <NAME>bowel-problem</NAME>
  <OUTCOME>true</OUTCOME>
  <OUTCOME>false</OUTCOME>
</VARIABLE>
<VARIABLE TYPE="nature">
  <NAME>dog-out</NAME>
  <OUTCOME>true</OUTCOME>
  <OUTCOME>false</OUTCOME>
</VARIABLE>
<DEFINITION><FOR>family-out</FOR><TABLE>0.15 0.85</TABLE></DEFINITION>
<DEFINITION><FOR>bowel-problem</FOR><TABLE>0.01 0.99</TABLE></DEFINITION>
<DEFINITION>
  <FOR>dog-out</FOR>
  <GIVEN>family-out</GIVEN>
  <GIVEN>bowel-problem</GIVEN>
  <TABLE>0.99 0.01 0.97 0.03
         0.9 0.1 0.3 0.7 </TABLE>
</DEFINITION>
</NETWORK>
</BIF>
"#;

    #[test]
    fn reads_the_interchange_format_example() {
        let net = from_str(DOG, "dog.xml").unwrap();
        assert_eq!(net.name(), "Dog-Problem");
        let dog = net.id_of("dog-out").unwrap();
        // Child fastest: P(dog-out | family-out=true, bowel-problem=false) = (0.97, 0.03).
        let f = net.cpd(dog).factor();
        assert_eq!(f.get(&[0, 1, 0]), 0.97);
        assert_eq!(f.get(&[1, 1, 1]), 0.7);
        assert_eq!(net.variable(0).role(), Role::Other);
        assert_eq!(net.variable(0).label(), "family-out");
    }

    #[test]
    fn bad_number_is_located() {
        let text = DOG.replace("0.9 0.1 0.3", "0.9 zero 0.3");
        let e = from_str(&text, "dog.xml").unwrap_err();
        assert_eq!((e.line, e.column), (Some(28), Some(14)), "{e}");
        assert!(e.to_string().contains("found `zero`"), "{e}");
    }

    #[test]
    fn entities_and_properties() {
        let text = DOG.replace(
            "<PROPERTY>position = (112, 69)</PROPERTY>",
            "<PROPERTY>label = Family &amp; friends &#x3c;out&gt;</PROPERTY><PROPERTY>role = context</PROPERTY>",
        );
        let net = from_str(&text, "dog.xml").unwrap();
        assert_eq!(net.variable(0).label(), "Family & friends <out>");
        assert_eq!(net.variable(0).role(), Role::Context);
    }
}
