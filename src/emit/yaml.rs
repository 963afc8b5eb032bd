//! A small block-style YAML writer for `serde_json::Value`, shaped like `kubectl get -o
//! yaml`: 2-space indentation, sequences flush under their parent key (`containers:\n-
//! name: x`), multi-line strings as literal block scalars (`|`, `|-`, `|+`) when that
//! keeps the exact content, `{}`/`[]` for empty collections. It owns only the text
//! form of one value; it does no I/O, never reorders keys (the caller's map order is
//! the output order) and never wraps long lines.
//!
//! Strings are left plain only when *every* YAML 1.1 and 1.2 reader reads them back as
//! the same string; otherwise they are single-quoted, or double-quoted with escapes when
//! they contain characters that single quotes cannot carry (control characters, tabs,
//! line breaks that cannot go in a block scalar, DEL, U+0085, U+2028, U+2029, U+FEFF,
//! other non-printables). The plain-scalar test is deliberately conservative: anything
//! that a 1.1 reader (kubectl's go-yaml, PyYAML) could resolve as a bool, null, int,
//! float, timestamp, merge key `<<` or value key `=` is quoted, as is anything starting
//! with an indicator character or containing `: ` / ` #`.
//!
//! Why not `yaml_serde`'s emitter: its layout is already kubectl-like (flush sequences,
//! `|`/`|-`/`|+` block scalars, `{}`), but it decides quoting by asking its *own* YAML
//! 1.2 resolver whether a plain scalar would read back as a non-string. Strings that
//! only YAML 1.1 gives another type therefore stay bare. Measured with yaml_serde
//! 0.10.7 (the test `yaml_serde_leaves_yaml11_specials_bare` below pins this down):
//! `yes`, `on`, `y`, `n`, `NO`, `12:30`, `1:20:30`, `1_000`, `0x_1F`, `2001-12-14`, `=`
//! and `<<` are emitted unquoted, while `0123`, `0x1F`, `0o7`, `1e3`, `.5`, `+1`, `~`,
//! `null`, `True` are quoted. Readers that follow YAML 1.1 then change the type:
//! kubectl v1.32 (`kubectl label --local -o json`) reads bare `y`/`on`/`NO` as booleans,
//! `1_000` as 1000 and `0x_1F` as 31; PyYAML 6 reads `12:30` as 750, `2001-12-14` as a
//! date and fails on a bare `=` or `<<` value. The emitter has no hook for a custom
//! quoting policy, so we write the (small) block-style subset ourselves, which also
//! gives us one output buffer and no intermediate `serde_yaml::Value`.

use serde_json::{Map, Number, Value};

/// Render one value as a YAML document body (no `---`), ending with a newline.
pub fn to_string(v: &Value) -> String {
    let mut out = String::with_capacity(1024);
    write_document(&mut out, v);
    out
}

/// Append one value as a YAML document body (no `---`) to `out`, ending with a newline.
pub fn write_document(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0, false),
        Value::Array(a) if !a.is_empty() => write_seq(out, a, 0, false),
        _ => write_leaf(out, v, 2),
    }
}

/// Keys whose written form (quotes and escapes included) is longer than this many
/// bytes use the explicit `? key` form: YAML limits implicit keys to 1024 characters
/// and libyaml enforces it.
const MAX_IMPLICIT_KEY: usize = 1000;

fn push_indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// Write a non-empty mapping whose keys sit at column `indent`. With `first_inline` the
/// cursor is already at that column (after `- `), so the first key gets no indentation.
fn write_map(out: &mut String, m: &Map<String, Value>, indent: usize, first_inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !first_inline {
            push_indent(out, indent);
        }
        let start = out.len();
        write_str_inline(out, k);
        if out.len() - start > MAX_IMPLICIT_KEY {
            let key = out.split_off(start);
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            push_indent(out, indent);
        }
        out.push(':');
        match v {
            Value::Object(c) if !c.is_empty() => {
                out.push('\n');
                write_map(out, c, indent + 2, false);
            }
            Value::Array(a) if !a.is_empty() => {
                out.push('\n');
                write_seq(out, a, indent, false);
            }
            _ => {
                out.push(' ');
                write_leaf(out, v, indent + 2);
            }
        }
    }
}

