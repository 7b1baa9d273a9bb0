//! BIF, the text Bayesian network Interchange Format (version 0.15), in and out.
//!
//! This is the format of the bnlearn Bayesian Network Repository (as pgmpy writes and ships it)
//! and of JavaBayes; pgmpy and pyAgrum read it (the writer's output was checked to load in
//! pyAgrum 3.3.1 with the same tables). radix reads it into a network of variables with
//! [`Role::Other`] and the id as label, and writes any network back to it.
//!
//! # The dialect accepted
//!
//! ```text
//! network unknown {                        // name: a word, a quoted string, or several words
//!   property note = anything up to the semicolon ;
//! }
//! variable xray {
//!   type discrete [ 2 ] { yes, no };       // the count must match the states listed
//!   property position = (10, 20) ;         // accepted and ignored
//! }
//! probability ( xray | either ) {          // child, then its parents after `|`
//!   (yes) 0.98, 0.02;                      // one row per parent configuration, child's states
//!   (no) 0.05, 0.95;                       //   in the order of the variable's declaration
//! }
//! probability ( smoke ) { table 0.5, 0.5; }
//! ```
//!
//! Also accepted: `/* */` and `//` comments; double-quoted names (`"dog-out"`, with `\"` and
//! `\\` escapes); names with any characters but whitespace and `{ } ( ) [ ] ; , | "` (so
//! `Asy/Patch`, `<5`, `12+`, `>=7.5`, `0-3_days` and `Transp.` are names); commas between list
//! items optional; the JavaBayes header `probability ( child parent1 parent2 )` without `|`;
//! numbers in any form Rust's `f64` parser reads (`1e-04`, `.5`), parsed in full precision.
//!
//! Table order. A `table` line in a block with parents lists the values **child state
//! slowest**: all parent configurations for the child's first state, then all for its second,
//! and so on, parent configurations in row-major order (last parent fastest). This is the
//! JavaBayes convention (its `dog-problem.bif` lists `P(dog-out = true | …)` for all four
//! configurations first) and what pgmpy's reader does (it reshapes the values to
//! `[child states × configurations]`). A `default` line gives the distribution of every
//! configuration that has no row of its own.
//!
//! Rows in BIF files sum to one only to their printed precision (up to 3e-7 off in barley), so
//! the reader builds with a row-sum tolerance of [`ROW_SUM_TOLERANCE`]: such rows are divided by
//! their sums and the network carries a warning naming the variable. BIF has no sources: the
//! rows of a network read from BIF have none.
//!
//! Every error names the file, line and column, and what was expected or is wrong.
//!
//! ```
//! let text = "network tiny { }
//! variable rain { type discrete [ 2 ] { yes, no }; }
//! variable wet { type discrete [ 2 ] { yes, no }; }
//! probability ( rain ) { table 0.2, 0.8; }
//! probability ( wet | rain ) { (yes) 0.9, 0.1; (no) 0.1, 0.9; }
//! ";
//! let net = radix::format::bif::from_str(text, "tiny.bif").unwrap();
//! assert_eq!(net.len(), 2);
//! let again = radix::format::bif::from_str(&radix::format::bif::to_string(&net), "t.bif").unwrap();
//! assert_eq!(again.cpd(1).factor().values(), net.cpd(1).factor().values());
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::{LoadError, LoadErrorKind};
use crate::network::{
    CpdSpec, Item, ModelInfo, Network, NetworkBuilder, NetworkError, NetworkErrorKind, Part, Role,
    RowSpec, VariableSpec,
};
use crate::suggest;

/// How far a row of a BIF (or XMLBIF) file may be from summing to one. Such files print
/// rounded numbers: bnlearn's barley is off by up to 3e-7.
pub const ROW_SUM_TOLERANCE: f64 = 1e-5;

/// The most table entries a `default` line may expand to.
const MAX_DEFAULT_ENTRIES: usize = 1 << 24;

/// Loads a network from a BIF file.
pub fn load(path: &Path) -> Result<Network, LoadError> {
    parse(&super::read(path)?, path)
}

/// Parses a network from BIF text; `file` names it in error messages.
pub fn from_str(text: &str, file: &str) -> Result<Network, LoadError> {
    parse(text, Path::new(file))
}

