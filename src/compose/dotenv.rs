//! `.env` / `env_file` parsing exactly as compose-go's `dotenv` package does it
//! (`ParseWithLookup`, `GetEnvFromFile`): `KEY=value`, `KEY: value`, `export KEY=value`,
//! bare `KEY` lines taken from the lookup, `#` comments, single quotes (literal), double
//! quotes (escape sequences, then interpolation), unquoted values (` #` starts a comment,
//! then interpolation), a leading UTF-8 BOM, and compose-go's error texts with its line
//! numbers. Interpolation uses [`super::interpolate`] with the lookup consulted first,
//! then keys defined earlier in the same file, then (for several files) earlier files.
//!
//! Pure: it receives file texts and a lookup function and never reads files or the
//! process environment.

use super::interpolate::{go_quote, substitute};
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

/// A parse error. `message` is compose-go's complete text (most start with
/// `line N: `; interpolation errors do not); `line` is the 1-based line compose-go
/// counts for the error (for interpolation errors, the line where the value starts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DotenvError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DotenvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DotenvError {}

/// Lookup function type: `None` = unset.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Parse one env file. Keys keep the order of their first appearance; a repeated key
/// keeps its last value. With `lookup == None`, bare `KEY` lines are dropped and
/// interpolation sees only keys defined earlier in the file.
pub fn parse(text: &str, lookup: Option<Lookup<'_>>) -> Result<Vec<(String, String)>, DotenvError> {
    parse_with_fallback(text, lookup, None)
}

/// Like [`parse`], with a `fallback` consulted last: after `lookup` and after keys
/// defined earlier in this file (interpolation), or after `lookup` (bare `KEY` lines).
/// This is how values from earlier env files are seen by a later one.
pub fn parse_with_fallback(
    text: &str,
    lookup: Option<Lookup<'_>>,
    fallback: Option<Lookup<'_>>,
) -> Result<Vec<(String, String)>, DotenvError> {
    let mut p = Parser {
        line: 1,
        lookup,
        fallback,
        out: OrderedEnv::default(),
    };
    p.parse(text)?;
    Ok(p.out.entries)
}

/// Load several env files in order into one map (compose's project `.env` files /
/// repeated `--env-file`). A later file sees earlier files' values; `lookup` wins during
/// interpolation. On error, returns the index of the failing file.
pub fn load_files(
    texts: &[&str],
    lookup: Option<Lookup<'_>>,
) -> Result<Vec<(String, String)>, (usize, DotenvError)> {
    let mut acc = OrderedEnv::default();
    for (i, text) in texts.iter().enumerate() {
        let vars = {
            let earlier = |k: &str| acc.get(k).map(str::to_owned);
            parse_with_fallback(text, lookup, Some(&earlier)).map_err(|e| (i, e))?
        };
        for (k, v) in vars {
            acc.set(k, v);
        }
    }
    Ok(acc.entries)
}

/// Insertion-ordered string map (first appearance order, last value wins).
#[derive(Default)]
pub(crate) struct OrderedEnv {
    pub(crate) entries: Vec<(String, String)>,
    index: HashMap<String, usize>,
}

impl OrderedEnv {
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.index.get(k).map(|&i| self.entries[i].1.as_str())
    }

    pub(crate) fn set(&mut self, k: String, v: String) {
        match self.index.get(&k) {
            Some(&i) => self.entries[i].1 = v,
            None => {
                self.index.insert(k.clone(), self.entries.len());
                self.entries.push((k, v));
            }
        }
    }
}

struct Parser<'a> {
    line: usize,
    lookup: Option<Lookup<'a>>,
    fallback: Option<Lookup<'a>>,
    out: OrderedEnv,
}

/// compose-go's `isSpace`: blanks that do not end a line.
fn is_blank(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

static GO_LETTER_OR_NUMBER: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r"\A[\p{L}\p{N}]\z").ok());

/// Characters allowed in a key: `_ . - [ ]` and Go's `unicode.IsLetter`/`IsNumber`.
fn is_key_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']');
    }
    let mut buf = [0u8; 4];
    GO_LETTER_OR_NUMBER
        .as_ref()
        .is_some_and(|re| re.is_match(c.encode_utf8(&mut buf)))
}

