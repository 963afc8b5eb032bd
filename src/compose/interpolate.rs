//! Compose variable interpolation, reproducing compose-go's `template` package and its
//! loader pass (`interpolation.Interpolate` + `interpolateTypeCastMapping`): `$VAR`,
//! `${VAR}`, the operators `:-` `-` `:?` `?` `:+` `+` with nested templates in their
//! arguments (evaluated lazily, only when used), the `$$` escape, and the regex-driven
//! quirks of the reference (a braced reference with an operator extends to the last `}`
//! of its line, then is split at the first balanced `}` counted the way compose-go counts
//! braces). Substituted text is never expanded again. After substitution, string values
//! at the paths compose-go casts (`services.*.deploy.replicas`, `privileged`, ...)
//! become integers, floats or booleans.
//!
//! This module is pure: variables come only through the caller's lookup function, and it
//! never reads the process environment or files. Diagnostics it produces never contain a
//! variable's value (only names, paths and text taken from the compose file itself).

use super::node::{Node, Value};
use crate::diag::{looks_sensitive, Diagnostic};
use crate::source::Span;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::LazyLock;

/// Why a template could not be substituted. `Display` gives compose-go's exact message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InterpError {
    /// `Invalid template: "<template>"` (the template is the string being substituted
    /// when the bad reference was found: the whole value, a default's text, or the rest
    /// of a line after a braced reference, exactly as compose-go reports it).
    Invalid { template: String },
    /// `required variable NAME is missing a value[: reason]` from `${NAME:?reason}` or
    /// `${NAME?reason}`; `reason` is the substituted message text.
    MissingRequired { name: String, reason: String },
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpError::Invalid { template } => {
                write!(f, "Invalid template: {}", go_quote(template))
            }
            InterpError::MissingRequired { name, reason } if reason.is_empty() => {
                write!(f, "required variable {name} is missing a value")
            }
            InterpError::MissingRequired { name, reason } => {
                write!(f, "required variable {name} is missing a value: {reason}")
            }
        }
    }
}

impl std::error::Error for InterpError {}

/// Result of a successful substitution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Substituted {
    pub value: String,
    /// Names of unset variables that were expanded without a default (each occurrence,
    /// in the order compose-go would log its "variable is not set" warning).
    pub unset: Vec<String>,
}