/// Writes a network as BIF.
///
/// Every distribution is written as its full table, one row per parent configuration
/// (`table` for a variable without parents), so a noisy-OR comes back from BIF as a table.
/// Probabilities are written in Rust's shortest round-trip form, so reading the text back gives
/// the same `f64`s. Names are written as they are, unquoted, as bnlearn does; a name the
/// reader would not read back as one word (one with whitespace or `{ } ( ) [ ] ; , | "`) is
/// double-quoted. Labels, roles, descriptions, sources and triage rules have no place in BIF
/// and are not written.
pub fn to_string(network: &Network) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "network {} {{\n}}", name(network.name()));
    for var in network.variables() {
        let states: Vec<Cow<str>> = var.states().iter().map(|s| name(s)).collect();
        let _ = writeln!(
            out,
            "variable {} {{\n  type discrete [ {} ] {{ {} }};\n}}",
            name(var.id()),
            var.cardinality(),
            states.join(", ")
        );
    }
    for (v, var) in network.variables().iter().enumerate() {
        let parents = network.parents(v);
        let values = network.cpd(v).factor().values();
        let k = var.cardinality();
        if parents.is_empty() {
            let _ = writeln!(
                out,
                "probability ( {} ) {{\n  table {};\n}}",
                name(var.id()),
                numbers(&values)
            );
            continue;
        }
        let parent_names: Vec<Cow<str>> = parents
            .iter()
            .map(|&p| name(network.variable(p).id()))
            .collect();
        let _ = writeln!(
            out,
            "probability ( {} | {} ) {{",
            name(var.id()),
            parent_names.join(", ")
        );
        let cards: Vec<usize> = parents
            .iter()
            .map(|&p| network.variable(p).cardinality())
            .collect();
        for (c, row) in values.chunks(k).enumerate() {
            let states = decode(c, &cards);
            let key: Vec<Cow<str>> = parents
                .iter()
                .zip(&states)
                .map(|(&p, &s)| name(&network.variable(p).states()[s]))
                .collect();
            let _ = writeln!(out, "  ({}) {};", key.join(", "), numbers(row));
        }
        out.push_str("}\n");
    }
    out
}

/// A name as BIF text: unquoted when the reader reads it back as one word.
fn name(s: &str) -> Cow<'_, str> {
    let plain = !s.is_empty()
        && !s.contains("//")
        && !s.contains("/*")
        && !s
            .bytes()
            .any(|b| b.is_ascii_whitespace() || is_delimiter(b))
        && !s.chars().any(char::is_whitespace);
    if plain {
        Cow::Borrowed(s)
    } else {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            if c == '"' || c == '\\' {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        Cow::Owned(q)
    }
}

fn numbers(values: &[f64]) -> String {
    let parts: Vec<String> = values.iter().map(|x| format!("{x:?}")).collect();
    parts.join(", ")
}

/// The parent states of configuration `c` (row-major, last parent fastest).
fn decode(mut c: usize, cards: &[usize]) -> Vec<usize> {
    let mut states = vec![0; cards.len()];
    for i in (0..cards.len()).rev() {
        states[i] = c % cards[i];
        c /= cards[i];
    }
    states
}

// ---------------------------------------------------------------------------------------------
// Tokens

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'{' | b'}' | b'(' | b')' | b'[' | b']' | b';' | b',' | b'|' | b'"'
    )
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    /// A name, keyword or number; `quoted` when written in double quotes.
    Word {
        text: Cow<'a, str>,
        quoted: bool,
    },
    /// One of `{ } ( ) [ ] ; , |`.
    Punct(u8),
    Eof,
}

#[derive(Debug, Clone)]
struct Token<'a> {
    tok: Tok<'a>,
    at: usize,
}

impl Token<'_> {
    fn is(&self, c: u8) -> bool {
        self.tok == Tok::Punct(c)
    }

    fn is_word(&self, keyword: &str) -> bool {
        matches!(&self.tok, Tok::Word { text, quoted: false } if text == keyword)
    }

    /// How the token reads in an error message.
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Word { text, quoted } => {
                let shown: String = text.chars().take(40).collect();
                let more = if shown.len() < text.len() { "…" } else { "" };
                if *quoted {
                    format!("`\"{shown}{more}\"`")
                } else {
                    format!("`{shown}{more}`")
                }
            }
            Tok::Punct(c) => format!("`{}`", *c as char),
            Tok::Eof => "the end of the file".to_string(),
        }
    }
}

/// A message and the byte offset it is about.
type Fail = (String, usize);

