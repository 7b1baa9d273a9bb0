//! File formats: text in, a validated [`Network`] out (and, for writers, the reverse).
//!
//! A format parses its syntax into the network builder's specs and lets
//! [`NetworkBuilder`](crate::network::NetworkBuilder) validate them; it does no inference.
//! Errors name the file and, where the format knows it, the line and column.

pub mod toml;

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
    #[error("unknown model format `{0}`: use a .toml file")]
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

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Loads a model, choosing the format by the file's extension.
pub fn load(path: impl AsRef<Path>) -> Result<Network, LoadError> {
    let path = path.as_ref();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "toml" => toml::load(path),
        other => Err(LoadError::new(
            path,
            LoadErrorKind::UnknownFormat(other.to_string()),
        )),
    }
}