/// Substitute every variable reference in `template`. `lookup` returns `None` for an
/// unset variable and `Some("")` for a variable set to the empty string.
pub fn substitute(
    template: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Substituted, InterpError> {
    if !template.contains('$') {
        return Ok(Substituted {
            value: template.to_owned(),
            unset: Vec::new(),
        });
    }
    let mut engine = Engine::new(lookup);
    match engine.run(template) {
        Ok(value) => Ok(Substituted {
            value,
            unset: engine.unset,
        }),
        Err(fail) => Err(fail.into_public()),
    }
}

/// Deepest nesting of templates inside operator arguments. compose-go has no limit;
/// real files nest a handful of levels, and the bound keeps hostile input from
/// exhausting the stack.
const MAX_DEPTH: usize = 200;

/// Internal failure: like [`InterpError`] but also keeps the unsubstituted reason text so
/// that diagnostics can avoid printing variable values.
#[derive(Debug)]
enum Fail {
    Invalid {
        template: String,
    },
    Missing {
        name: String,
        reason: String,
        raw_reason: String,
    },
}

impl Fail {
    fn into_public(self) -> InterpError {
        match self {
            Fail::Invalid { template } => InterpError::Invalid { template },
            Fail::Missing { name, reason, .. } => InterpError::MissingRequired { name, reason },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OpKind {
    /// `-` / `:-`
    Default,
    /// `+` / `:+`
    Alternative,
    /// `?` / `:?`
    Required,
}

#[derive(Clone, Copy, Debug)]
struct Op {
    kind: OpKind,
    /// The `:` form treats an empty value like an unset one.
    colon: bool,
}

fn op_kind(c: u8) -> Option<OpKind> {
    match c {
        b'-' => Some(OpKind::Default),
        b'+' => Some(OpKind::Alternative),
        b'?' => Some(OpKind::Required),
        _ => None,
    }
}

/// First character of a variable name. compose-go's pattern is `(?i)[_a-z][_a-z0-9]*`,
/// and Go's case folding also admits U+017F (ſ, folds to s) and U+212A (Kelvin sign).
fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || c == '\u{17F}' || c == '\u{212A}'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Byte index just past the variable name starting at `start` (== `start` if none).
fn scan_name(t: &str, start: usize) -> usize {
    let Some(rest) = t.get(start..) else {
        return start;
    };
    let mut chars = rest.char_indices();
    match chars.next() {
        Some((_, c)) if is_name_start(c) => {}
        _ => return start,
    }
    for (i, c) in chars {
        if !is_name_char(c) {
            return start + i;
        }
    }
    t.len()
}

/// compose-go's `getFirstBraceClosingIndex` over `b[from..=to]`: counts `{` (skipping the
/// byte after each one) and `}`, returning the absolute index where the count returns
/// to zero.
fn first_closing(b: &[u8], from: usize, to: usize) -> Option<usize> {
    let mut open: i64 = 0;
    let mut i = from;
    while i <= to {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// Where the current line ends and where its last `}` is, computed once per line.
#[derive(Default)]
struct LineCache {
    /// `(line_start_bound, line_end, last_brace)`: valid for positions in
    /// `line_start_bound..line_end`.
    entry: Option<(usize, usize, Option<usize>)>,
}

impl LineCache {
    /// Last `}` at or after `from` and before the end of `from`'s line.
    fn last_brace(&mut self, b: &[u8], from: usize) -> Option<usize> {
        if let Some((start, end, last)) = self.entry {
            if from >= start && from < end {
                return last.filter(|&l| l >= from);
            }
        }
        let end = b[from..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |p| from + p);
        let last = b[from..end]
            .iter()
            .rposition(|&c| c == b'}')
            .map(|p| from + p);
        self.entry = Some((from, end, last));
        last
    }
}

struct Engine<'l> {
    lookup: &'l dyn Fn(&str) -> Option<String>,
    unset: Vec<String>,
    depth: usize,
}

impl<'l> Engine<'l> {
    fn new(lookup: &'l dyn Fn(&str) -> Option<String>) -> Self {
        Engine {
            lookup,
            unset: Vec::new(),
            depth: 0,
        }
    }

    /// One compose-go `Substitute` call on `t`.
    fn run(&mut self, t: &str) -> Result<String, Fail> {
        if !t.contains('$') {
            return Ok(t.to_owned());
        }
        if self.depth >= MAX_DEPTH {
            return Err(Fail::Invalid {
                template: t.to_owned(),
            });
        }
        self.depth += 1;
        let r = self.run_inner(t);
        self.depth -= 1;
        r
    }

    fn run_inner(&mut self, t: &str) -> Result<String, Fail> {
        let b = t.as_bytes();
        let mut out = String::with_capacity(t.len());
        // `lit..` is text not yet copied to `out`; `pos` is where scanning resumes.
        let mut lit = 0usize;
        let mut pos = 0usize;
        // compose-go substitutes the text after a split braced reference in a nested
        // call; `region` is that text (`start..end`), used to name the template in an
        // "Invalid template" error raised inside it. It always ends with the `}` that
        // closed the outer match and never spans a line break.
        let mut region: Option<(usize, usize)> = None;
        let mut lines = LineCache::default();
        while let Some(off) = b[pos..].iter().position(|&c| c == b'$') {
            let d = pos + off;
            if matches!(region, Some((_, end)) if d >= end) {
                region = None;
            }
            let invalid = |region: Option<(usize, usize)>| Fail::Invalid {
                template: match region {
                    Some((s, e)) => t[s..e].to_owned(),
                    None => t.to_owned(),
                },
            };
            let next = d + 1;
            // `$$` escape.
            if b.get(next) == Some(&b'$') {
                out.push_str(&t[lit..d]);
                out.push('$');
                pos = d + 2;
                lit = pos;
                continue;
            }
            // `$NAME`.
            let name_end = scan_name(t, next);
            if name_end > next {
                out.push_str(&t[lit..d]);
                let v = self.plain(&t[next..name_end]);
                out.push_str(&v);
                pos = name_end;
                lit = pos;
                continue;
            }
            // A `$` followed by anything else is literal text.
            if b.get(next) != Some(&b'{') {
                pos = next;
                continue;
            }
            // `${...}`.
            let ns = d + 2;
            let ne = scan_name(t, ns);
            if ne == ns {
                return Err(invalid(region));
            }
            let op = match (b.get(ne).copied(), b.get(ne + 1).copied()) {
                (Some(b':'), Some(c)) if op_kind(c).is_some() => op_kind(c).map(|kind| {
                    (
                        Op { kind, colon: true },
                        ne + 2, // argument start
                    )
                }),
                (Some(c), _) => op_kind(c).map(|kind| (Op { kind, colon: false }, ne + 1)),
                _ => None,
            };
            let Some((op, arg_start)) = op else {
                if b.get(ne) == Some(&b'}') {
                    out.push_str(&t[lit..d]);
                    let v = self.plain(&t[ns..ne]);
                    out.push_str(&v);
                    pos = ne + 1;
                    lit = pos;
                    continue;
                }
                return Err(invalid(region));
            };
            // The reference pattern's `.*}` is greedy: the match runs to the last `}` of
            // the line (inside a nested rest, to the rest's own end).
            let last = match region {
                Some((_, end)) => (end > arg_start).then_some(end - 1),
                None => lines.last_brace(b, arg_start),
            };
            let Some(e) = last else {
                return Err(invalid(region));
            };
            let split = first_closing(b, d, e);
            let sub_end = split.unwrap_or(e);
            out.push_str(&t[lit..d]);
            let v = self.apply(op, &t[ns..ne], &t[arg_start..sub_end])?;
            out.push_str(&v);
            match split {
                Some(k) if k < e => {
                    region = Some((k + 1, e + 1));
                    pos = k + 1;
                }
                _ => pos = e + 1,
            }
            lit = pos;
        }
        out.push_str(&t[lit..]);
        Ok(out)
    }

    /// A reference without operator: the value, or "" plus an unset warning.
    fn plain(&mut self, name: &str) -> String {
        match (self.lookup)(name) {
            Some(v) => v,
            None => {
                self.unset.push(name.to_owned());
                String::new()
            }
        }
    }

    fn apply(&mut self, op: Op, name: &str, arg: &str) -> Result<String, Fail> {
        let value = (self.lookup)(name);
        let usable = match &value {
            Some(v) => !op.colon || !v.is_empty(),
            None => false,
        };
        match op.kind {
            OpKind::Default if usable => Ok(value.unwrap_or_default()),
            OpKind::Default => self.run(arg),
            OpKind::Alternative if usable => self.run(arg),
            OpKind::Alternative => Ok(value.unwrap_or_default()),
            OpKind::Required if usable => Ok(value.unwrap_or_default()),
            OpKind::Required => {
                let reason = self.run(arg)?;
                Err(Fail::Missing {
                    name: name.to_owned(),
                    reason,
                    raw_reason: arg.to_owned(),
                })
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Go formatting helpers (shared with the dotenv parser).

static GO_PRINTABLE: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"\A[\p{L}\p{M}\p{N}\p{P}\p{S}]\z").ok());

/// Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols, ASCII space).
fn go_is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    let mut buf = [0u8; 4];
    GO_PRINTABLE
        .as_ref()
        .is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

/// Go's `strconv.Quote` (what `%q` and `%#v` print for a string).
pub(crate) fn go_quote(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_is_print(c) => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) < 0x10000 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// The loader pass over a compose tree.

/// A value type compose-go casts an interpolated string to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cast {
    Int,
    Float,
    Float32,
    Bool,
}

/// compose-go `loader/interpolate.go` `interpolateTypeCastMapping` (`*` matches any key
/// or index, `[]` any sequence index). `toInt` and `toInt64` both parse a 64-bit int.
const CASTS: &[(&[&str], Cast)] = &[
    (&["services", "*", "configs", "[]", "mode"], Cast::Int),
    (&["services", "*", "cpu_count"], Cast::Int),
    (&["services", "*", "cpu_percent"], Cast::Float),
    (&["services", "*", "cpu_period"], Cast::Int),
    (&["services", "*", "cpu_quota"], Cast::Int),
    (&["services", "*", "cpu_rt_period"], Cast::Int),
    (&["services", "*", "cpu_rt_runtime"], Cast::Int),
    (&["services", "*", "cpus"], Cast::Float32),
    (&["services", "*", "cpu_shares"], Cast::Int),
    (&["services", "*", "init"], Cast::Bool),
    (&["services", "*", "deploy", "replicas"], Cast::Int),
    (
        &["services", "*", "deploy", "update_config", "parallelism"],
        Cast::Int,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "update_config",
            "max_failure_ratio",
        ],
        Cast::Float,
    ),
    (
        &["services", "*", "deploy", "rollback_config", "parallelism"],
        Cast::Int,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "rollback_config",
            "max_failure_ratio",
        ],
        Cast::Float,
    ),
    (
        &["services", "*", "deploy", "restart_policy", "max_attempts"],
        Cast::Int,
    ),
    (
        &[
            "services",
            "*",
            "deploy",
            "placement",
            "max_replicas_per_node",
        ],
        Cast::Int,
    ),
    (&["services", "*", "healthcheck", "retries"], Cast::Int),
    (&["services", "*", "healthcheck", "disable"], Cast::Bool),
    (&["services", "*", "oom_kill_disable"], Cast::Bool),
    (&["services", "*", "oom_score_adj"], Cast::Int),
    (&["services", "*", "pids_limit"], Cast::Int),
    (&["services", "*", "ports", "[]", "target"], Cast::Int),
    (&["services", "*", "privileged"], Cast::Bool),
    (&["services", "*", "read_only"], Cast::Bool),
    (&["services", "*", "scale"], Cast::Int),
    (&["services", "*", "secrets", "[]", "mode"], Cast::Int),
    (&["services", "*", "stdin_open"], Cast::Bool),
    (&["services", "*", "tty"], Cast::Bool),
    (&["services", "*", "ulimits", "*"], Cast::Int),
    (&["services", "*", "ulimits", "*", "hard"], Cast::Int),
    (&["services", "*", "ulimits", "*", "soft"], Cast::Int),
    (&["services", "*", "volumes", "[]", "read_only"], Cast::Bool),
    (
        &["services", "*", "volumes", "[]", "volume", "nocopy"],
        Cast::Bool,
    ),
    (&["networks", "*", "external"], Cast::Bool),
    (&["networks", "*", "internal"], Cast::Bool),
    (&["networks", "*", "attachable"], Cast::Bool),
    (&["networks", "*", "enable_ipv6"], Cast::Bool),
    (&["volumes", "*", "external"], Cast::Bool),
    (&["secrets", "*", "external"], Cast::Bool),
    (&["configs", "*", "external"], Cast::Bool),
];

const MAX_CAST_DEPTH: usize = 6;

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// The path of the node being visited, as a parent-linked list on the stack.
struct PathNode<'a> {
    parent: Option<&'a PathNode<'a>>,
    seg: Seg<'a>,
}

fn path_string(path: Option<&PathNode<'_>>) -> String {
    let mut segs = Vec::new();
    let mut cur = path;
    while let Some(p) = cur {
        segs.push(p.seg);
        cur = p.parent;
    }
    let mut out = String::new();
    for seg in segs.iter().rev() {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

fn cast_for(path: Option<&PathNode<'_>>) -> Option<Cast> {
    let mut segs: [Option<Seg<'_>>; MAX_CAST_DEPTH] = [None; MAX_CAST_DEPTH];
    let mut depth = 0;
    let mut cur = path;
    while let Some(p) = cur {
        if depth == MAX_CAST_DEPTH {
            return None;
        }
        segs[depth] = Some(p.seg);
        depth += 1;
        cur = p.parent;
    }
    if depth < 2 {
        return None;
    }
    // segs is leaf-first; reverse view.
    let seg = |i: usize| segs[depth - 1 - i];
    let Some(Seg::Key(root)) = seg(0) else {
        return None;
    };
    if !matches!(
        root,
        "services" | "networks" | "volumes" | "secrets" | "configs"
    ) {
        return None;
    }
    'pattern: for (pattern, cast) in CASTS {
        if pattern.len() != depth {
            continue;
        }
        for (i, want) in pattern.iter().enumerate() {
            let ok = match (seg(i), *want) {
                (_, "*") => true,
                (Some(Seg::Index(_)), "[]") => true,
                (Some(Seg::Key(k)), w) => k == w,
                _ => false,
            };
            if !ok {
                continue 'pattern;
            }
        }
        return Some(*cast);
    }
    None
}

/// Go `strconv.ParseInt(s, 10, 64)`.
fn go_parse_int(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// Go's `underscoreOK`: underscores only between digits (or after a base prefix).
fn go_underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go `strconv.ParseFloat(s, 64 or 32)`: decimal and hexadecimal (`0x1p-2`) syntax,
/// underscores between digits, `inf`/`infinity`/`nan` in any case. Out-of-range values
/// are errors. The result is kept as f64 even for 32-bit parses.
fn go_parse_float(s: &str, bits32: bool) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" && body.len() == s.len() {
        return Some(f64::NAN);
    }
    if body.contains('_') && !go_underscore_ok(s) {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let v = if let Some(hex) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        parse_hex_float(hex)?
    } else {
        parse_dec_float(&clean)?
    };
    let v = sign * v;
    if v.is_infinite() || (bits32 && (v as f32).is_infinite()) {
        return None;
    }
    Some(v)
}

fn parse_dec_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut digits = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    s.parse::<f64>().ok()
}

fn parse_hex_float(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut mant = 0f64;
    let mut digits = 0;
    let mut frac_digits = 0i32;
    let mut seen_dot = false;
    while i < b.len() {
        let c = b[i];
        if c == b'.' && !seen_dot {
            seen_dot = true;
        } else if let Some(d) = (c as char).to_digit(16) {
            mant = mant * 16.0 + f64::from(d);
            digits += 1;
            if seen_dot {
                frac_digits += 1;
            }
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 || i >= b.len() || !(b[i] == b'p' || b[i] == b'P') {
        return None;
    }
    i += 1;
    let exp: i32 = s.get(i..)?.parse().ok()?;
    Some(mant * 2f64.powi(exp.saturating_sub(frac_digits.saturating_mul(4))))
}

enum CastOutcome {
    Value(Value),
    /// Cast succeeded with a compose-go warning (`"yes" for boolean ...`).
    Warn(Value, String),
    Fail(&'static str),
}

fn apply_cast(cast: Cast, s: &str) -> CastOutcome {
    match cast {
        Cast::Int => match go_parse_int(s) {
            Some(i) => CastOutcome::Value(Value::Int(i)),
            None => CastOutcome::Fail("an integer"),
        },
        Cast::Float | Cast::Float32 => match go_parse_float(s, cast == Cast::Float32) {
            Some(f) => CastOutcome::Value(Value::Float(f)),
            None => CastOutcome::Fail("a number"),
        },
        Cast::Bool => match s.to_lowercase().as_str() {
            "true" => CastOutcome::Value(Value::Bool(true)),
            "false" => CastOutcome::Value(Value::Bool(false)),
            "y" | "yes" | "on" => CastOutcome::Warn(
                Value::Bool(true),
                format!(
                    "{} for boolean is not supported by YAML 1.2, please use `true`",
                    go_quote(s)
                ),
            ),
            "n" | "no" | "off" => CastOutcome::Warn(
                Value::Bool(false),
                format!(
                    "{} for boolean is not supported by YAML 1.2, please use `false`",
                    go_quote(s)
                ),
            ),
            _ => CastOutcome::Fail("a boolean (true or false)"),
        },
    }
}

struct TreeState<'l, 'd> {
    lookup: &'l dyn Fn(&str) -> Option<String>,
    diags: &'d mut Vec<Diagnostic>,
    warned: HashSet<String>,
}

/// Interpolate every string scalar value (never a mapping key) of a compose file tree
/// rooted at the file's top level, then apply compose-go's type casts at the paths it
/// casts (so `replicas: "${REPLICAS:-2}"` becomes `Int(2)`). Errors become error
/// diagnostics at the value's span (every bad value is reported; the tree keeps the
/// original string there). Each unset variable referenced without a default yields one
/// warning per call, at its first use.
///
/// Strings without `$` that sit at no cast path are not touched (no allocation).
/// Deviation: compose-go splits paths on `.`, so it does not cast under a service whose
/// name contains a dot; this pass casts by structure.
pub fn interpolate_tree(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut st = TreeState {
        lookup,
        diags,
        warned: HashSet::new(),
    };
    walk(node, None, &mut st);
}

fn walk(node: &mut Node, path: Option<&PathNode<'_>>, st: &mut TreeState<'_, '_>) {
    let span = node.span;
    match &mut node.value {
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                let p = PathNode {
                    parent: path,
                    seg: Seg::Key(&k.name),
                };
                walk(v, Some(&p), st);
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                let p = PathNode {
                    parent: path,
                    seg: Seg::Index(i),
                };
                walk(v, Some(&p), st);
            }
        }
        Value::Str(s) => {
            if let Some(new) = process_string(s, path, span, st) {
                node.value = new;
            }
        }
        _ => {}
    }
}

fn leaf_key<'a>(path: Option<&PathNode<'a>>) -> Option<&'a str> {
    let mut cur = path;
    while let Some(p) = cur {
        if let Seg::Key(k) = p.seg {
            return Some(k);
        }
        cur = p.parent;
    }
    None
}

fn process_string(
    s: &str,
    path: Option<&PathNode<'_>>,
    span: Span,
    st: &mut TreeState<'_, '_>,
) -> Option<Value> {
    let has_dollar = s.contains('$');
    let cast = cast_for(path);
    if !has_dollar && cast.is_none() {
        return None;
    }
    let text: Cow<'_, str> = if has_dollar {
        let mut engine = Engine::new(st.lookup);
        match engine.run(s) {
            Ok(v) => {
                for name in engine.unset {
                    if !st.warned.contains(&name) {
                        st.diags.push(
                            Diagnostic::warning(format!(
                                "The \"{name}\" variable is not set. Defaulting to a blank string."
                            ))
                            .at(span)
                            .help(format!(
                                "set {name} in the environment or in the .env file, or give a default with ${{{name}:-default}}"
                            )),
                        );
                        st.warned.insert(name);
                    }
                }
                Cow::Owned(v)
            }
            Err(fail) => {
                st.diags.push(fail_diagnostic(fail, path, span));
                return None;
            }
        }
    } else {
        Cow::Borrowed(s)
    };
    let Some(cast) = cast else {
        return Some(Value::Str(text.into_owned()));
    };
    match apply_cast(cast, &text) {
        CastOutcome::Value(v) => Some(v),
        CastOutcome::Warn(v, msg) => {
            st.diags.push(Diagnostic::warning(msg).at(span));
            Some(v)
        }
        CastOutcome::Fail(expected) => {
            let shown = if has_dollar {
                "the value after substitution".to_owned()
            } else {
                go_quote(s)
            };
            st.diags.push(
                Diagnostic::error(format!(
                    "error while interpolating {}: failed to cast to expected type: {shown} is not {expected}",
                    path_string(path)
                ))
                .at(span)
                .help(format!("{} must be {expected}", path_string(path))),
            );
            None
        }
    }
}

fn fail_diagnostic(fail: Fail, path: Option<&PathNode<'_>>, span: Span) -> Diagnostic {
    let where_ = path_string(path);
    match fail {
        Fail::Invalid { template } => {
            let sensitive = leaf_key(path).is_some_and(looks_sensitive);
            let msg = if sensitive {
                format!("invalid interpolation format for {where_}")
            } else {
                format!(
                    "invalid interpolation format for {where_}: {}",
                    go_quote(&template)
                )
            };
            let d = Diagnostic::error(msg).at(span).help(
                "You may need to escape any $ with another $ (write $$ for a literal $); \
                 references look like $NAME, ${NAME} or ${NAME:-default}",
            );
            if sensitive {
                d.hide_source()
            } else {
                d
            }
        }
        Fail::Missing {
            name,
            reason,
            raw_reason,
        } => {
            // The reason may embed other variables' values; show the file's own text
            // in that case.
            let reason = if raw_reason.contains('$') {
                raw_reason
            } else {
                reason
            };
            let err = InterpError::MissingRequired {
                name: name.clone(),
                reason,
            };
            let d = Diagnostic::error(format!("error while interpolating {where_}: {err}"))
                .at(span)
                .help(format!("set {name} in the environment or in the .env file"));
            if leaf_key(path).is_some_and(looks_sensitive) {
                d.hide_source()
            } else {
                d
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::node::Key;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k: &str| owned.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn grammar_table() {
        let lookup = env(&[("A", "a"), ("E", ""), ("ſ", "long-s")]);
        // (template, expected value or Err(message), unset names)
        let cases: &[(&str, Result<&str, &str>, &[&str])] = &[
            ("plain", Ok("plain"), &[]),
            ("$A$A", Ok("aa"), &[]),
            ("${A}${E}", Ok("a"), &[]),
            ("$U-x", Ok("-x"), &["U"]),
            ("${U:-${V}}", Ok(""), &["V"]),
            ("${A:-${V}}", Ok("a"), &[]),
            ("${E-${V}}", Ok(""), &[]),
            ("${E:+x}", Ok(""), &[]),
            ("${E+x}", Ok("x"), &[]),
            ("${U?}", Err("required variable U is missing a value"), &[]),
            ("${E:?}", Err("required variable E is missing a value"), &[]),
            ("${E?}", Ok(""), &[]),
            ("$$A", Ok("$A"), &[]),
            ("$$$A", Ok("$a"), &[]),
            ("${A:-x}} ${U:-y}}", Ok("a} y}"), &[]),
            ("${A:-{}}", Ok("a"), &[]),
            ("${U:-{}}", Ok("{}"), &[]),
            ("${U:-${}}", Err("Invalid template: \"${}\""), &[]),
            ("${U:-x} ${ }", Err("Invalid template: \" ${ }\""), &[]),
            ("${U:-x\ny}", Err("Invalid template: \"${U:-x\\ny}\""), &[]),
            ("a\n${", Err("Invalid template: \"a\\n${\""), &[]),
            ("$ſ", Ok("long-s"), &[]),
            (
                "${U:?need ${A}}",
                Err("required variable U is missing a value: need a"),
                &[],
            ),
        ];
        for (template, want, unset) in cases {
            let got = substitute(template, &lookup);
            match (want, got) {
                (Ok(w), Ok(g)) => {
                    assert_eq!(&g.value, w, "{template:?}");
                    assert_eq!(&g.unset, unset, "{template:?}");
                }
                (Err(w), Err(e)) => assert_eq!(&e.to_string(), w, "{template:?}"),
                (w, g) => panic!("{template:?}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn long_lines_do_not_recurse() {
        let t = "${A:-x}".repeat(50_000);
        let got = substitute(&t, &env(&[])).unwrap();
        assert_eq!(got.value, "x".repeat(50_000));
        let deep = format!("{}x{}", "${A:-".repeat(5000), "}".repeat(5000));
        assert!(substitute(&deep, &env(&[])).is_err());
    }

    #[test]
    fn go_quote_matches_strconv() {
        assert_eq!(
            go_quote("a\"b\\c\n\u{1}é\u{a0}"),
            "\"a\\\"b\\\\c\\n\\x01é\\u00a0\""
        );
    }

    #[test]
    fn float_parsing_follows_go() {
        for (s, want) in [
            ("1.5", Some(1.5)),
            ("1_000", Some(1000.0)),
            ("_1", None),
            ("1__0", None),
            (".5", Some(0.5)),
            ("1.", Some(1.0)),
            (".", None),
            ("1e", None),
            ("0x1p-2", Some(0.25)),
            ("0x1", None),
            ("-Inf", Some(f64::NEG_INFINITY)),
            ("1e400", None),
            ("", None),
            (" 1", None),
        ] {
            assert_eq!(go_parse_float(s, false), want, "{s}");
        }
        assert_eq!(go_parse_float("1e39", true), None);
    }

    fn tree(json: serde_json::Value) -> Node {
        Node::from_json(&json, Span::default())
    }

    #[test]
    fn tree_casts_and_warnings() {
        let mut t = tree(serde_json::json!({
            "services": {"web": {
                "image": "nginx:${TAG}",
                "command": ["$TAG", "${TAG}"],
                "deploy": {"replicas": "${REPLICAS:-2}"},
                "privileged": "yes",
                "ports": [{"target": "80", "published": "${P:-8080}"}],
                "environment": {"$KEY": "x"}
            }},
            "networks": {"n": {"external": "${EXT:-true}"}}
        }));
        let mut diags = Vec::new();
        interpolate_tree(&mut t, &env(&[]), &mut diags);
        let web = t.pointer(&["services", "web"]).unwrap();
        assert_eq!(web.get("image").unwrap().as_str(), Some("nginx:"));
        assert_eq!(
            web.pointer(&["deploy", "replicas"]).unwrap().value,
            Value::Int(2)
        );
        assert_eq!(web.get("privileged").unwrap().value, Value::Bool(true));
        assert_eq!(
            web.pointer(&["ports", "0", "target"]).unwrap().value,
            Value::Int(80)
        );
        assert_eq!(
            web.pointer(&["ports", "0", "published"]).unwrap().as_str(),
            Some("8080")
        );
        // keys are not interpolated
        assert!(web.pointer(&["environment", "$KEY"]).is_some());
        assert_eq!(
            t.pointer(&["networks", "n", "external"]).unwrap().value,
            Value::Bool(true)
        );
        let warnings: Vec<_> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            warnings,
            [
                "The \"TAG\" variable is not set. Defaulting to a blank string.",
                "\"yes\" for boolean is not supported by YAML 1.2, please use `true`",
            ]
        );
    }

    #[test]
    fn tree_errors_never_show_values() {
        let mut t = Node::map(
            vec![(
                Key {
                    name: "services".into(),
                    span: Span::default(),
                },
                tree(serde_json::json!({"db": {
                    "environment": {"X": "${PASSWORD:?set ${SECRET}}"},
                    "deploy": {"replicas": "${N}"}
                }})),
            )],
            Span::default(),
        );
        let mut diags = Vec::new();
        interpolate_tree(
            &mut t,
            &env(&[("SECRET", "hunter2"), ("N", "lots")]),
            &mut diags,
        );
        assert_eq!(diags.len(), 2);
        for d in &diags {
            assert!(d.is_error());
            assert!(!d.message.contains("hunter2"), "{}", d.message);
            assert!(!d.message.contains("lots"), "{}", d.message);
        }
        assert_eq!(
            diags[0].message,
            "error while interpolating services.db.environment.X: required variable PASSWORD is missing a value: set ${SECRET}"
        );
        assert!(diags[1].message.contains("services.db.deploy.replicas"));
    }
}
