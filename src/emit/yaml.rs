//! A small block-style YAML writer, shaped like `kubectl get -o yaml`, in the form of a
//! `serde::Serializer`: typed Kubernetes objects are written straight into one output
//! buffer as they serialise, with no intermediate value tree. Layout: 2-space
//! indentation, sequences flush under their parent key (`containers:\n- name: x`),
//! multi-line strings as literal block scalars (`|`, `|-`, `|+`) when that keeps the
//! exact content, `{}`/`[]` for empty collections. It owns only the text
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

use serde::ser::{self, Serialize};
use serde_json::Number;

/// Render one value as a YAML document body (no `---`), ending with a newline.
pub fn to_string<T: Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    let mut out = String::with_capacity(1024);
    write_document(&mut out, v)?;
    Ok(out)
}

/// Append one value as a YAML document body (no `---`) to `out`, ending with a newline.
/// The value is written as it serialises (no intermediate tree); on error `out` holds
/// a partial document, which the caller discards.
pub fn write_document<T: Serialize + ?Sized>(out: &mut String, v: &T) -> Result<(), Error> {
    v.serialize(ValueWriter {
        out,
        slot: Slot::Root,
    })
}

/// Why a value could not be written: its `Serialize` impl reported an error, or a map
/// key was not a string (or a number or character, which are written as strings).
/// serde's own message-carrying error, as nothing more is needed.
pub use serde::de::value::Error;

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

/// Where the value being written goes, which decides its layout.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// A whole document.
    Root,
    /// After `key:` of a mapping whose keys sit at column `indent`.
    MapValue { indent: usize },
    /// After `- ` of a sequence whose dashes sit at column `indent`.
    SeqItem { indent: usize },
}

impl Slot {
    /// Column of a block scalar's content lines.
    fn block_indent(self) -> usize {
        match self {
            Slot::Root => 2,
            Slot::MapValue { indent } | Slot::SeqItem { indent } => indent + 2,
        }
    }

    /// Start a scalar or an empty collection: after `key:` it needs a space.
    fn open_leaf(self, out: &mut String) {
        if let Slot::MapValue { .. } = self {
            out.push(' ');
        }
    }

    /// Layout of a non-empty mapping in this slot: the column of its keys and whether
    /// the first key goes on the current line (after `- `).
    fn map_layout(self) -> (usize, bool) {
        match self {
            Slot::Root => (0, false),
            Slot::MapValue { indent } => (indent + 2, false),
            Slot::SeqItem { indent } => (indent + 2, true),
        }
    }

    /// Layout of a non-empty sequence: the column of its dashes (flush under a
    /// parent key, like kubectl) and whether the first dash goes on the current line.
    fn seq_layout(self) -> (usize, bool) {
        match self {
            Slot::Root => (0, false),
            Slot::MapValue { indent } => (indent, false),
            Slot::SeqItem { indent } => (indent + 2, true),
        }
    }
}

/// The `Serializer` methods for every integer type: the decimal digits, as `plain`.
macro_rules! integers {
    () => {
        integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
            serialize_i128: i128, serialize_u8: u8, serialize_u16: u16, serialize_u32: u32,
            serialize_u64: u64, serialize_u128: u128);
    };
    ($($method:ident: $t:ty),*) => {
        $(fn $method(self, v: $t) -> Result<(), Error> {
            self.plain(itoa::Buffer::new().format(v))
        })*
    };
}

/// Writes one value into `out` at `slot`.
struct ValueWriter<'a> {
    out: &'a mut String,
    slot: Slot,
}

impl<'a> ValueWriter<'a> {
    /// A scalar written as is on the current line, ending it.
    fn plain(self, text: &str) -> Result<(), Error> {
        self.slot.open_leaf(self.out);
        self.out.push_str(text);
        self.out.push('\n');
        Ok(())
    }

    fn string(self, s: &str) -> Result<(), Error> {
        self.slot.open_leaf(self.out);
        match block_chomp(s) {
            Some(chomp) => write_block(self.out, s, chomp, self.slot.block_indent()),
            None => {
                write_str_inline(self.out, s);
                self.out.push('\n');
            }
        }
        Ok(())
    }

    fn map(self) -> Collection<'a> {
        let (indent, first_inline) = self.slot.map_layout();
        Collection {
            out: self.out,
            slot: self.slot,
            indent,
            first_inline,
            len: 0,
            empty: "{}",
        }
    }

    fn seq(self) -> Collection<'a> {
        let (indent, first_inline) = self.slot.seq_layout();
        Collection {
            out: self.out,
            slot: self.slot,
            indent,
            first_inline,
            len: 0,
            empty: "[]",
        }
    }

    /// An enum variant with content is written as `{variant: content}`: write the
    /// one-entry outer mapping's key and return the slot of the content.
    fn variant_key(self, variant: &str) -> (&'a mut String, Slot) {
        let mut outer = self.map();
        outer.entry_prefix();
        let start = outer.out.len();
        write_str_inline(outer.out, variant);
        outer.finish_key(start);
        (
            outer.out,
            Slot::MapValue {
                indent: outer.indent,
            },
        )
    }
}

