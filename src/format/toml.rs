//! The radix model format: a hand-editable TOML file (see `docs/model-format.md`).
//!
//! ```
//! let text = r#"
//! [model]
//! name = "tiny"
//! [[variable]]
//! id = "rain"
//! label = "Rain"
//! role = "origin"
//! states = ["present", "absent"]
//! cpt = { p = [0.2, 0.8], source = "expert estimate" }
//! "#;
//! let net = radix::format::toml::from_str(text, "tiny.toml").unwrap();
//! assert_eq!(net.name(), "tiny");
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::{LoadError, LoadErrorKind};
use crate::network::{
    CauseSpec, CpdSpec, Item, ModelInfo, Network, NetworkBuilder, NetworkError, NetworkErrorKind,
    Part, Role, RowSpec, TriageRuleSpec, UncertainAt, UncertaintySpec, VariableSpec,
};
use crate::triage::TriageLevel;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    model: Option<ModelSection>,
    #[serde(default)]
    variable: Vec<Spanned<VariableEntry>>,
    #[serde(default)]
    triage: Vec<Spanned<TriageEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSection {
    name: String,
    title: Option<String>,
    version: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariableEntry {
    id: String,
    label: String,
    description: Option<String>,
    role: Role,
    states: Vec<String>,
    #[serde(default)]
    parents: Vec<String>,
    positive_state: Option<String>,
    cpt: Option<CptEntry>,
    noisy_or: Option<NoisyOrEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CptEntry {
    source: Option<String>,
    p: Option<Vec<f64>>,
    rows: Option<Vec<Spanned<RowEntry>>>,
    beta: Option<[f64; 2]>,
    ci: Option<[f64; 2]>,
    ess: Option<f64>,
    for_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RowEntry {
    #[serde(default)]
    when: BTreeMap<String, String>,
    p: Vec<f64>,
    source: Option<String>,
    beta: Option<[f64; 2]>,
    ci: Option<[f64; 2]>,
    ess: Option<f64>,
    for_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoisyOrEntry {
    source: Option<String>,
    leak: LeakEntry,
    causes: Vec<Spanned<CauseEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeakEntry {
    p: f64,
    source: Option<String>,
    beta: Option<[f64; 2]>,
    ci: Option<[f64; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CauseEntry {
    parent: String,
    state: Option<String>,
    p: f64,
    source: Option<String>,
    beta: Option<[f64; 2]>,
    ci: Option<[f64; 2]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageEntry {
    id: String,
    level: TriageLevel,
    message: String,
    when_any: Vec<TriggerEntry>,
    #[serde(default)]
    names: Vec<String>,
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerEntry {
    variable: String,
    state: String,
}

/// Loads a model from a TOML file.
pub fn load(path: &Path) -> Result<Network, LoadError> {
    parse(&super::read(path)?, path)
}

/// Parses a model from TOML text; `file` names it in error messages.
pub fn from_str(text: &str, file: &str) -> Result<Network, LoadError> {
    parse(text, Path::new(file))
}

fn parse(text: &str, path: &Path) -> Result<Network, LoadError> {
    let file: ModelFile = toml::from_str(text).map_err(|e| {
        LoadError::new(path, LoadErrorKind::Syntax(e.message().trim().to_string()))
            .at(text, e.span().map(|s| s.start))
    })?;
    let fail = |e: NetworkError, offset: Option<usize>| {
        LoadError::new(path, LoadErrorKind::Invalid(e)).at(text, offset)
    };

    let name = match &file.model {
        Some(m) => m.name.clone(),
        None => path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("model")
            .to_string(),
    };
    let mut builder = NetworkBuilder::new(&name);
    if let Some(m) = &file.model {
        builder.info(ModelInfo {
            name: m.name.clone(),
            title: m.title.clone(),
            version: m.version.clone(),
            description: m.description.clone(),
        });
    }
    for spanned in &file.variable {
        let var = spanned.get_ref();
        let offset = Some(spanned.span().start);
        let item = Item::Variable(var.id.clone());
        let shape_error = |message: &str| {
            fail(
                NetworkError {
                    item: item.clone(),
                    part: None,
                    kind: Box::new(NetworkErrorKind::RowKey(message.to_string())),
                },
                offset,
            )
        };
        let cpd = match (&var.cpt, &var.noisy_or) {
            (Some(_), Some(_)) => {
                return Err(shape_error("has both `cpt` and `noisy_or`; give one"));
            }
            (None, None) => {
                return Err(shape_error(
                    "has no distribution; give a `cpt` or a `noisy_or`",
                ));
            }
            (Some(cpt), None) => {
                table_spec(var, cpt, &item).map_err(|(e, at)| fail(e, at.or(offset)))?
            }
            (None, Some(nor)) => {
                if !var.parents.is_empty() {
                    return Err(shape_error(
                        "a noisy-OR takes its parents from `causes`; remove the `parents` list",
                    ));
                }
                CpdSpec::NoisyOr {
                    leak: nor.leak.p,
                    leak_source: nor.leak.source.clone(),
                    causes: nor
                        .causes
                        .iter()
                        .map(|c| {
                            let c = c.get_ref();
                            CauseSpec {
                                parent: c.parent.clone(),
                                state: c.state.clone(),
                                p: c.p,
                                source: c.source.clone(),
                            }
                        })
                        .collect(),
                    source: nor.source.clone(),
                }
            }
        };
        declare_uncertainty(&mut builder, var).map_err(|(e, at)| fail(e, at.or(offset)))?;
        builder.variable(
            VariableSpec {
                id: var.id.clone(),
                label: var.label.clone(),
                description: var.description.clone(),
                role: var.role,
                states: var.states.clone(),
                positive_state: var.positive_state.clone(),
            },
            cpd,
        );
    }
    for spanned in &file.triage {
        let t = spanned.get_ref();
        builder.triage_rule(TriageRuleSpec {
            id: t.id.clone(),
            level: t.level,
            message: t.message.clone(),
            when_any: t
                .when_any
                .iter()
                .map(|w| (w.variable.clone(), w.state.clone()))
                .collect(),
            names: t.names.clone(),
            source: t.source.clone(),
        });
    }
    builder.build().map_err(|e| {
        let offset = locate(&file, &e);
        fail(e, offset)
    })
}

type Located = (NetworkError, Option<usize>);

/// The one uncertainty declaration among `beta`, `ci` and `ess`, if any.
fn one_declaration(
    beta: Option<[f64; 2]>,
    ci: Option<[f64; 2]>,
    ess: Option<f64>,
) -> Result<Option<UncertaintySpec>, String> {
    let mut found = Vec::new();
    if let Some([a, b]) = beta {
        found.push(UncertaintySpec::Beta(a, b));
    }
    if let Some([lo, hi]) = ci {
        found.push(UncertaintySpec::Interval(lo, hi));
    }
    if let Some(n) = ess {
        found.push(UncertaintySpec::Ess(n));
    }
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err("give at most one of `beta`, `ci` and `ess`".into()),
    }
}

/// Hands the variable's `beta`/`ci`/`ess` declarations to the builder.
fn declare_uncertainty(builder: &mut NetworkBuilder, var: &VariableEntry) -> Result<(), Located> {
    let item = Item::Variable(var.id.clone());
    let error = |part: Option<Part>, message: String, at: Option<usize>| {
        (
            NetworkError {
                item: item.clone(),
                part,
                kind: Box::new(NetworkErrorKind::Uncertainty(message)),
            },
            at,
        )
    };
    if let Some(cpt) = &var.cpt {
        let top = one_declaration(cpt.beta, cpt.ci, cpt.ess).map_err(|m| error(None, m, None))?;
        if let Some(spec) = top {
            if cpt.rows.is_some() {
                return Err(error(
                    None,
                    "`beta`, `ci` and `ess` beside `rows` are ambiguous; declare them on each row"
                        .into(),
                    None,
                ));
            }
            builder.uncertainty(
                &var.id,
                UncertainAt::Row {
                    row: 0,
                    state: cpt.for_state.clone(),
                },
                spec,
            );
        } else if cpt.for_state.is_some() {
            return Err(error(
                None,
                "`for_state` without `beta` or `ci`".into(),
                None,
            ));
        }
        for (r, spanned) in cpt.rows.iter().flatten().enumerate() {
            let row = spanned.get_ref();
            let at = Some(spanned.span().start);
            match one_declaration(row.beta, row.ci, row.ess)
                .map_err(|m| error(Some(Part::Row(r)), m, at))?
            {
                Some(spec) => {
                    builder.uncertainty(
                        &var.id,
                        UncertainAt::Row {
                            row: r,
                            state: row.for_state.clone(),
                        },
                        spec,
                    );
                }
                None if row.for_state.is_some() => {
                    return Err(error(
                        Some(Part::Row(r)),
                        "`for_state` without `beta` or `ci`".into(),
                        at,
                    ));
                }
                None => {}
            }
        }
    }
    if let Some(nor) = &var.noisy_or {
        if let Some(spec) =
            one_declaration(nor.leak.beta, nor.leak.ci, None).map_err(|m| error(None, m, None))?
        {
            builder.uncertainty(&var.id, UncertainAt::Leak, spec);
        }
        for (c, spanned) in nor.causes.iter().enumerate() {
            let cause = spanned.get_ref();
            if let Some(spec) = one_declaration(cause.beta, cause.ci, None)
                .map_err(|m| error(Some(Part::Cause(c)), m, Some(spanned.span().start)))?
            {
                builder.uncertainty(&var.id, UncertainAt::Cause(c), spec);
            }
        }
    }
    Ok(())
}

/// Converts a `cpt` block into the builder's rows, checking each `when` against the parents.
fn table_spec(
    var: &VariableEntry,
    cpt: &CptEntry,
    item: &Item,
) -> Result<CpdSpec, (NetworkError, Option<usize>)> {
    let key_error = |row: Option<usize>, message: String, at: Option<usize>| {
        (
            NetworkError {
                item: item.clone(),
                part: row.map(Part::Row),
                kind: Box::new(NetworkErrorKind::RowKey(message)),
            },
            at,
        )
    };
    let rows = match (&cpt.p, &cpt.rows) {
        (Some(_), Some(_)) => {
            return Err(key_error(
                None,
                "`cpt` has both `p` and `rows`; give one".into(),
                None,
            ));
        }
        (None, None) => {
            return Err(key_error(
                None,
                "`cpt` has neither `p` (a prior) nor `rows`".into(),
                None,
            ));
        }
        (Some(p), None) => {
            if !var.parents.is_empty() {
                return Err(key_error(
                    None,
                    "has parents, so its `cpt` needs `rows` keyed by the parents' states, not a single `p`".into(),
                    None,
                ));
            }
            vec![RowSpec {
                when: vec![],
                p: p.clone(),
                source: None,
            }]
        }
        (None, Some(rows)) => {
            let mut out = Vec::with_capacity(rows.len());
            for (r, spanned) in rows.iter().enumerate() {
                let row = spanned.get_ref();
                let at = Some(spanned.span().start);
                if let Some(extra) = row.when.keys().find(|k| !var.parents.contains(k)) {
                    return Err(key_error(
                        Some(r),
                        format!(
                            "`when` names `{extra}`, which is not a parent (parents: {})",
                            if var.parents.is_empty() {
                                "none".to_string()
                            } else {
                                var.parents.join(", ")
                            }
                        ),
                        at,
                    ));
                }
                let mut when = Vec::with_capacity(var.parents.len());
                for parent in &var.parents {
                    match row.when.get(parent) {
                        Some(state) => when.push(state.clone()),
                        None => {
                            return Err(key_error(
                                Some(r),
                                format!("`when` gives no state for parent `{parent}`"),
                                at,
                            ));
                        }
                    }
                }
                out.push(RowSpec {
                    when,
                    p: row.p.clone(),
                    source: row.source.clone(),
                });
            }
            out
        }
    };
    Ok(CpdSpec::Table {
        parents: var.parents.clone(),
        rows,
        source: cpt.source.clone(),
    })
}

/// The byte offset of the item (and row or cause) an error names.
fn locate(file: &ModelFile, e: &NetworkError) -> Option<usize> {
    match &e.item {
        Item::Variable(id) => {
            let mut matches = file.variable.iter().filter(|v| &v.get_ref().id == id);
            let entry = if *e.kind == NetworkErrorKind::DuplicateVariable {
                matches.nth(1)
            } else {
                matches.next()
            }?;
            let var = entry.get_ref();
            let row_span = match (e.part, &var.cpt, &var.noisy_or) {
                (Some(Part::Row(r)), Some(cpt), _) => cpt
                    .rows
                    .as_ref()
                    .and_then(|rows| rows.get(r))
                    .map(|x| x.span().start),
                (Some(Part::Cause(c)), _, Some(nor)) => nor.causes.get(c).map(|x| x.span().start),
                _ => None,
            };
            row_span.or(Some(entry.span().start))
        }
        Item::TriageRule(id) => {
            let mut matches = file.triage.iter().filter(|t| &t.get_ref().id == id);
            let entry = if *e.kind == NetworkErrorKind::DuplicateRule {
                matches.nth(1)
            } else {
                matches.next()
            }?;
            Some(entry.span().start)
        }
        Item::Model => None,
    }
}
