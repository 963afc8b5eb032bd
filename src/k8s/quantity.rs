//! Kubernetes resource quantities from compose values: CPU counts (`cpus: "0.5"` ->
//! `500m`), byte counts (compose memory units are binary: 268435456 -> `256Mi`) and
//! storage sizes given by the user (`--pvc-size`, `x-kubernetes.size`,
//! `kompose.volume.size`). Pure string/number conversions with exact integer
//! arithmetic (no floating point rounding); it must not read compose trees or emit
//! diagnostics: errors come back as messages for the caller to place.
//!
//! Choices:
//! - CPU is expressed in whole millicores. A value finer than 1m (`0.0001`, `1.2345`)
//!   is rounded **up** to the next millicore, which is what the kubelet does when it
//!   converts a quantity to milli-CPU; negative values and values that are not plain
//!   decimal numbers are errors. `0` gives `"0"` (Docker reads `cpus: 0` as "no limit";
//!   callers decide whether to emit it).
//! - Memory: the largest binary suffix that divides the byte count exactly (`1536Mi`
//!   stays `1536Mi`, never `1.5Gi`); counts that are not a multiple of 1024 stay plain
//!   bytes, so the value is always exact.
//! - Storage: any valid Kubernetes quantity is kept verbatim (`10G` is 10^10 bytes in
//!   Kubernetes and stays `10G`, because these settings are written in Kubernetes
//!   terms). Forms that are not Kubernetes quantities but are Compose/Docker byte sizes
//!   (`10g`, `10gb`, `512mb`, `1GiB`, `100b`) are read with Compose's binary units
//!   (`10g` -> `10Gi`). `n`, `u` and `m` (sub-byte units, `512m` = 0.512 bytes) and
//!   zero or negative sizes are errors.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value as Json;

/// Largest CPU count accepted (a sanity bound that keeps the arithmetic exact).
const MAX_CORES: u128 = 1 << 40;

/// A compose CPU count (number or decimal string) as a Kubernetes CPU quantity.
pub fn cpu(v: &Json) -> Result<Quantity, String> {
    let text = match v {
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.trim().to_string(),
        other => return Err(format!("expected a number of CPUs, found {other}")),
    };
    let dec = parse_decimal(&text)
        .ok_or_else(|| format!("`{text}` is not a number of CPUs (expected e.g. 0.5 or 2)"))?;
    if dec.negative && !dec.is_zero() {
        return Err(format!("`{text}`: a CPU count cannot be negative"));
    }
    let milli = dec
        .scaled_ceil(3)
        .filter(|m| *m <= MAX_CORES * 1000)
        .ok_or_else(|| format!("`{text}` CPUs is out of range"))?;
    Ok(Quantity(if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }))
}

/// A byte count as the exact binary quantity (`268435456` -> `256Mi`).
pub fn memory(bytes: u64) -> Quantity {
    const SUFFIXES: [(&str, u32); 6] = [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ];
    if bytes == 0 {
        return Quantity("0".into());
    }
    for (suffix, shift) in SUFFIXES {
        let unit = 1u64 << shift;
        if bytes % unit == 0 {
            return Quantity(format!("{}{suffix}", bytes / unit));
        }
    }
    Quantity(bytes.to_string())
}