struct Lexer<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        Lexer { text, pos }
    }

    fn next(&mut self) -> Result<Token<'a>, Fail> {
        let b = self.text.as_bytes();
        loop {
            while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            let rest = &b[self.pos..];
            if rest.starts_with(b"//") {
                self.pos = match rest.iter().position(|&c| c == b'\n') {
                    Some(i) => self.pos + i + 1,
                    None => b.len(),
                };
            } else if rest.starts_with(b"/*") {
                let start = self.pos;
                match self.text[start + 2..].find("*/") {
                    Some(i) => self.pos = start + 2 + i + 2,
                    None => {
                        return Err((
                            "unterminated comment: `/*` has no closing `*/`".into(),
                            start,
                        ));
                    }
                }
            } else {
                break;
            }
        }
        let at = self.pos;
        let Some(&first) = b.get(at) else {
            return Ok(Token { tok: Tok::Eof, at });
        };
        if first == b'"' {
            return self.quoted(at);
        }
        if is_delimiter(first) {
            self.pos += 1;
            return Ok(Token {
                tok: Tok::Punct(first),
                at,
            });
        }
        let mut end = at;
        while end < b.len() {
            let c = b[end];
            if c.is_ascii_whitespace()
                || is_delimiter(c)
                || (c == b'/' && matches!(b.get(end + 1), Some(b'/' | b'*')))
            {
                break;
            }
            end += 1;
        }
        self.pos = end;
        Ok(Token {
            tok: Tok::Word {
                text: Cow::Borrowed(&self.text[at..end]),
                quoted: false,
            },
            at,
        })
    }

    fn quoted(&mut self, at: usize) -> Result<Token<'a>, Fail> {
        let body = &self.text[at + 1..];
        let mut out: Option<String> = None;
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos = at + 1 + i + 1;
                    let text = match out {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(&body[..i]),
                    };
                    return Ok(Token {
                        tok: Tok::Word { text, quoted: true },
                        at,
                    });
                }
                '\\' => {
                    let s = out.get_or_insert_with(|| body[..i].to_string());
                    if let Some((_, escaped)) = chars.next() {
                        s.push(escaped);
                    }
                }
                _ => {
                    if let Some(s) = out.as_mut() {
                        s.push(c);
                    }
                }
            }
        }
        Err(("unterminated string: `\"` has no closing `\"`".into(), at))
    }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

#[derive(Debug)]
struct Name<'a> {
    text: Cow<'a, str>,
    at: usize,
}

#[derive(Debug)]
struct VarDecl<'a> {
    name: Name<'a>,
    states: Vec<Name<'a>>,
}

#[derive(Debug)]
enum EntryKind<'a> {
    Table,
    Default,
    Row(Vec<Name<'a>>),
}

#[derive(Debug)]
struct Entry<'a> {
    kind: EntryKind<'a>,
    values: Vec<f64>,
    at: usize,
}

#[derive(Debug)]
struct ProbDecl<'a> {
    child: Name<'a>,
    parents: Vec<Name<'a>>,
    entries: Vec<Entry<'a>>,
}

#[derive(Debug, Default)]
struct Ast<'a> {
    name: Option<String>,
    variables: Vec<VarDecl<'a>>,
    probabilities: Vec<ProbDecl<'a>>,
}