/// Write a non-empty sequence whose `-` sit at column `indent` (see [`write_map`] for
/// `first_inline`).
fn write_seq(out: &mut String, a: &[Value], indent: usize, first_inline: bool) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 || !first_inline {
            push_indent(out, indent);
        }
        out.push_str("- ");
        match v {
            Value::Object(c) if !c.is_empty() => write_map(out, c, indent + 2, true),
            Value::Array(c) if !c.is_empty() => write_seq(out, c, indent + 2, true),
            _ => write_leaf(out, v, indent + 2),
        }
    }
}

/// A scalar or empty collection at the cursor, ending the line; a multi-line string
/// becomes a block scalar whose content lines sit at `block_indent`.
fn write_leaf(out: &mut String, v: &Value, block_indent: usize) {
    if let Value::String(s) = v {
        if let Some(chomp) = block_chomp(s) {
            write_block(out, s, chomp, block_indent);
            return;
        }
    }
    write_inline(out, v);
    out.push('\n');
}

/// Scalars and empty collections on the current line (no newline written).
fn write_inline(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str_inline(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

/// Integers as-is; floats always with a `.` in the mantissa and a signed exponent, the
/// only float spelling YAML 1.1 resolvers accept (`1e20` alone is a string there).
fn write_number(out: &mut String, n: &Number) {
    use std::fmt::Write as _;
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
        return;
    }
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
        return;
    }
    let s = n.to_string();
    match s.split_once(['e', 'E']) {
        None => {
            out.push_str(&s);
            if !s.contains('.') {
                out.push_str(".0");
            }
        }
        Some((mant, exp)) => {
            out.push_str(mant);
            if !mant.contains('.') {
                out.push_str(".0");
            }
            out.push('e');
            if !exp.starts_with(['+', '-']) {
                out.push('+');
            }
            out.push_str(exp);
        }
    }
}

/// How a string is written on one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
}

fn write_str_inline(out: &mut String, s: &str) {
    match inline_style(s) {
        Style::Plain => out.push_str(s),
        Style::Single => {
            out.push('\'');
            for c in s.chars() {
                if c == '\'' {
                    out.push_str("''");
                } else {
                    out.push(c);
                }
            }
            out.push('\'');
        }
        Style::Double => write_double(out, s),
    }
}

fn write_double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            c if needs_escape(c) => push_hex_escape(out, c),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_hex_escape(out: &mut String, c: char) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let n = c as u32;
    let (prefix, digits) = if n <= 0xFF {
        ("\\x", 2)
    } else if n <= 0xFFFF {
        ("\\u", 4)
    } else {
        ("\\U", 8)
    };
    out.push_str(prefix);
    for i in (0..digits).rev() {
        out.push(char::from(HEX[((n >> (i * 4)) & 0xF) as usize]));
    }
}

/// Characters that only a double-quoted scalar can carry (as an escape): everything
/// outside YAML's printable set, plus the YAML 1.1 line breaks U+0085/U+2028/U+2029
/// (which 1.1 readers would fold) and the byte-order mark.
fn needs_escape(c: char) -> bool {
    !matches!(c, ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// Choose the one-line style for `s` (keys and non-block values).
pub(crate) fn inline_style(s: &str) -> Style {
    // Printable ASCII (the common case) needs no escapes; only other text is decoded.
    let escape = if s.is_ascii() {
        s.bytes().any(|b| !(b' '..=b'~').contains(&b))
    } else {
        s.chars().any(|c| c == '\t' || c == '\n' || needs_escape(c))
    };
    if escape {
        return Style::Double;
    }
    if plain_safe(s) {
        Style::Plain
    } else {
        Style::Single
    }
}

/// Characters that may not start a plain scalar. `-`, `?` and `:` are only indicators
/// when followed by a space; `-` followed by anything else stays plain (command-line
/// flags such as `--port` print like kubectl prints them), `?` and `:` are quoted.
const LEADING_INDICATORS: &[u8] = b"?:,[]{}#&*!|>'\"%@`";

/// A string free of control characters may be written plain iff this holds.
fn plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false; // empty string reads as null
    };
    if first == b' ' || last == b' ' || last == b':' || LEADING_INDICATORS.contains(&first) {
        return false;
    }
    if first == b'-' && (matches!(b.get(1), None | Some(b' ')) || s.starts_with("---")) {
        return false;
    }
    // `: ` or ` #` inside (one pass over the bytes; both are ASCII, so no UTF-8
    // sequence can fake them).
    let inner = b
        .windows(2)
        .any(|w| matches!(w, [b':', b' '] | [b' ', b'#']));
    if s.starts_with("...") || inner {
        return false;
    }
    !resolves_to_non_string(s)
}

