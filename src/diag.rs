//! Diagnostics as plain data: what went wrong (or what was ignored), where, and a hint.
//! The library never prints; it returns [`Diagnostic`]s and the binary renders them
//! with [`render`]. Rendering redacts values on source lines whose key looks
//! sensitive, so an error never echoes a password that sits in a compose or env file.

use crate::source::{SourceKind, Sources, Span};
use regex::Regex;
use std::fmt::Write as _;
use std::sync::OnceLock;

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
    /// Show the location but not the source line (it holds a sensitive value).
    pub hide_source: bool,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: None,
            notes: Vec::new(),
            help: None,
            hide_source: false,
        }
    }

    /// Do not print the source line of this diagnostic (it shows a secret).
    pub fn hide_source(mut self) -> Self {
        self.hide_source = true;
        self
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
    // Runs on every key of the compose tree: compare in place (no upper-cased copy),
    // and build nothing (a regex here cost more to compile than a small build spends
    // matching).
    let b = name.as_bytes();
    let contains = |p: &str| {
        b.windows(p.len())
            .any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
    };
    let ends =
        |s: &str| b.len() >= s.len() && b[b.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes());
    SENSITIVE_CONTAINS.iter().any(|p| contains(p)) || SENSITIVE_SUFFIXES.iter().any(|s| ends(s))
}

/// `KEY: value` / `KEY=value` pairs whose KEY looks sensitive, anywhere in a line (block
/// mappings, flow mappings and sequences, quoted keys). Group 1 is everything up to the
/// value, group 2 the value (up to `,`, `}`, `]` or the end of the line).
fn sensitive_pair() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let words = SENSITIVE_CONTAINS.join("|");
        let ends = SENSITIVE_SUFFIXES.join("|");
        let key =
            format!(r"[A-Za-z0-9_.\-]*(?:{words})[A-Za-z0-9_.\-]*|[A-Za-z0-9_.\-]*(?:{ends})");
        let pattern = format!(
            r#"(?i)((?:^|[\s{{\[,"':-])(?:{key})["']?(?:\s*:[ \t]+|\s*:$|\s*=))([^,}}\]\n]*)"#
        );
        Regex::new(&pattern).expect("static pattern")
    })
}

/// Replace the value of every sensitive-looking `KEY: value` or `KEY=value` pair of a
/// compose line with `<redacted>`. `secrets:` (the compose keyword) keeps its value.
pub fn redact_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    for c in sensitive_pair().captures_iter(line) {
        let (Some(head), Some(value)) = (c.get(1), c.get(2)) else {
            continue;
        };
        let key = head
            .as_str()
            .trim_start_matches(|ch: char| ch.is_whitespace() || "{[,\"':-".contains(ch))
            .trim_end_matches(|ch: char| ch.is_whitespace() || ":=\"'".contains(ch));
        // Inside a flow collection the value ends at `,`, `}` or `]`; in block style it
        // runs to the end of the line.
        // `head` starts with the character before the key (which may open the flow).
        let first = line[head.start()..]
            .chars()
            .next()
            .map_or(0, char::len_utf8);
        let before = &line[..head.start() + first];
        let depth =
            before.matches(['{', '[']).count() as i64 - before.matches(['}', ']']).count() as i64;
        let end = if depth > 0 { value.end() } else { line.len() };
        let value_text = &line[value.start()..end];
        if key.eq_ignore_ascii_case("secrets") || value_text.trim().is_empty() {
            continue;
        }
        out.push_str(&line[last..head.end()]);
        let trimmed = value_text.trim();
        let quote = trimmed.chars().next().filter(|q| *q == '"' || *q == '\'');
        // A closing quote stays: it closes the value's own quote, or one opened before
        // the key (`"KEY=value"` list items).
        let close = trimmed
            .chars()
            .last()
            .filter(|q| (*q == '"' || *q == '\'') && (quote.is_none() || trimmed.len() > 1));
        out.push_str(&value_text[..value_text.len() - value_text.trim_start().len()]);
        if let Some(q) = quote {
            out.push(q);
        }
        out.push_str("<redacted>");
        if let Some(q) = close {
            out.push(q);
        }
        last = end;
    }
    out.push_str(&line[last..]);
    out
}

/// An env-file line with everything after the variable name hidden.
fn redact_env_line(line: &str) -> String {
    let end = line
        .find(|c: char| c == '=' || c.is_whitespace())
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    if rest.trim().is_empty() {
        name.to_string()
    } else if rest.starts_with('=') {
        format!("{name}=<redacted>")
    } else {
        format!("{name} <redacted>")
    }
}