impl Parser<'_> {
    fn err(&self, message: String) -> DotenvError {
        DotenvError {
            line: self.line,
            message,
        }
    }

    fn parse(&mut self, src: &str) -> Result<(), DotenvError> {
        let mut cut = src.strip_prefix('\u{feff}').unwrap_or(src);
        loop {
            cut = self.statement_start(cut);
            if cut.is_empty() {
                return Ok(());
            }
            cut = self.statement(cut)?;
        }
    }

    /// Skip blanks, line breaks and comment lines; counts the line breaks skipped.
    fn statement_start<'s>(&mut self, mut src: &'s str) -> &'s str {
        loop {
            let mut found = None;
            for (i, c) in src.char_indices() {
                if c == '\n' {
                    self.line += 1;
                }
                if !c.is_whitespace() {
                    found = Some(i);
                    break;
                }
            }
            let Some(p) = found else {
                return "";
            };
            let s = &src[p..];
            if !s.starts_with('#') {
                return s;
            }
            match s.find('\n') {
                Some(q) => src = &s[q..],
                None => return "",
            }
        }
    }

    fn statement<'s>(&mut self, src: &'s str) -> Result<&'s str, DotenvError> {
        let statement_line = self.line;
        let (key, left, inherited) = self.locate_key(src)?;
        if key.contains(' ') {
            return Err(self.err(format!("line {}: key cannot contain a space", self.line)));
        }
        if inherited {
            let value = self
                .lookup
                .and_then(|f| f(key))
                .or_else(|| self.fallback.and_then(|f| f(key)));
            if let Some(v) = value {
                self.out.set(key.to_owned(), v);
            }
            return Ok(left);
        }
        let (value, rest) = self.extract_value(left, statement_line)?;
        self.out.set(key.to_owned(), value);
        Ok(rest)
    }

    /// Returns the key, the text after its terminator (blanks trimmed) and whether the
    /// key stood alone on its line (value to come from the lookup).
    fn locate_key<'s>(
        &mut self,
        mut src: &'s str,
    ) -> Result<(&'s str, &'s str, bool), DotenvError> {
        // `^export\s+` (Go's \s: tab, newline, form feed, carriage return, space).
        if let Some(rest) = src.strip_prefix("export") {
            if rest.starts_with(['\t', '\n', '\u{c}', '\r', ' ']) {
                src = rest.trim_start_matches(is_blank);
            }
        }
        let mut term = None;
        for (i, c) in src.char_indices() {
            if is_blank(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    term = Some((i, c == '\n'));
                    break;
                }
                c if is_key_char(c) => {}
                c => {
                    let first_line = src.split('\n').next().unwrap_or("");
                    return Err(self.err(format!(
                        "line {}: unexpected character {} in variable name {}",
                        self.line,
                        go_quote(c.encode_utf8(&mut [0u8; 4])),
                        go_quote(first_line)
                    )));
                }
            }
        }
        let (raw_key, offset, inherited) = match term {
            Some((i, inherited)) => (&src[..i], i + 1, inherited),
            None => ("", 0, false),
        };
        if src.is_empty() {
            return Err(self.err("zero length string".to_owned()));
        }
        if inherited && !raw_key.contains(' ') {
            self.line += 1;
        }
        let key = raw_key.trim_end_matches(char::is_whitespace);
        let rest = src[offset..].trim_start_matches(is_blank);
        Ok((key, rest, inherited))
    }

    fn extract_value<'s>(
        &mut self,
        src: &'s str,
        statement_line: usize,
    ) -> Result<(String, &'s str), DotenvError> {
        let quote = match src.as_bytes().first() {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => {
                let (value, rest) = match src.find('\n') {
                    Some(i) => (&src[..i], &src[i + 1..]),
                    None => (src, ""),
                };
                self.line += 1;
                let value = match value.find(" #") {
                    Some(i) => &value[..i],
                    None => value,
                };
                let value = value.trim_end_matches(char::is_whitespace);
                return Ok((self.expand(value, statement_line)?, rest));
            }
        };
        let b = src.as_bytes();
        let mut chars: Vec<u8> = Vec::new();
        let mut escaped = false;
        let mut close = None;
        for (i, &c) in b.iter().enumerate().skip(1) {
            if c == b'\n' {
                self.line += 1;
            }
            if escaped {
                escaped = false;
                // An escaped quote loses its backslash; anything else keeps it.
                if c != quote {
                    chars.push(b'\\');
                }
                chars.push(c);
                continue;
            }
            if c == b'\\' {
                escaped = true;
            } else if c == quote {
                close = Some(i);
                break;
            } else {
                chars.push(c);
            }
        }
        let Some(close) = close else {
            let end = src.find('\n').unwrap_or(src.len());
            return Err(self.err(format!(
                "line {}: unterminated quoted value {}",
                self.line,
                &src[..end]
            )));
        };
        // Only ASCII bytes were dropped, so this is valid UTF-8.
        let value = String::from_utf8(chars)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        let rest = &src[close + 1..];
        if quote == b'"' {
            let unescaped = expand_escapes(&value);
            return Ok((self.expand(&unescaped, statement_line)?, rest));
        }
        Ok((value, rest))
    }

    /// Interpolate a value: lookup first, then keys defined earlier in this file, then
    /// the fallback.
    fn expand(&self, value: &str, line: usize) -> Result<String, DotenvError> {
        if !value.contains('$') {
            return Ok(value.to_owned());
        }
        let resolve = |k: &str| {
            self.lookup
                .and_then(|f| f(k))
                .or_else(|| self.out.get(k).map(str::to_owned))
                .or_else(|| self.fallback.and_then(|f| f(k)))
        };
        substitute(value, &resolve)
            .map(|s| s.value)
            .map_err(|e| DotenvError {
                line,
                message: e.to_string(),
            })
    }
}