/// True when some YAML 1.1 or 1.2 resolver could read the plain scalar `s` as anything
/// but a string. Over-approximates on purpose (e.g. `1.2.3` and `1d` are quoted).
pub(crate) fn resolves_to_non_string(s: &str) -> bool {
    // bool / null / special floats / merge and value keys, in any letter case.
    const WORDS: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", ".inf", "+.inf", "-.inf",
        ".nan", "<<", "=",
    ];
    if s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return true;
    }
    // Every int and float form of either spec (0123, 0x1F, 0o7, 0b101, 1e3, 1_000, .5,
    // +1, 12:30, 1:20:30.5) starts, after an optional sign, with a digit or `.` and then
    // uses only these characters.
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || b"xXoO_.:+-".contains(&c))
    {
        return true;
    }
    // YAML 1.1 timestamps: `2001-12-14`, `2001-12-14t21:59:43.10-05:00`, `2001-12-14 21:59`.
    let t = s.as_bytes();
    t.len() >= 6 && t[..4].iter().all(u8::is_ascii_digit) && t[4] == b'-' && t[5].is_ascii_digit()
}

/// Chomping indicator for writing `s` as a literal block scalar, or `None` when `s`
/// must stay on one line: it has no line break, contains characters needing escapes,
/// `\r`, a line with trailing blanks, a line starting with a tab, no non-empty line,
/// or a first non-empty line starting with a space (which would need an explicit
/// indentation indicator).
fn block_chomp(s: &str) -> Option<&'static str> {
    if !s.contains('\n') {
        return None;
    }
    let mut prev = '\n';
    let mut seen_content = false;
    for c in s.chars() {
        if c == '\r' || (c != '\n' && c != '\t' && needs_escape(c)) {
            return None;
        }
        if c == '\n' && (prev == ' ' || prev == '\t') {
            return None; // trailing blank on a line
        }
        if prev == '\n' && (c == '\t' || (c == ' ' && !seen_content)) {
            return None;
        }
        if c != '\n' {
            seen_content = true;
        }
        prev = c;
    }
    if prev == ' ' || prev == '\t' || !seen_content {
        return None;
    }
    let body = s.trim_end_matches('\n');
    Some(match s.len() - body.len() {
        0 => "|-",
        1 => "|",
        _ => "|+",
    })
}