/// Replace every known secret value in a rendered message.
fn scrub(text: &str, sources: &Sources) -> String {
    let mut out = text.to_string();
    for v in sources.secrets() {
        if out.contains(v) {
            out = out.replace(v, "<redacted>");
        }
    }
    out
}

/// Render one diagnostic in the `rustc` style.
pub fn render_one(d: &Diagnostic, sources: &Sources, out: &mut String) {
    let mut text = String::new();
    render_plain(d, sources, &mut text);
    out.push_str(&scrub(&text, sources));
}

fn render_plain(d: &Diagnostic, sources: &Sources, out: &mut String) {
    let kind = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{kind}: {}", d.message);
    if let Some(span) = d.span {
        render_span(span, None, d.hide_source, sources, out);
    }
    for n in &d.notes {
        render_span(n.span, Some(&n.message), d.hide_source, sources, out);
    }
    if let Some(h) = &d.help {
        let _ = writeln!(out, "  = help: {h}");
    }
}

fn render_span(span: Span, note: Option<&str>, hide: bool, sources: &Sources, out: &mut String) {
    let _ = writeln!(out, "  --> {}", sources.location(span));
    if let Some(text) = sources.line_text(span.file, span.line) {
        let text = text.replace('\t', " ");
        let redacted = match sources.kind(span.file) {
            SourceKind::Yaml => redact_line(&text),
            SourceKind::Env => redact_env_line(&text),
        };
        // A hidden line is shown only when redaction already removed its value (a
        // `KEY: value` line); other lines (block-scalar content) are not shown at all.
        if hide && redacted == text {
            let _ = writeln!(
                out,
                "  = note: the line is not shown: it holds a sensitive value"
            );
            if let Some(m) = note {
                let _ = writeln!(out, "  = note: {m}");
            }
            return;
        }
        let text = redacted;
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
    fn env_lines_show_only_the_name() {
        assert_eq!(redact_env_line("API_TOKEN=abc"), "API_TOKEN=<redacted>");
        assert_eq!(redact_env_line("API_TOKEN abc"), "API_TOKEN <redacted>");
        assert_eq!(redact_env_line("DB PW=abc"), "DB <redacted>");
        assert_eq!(redact_env_line("BARE"), "BARE");
    }

    #[test]
    fn sensitive_names_follow_the_rule() {
        // The rule as stated: upper-case the name, then any fragment or suffix.
        fn spelled_out(name: &str) -> bool {
            let n = name.to_ascii_uppercase();
            SENSITIVE_CONTAINS.iter().any(|p| n.contains(p))
                || SENSITIVE_SUFFIXES.iter().any(|s| n.ends_with(s))
        }
        let names = [
            "DB_PASSWORD",
            "db_password",
            "PassWd",
            "my-secret",
            "SECRETS",
            "secrets",
            "GITHUB_TOKEN",
            "tokenizer",
            "API_KEY",
            "api_keys",
            "x_api_key_id",
            "AWS_CREDENTIALS",
            "private_key",
            "PRIVATE",
            "SMTP_PASS",
            "smtp_pass",
            "SMTP_PASSX",
            "SSH_KEY",
            "ssh_key",
            "KEY",
            "_KEY",
            "KEYS",
            "KEY_ID",
            "image",
            "ports",
            "environment",
            "PASS",
            "x_pass",
            "\u{17f}ECRET",
            "K",
            "",
            "passphrase",
            "pass_word",
            "TOKEN_FILE",
            "monkey",
            "MONKEY_KEY",
        ];
        for n in names {
            assert_eq!(looks_sensitive(n), spelled_out(n), "{n}");
        }
    }

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
            (
                "    environment: {DB_PASSWORD: hunter2, X: \"${X:?e}\"}",
                "    environment: {DB_PASSWORD: <redacted>, X: \"${X:?e}\"}",
            ),
            (
                "    environment: [\"SESSION_SECRET=abc\", \"Q=1\"]",
                "    environment: [\"SESSION_SECRET=<redacted>\", \"Q=1\"]",
            ),
            (
                "      \"DB:PASSWORD\": hunter2",
                "      \"DB:PASSWORD\": <redacted>",
            ),
            (
                "      - \"SESSION_SECRET=abc\"",
                "      - \"SESSION_SECRET=<redacted>\"",
            ),
            (
                "    image: registry/secret-token:1",
                "    image: registry/secret-token:1",
            ),
            ("      API_KEY: 'k'", "      API_KEY: '<redacted>'"),
        ] {
            assert_eq!(redact_line(line), want, "{line}");
        }
    }
}