struct Parser<'a> {
    lex: Lexer<'a>,
    peeked: Option<Token<'a>>,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<Token<'a>, Fail> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lex.next(),
        }
    }

    fn peek(&mut self) -> Result<&Token<'a>, Fail> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lex.next()?);
        }
        Ok(self.peeked.as_ref().expect("just filled"))
    }

    fn expect(&mut self, c: u8, context: &str) -> Result<Token<'a>, Fail> {
        let t = self.next()?;
        if t.is(c) {
            Ok(t)
        } else {
            Err((
                format!("expected `{}` {context}, found {}", c as char, t.describe()),
                t.at,
            ))
        }
    }

    fn name(&mut self, what: &str) -> Result<Name<'a>, Fail> {
        let t = self.next()?;
        match t.tok {
            Tok::Word { text, .. } => Ok(Name { text, at: t.at }),
            _ => Err((format!("expected {what}, found {}", t.describe()), t.at)),
        }
    }

    /// Names separated by optional commas, up to (and consuming) `close`.
    fn names(&mut self, close: u8, what: &str) -> Result<Vec<Name<'a>>, Fail> {
        let mut names = Vec::new();
        let mut after_comma = false;
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Word { text, .. } => {
                    names.push(Name { text, at: t.at });
                    after_comma = false;
                    if self.peek()?.is(b',') {
                        self.next()?;
                        after_comma = true;
                    }
                }
                Tok::Punct(c) if c == close && !after_comma => return Ok(names),
                _ => {
                    let expected = if after_comma || names.is_empty() {
                        what.to_string()
                    } else {
                        format!("`,` or `{}` after {what}", close as char)
                    };
                    return Err((format!("expected {expected}, found {}", t.describe()), t.at));
                }
            }
        }
    }

    /// Probabilities separated by optional commas, up to (and consuming) `;`.
    fn numbers(&mut self, context: &str) -> Result<Vec<f64>, Fail> {
        let mut values = Vec::new();
        let mut after_comma = false;
        loop {
            let t = self.next()?;
            match &t.tok {
                Tok::Word {
                    text,
                    quoted: false,
                } => {
                    let x: f64 = text.parse().map_err(|_| {
                        (
                            format!("expected a probability (a number), found {}", t.describe()),
                            t.at,
                        )
                    })?;
                    if !x.is_finite() {
                        return Err((
                            format!("probability {} is not a finite number", t.describe()),
                            t.at,
                        ));
                    }
                    values.push(x);
                    after_comma = false;
                    if self.peek()?.is(b',') {
                        self.next()?;
                        after_comma = true;
                    }
                }
                Tok::Punct(b';') if !after_comma && !values.is_empty() => return Ok(values),
                _ => {
                    let expected = if after_comma || values.is_empty() {
                        "a probability (a number)".to_string()
                    } else {
                        format!("`;` after {context}")
                    };
                    return Err((format!("expected {expected}, found {}", t.describe()), t.at));
                }
            }
        }
    }

    /// Skips a `property` statement (its keyword already read) up to its `;`.
    fn property(&mut self) -> Result<(), Fail> {
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Punct(b';') => return Ok(()),
                Tok::Eof => {
                    return Err((
                        "expected `;` to end the `property`, found the end of the file".into(),
                        t.at,
                    ));
                }
                _ => {}
            }
        }
    }

    fn file(&mut self) -> Result<Ast<'a>, Fail> {
        let mut ast = Ast::default();
        loop {
            let t = self.next()?;
            if t.tok == Tok::Eof {
                return Ok(ast);
            } else if t.is_word("network") {
                let mut words = Vec::new();
                while let Tok::Word { text, .. } = &self.peek()?.tok {
                    words.push(text.to_string());
                    self.next()?;
                }
                self.expect(b'{', "to open the network block")?;
                loop {
                    let t = self.next()?;
                    if t.is(b'}') {
                        break;
                    } else if t.is_word("property") {
                        self.property()?;
                    } else {
                        return Err((
                            format!(
                                "expected `property` or `}}` in the network block, found {}",
                                t.describe()
                            ),
                            t.at,
                        ));
                    }
                }
                if !words.is_empty() {
                    ast.name = Some(words.join(" "));
                }
            } else if t.is_word("variable") {
                ast.variables.push(self.variable(t.at)?);
            } else if t.is_word("probability") {
                ast.probabilities.push(self.probability()?);
            } else {
                return Err((
                    format!(
                        "expected `network`, `variable` or `probability`, found {}",
                        t.describe()
                    ),
                    t.at,
                ));
            }
        }
    }

    fn variable(&mut self, at: usize) -> Result<VarDecl<'a>, Fail> {
        let name = self.name("a variable name after `variable`")?;
        self.expect(
            b'{',
            &format!("to open the block of variable `{}`", name.text),
        )?;
        let mut states: Option<Vec<Name<'a>>> = None;
        loop {
            let t = self.next()?;
            if t.is(b'}') {
                break;
            } else if t.is_word("property") {
                self.property()?;
            } else if t.is_word("type") {
                if states.is_some() {
                    return Err((
                        format!("variable `{}` has a second `type` line", name.text),
                        t.at,
                    ));
                }
                let kind = self.next()?;
                if !kind.is_word("discrete") {
                    return Err((
                        format!(
                            "expected `discrete` after `type` (only discrete variables are supported), found {}",
                            kind.describe()
                        ),
                        kind.at,
                    ));
                }
                self.expect(b'[', "before the number of states")?;
                let count = self.next()?;
                let declared: usize = match &count.tok {
                    Tok::Word {
                        text,
                        quoted: false,
                    } => text.parse().ok(),
                    _ => None,
                }
                .ok_or_else(|| {
                    (
                        format!("expected the number of states, found {}", count.describe()),
                        count.at,
                    )
                })?;
                self.expect(b']', "after the number of states")?;
                self.expect(b'{', "to open the list of states")?;
                let list = self.names(b'}', "a state name")?;
                self.expect(b';', "after the list of states")?;
                if list.len() < 2 && list.len() == declared {
                    return Err((
                        format!(
                            "variable `{}` has {} state(s); a variable needs at least two",
                            name.text,
                            list.len()
                        ),
                        count.at,
                    ));
                }
                if list.len() != declared {
                    return Err((
                        format!(
                            "variable `{}` declares {declared} state(s) but lists {}",
                            name.text,
                            list.len()
                        ),
                        count.at,
                    ));
                }
                states = Some(list);
            } else {
                return Err((
                    format!(
                        "expected `type`, `property` or `}}` in the block of variable `{}`, found {}",
                        name.text,
                        t.describe()
                    ),
                    t.at,
                ));
            }
        }
        match states {
            Some(states) => Ok(VarDecl { name, states }),
            None => Err((
                format!(
                    "variable `{}` has no `type discrete [ n ] {{ ... }};` line",
                    name.text
                ),
                at,
            )),
        }
    }

    fn probability(&mut self) -> Result<ProbDecl<'a>, Fail> {
        self.expect(b'(', "after `probability`")?;
        let child = self.name("the name of a variable after `probability (`")?;
        let parents = if self.peek()?.is(b'|') {
            self.next()?;
            self.names(b')', "a parent name")?
        } else {
            // `( child )`, or JavaBayes's `( child parent1 parent2 )`.
            self.names(b')', "a parent name, `|` or `)`")?
        };
        let context = format!("to open the probability block of `{}`", child.text);
        self.expect(b'{', &context)?;
        let mut entries = Vec::new();
        loop {
            let t = self.next()?;
            let kind = if t.is(b'}') {
                break;
            } else if t.is_word("property") {
                self.property()?;
                continue;
            } else if t.is_word("table") {
                EntryKind::Table
            } else if t.is_word("default") {
                EntryKind::Default
            } else if t.is(b'(') {
                EntryKind::Row(self.names(b')', "a parent state")?)
            } else {
                return Err((
                    format!(
                        "expected a row `( parent states ) probabilities;`, `table`, `default` or `}}` in the probability block of `{}`, found {}",
                        child.text,
                        t.describe()
                    ),
                    t.at,
                ));
            };
            let what = match kind {
                EntryKind::Table => "the `table` values",
                EntryKind::Default => "the `default` values",
                EntryKind::Row(_) => "the probability row",
            };
            let values = self.numbers(what)?;
            entries.push(Entry {
                kind,
                values,
                at: t.at,
            });
        }
        Ok(ProbDecl {
            child,
            parents,
            entries,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// From the syntax tree to the builder

/// Where a variable's declaration, its probability block and each row given to the builder are.
struct Locations {
    variable: usize,
    block: usize,
    /// Per builder row: its offset and its 0-based number among the block's entries.
    rows: Vec<(usize, usize)>,
}

fn parse(text: &str, path: &Path) -> Result<Network, LoadError> {
    let syntax = |(message, at): Fail| {
        LoadError::new(path, LoadErrorKind::Syntax(message)).at(text, Some(at))
    };
    let mut parser = Parser {
        lex: Lexer::new(text),
        peeked: None,
    };
    let ast = parser.file().map_err(syntax)?;
    let invalid = |e: NetworkError, at: usize| {
        LoadError::new(path, LoadErrorKind::Invalid(e)).at(text, Some(at))
    };
    let network_error = |id: &str, part: Option<Part>, kind: NetworkErrorKind| NetworkError {
        item: Item::Variable(id.to_string()),
        part,
        kind: Box::new(kind),
    };

    let name = match ast.name.as_deref() {
        Some(n) if n != "unknown" => n.to_string(),
        _ => path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("network")
            .to_string(),
    };
    let mut builder = NetworkBuilder::new(&name);
    builder.info(ModelInfo {
        name,
        ..ModelInfo::default()
    });
    builder.row_sum_tolerance(ROW_SUM_TOLERANCE);

    if ast.variables.is_empty() {
        return Err(syntax((
            "the file declares no variable (expected `variable NAME { type discrete [ n ] { ... }; }`)"
                .into(),
            text.len(),
        )));
    }
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(ast.variables.len());
    for (v, var) in ast.variables.iter().enumerate() {
        let id = var.name.text.as_ref();
        if let Some(problem) = id_problem(id) {
            return Err(syntax((problem, var.name.at)));
        }
        if index.insert(id, v).is_some() {
            return Err(invalid(
                network_error(id, None, NetworkErrorKind::DuplicateVariable),
                var.name.at,
            ));
        }
    }
    let ids = || ast.variables.iter().map(|v| v.name.text.as_ref());

    let mut blocks: Vec<Option<&ProbDecl>> = vec![None; ast.variables.len()];
    for block in &ast.probabilities {
        let child = block.child.text.as_ref();
        let Some(&v) = index.get(child) else {
            return Err(syntax((
                format!(
                    "probability block for `{child}`, which is not a declared variable{}",
                    suggest::hint(&suggest::nearest(child, ids()).map(str::to_string))
                ),
                block.child.at,
            )));
        };
        if blocks[v].is_some() {
            return Err(syntax((
                format!("a second probability block for `{child}`; give one block per variable"),
                block.child.at,
            )));
        }
        blocks[v] = Some(block);
    }

    let mut locations: HashMap<&str, Locations> = HashMap::with_capacity(ast.variables.len());
    for (v, var) in ast.variables.iter().enumerate() {
        let id = var.name.text.as_ref();
        let Some(block) = blocks[v] else {
            return Err(syntax((
                format!(
                    "variable `{id}` has no probability block; add `probability ( {id} ... ) {{ ... }}`"
                ),
                var.name.at,
            )));
        };
        let mut parents: Vec<usize> = Vec::with_capacity(block.parents.len());
        for p in &block.parents {
            let Some(&pv) = index.get(p.text.as_ref()) else {
                let kind = NetworkErrorKind::UnknownParent {
                    name: p.text.to_string(),
                    suggestion: suggest::nearest(&p.text, ids()).map(str::to_string),
                };
                return Err(invalid(network_error(id, None, kind), p.at));
            };
            if parents.contains(&pv) {
                let kind = NetworkErrorKind::RepeatedParent(p.text.to_string());
                return Err(invalid(network_error(id, None, kind), p.at));
            }
            parents.push(pv);
        }
        let (rows, row_locations) =
            rows(&ast, v, block, &parents).map_err(|(e, at)| invalid(e, at))?;
        locations.insert(
            id,
            Locations {
                variable: var.name.at,
                block: block.child.at,
                rows: row_locations,
            },
        );
        builder.variable(
            VariableSpec {
                id: id.to_string(),
                label: id.to_string(),
                description: None,
                role: Role::Other,
                states: var.states.iter().map(|s| s.text.to_string()).collect(),
                positive_state: None,
            },
            CpdSpec::Table {
                parents: block.parents.iter().map(|p| p.text.to_string()).collect(),
                rows,
                source: None,
            },
        );
    }
    builder.build().map_err(|mut e| {
        let at = match &e.item {
            Item::Variable(id) => locations
                .get(id.as_str())
                .map(|loc| match (e.part, &*e.kind) {
                    (Some(Part::Row(r)), _) if r < loc.rows.len() => {
                        let (at, entry) = loc.rows[r];
                        e.part = Some(Part::Row(entry));
                        at
                    }
                    (
                        _,
                        NetworkErrorKind::InvalidId(_)
                        | NetworkErrorKind::DuplicateVariable
                        | NetworkErrorKind::TooFewStates(_)
                        | NetworkErrorKind::BadState(_),
                    ) => loc.variable,
                    _ => loc.block,
                }),
            _ => None,
        };
        LoadError::new(path, LoadErrorKind::Invalid(e)).at(text, at)
    })
}

/// Why a variable name cannot be a radix id (radix ids carry no whitespace, `=`, `!` or `,`,
/// so that evidence such as `x=yes` and `x!=no` parses), or `None` if it can.
pub(crate) fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("a variable has an empty name; radix ids must be non-empty".into());
    }
    let c = id
        .chars()
        .find(|&c| c.is_whitespace() || matches!(c, '=' | '!' | ','))?;
    let shown = if c.is_whitespace() {
        "whitespace".to_string()
    } else {
        format!("`{c}`")
    };
    Some(format!(
        "variable name `{id}` contains {shown}, which radix ids cannot contain (no whitespace, `=`, `!` or `,`); rename the variable"
    ))
}