/// Write `s` as a literal block scalar: header on the current line, content at `indent`.
fn write_block(out: &mut String, s: &str, chomp: &str, indent: usize) {
    out.push_str(chomp);
    out.push('\n');
    let body = s.trim_end_matches('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            push_indent(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    // `|+` keeps the trailing line breaks: the last one ends the last line, the rest
    // are empty lines.
    for _ in 1..(s.len() - body.len()) {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn y(v: Value) -> String {
        to_string(&v)
    }

    /// Exact text of a string scalar written as a map value.
    fn scalar(s: &str) -> String {
        let out = y(json!({ "k": s }));
        out.strip_prefix("k: ")
            .unwrap_or(&out)
            .trim_end_matches('\n')
            .to_string()
    }

    #[test]
    fn quoting_table() {
        let cases: &[(&str, &str)] = &[
            // plain
            ("nginx", "nginx"),
            ("nginx:1.25", "nginx:1.25"),
            ("a b", "a b"),
            ("100Mi", "100Mi"),
            ("10m", "10m"),
            ("/bin/sh", "/bin/sh"),
            ("a#b", "a#b"),
            ("a:b", "a:b"),
            ("http://x.y/z?q=1", "http://x.y/z?q=1"),
            ("deadbeef", "deadbeef"),
            ("0xZZ", "0xZZ"),
            (".env", ".env"),
            ("it's", "it's"),
            ("say \"hi\"", "say \"hi\""),
            ("héllo ☃ 😀", "héllo ☃ 😀"),
            ("yess", "yess"),
            ("nulls", "nulls"),
            ("2001-1", "'2001-1'"),
            ("v2001-12-14", "v2001-12-14"),
            // bool / null words, any case
            ("y", "'y'"),
            ("Y", "'Y'"),
            ("n", "'n'"),
            ("yes", "'yes'"),
            ("YES", "'YES'"),
            ("yEs", "'yEs'"),
            ("No", "'No'"),
            ("on", "'on'"),
            ("OFF", "'OFF'"),
            ("true", "'true'"),
            ("False", "'False'"),
            ("null", "'null'"),
            ("NULL", "'NULL'"),
            ("~", "'~'"),
            ("", "''"),
            // numbers in 1.1 and 1.2 forms
            ("0", "'0'"),
            ("123", "'123'"),
            ("0123", "'0123'"),
            ("0x1F", "'0x1F'"),
            ("0o7", "'0o7'"),
            ("0b101", "'0b101'"),
            ("1e3", "'1e3'"),
            ("1E-3", "'1E-3'"),
            ("1_000", "'1_000'"),
            (".5", "'.5'"),
            ("+1", "'+1'"),
            ("-1", "'-1'"),
            ("1.5", "'1.5'"),
            ("1.2.3", "'1.2.3'"),
            ("12:30", "'12:30'"),
            ("1:20:30", "'1:20:30'"),
            ("190:20:30.15", "'190:20:30.15'"),
            (".inf", "'.inf'"),
            ("-.Inf", "'-.Inf'"),
            (".NaN", "'.NaN'"),
            ("2001-12-14", "'2001-12-14'"),
            (
                "2001-12-14t21:59:43.10-05:00",
                "'2001-12-14t21:59:43.10-05:00'",
            ),
            ("2001-12-14 21:59:43.10 -5", "'2001-12-14 21:59:43.10 -5'"),
            // merge / value keys
            ("<<", "'<<'"),
            ("=", "'='"),
            // whitespace at the edges
            (" a", "' a'"),
            ("a ", "'a '"),
            (" ", "' '"),
            // leading indicators
            ("-", "'-'"),
            ("--port=80", "--port=80"),
            ("-", "'-'"),
            ("- x", "'- x'"),
            ("-1", "'-1'"),
            ("- a", "'- a'"),
            ("?a", "'?a'"),
            (":a", "':a'"),
            (",a", "',a'"),
            ("[a]", "'[a]'"),
            ("]", "']'"),
            ("{a}", "'{a}'"),
            ("}", "'}'"),
            ("#a", "'#a'"),
            ("&a", "'&a'"),
            ("*a", "'*a'"),
            ("!a", "'!a'"),
            ("|a", "'|a'"),
            (">a", "'>a'"),
            ("'a'", "'''a'''"),
            ("\"a\"", "'\"a\"'"),
            ("%a", "'%a'"),
            ("@a", "'@a'"),
            ("`a`", "'`a`'"),
            ("---", "'---'"),
            ("...", "'...'"),
            ("... a", "'... a'"),
            // inner indicators
            ("a: b", "'a: b'"),
            ("a:", "'a:'"),
            ("a #b", "'a #b'"),
            // needs escapes
            ("a\tb", "\"a\\tb\""),
            ("\u{0}", "\"\\0\""),
            ("\u{1}", "\"\\x01\""),
            ("\u{7f}", "\"\\x7F\""),
            ("\u{85}", "\"\\x85\""),
            ("a\u{2028}b", "\"a\\u2028b\""),
            ("\u{2029}", "\"\\u2029\""),
            ("\u{feff}x", "\"\\uFEFFx\""),
            ("\u{ffff}", "\"\\uFFFF\""),
            ("\u{1b}[0m", "\"\\e[0m\""),
            ("a\rb", "\"a\\rb\""),
            ("'\u{7}\\\"", "\"'\\a\\\\\\\"\""),
            // multi-line that cannot be a block scalar
            ("a \nb", "\"a \\nb\""),
            (" a\nb", "\" a\\nb\""),
            ("\n", "\"\\n\""),
            ("\n\n", "\"\\n\\n\""),
            ("a\r\nb", "\"a\\r\\nb\""),
            ("\ta\nb", "\"\\ta\\nb\""),
            ("a\nb ", "\"a\\nb \""),
        ];
        let mut bad = Vec::new();
        for (input, want) in cases {
            let got = scalar(input);
            if got != *want {
                bad.push(format!("{input:?}: got {got} want {want}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    #[test]
    fn block_scalars() {
        let cases: &[(&str, &str)] = &[
            ("a\nb", "k: |-\n  a\n  b\n"),
            ("a\nb\n", "k: |\n  a\n  b\n"),
            ("a\nb\n\n", "k: |+\n  a\n  b\n\n"),
            ("a\n\nb", "k: |-\n  a\n\n  b\n"),
            ("a\n  b\n", "k: |\n  a\n    b\n"),
            ("\na", "k: |-\n\n  a\n"),
            (
                "#!/bin/sh\necho 'x: y' # c\n",
                "k: |\n  #!/bin/sh\n  echo 'x: y' # c\n",
            ),
            ("a\tb\nc", "k: |-\n  a\tb\n  c\n"),
            ("---\n...\n", "k: |\n  ---\n  ...\n"),
            ("yes\nno", "k: |-\n  yes\n  no\n"),
        ];
        for (input, want) in cases {
            assert_eq!(y(json!({ "k": input })), *want, "input {input:?}");
        }
        // In a sequence, and nested.
        assert_eq!(
            y(json!({"a": ["x\ny\n"], "b": {"c": "p\nq"}})),
            "a:\n- |\n  x\n  y\nb:\n  c: |-\n    p\n    q\n"
        );
        // As a whole document.
        assert_eq!(y(json!("a\nb")), "|-\n  a\n  b\n");
    }

    #[test]
    fn layout_like_kubectl() {
        let v = json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {}},
            "spec": {
                "replicas": 2,
                "template": {"spec": {
                    "containers": [{
                        "name": "web",
                        "args": ["--port", "80"],
                        "ports": [{"containerPort": 80}, {"containerPort": 443, "protocol": "TCP"}],
                        "env": [],
                        "resources": {"limits": {"cpu": 0.5}},
                    }],
                    "matrix": [[1, 2], [], [{"a": null}]],
                    "hostNetwork": false,
                }}
            }
        });
        let want = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
  annotations: {}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        args:
        - --port
        - '80'
        ports:
        - containerPort: 80
        - containerPort: 443
          protocol: TCP
        env: []
        resources:
          limits:
            cpu: 0.5
      matrix:
      - - 1
        - 2
      - []
      - - a: null
      hostNetwork: false
";
        assert_eq!(y(v), want);
        assert_eq!(y(json!({})), "{}\n");
        assert_eq!(y(json!([])), "[]\n");
        assert_eq!(y(json!(null)), "null\n");
        assert_eq!(y(json!([1, "a"])), "- 1\n- a\n");
    }

    #[test]
    fn numbers() {
        let cases: &[(Value, &str)] = &[
            (json!(0), "0"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(1.5), "1.5"),
            (json!(1.0), "1.0"),
            (json!(1e20), "1.0e+20"),
            (json!(1.5e-7), "1.5e-7"),
        ];
        for (v, want) in cases {
            assert_eq!(y(json!({ "k": v })), format!("k: {want}\n"), "{v}");
        }
    }

    #[test]
    fn keys_are_quoted_too() {
        assert_eq!(
            y(json!({"on": 1, "y": 2, "a: b": 3, "": 4, "8080": 5, "x\ny": 6})),
            "'on': 1\n'y': 2\n'a: b': 3\n'': 4\n'8080': 5\n\"x\\ny\": 6\n"
        );
    }

    #[test]
    fn long_keys_use_explicit_form() {
        let k = "k".repeat(2000);
        let out = y(json!({ k.clone(): "v", "s": [{ k.clone(): {"a": 1} }] }));
        assert_eq!(out, format!("? {k}\n: v\ns:\n- ? {k}\n  :\n    a: 1\n"));
        let back: Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(back, json!({ k.clone(): "v", "s": [{ k: {"a": 1} }] }));
        // Short, but long once escaped.
        let k = "\u{1}".repeat(300);
        let out = y(json!({ k.clone(): 1 }));
        assert!(out.starts_with("? \"\\x01"), "{out}");
        let back: Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(back, json!({ k: 1 }));
    }

    /// Strings that must survive a write/read cycle unchanged.
    fn tricky_strings() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            " ",
            "  ",
            "a",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "n",
            "true",
            "null",
            "~",
            "Null",
            "0",
            "0123",
            "0x1F",
            "0o7",
            "1e3",
            "1_000",
            ".5",
            "+1",
            "-1",
            "12:30",
            "1:20:30",
            "2001-12-14",
            "<<",
            "=",
            "-",
            "--",
            "---",
            "...",
            "- a",
            "? a",
            ": a",
            "a:",
            "a: b",
            "a #b",
            "#",
            "&a",
            "*a",
            "!a",
            "!!str",
            "|",
            ">",
            "'",
            "\"",
            "%YAML",
            "@",
            "`",
            "{",
            "}",
            "[",
            "]",
            ",",
            "a,b",
            "[a, b]",
            "{a: b}",
            "a\tb",
            "\t",
            "a\nb",
            "a\nb\n",
            "a\nb\n\n",
            "\n",
            "\n\n",
            "\na",
            "a\n\n",
            " a\nb",
            "a\n b",
            "a \nb",
            "a\n \nb",
            "a\r\nb",
            "\r",
            "\u{0}",
            "\u{1f}",
            "\u{7f}",
            "\u{85}",
            "\u{a0}",
            "\u{2028}",
            "\u{2029}",
            "\u{feff}",
            "\u{fffe}",
            "é",
            "☃",
            "😀",
            "日本語",
            "a'b",
            "a''b",
            "a\"b",
            "a\\b",
            "\\",
            "\\n",
            ".inf",
            "-.inf",
            ".nan",
            "NaN",
            "inf",
            "0.",
            "1.",
            "1.2.3",
            "0b1",
            "1__0",
            "+.5",
            "-0",
            "00",
            "08",
            "09",
            "0x",
            "12:60",
            "1:2:3:4",
            "2001-12-14 21:59",
            "key: value\nother: 1\n",
            "#!/bin/sh\nset -e\necho hi # x\n",
            "  indented\nblock\n",
            "trailing\ttab\t\nx",
            "x\n\ty",
            "line\n---\nline",
            "line\n...\n",
            "a\u{2028}b\nc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push("k".repeat(1500));
        v.push("ab ".repeat(100).trim_end().to_string());
        v
    }

    #[test]
    fn round_trip_through_yaml_serde() {
        let strings = tricky_strings();
        let mut map = Map::new();
        for (i, s) in strings.iter().enumerate() {
            map.insert(format!("v{i}"), Value::String(s.clone()));
            if !s.is_empty() {
                // as keys too
                map.insert(s.clone(), Value::from(i));
            }
        }
        let seq: Vec<Value> = strings.iter().cloned().map(Value::String).collect();
        let doc = json!({ "map": map, "seq": seq, "nested": [{"a": strings.clone()}] });
        let text = to_string(&doc);
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, doc, "\n{text}");
        for s in &strings {
            let text = to_string(&Value::String(s.clone()));
            let back: Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
            assert_eq!(back, Value::String(s.clone()), "{s:?} -> {text}");
        }
    }

    #[test]
    fn deterministic() {
        let v = json!({"b": [1, {"c": "x\ny"}], "a": "yes"});
        assert_eq!(to_string(&v), to_string(&v.clone()));
    }

    /// Documents the reason this module exists: yaml_serde 0.10.7's emitter leaves
    /// YAML 1.1 booleans, sexagesimals, underscored ints, timestamps and `=`/`<<` bare.
    /// If this test starts failing after a yaml_serde upgrade, revisit the module doc.
    #[test]
    fn yaml_serde_leaves_yaml11_specials_bare() {
        let emitted = |s: &str| {
            serde_yaml::to_string(&json!({ "k": s }))
                .unwrap()
                .trim_end()
                .strip_prefix("k: ")
                .unwrap()
                .to_string()
        };
        for bare in [
            "yes",
            "on",
            "y",
            "n",
            "NO",
            "1:20:30",
            "12:30",
            "1_000",
            "0x_1F",
            "2001-12-14",
            "=",
            "<<",
        ] {
            assert_eq!(emitted(bare), bare, "yaml_serde now quotes {bare:?}");
        }
        // What our writer does with them.
        for s in [
            "yes",
            "on",
            "y",
            "12:30",
            "1_000",
            "0x_1F",
            "2001-12-14",
            "=",
            "<<",
        ] {
            assert_eq!(scalar(s), format!("'{s}'"));
        }
    }
}
