//! Every file the loader read, kept in memory so that any diagnostic or emitted object
//! can point back at `file:line:col`. Owns the [`Span`] type. It never touches the
//! disk itself: the compose front-end reads files and registers their text here.

use std::fmt;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A region of one source file. Lines are 1-based, columns 1-based and counted in
/// characters. A span with `line == 0` points at a whole file (no position known).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub line: u32,
    pub col: u32,
    /// Length in characters on the first line (at least 1 when rendered).
    pub len: u32,
}

impl Span {
    pub fn new(file: FileId, line: u32, col: u32, len: u32) -> Self {
        Span {
            file,
            line,
            col,
            len,
        }
    }

    /// A span naming a file but no position in it.
    pub fn file(file: FileId) -> Self {
        Span {
            file,
            line: 0,
            col: 0,
            len: 0,
        }
    }
}

/// What a file holds, which decides how its lines may be shown in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceKind {
    /// Compose YAML: lines are shown, values of sensitive keys redacted.
    #[default]
    Yaml,
    /// `.env`, `env_file`, `label_file`: only the variable name of a line is shown.
    Env,
}

/// One loaded file: the name shown to users (relative to the working directory when
/// possible) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    pub kind: SourceKind,
}

/// All files read during one compile, plus the secret values met while reading them
/// (values of sensitive-looking variables), which messages must never show.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
    secrets: std::collections::BTreeSet<String>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.add_kind(name, text, SourceKind::Yaml)
    }

    /// Register a file of the given kind.
    pub fn add_kind(
        &mut self,
        name: impl Into<String>,
        text: impl Into<String>,
        kind: SourceKind,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            name: name.into(),
            text: text.into(),
            kind,
        });
        id
    }

    pub fn kind(&self, id: FileId) -> SourceKind {
        self.get(id).map(|f| f.kind).unwrap_or_default()
    }

    /// Remember a secret value so that rendered messages never show it. Values shorter
    /// than four characters are not scrubbed (they would mangle ordinary text).
    pub fn add_secret(&mut self, value: &str) {
        let v = value.trim();
        if v.chars().count() >= 4 {
            self.secrets.insert(v.to_string());
        }
    }

    /// The secret values, longest first (so a value containing another is replaced whole).
    pub fn secrets(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        v.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        v
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.name.as_str()).unwrap_or("<unknown>")
    }

    pub fn text(&self, id: FileId) -> &str {
        self.get(id).map(|f| f.text.as_str()).unwrap_or("")
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line_text(&self, id: FileId, line: u32) -> Option<&str> {
        if line == 0 {
            return None;
        }
        self.text(id)
            .split('\n')
            .nth(line as usize - 1)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// `file:line:col` (or just `file` for a whole-file span).
    pub fn location(&self, span: Span) -> Location<'_> {
        Location {
            name: self.name(span.file),
            span,
        }
    }
}

/// Display helper for `file:line:col`.
pub struct Location<'a> {
    name: &'a str,
    span: Span,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.span.line == 0 {
            write!(f, "{}", self.name)
        } else {
            write!(f, "{}:{}:{}", self.name, self.span.line, self.span.col)
        }
    }
}
