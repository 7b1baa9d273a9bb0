//! File formats: text in, a validated [`Network`] out (and, for writers, the reverse).
//!
//! A format parses its syntax into the network builder's specs and lets
//! [`NetworkBuilder`](crate::network::NetworkBuilder) validate them; it does no inference.
//! Errors name the file and, where the format knows it, the line and column.
//!
//! | extension | format | read | write |
//! |---|---|---|---|
//! | `.toml` | radix's own model format ([`toml`], [`toml_writer`]) | yes | yes |
//! | `.bif` | BIF 0.15 text, as bnlearn/pgmpy write it ([`bif`]) | yes | yes |
//! | `.xml`, `.xmlbif` | XMLBIF 0.3 ([`xmlbif`]) | yes | yes |

pub mod bif;
pub mod toml;
pub mod toml_writer;
pub mod xmlbif;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::network::{Network, NetworkError};

/// A model file that could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct LoadError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// What is wrong.
    pub kind: LoadErrorKind,
}

/// What is wrong with a model file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadErrorKind {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Io(String),
    /// The file is not valid in its format.
    #[error("{0}")]
    Syntax(String),
    /// The file parses but the model is not valid.
    #[error(transparent)]
    Invalid(#[from] NetworkError),
    /// The extension names no supported format.
    #[error("unknown model format `{0}`: use a .toml, .bif, .xml or .xmlbif file")]
    UnknownFormat(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        write!(f, ": {}", self.kind)
    }
}

impl LoadError {
    pub(crate) fn new(file: &Path, kind: LoadErrorKind) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line: None,
            column: None,
            kind,
        }
    }

    pub(crate) fn at(mut self, text: &str, offset: Option<usize>) -> Self {
        if let Some(offset) = offset {
            let (line, column) = line_column(text, offset);
            self.line = Some(line);
            self.column = Some(column);
        }
        self
    }
}

/// Reads a model file's text, or names the file in the error.
pub(crate) fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path)
        .map_err(|e| LoadError::new(path, LoadErrorKind::Io(e.to_string())))
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The lower-case extension of a path (empty if none).
fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default()
}

/// Loads a model, choosing the format by the file's extension: `.toml`, `.bif`, `.xml` or
/// `.xmlbif`.
pub fn load(path: impl AsRef<Path>) -> Result<Network, LoadError> {
    let path = path.as_ref();
    match extension(path).as_str() {
        "toml" => toml::load(path),
        "bif" => bif::load(path),
        "xml" | "xmlbif" => xmlbif::load(path),
        other => Err(LoadError::new(
            path,
            LoadErrorKind::UnknownFormat(other.to_string()),
        )),
    }
}

/// A model that could not be saved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {kind}", file.display())]
pub struct SaveError {
    /// The file.
    pub file: PathBuf,
    /// What went wrong.
    pub kind: SaveErrorKind,
}

/// Why a model could not be saved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SaveErrorKind {
    /// The file cannot be written.
    #[error("cannot write the file: {0}")]
    Io(String),
    /// The extension names no format radix writes.
    #[error("unknown model format `{0}`: use a .toml, .bif, .xml or .xmlbif file")]
    UnknownFormat(String),
}

/// Writes a model, choosing the format by the file's extension: `.toml` (everything),
/// `.bif` (structure and tables only) or `.xml`/`.xmlbif` (structure, tables, labels, roles and
/// descriptions). See each writer for what its format cannot carry.
pub fn save(network: &Network, path: impl AsRef<Path>) -> Result<(), SaveError> {
    let path = path.as_ref();
    let fail = |kind| SaveError {
        file: path.to_path_buf(),
        kind,
    };
    let text = match extension(path).as_str() {
        "toml" => toml_writer::to_string(network),
        "bif" => bif::to_string(network),
        "xml" | "xmlbif" => xmlbif::to_string(network),
        other => return Err(fail(SaveErrorKind::UnknownFormat(other.to_string()))),
    };
    std::fs::write(path, text).map_err(|e| fail(SaveErrorKind::Io(e.to_string())))
}