/// compose-go's `expandEscapes` on a double-quoted value: `\a \b \c \f \n \r \t \v \\ \"`
/// and `\0` followed by up to three digits (octal, `\0101` = `A`) are decoded the way
/// Go's `strconv.UnquoteChar` decodes them (undecodable ones stay as written, `\0NN`
/// losing its `0`); `\$` becomes `$$` so that interpolation yields a literal `$`.
fn expand_escapes(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut lit = 0;
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'\\') {
        let p = i + off;
        let replacement: Option<(Cow, usize)> = match b.get(p + 1) {
            Some(b'a') => Some((Cow::Borrowed("\u{7}"), 2)),
            Some(b'b') => Some((Cow::Borrowed("\u{8}"), 2)),
            Some(b'c') => Some((Cow::Borrowed("\\c"), 2)),
            Some(b'f') => Some((Cow::Borrowed("\u{c}"), 2)),
            Some(b'n') => Some((Cow::Borrowed("\n"), 2)),
            Some(b'r') => Some((Cow::Borrowed("\r"), 2)),
            Some(b't') => Some((Cow::Borrowed("\t"), 2)),
            Some(b'v') => Some((Cow::Borrowed("\u{b}"), 2)),
            Some(b'$') => Some((Cow::Borrowed("$$"), 2)),
            Some(b'"') => Some((Cow::Borrowed("\""), 2)),
            Some(b'\\') => Some((Cow::Borrowed("\\"), 2)),
            Some(b'0') => {
                let n = b[p + 2..]
                    .iter()
                    .take(3)
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let digits = &s[p + 2..p + 2 + n];
                let octal = (n == 3)
                    .then(|| u32::from_str_radix(digits, 8).ok())
                    .flatten()
                    .filter(|&v| v <= 255)
                    .and_then(char::from_u32);
                Some(match octal {
                    Some(c) => (Cow::Owned(c.to_string()), 2 + n),
                    None => (Cow::Owned(format!("\\{digits}")), 2 + n),
                })
            }
            _ => None,
        };
        match replacement {
            Some((text, len)) => {
                out.push_str(&s[lit..p]);
                out.push_str(&text);
                i = p + len;
                lit = i;
            }
            None => i = p + 1,
        }
    }
    out.push_str(&s[lit..]);
    out
}

type Cow = std::borrow::Cow<'static, str>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_table() {
        for (input, want) in [
            (r"a\nb", "a\nb"),
            (r"\0101", "A"),
            (r"\0", "\\"),
            (r"\01", "\\1"),
            (r"\0777", "\\777"),
            (r"\0189", "\\189"),
            (r"\0377", "\u{ff}"),
            (r"\01234", "S4"),
            (r"\$x", "$$x"),
            (r"\x07", "\\x07"),
            (r"\c", "\\c"),
            ("\\", "\\"),
            (r"\\n", "\\n"),
        ] {
            assert_eq!(expand_escapes(input), want, "{input}");
        }
    }

    #[test]
    fn order_and_errors() {
        let got = parse("B=1\nA=2\nB=3\n", None).unwrap();
        assert_eq!(
            got,
            vec![("B".into(), "3".into()), ("A".into(), "2".into())]
        );
        let e = parse("A=1\nFOO BAR=1\n", None).unwrap_err();
        assert_eq!(e.to_string(), "line 2: key cannot contain a space");
        assert_eq!(e.line, 2);
        assert_eq!(
            parse("export ", None).unwrap_err().message,
            "zero length string"
        );
        let e = parse("A=1\nB=${X:?gone}\n", None).unwrap_err();
        assert_eq!(e.line, 2);
        assert_eq!(e.message, "required variable X is missing a value: gone");
    }

    #[test]
    fn key_characters_follow_go_unicode_classes() {
        assert!(is_key_char('é'));
        assert!(is_key_char('٣'));
        // a combining vowel sign is not a letter for Go
        assert!(!is_key_char('\u{947}'));
    }
}