/// A mapping or sequence being written, one entry at a time.
struct Collection<'a> {
    out: &'a mut String,
    slot: Slot,
    /// Column of its keys or dashes.
    indent: usize,
    first_inline: bool,
    len: usize,
    /// How it is written when it has no entries.
    empty: &'static str,
}

impl Collection<'_> {
    /// Move to where the next key or dash goes.
    fn entry_prefix(&mut self) {
        if self.len == 0 {
            if let Slot::MapValue { .. } = self.slot {
                self.out.push('\n');
            }
        }
        if self.len > 0 || !self.first_inline {
            push_indent(self.out, self.indent);
        }
        self.len += 1;
    }

    /// After a key written from `start`: use the explicit form if it is too long for
    /// an implicit key, then the `:`.
    fn finish_key(&mut self, start: usize) {
        if self.out.len() - start > MAX_IMPLICIT_KEY {
            let key = self.out.split_off(start);
            self.out.push_str("? ");
            self.out.push_str(&key);
            self.out.push('\n');
            push_indent(self.out, self.indent);
        }
        self.out.push(':');
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.entry_prefix();
        let start = self.out.len();
        key.serialize(KeyWriter { out: self.out })?;
        self.finish_key(start);
        Ok(())
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(ValueWriter {
            out: self.out,
            slot: Slot::MapValue {
                indent: self.indent,
            },
        })
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.entry_prefix();
        self.out.push_str("- ");
        value.serialize(ValueWriter {
            out: self.out,
            slot: Slot::SeqItem {
                indent: self.indent,
            },
        })
    }

    fn finish(self) -> Result<(), Error> {
        if self.len == 0 {
            self.slot.open_leaf(self.out);
            self.out.push_str(self.empty);
            self.out.push('\n');
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for ValueWriter<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Collection<'a>;
    type SerializeTuple = Collection<'a>;
    type SerializeTupleStruct = Collection<'a>;
    type SerializeTupleVariant = Collection<'a>;
    type SerializeMap = Collection<'a>;
    type SerializeStruct = Collection<'a>;
    type SerializeStructVariant = Collection<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.plain(if v { "true" } else { "false" })
    }
    integers!();
    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        // Like serde_json: a float that JSON cannot carry (NaN, infinities) is null.
        match Number::from_f64(v) {
            Some(n) => {
                self.slot.open_leaf(self.out);
                write_float(self.out, &n);
                self.out.push('\n');
                Ok(())
            }
            None => self.plain("null"),
        }
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        // Like serde_json: a sequence of numbers.
        use ser::SerializeSeq;
        let mut seq = self.seq();
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.plain("null")
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.plain("null")
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.plain("null")
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.string(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        let (out, slot) = self.variant_key(variant);
        value.serialize(ValueWriter { out, slot })
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Collection<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Collection<'a>, Error> {
        Ok(self.seq())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Collection<'a>, Error> {
        // The outer `{variant: ...}` mapping has just this entry: nothing to close.
        let (out, slot) = self.variant_key(variant);
        Ok(ValueWriter { out, slot }.seq())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Collection<'a>, Error> {
        Ok(self.map())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Collection<'a>, Error> {
        Ok(self.map())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Collection<'a>, Error> {
        let (out, slot) = self.variant_key(variant);
        Ok(ValueWriter { out, slot }.map())
    }
}

/// The sequence-like serde compounds: each element is a `- ` entry.
macro_rules! sequence_like {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for Collection<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        })*
    };
}

sequence_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The struct-like serde compounds: each field is a `key: value` entry.
macro_rules! struct_like {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Collection<'_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.key(key)?;
                self.value(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        })*
    };
}

struct_like!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Collection<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.value(value)
    }
    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

/// Writes a mapping key on the current line. Like serde_json, keys must be strings;
/// numbers, booleans and characters become their string form.
struct KeyWriter<'a> {
    out: &'a mut String,
}