/// The builder's rows for one probability block, with each row's location.
#[allow(clippy::type_complexity)]
fn rows(
    ast: &Ast,
    v: usize,
    block: &ProbDecl,
    parents: &[usize],
) -> Result<(Vec<RowSpec>, Vec<(usize, usize)>), (NetworkError, usize)> {
    let var = &ast.variables[v];
    let id = var.name.text.as_ref();
    let k = var.states.len();
    let fail = |entry: Option<usize>, kind: NetworkErrorKind, at: usize| {
        (
            NetworkError {
                item: Item::Variable(id.to_string()),
                part: entry.map(Part::Row),
                kind: Box::new(kind),
            },
            at,
        )
    };
    let cards: Vec<usize> = parents
        .iter()
        .map(|&p| ast.variables[p].states.len())
        .collect();
    let configs = cards
        .iter()
        .try_fold(1usize, |acc, &c| acc.checked_mul(c))
        .filter(|&c| c.checked_mul(k.max(1)).is_some())
        .ok_or_else(|| {
            fail(
                None,
                NetworkErrorKind::RowKey("has too many parent configurations to tabulate".into()),
                block.child.at,
            )
        })?;
    let state_names = |c: usize| -> Vec<String> {
        decode(c, &cards)
            .into_iter()
            .zip(parents)
            .map(|(s, &p)| ast.variables[p].states[s].text.to_string())
            .collect()
    };

    let mut out = Vec::new();
    let mut locations = Vec::new();
    let mut table: Option<usize> = None;
    let mut default: Option<usize> = None;
    let mut explicit = false;
    let mut given = Vec::new();
    for (e, entry) in block.entries.iter().enumerate() {
        match &entry.kind {
            EntryKind::Table => {
                if table.is_some() || explicit {
                    let message = if explicit {
                        "has both a `table` and rows keyed by parent states; give one"
                    } else {
                        "has a second `table`; give one"
                    };
                    return Err(fail(
                        Some(e),
                        NetworkErrorKind::RowKey(message.into()),
                        entry.at,
                    ));
                }
                table = Some(e);
                let expected = k * configs;
                if entry.values.len() != expected {
                    let message = if parents.is_empty() {
                        format!(
                            "the `table` has {} probabilities; give one per state ({k})",
                            entry.values.len()
                        )
                    } else {
                        format!(
                            "the `table` has {} probabilities; expected {expected} ({k} states × {configs} parent configurations)",
                            entry.values.len()
                        )
                    };
                    return Err(fail(Some(e), NetworkErrorKind::RowKey(message), entry.at));
                }
                // Child state slowest: the values for configuration c are at s * configs + c.
                for c in 0..configs {
                    out.push(RowSpec {
                        when: state_names(c),
                        p: (0..k).map(|s| entry.values[s * configs + c]).collect(),
                        source: None,
                    });
                    locations.push((entry.at, e));
                }
            }
            EntryKind::Default => {
                if default.is_some() {
                    return Err(fail(
                        Some(e),
                        NetworkErrorKind::RowKey("has a second `default`; give one".into()),
                        entry.at,
                    ));
                }
                if entry.values.len() != k {
                    return Err(fail(
                        Some(e),
                        NetworkErrorKind::RowLength {
                            expected: k,
                            found: entry.values.len(),
                        },
                        entry.at,
                    ));
                }
                default = Some(e);
            }
            EntryKind::Row(key) => {
                if table.is_some() {
                    return Err(fail(
                        Some(e),
                        NetworkErrorKind::RowKey(
                            "has both a `table` and rows keyed by parent states; give one".into(),
                        ),
                        entry.at,
                    ));
                }
                explicit = true;
                if key.len() != parents.len() {
                    return Err(fail(
                        Some(e),
                        NetworkErrorKind::RowKey(format!(
                            "names {} parent state(s) but the variable has {} parent(s)",
                            key.len(),
                            parents.len()
                        )),
                        entry.at,
                    ));
                }
                let mut offset = 0usize;
                for ((state, &p), &card) in key.iter().zip(parents).zip(&cards) {
                    let parent = &ast.variables[p];
                    let Some(s) = parent.states.iter().position(|x| x.text == state.text) else {
                        let known: Vec<String> =
                            parent.states.iter().map(|x| x.text.to_string()).collect();
                        let kind = NetworkErrorKind::UnknownState {
                            variable: parent.name.text.to_string(),
                            state: state.text.to_string(),
                            suggestion: suggest::nearest(
                                &state.text,
                                known.iter().map(String::as_str),
                            )
                            .map(str::to_string),
                            known,
                        };
                        return Err(fail(Some(e), kind, state.at));
                    };
                    offset = offset * card + s;
                }
                if entry.values.len() != k {
                    return Err(fail(
                        Some(e),
                        NetworkErrorKind::RowLength {
                            expected: k,
                            found: entry.values.len(),
                        },
                        entry.at,
                    ));
                }
                given.push(offset);
                out.push(RowSpec {
                    when: key.iter().map(|x| x.text.to_string()).collect(),
                    p: entry.values.clone(),
                    source: None,
                });
                locations.push((entry.at, e));
            }
        }
    }
    match (table, default) {
        (Some(_), _) => {}
        (None, Some(e)) => {
            let entry = &block.entries[e];
            if configs.saturating_mul(k) > MAX_DEFAULT_ENTRIES {
                return Err(fail(
                    Some(e),
                    NetworkErrorKind::RowKey(format!(
                        "its `default` would expand to {configs} rows, more than radix tabulates; give the rows explicitly or reduce the parents"
                    )),
                    entry.at,
                ));
            }
            let mut covered = vec![false; configs];
            for &c in &given {
                covered[c] = true;
            }
            for (c, _) in covered.iter().enumerate().filter(|(_, done)| !**done) {
                out.push(RowSpec {
                    when: state_names(c),
                    p: entry.values.clone(),
                    source: None,
                });
                locations.push((entry.at, e));
            }
        }
        (None, None) if given.len() < configs => {
            // Name the first configuration without a row (without tabulating them all: the
            // parents' configurations may be far more than the rows in the file).
            let mut sorted = given.clone();
            sorted.sort_unstable();
            sorted.dedup();
            let missing = sorted
                .iter()
                .enumerate()
                .find(|&(i, &c)| i != c)
                .map_or(sorted.len(), |(i, _)| i);
            let combination: Vec<String> = parents
                .iter()
                .zip(state_names(missing))
                .map(|(&p, s)| format!("{}={s}", ast.variables[p].name.text))
                .collect();
            return Err(fail(
                None,
                NetworkErrorKind::MissingRow(format!("`{}`", combination.join(", "))),
                block.child.at,
            ));
        }
        (None, None) => {}
    }
    Ok((out, locations))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> LoadError {
        from_str(text, "t.bif").expect_err("should be rejected")
    }

    const HEAD: &str = "network t { }\nvariable a { type discrete [ 2 ] { x, y }; }\nvariable b { type discrete [ 3 ] { p, q, r }; }\n";

    #[test]
    fn table_with_parents_is_child_slowest() {
        let text = format!(
            "{HEAD}probability ( a ) {{ table 0.5, 0.5; }}\nprobability ( b | a ) {{ table 0.1, 0.2, 0.3, 0.4, 0.6, 0.4; }}\n"
        );
        let net = from_str(&text, "t.bif").unwrap();
        // (a=x): 0.1, 0.3, 0.6; (a=y): 0.2, 0.4, 0.4
        assert_eq!(
            net.cpd(1).factor().values(),
            vec![0.1, 0.3, 0.6, 0.2, 0.4, 0.4]
        );
    }

    #[test]
    fn default_fills_missing_rows() {
        let text = format!(
            "{HEAD}probability ( b ) {{ table 0.2, 0.3, 0.5; }}\nprobability ( a | b ) {{ (q) 0.9, 0.1; default 0.5, 0.5; }}\n"
        );
        let net = from_str(&text, "t.bif").unwrap();
        assert_eq!(
            net.cpd(0).factor().values(),
            vec![0.5, 0.5, 0.9, 0.1, 0.5, 0.5]
        );
    }

    #[test]
    fn javabayes_dialect() {
        let text = r#"
// JavaBayes style
network "Dog Problem" { property "credal-set constant-density-bounded 1.1" ; }
variable "dog-out" { type discrete[2] { "true" "false" }; property "position = (1, 2)" ; }
variable "family-out" { type discrete[2] { "true" "false" }; }
probability ( "family-out" ) { table 0.15 0.85 ; }
probability ( "dog-out" "family-out" ) { /* 2 values each */ table 0.9 0.3 0.1 0.7 ; }
"#;
        let net = from_str(text, "dog.bif").unwrap();
        assert_eq!(net.name(), "Dog Problem");
        assert_eq!(net.cpd(0).factor().values(), vec![0.9, 0.1, 0.3, 0.7]);
    }

    #[test]
    fn errors_have_positions() {
        let e = err("network t { }\nvariable a { type discrete [ 2 ] { x, y } }\n");
        assert_eq!((e.line, e.column), (Some(2), Some(43)), "{e}");
        assert!(
            e.to_string()
                .contains("expected `;` after the list of states, found `}`")
        );

        let e = err("network t { }\nvariable a { type discrete [ 3 ] { x, y }; }\n");
        assert!(
            e.to_string().contains("declares 3 state(s) but lists 2"),
            "{e}"
        );

        let e = err("network t { }\nvariable a=b { type discrete [ 2 ] { x, y }; }\n");
        assert!(e.to_string().contains("contains `=`"), "{e}");
        assert_eq!((e.line, e.column), (Some(2), Some(10)));

        let e = err("/* never closed");
        assert!(e.to_string().contains("unterminated comment"), "{e}");
    }

    #[test]
    fn names_round_trip() {
        for s in [
            "a b",
            "x\"y",
            "back\\slash",
            "semi;colon",
            "a//b",
            "",
            "(p)",
        ] {
            let n = name(s);
            let mut lex = Lexer::new(&n);
            let t = lex.next().unwrap();
            assert_eq!(
                t.tok,
                Tok::Word {
                    text: Cow::Borrowed(s),
                    quoted: n.starts_with('"')
                }
            );
            assert_eq!(lex.next().unwrap().tok, Tok::Eof);
        }
    }
}