/// A user-given storage size as a Kubernetes quantity (see the module doc).
pub fn storage(s: &str) -> Result<Quantity, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty size".into());
    }
    let num_end = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '+' || *c == '-'))
        .map(|(i, _)| i)
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(num_end);
    // Exponent forms (`1e9`, `1E3`) are decimal quantities in Kubernetes.
    let (num_ok, exp_suffix) = if let Some(exp) = suffix
        .strip_prefix('e')
        .or_else(|| suffix.strip_prefix('E'))
        .filter(|e| !e.is_empty())
    {
        let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
        (
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()),
            true,
        )
    } else {
        (true, false)
    };
    let dec = parse_decimal(num).ok_or_else(|| format!("`{s}` is not a size"))?;
    if dec.negative || dec.is_zero() {
        return Err(format!("`{s}`: a storage size must be greater than zero"));
    }
    if exp_suffix {
        return if num_ok {
            Ok(Quantity(t.to_string()))
        } else {
            Err(format!("`{s}` is not a size"))
        };
    }
    match suffix {
        "" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            return Ok(Quantity(t.to_string()));
        }
        "n" | "u" | "m" => {
            let hint = if suffix == "m" {
                format!(" (write `{num}Mi` for mebibytes)")
            } else {
                String::new()
            };
            return Err(format!(
                "`{s}` is a fraction of a byte in Kubernetes units{hint}"
            ));
        }
        _ => {}
    }
    // Compose/Docker byte sizes: b, k/kb, m/mb, g/gb, t/tb, p/pb, any case, optional
    // `i` (`GiB`). All binary, as Compose reads them.
    let lower = suffix.to_ascii_lowercase();
    let unit = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .unwrap_or(&lower);
    let (k8s_suffix, shift) = match unit {
        "" => ("", 0u32),
        "k" => ("Ki", 10),
        "m" => ("Mi", 20),
        "g" => ("Gi", 30),
        "t" => ("Ti", 40),
        "p" => ("Pi", 50),
        _ => {
            return Err(format!(
                "`{s}` is not a size (expected a Kubernetes quantity such as 10Gi or 500M)"
            ))
        }
    };
    if dec.frac.is_empty() {
        return Ok(Quantity(format!("{}{k8s_suffix}", dec.int_digits())));
    }
    // A fractional compose size (`1.5g`): Compose truncates to whole bytes.
    let bytes = dec
        .scaled_floor_shift(shift)
        .ok_or_else(|| format!("`{s}` is out of range"))?;
    u64::try_from(bytes)
        .map(memory)
        .map_err(|_| format!("`{s}` is out of range"))
}

/// A plain decimal number: optional sign, digits, optional fraction, optional exponent.
#[derive(Debug, PartialEq)]
struct Decimal {
    negative: bool,
    /// Integer digits without leading zeros (may be empty = 0).
    int: String,
    /// Fraction digits without trailing zeros.
    frac: String,
}

impl Decimal {
    fn is_zero(&self) -> bool {
        self.int.is_empty() && self.frac.is_empty()
    }

    fn int_digits(&self) -> &str {
        if self.int.is_empty() {
            "0"
        } else {
            &self.int
        }
    }

    /// `ceil(|value| * 10^places)`, `None` on overflow.
    fn scaled_ceil(&self, places: usize) -> Option<u128> {
        let mut digits = self.int.clone();
        let (kept, rest) = if self.frac.len() > places {
            self.frac.split_at(places)
        } else {
            (self.frac.as_str(), "")
        };
        digits.push_str(kept);
        for _ in kept.len()..places {
            digits.push('0');
        }
        if digits.len() > 30 {
            return None;
        }
        let mut v: u128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        if rest.bytes().any(|b| b != b'0') {
            v = v.checked_add(1)?;
        }
        Some(v)
    }

    /// `floor(|value| * 2^shift)`, `None` on overflow.
    fn scaled_floor_shift(&self, shift: u32) -> Option<u128> {
        if self.int.len() + self.frac.len() > 25 {
            return None;
        }
        let int: u128 = if self.int.is_empty() {
            0
        } else {
            self.int.parse().ok()?
        };
        let frac: u128 = if self.frac.is_empty() {
            0
        } else {
            self.frac.parse().ok()?
        };
        let scale = 10u128.checked_pow(u32::try_from(self.frac.len()).ok()?)?;
        let unit = 1u128 << shift;
        int.checked_mul(unit)?
            .checked_add(frac.checked_mul(unit)? / scale)
    }
}

