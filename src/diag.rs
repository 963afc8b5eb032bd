//! Diagnostics as plain data: what went wrong (or what was ignored), where, and a hint.
//! The library never prints; it returns [`Diagnostic`]s and the binary renders them
//! with [`render`]. Rendering redacts values on source lines whose key looks
//! sensitive, so an error never echoes a password that sits in a compose or env file.

use crate::source::{Sources, Span};
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Primary location (shown with the source line) when known.
    pub span: Option<Span>,
    /// Further locations ("first defined here", ...).
    pub notes: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn at_opt(mut self, span: Option<Span>) -> Self {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, span: Span, message: impl Into<String>) -> Self {
        self.notes.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A list of diagnostics collected during one run.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
    /// Turn every warning into an error (`--strict`).
    pub fn make_strict(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Name fragments (upper case) that make a variable sensitive wherever they appear.
pub const SENSITIVE_CONTAINS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "CREDENTIAL",
    "PRIVATE",
];
/// Name endings (upper case) that make a variable sensitive.
pub const SENSITIVE_SUFFIXES: &[&str] = &["_PASS", "_KEY"];

/// The default rule for names that look like they hold a secret (mapping.md), case
/// insensitive. Lowering adds `--secret-pattern` and the `_FILE` exception
/// (`lower::env::is_sensitive`); message redaction uses this rule as it is.
pub fn looks_sensitive(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    SENSITIVE_CONTAINS.iter().any(|p| n.contains(p))
        || SENSITIVE_SUFFIXES.iter().any(|s| n.ends_with(s))
}

/// Replace the value part of `KEY: value`, `- KEY=value` or `KEY=value` when KEY looks
/// sensitive. Other lines are returned unchanged.
pub fn redact_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let (lead, body) = match trimmed.strip_prefix("- ") {
        Some(rest) => ("- ", rest),
        None => ("", trimmed),
    };
    let body_unq = body.trim_start_matches(['"', '\'']);
    let cut = body_unq.find([':', '=']);
    if let Some(i) = cut {
        let key = body_unq[..i].trim_end_matches(['"', '\'']).trim();
        let rest = &body_unq[i + 1..];
        // `secrets:` is a compose keyword whose value names secrets, not a value.
        if looks_sensitive(key) && key != "secrets" && !rest.trim().is_empty() {
            let q = &body[..body.len() - body_unq.len()];
            let sep = &body_unq[i..i + 1];
            let space = if sep == ":" { " " } else { "" };
            return format!("{indent}{lead}{q}{}{sep}{space}<redacted>", &body_unq[..i]);
        }
    }
    line.to_string()
}

/// Render one diagnostic in the `rustc` style.
pub fn render_one(d: &Diagnostic, sources: &Sources, out: &mut String) {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{kind}: {}", d.message);
    if let Some(span) = d.span {
        render_span(span, None, sources, out);
    }
    for n in &d.notes {
        render_span(n.span, Some(&n.message), sources, out);
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "  = help: {h}");
    }
}

fn render_span(span: Span, note: Option<&str>, sources: &Sources, out: &mut String) {
    let _ = writeln!(out, "  --> {}", sources.location(span));
    if let Some(text) = sources.line_text(span.file, span.line) {
        let text = redact_line(&text.replace('\t', " "));
        let num = span.line.to_string();
        let pad = " ".repeat(num.len());
        let col = span.col.max(1) as usize;
        let width = text.chars().count();
        let len = (span.len.max(1) as usize).min(width.saturating_sub(col - 1).max(1));
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{num} | {text}");
        let marker = format!("{}{}", " ".repeat(col - 1), "^".repeat(len));
        match note {
            Some(m) => {
                let _ = writeln!(out, "{pad} | {marker} {m}");
            }
            None => {
                let _ = writeln!(out, "{pad} | {marker}");
            }
        }
    } else if let Some(m) = note {
        let _ = writeln!(out, "  = note: {m}");
    }
}

/// Render every diagnostic, separated by blank lines, with a closing count of errors.
pub fn render(ds: &Diagnostics, sources: &Sources) -> String {
    let mut out = String::new();
    for d in ds.iter() {
        render_one(d, sources, &mut out);
        out.push('\n');
    }
    let n = ds.error_count();
    if n > 0 {
        let _ = writeln!(
            out,
            "error: {n} error{} found",
            if n == 1 { "" } else { "s" }
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_sensitive_values() {
        for (line, want) in [
            ("  DB_PASSWORD: hunter2", "  DB_PASSWORD: <redacted>"),
            ("  - API_KEY=abc", "  - API_KEY=<redacted>"),
            ("MY_TOKEN=abc", "MY_TOKEN=<redacted>"),
            ("  image: nginx", "  image: nginx"),
            ("  PASSWORD_FILE: /run/x", "  PASSWORD_FILE: <redacted>"),
            ("  password:", "  password:"),
            ("    secrets: [tls_key]", "    secrets: [tls_key]"),
        ] {
            assert_eq!(redact_line(line), want, "{line}");
        }
    }
}