impl KeyWriter<'_> {
    /// Keys are strings, quoted when needed (an integer key `8080` becomes `'8080'`).
    fn plain(self, s: &str) -> Result<(), Error> {
        write_str_inline(self.out, s);
        Ok(())
    }
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("a mapping key must be a string")
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ser::Impossible<(), Error>;
    type SerializeTuple = ser::Impossible<(), Error>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = ser::Impossible<(), Error>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.plain(if v { "true" } else { "false" })
    }
    integers!();
    fn serialize_f32(self, _v: f32) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_f64(self, _v: f64) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.plain(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.plain(v)
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.plain(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_must_be_a_string())
    }
}

/// A float always with a `.` in the mantissa and a signed exponent, the only float
/// spelling YAML 1.1 resolvers accept (`1e20` alone is a string there).
fn write_float(out: &mut String, n: &Number) {
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
    use serde::Serialize;
    use serde_json::{json, Map, Value};

    fn y(v: Value) -> String {
        to_string(&v).unwrap()
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
        let text = to_string(&doc).unwrap();
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, doc, "\n{text}");
        for s in &strings {
            let text = to_string(&Value::String(s.clone())).unwrap();
            let back: Value =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{s:?}: {e}\n{text}"));
            assert_eq!(back, Value::String(s.clone()), "{s:?} -> {text}");
        }
    }

    #[test]
    fn deterministic() {
        let v = json!({"b": [1, {"c": "x\ny"}], "a": "yes"});
        assert_eq!(to_string(&v).unwrap(), to_string(&v.clone()).unwrap());
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

    /// Everything serde can express, written directly, reads back as what serde_json
    /// makes of the same value (the emitter's contract: YAML of the JSON form).
    #[test]
    fn serde_data_model_matches_json_form() {
        use std::collections::BTreeMap;
        #[derive(Serialize)]
        enum E {
            Unit,
            Newtype(u8),
            Tuple(i32, String),
            Struct { a: Option<u8>, b: Vec<u8> },
        }
        #[derive(Serialize)]
        struct Unit;
        #[derive(Serialize)]
        struct Newtype(String);
        #[derive(Serialize)]
        struct Tuple(u8, bool);
        struct Bytes(Vec<u8>);
        impl Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
        #[derive(Serialize)]
        struct All {
            unit: (),
            unit_struct: Unit,
            newtype: Newtype,
            tuple: Tuple,
            tuple2: (u8, char),
            none: Option<u8>,
            some: Option<&'static str>,
            variants: Vec<E>,
            nested_variant: Vec<Vec<E>>,
            float: f64,
            small: f32,
            nan: f64,
            u128_small: u128,
            i128_small: i128,
            bytes: Bytes,
            int_keys: BTreeMap<i32, &'static str>,
            char_keys: BTreeMap<char, u8>,
            empty_map: BTreeMap<String, u8>,
            empty_vec: Vec<u8>,
        }
        let v = All {
            unit: (),
            unit_struct: Unit,
            newtype: Newtype("x".into()),
            tuple: Tuple(1, true),
            tuple2: (2, 'c'),
            none: None,
            some: Some("yes"),
            variants: vec![
                E::Unit,
                E::Newtype(3),
                E::Tuple(-4, "on".into()),
                E::Struct {
                    a: None,
                    b: vec![5],
                },
                E::Struct {
                    a: Some(6),
                    b: vec![],
                },
            ],
            nested_variant: vec![vec![E::Newtype(7)], vec![]],
            float: 2.5,
            small: 0.5,
            nan: f64::NAN,
            u128_small: 7,
            i128_small: -7,
            bytes: Bytes(vec![0, 255]),
            int_keys: [(-1, "a"), (2, "b")].into_iter().collect(),
            char_keys: [('y', 1)].into_iter().collect(),
            empty_map: BTreeMap::new(),
            empty_vec: vec![],
        };
        let text = to_string(&v).unwrap();
        let back: Value = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, serde_json::to_value(&v).unwrap(), "{text}");
        let want = "variants:\n- Unit\n- Newtype: 3\n- Tuple:\n  - -4\n  - 'on'\n\
                    - Struct:\n    a: null\n    b:\n    - 5\n- Struct:\n    a: 6\n    b: []\n\
                    nested_variant:\n- - Newtype: 7\n- []\n";
        assert!(text.contains(want), "{text}");
        // Integers beyond 64 bits, which serde_json cannot carry, are written as-is.
        assert_eq!(
            to_string(&(1u128 << 100)).unwrap(),
            "1267650600228229401496703205376\n"
        );
        assert_eq!(
            to_string(&-(1i128 << 70)).unwrap(),
            "-1180591620717411303424\n"
        );
    }

    #[test]
    fn non_string_keys_are_errors() {
        let mut m = std::collections::BTreeMap::new();
        m.insert(vec![1u8], 1);
        let e = to_string(&m).unwrap_err();
        assert_eq!(e.to_string(), "a mapping key must be a string");
    }
}