/// `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`
fn parse_decimal(s: &str) -> Option<Decimal> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e = &body[i + 1..];
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 4
            {
                return None;
            }
            (&body[..i], e.parse::<i32>().ok()?)
        }
        None => (body, 0),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // Shift the decimal point by the exponent.
    let mut digits = format!("{int}{frac}");
    let mut point = i64::try_from(int.len()).ok()? + i64::from(exp);
    if point < 0 {
        let pad = usize::try_from(-point).ok()?;
        digits = format!("{}{digits}", "0".repeat(pad));
        point = 0;
    }
    let point = usize::try_from(point).ok()?;
    if point > digits.len() {
        let pad = point - digits.len();
        digits.push_str(&"0".repeat(pad));
    }
    let (i, f) = digits.split_at(point);
    Some(Decimal {
        negative,
        int: i.trim_start_matches('0').to_string(),
        frac: f.trim_end_matches('0').to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cpu_table() {
        let ok: &[(Json, &str)] = &[
            (json!("0.5"), "500m"),
            (json!(0.5), "500m"),
            (json!(2), "2"),
            (json!("2"), "2"),
            (json!("1.25"), "1250m"),
            (json!(1.25), "1250m"),
            (json!("0.001"), "1m"),
            (json!("0.0001"), "1m"),
            (json!("1.2345"), "1235m"),
            (json!(".5"), "500m"),
            (json!("2."), "2"),
            (json!("0"), "0"),
            (json!(0.0), "0"),
            (json!("1.000"), "1"),
            (json!(" 0.25 "), "250m"),
            (json!("1e-1"), "100m"),
            (json!(1.5e1), "15"),
            (json!("+3"), "3"),
            (json!("0.1"), "100m"),
            (json!(0.1), "100m"),
            (json!(16), "16"),
        ];
        for (input, want) in ok {
            assert_eq!(cpu(input), Ok(Quantity(want.to_string())), "{input}");
        }
        for bad in [
            json!("-1"),
            json!(-0.5),
            json!("500m"),
            json!("abc"),
            json!(""),
            json!("."),
            json!(true),
            json!(null),
            json!("1e9999"),
            json!("1.2.3"),
            json!("99999999999999999999999999999"),
        ] {
            assert!(cpu(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn memory_table() {
        let cases: &[(u64, &str)] = &[
            (0, "0"),
            (1, "1"),
            (1000, "1000"),
            (1024, "1Ki"),
            (1536, "1536"),
            (1536 * 1024, "1536Ki"),
            (268_435_456, "256Mi"),
            (1536 << 20, "1536Mi"),
            (1 << 30, "1Gi"),
            (3 << 40, "3Ti"),
            (1 << 50, "1Pi"),
            (1 << 60, "1Ei"),
            (1_000_000, "1000000"),
            (u64::MAX, "18446744073709551615"),
        ];
        for (bytes, want) in cases {
            assert_eq!(memory(*bytes), Quantity(want.to_string()), "{bytes}");
        }
    }

    #[test]
    fn storage_table() {
        let ok: &[(&str, &str)] = &[
            ("1Gi", "1Gi"),
            ("10G", "10G"),
            ("500M", "500M"),
            ("100k", "100k"),
            ("1.5Gi", "1.5Gi"),
            ("1e9", "1e9"),
            ("1073741824", "1073741824"),
            ("10g", "10Gi"),
            ("10gb", "10Gi"),
            ("10GB", "10Gi"),
            ("1GiB", "1Gi"),
            ("512mb", "512Mi"),
            ("100b", "100"),
            ("2T", "2T"),
            ("1E", "1E"),
            ("1E3", "1E3"),
            ("2tb", "2Ti"),
            ("1.5g", "1536Mi"),
            (" 5Gi ", "5Gi"),
        ];
        for (input, want) in ok {
            assert_eq!(storage(input), Ok(Quantity(want.to_string())), "{input}");
        }
        for bad in [
            "", "0", "0Gi", "-1Gi", "512m", "10n", "1u", "abc", "Gi", "1Zi", "1e", "1x", "1..2G",
        ] {
            assert!(storage(bad).is_err(), "{bad}");
        }
        assert!(storage("512m").unwrap_err().contains("512Mi"));
    }

    #[test]
    fn decimal_parser() {
        let d = parse_decimal("001.2300").unwrap();
        assert_eq!((d.int.as_str(), d.frac.as_str()), ("1", "23"));
        let d = parse_decimal("1.5e-3").unwrap();
        assert_eq!((d.int.as_str(), d.frac.as_str()), ("", "0015"));
        let d = parse_decimal("12e2").unwrap();
        assert_eq!((d.int.as_str(), d.frac.as_str()), ("1200", ""));
        assert!(parse_decimal("e3").is_none());
        assert!(parse_decimal("+").is_none());
    }
}
