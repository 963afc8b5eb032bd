//! The `ports:` short syntax (`[[ip:]published:]target[/proto]`, ranges allowed) and
//! the long-syntax entry it expands to. Parsing is exact to compose-go's
//! `types.ParsePortConfig` over docker/go-connections `nat.ParsePortSpec`: same
//! accepted inputs, same expansion and ordering, and error messages that start with the
//! reference wording and then say what is wrong. This module owns only that string ->
//! [`PortSpec`] conversion; it must not decide how ports become Kubernetes objects, and
//! it does no I/O (errors are messages the caller places at the entry's span).

use serde::{Deserialize, Deserializer, Serialize};
use std::net::IpAddr;

/// One long-syntax `ports:` entry. Field order and names follow compose-go's
/// `ServicePortConfig`, so `config` prints entries the way `docker compose config` does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "default_mode")]
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
    #[serde(deserialize_with = "de_target")]
    pub target: u32,
    /// A port (`"8080"`) or, for a single container port, a host range (`"8000-8010"`).
    #[serde(
        default,
        deserialize_with = "de_published",
        skip_serializing_if = "Option::is_none"
    )]
    pub published: Option<String>,
    #[serde(default = "default_protocol")]
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

fn default_mode() -> String {
    "ingress".to_string()
}

fn default_protocol() -> String {
    "tcp".to_string()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IntOrString {
    Int(u64),
    Str(String),
}

fn de_target<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    use serde::de::Error;
    match IntOrString::deserialize(d)? {
        IntOrString::Int(i) => match u32::try_from(i) {
            Ok(p) if p <= 65535 => Ok(p),
            _ => Err(D::Error::custom(format!(
                "invalid target port {i}: ports must be 0-65535"
            ))),
        },
        IntOrString::Str(s) => parse_port_number(&s)
            .map_err(|why| D::Error::custom(format!("invalid target port {s:?}: {why}"))),
    }
}

fn de_published<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<IntOrString>::deserialize(d)? {
        None => None,
        Some(IntOrString::Int(i)) => Some(i.to_string()),
        Some(IntOrString::Str(s)) => Some(s),
    })
}

/// Parse one short-syntax port entry into the long-syntax entries it stands for.
///
/// A container port range expands to one entry per port. Entries are sorted by the
/// string `"<port>/<proto>"` as compose-go does, so `998-1000` yields 1000, 998, 999.
/// An integer in YAML (`- 8080`) should be passed as its decimal string.
pub fn parse_port(spec: &str) -> Result<Vec<PortSpec>, String> {
    let (ip, host_port, container) = split_parts(spec);
    let (proto, container_port) = split_proto_port(container);
    if container_port.is_empty() {
        return Err(format!(
            "no port specified: {spec}<empty> (the container port is missing; expected \
             [[ip:]published:]target[/protocol], e.g. \"8080:80\")"
        ));
    }

    let proto = proto.to_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!(
            "invalid proto: {proto} (the protocol must be tcp, udp or sctp)"
        ));
    }

    let mut ip = ip.to_string();
    if ip.starts_with('[') {
        ip = strip_brackets(&ip).map_err(|why| format!("invalid IP address {ip}: {why}"))?;
    }
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(format!(
            "invalid IP address: {ip} (the host IP must be a literal IPv4 or IPv6 address, \
             e.g. 127.0.0.1 or [::1])"
        ));
    }

    let (start, end) = parse_port_range(container_port)
        .map_err(|why| format!("invalid containerPort: {container_port} ({why})"))?;

    let (host_start, host_end) = if host_port.is_empty() {
        (0, 0)
    } else {
        let (hs, he) = parse_port_range(host_port)
            .map_err(|why| format!("invalid hostPort: {host_port} ({why})"))?;
        // A host range is allowed with a single container port (it is the pool the
        // published port is picked from); a container range needs one of equal length.
        if end - start != he - hs && end != start {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {container_port} and \
                 {host_port} (a range of {} container ports needs a published range of the \
                 same length)",
                end - start + 1
            ));
        }
        (hs, he)
    };

    let count = end - start + 1;
    let host_ip = (!ip.is_empty()).then_some(ip);
    let mut entries: Vec<(String, PortSpec)> = (0..count)
        .map(|i| {
            let published = (!host_port.is_empty()).then(|| {
                let mut p = (host_start + i).to_string();
                if count == 1 && host_start != host_end {
                    p.push('-');
                    p.push_str(&host_end.to_string());
                }
                p
            });
            let target = start + i;
            (
                format!("{target}/{proto}"),
                PortSpec {
                    name: None,
                    mode: default_mode(),
                    host_ip: host_ip.clone(),
                    target,
                    published,
                    protocol: proto.clone(),
                    app_protocol: None,
                },
            )
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries.into_iter().map(|(_, p)| p).collect())
}

/// nat's `splitParts`: the last `:`-field is the container port, the one before it the
/// host port, and everything before those (colons included) the host IP.
fn split_parts(raw: &str) -> (&str, &str, &str) {
    let mut it = raw.rsplitn(3, ':');
    let container = it.next().unwrap_or("");
    match (it.next(), it.next()) {
        (None, _) => ("", "", container),
        (Some(host), None) => ("", host, container),
        (Some(host), Some(ip)) => (ip, host, container),
    }
}

/// nat's `SplitProtoPort`: `(proto, port)`; the protocol defaults to `tcp`, and both are
/// empty when the port part is.
fn split_proto_port(raw: &str) -> (&str, &str) {
    let (port, proto) = raw.split_once('/').unwrap_or((raw, ""));
    if port.is_empty() {
        ("", "")
    } else if proto.is_empty() {
        ("tcp", port)
    } else {
        (proto, port)
    }
}

/// Go's `net.SplitHostPort(ip + ":")` host part, for an `ip` starting with `[`.
fn strip_brackets(ip: &str) -> Result<String, String> {
    let hostport = format!("{ip}:");
    let addr_err = |why: &str| format!("address {hostport}: {why}");
    let last_colon = hostport.len() - 1;
    let Some(end) = hostport.find(']') else {
        return Err(addr_err("missing ']' in address"));
    };
    if end + 1 != last_colon {
        return Err(if hostport.as_bytes()[end + 1] == b':' {
            addr_err("too many colons in address")
        } else {
            addr_err("missing port in address")
        });
    }
    if hostport[1..].contains('[') {
        return Err(addr_err("unexpected '[' in address"));
    }
    Ok(hostport[1..end].to_string())
}

/// nat's `parsePortRange`: `N` or `N-M` with `M >= N`; the error is the reason, in
/// words, for the caller to append to its message.
fn parse_port_range(ports: &str) -> Result<(u32, u32), String> {
    if ports.is_empty() {
        return Err("no port given".to_string());
    }
    let (start_s, end_s) = match ports.split_once('-') {
        Some((s, e)) => (s, Some(e)),
        None => (ports, None),
    };
    let start = parse_port_number(start_s)?;
    let end_s = match end_s {
        Some(e) if e != start_s => e,
        _ => return Ok((start, start)),
    };
    let end = parse_port_number(end_s)?;
    if end < start {
        return Err(format!(
            "the range {ports} ends before it starts; write the lower port first"
        ));
    }
    Ok((start, end))
}

/// nat's `parsePortNumber`: a base-10 integer (sign allowed, as Go's `ParseInt`) in
/// 0..=65535.
fn parse_port_number(raw: &str) -> Result<u32, String> {
    if raw.is_empty() {
        return Err("a port number is empty".to_string());
    }
    match raw.parse::<i64>() {
        Ok(p) if (0..=65535).contains(&p) => Ok(p as u32),
        Ok(p) => Err(format!("port {p} is out of range: ports must be 0-65535")),
        Err(e) => match e.kind() {
            std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                Err(format!("port {raw} is out of range: ports must be 0-65535"))
            }
            _ => Err(format!("{raw:?} is not a port number")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_like_nat() {
        let cases: &[(&str, (&str, &str, &str))] = &[
            ("80", ("", "", "80")),
            ("8080:80", ("", "8080", "80")),
            ("1.2.3.4:8080:80", ("1.2.3.4", "8080", "80")),
            ("::1:8080:80", ("::1", "8080", "80")),
            ("[::1]:8080:80", ("[::1]", "8080", "80")),
            (":80", ("", "", "80")),
            ("", ("", "", "")),
        ];
        for (input, want) in cases {
            assert_eq!(split_parts(input), *want, "{input:?}");
        }
    }

    #[test]
    fn port_ranges() {
        let cases: &[(&str, Option<(u32, u32)>)] = &[
            ("80", Some((80, 80))),
            ("0", Some((0, 0))),
            ("65535", Some((65535, 65535))),
            ("65536", None),
            ("+80", Some((80, 80))),
            ("0080", Some((80, 80))),
            ("80-80", Some((80, 80))),
            ("80-90", Some((80, 90))),
            ("90-80", None),
            ("80-", None),
            ("-80", None),
            ("1-2-3", None),
            ("a", None),
            (" 80", None),
            ("99999999999999999999", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_port_range(input).ok(), *want, "{input:?}");
        }
    }

    #[test]
    fn bracketed_ips() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("[::1]", Ok("::1")),
            ("[1.2.3.4]", Ok("1.2.3.4")),
            ("[::1", Err("missing ']' in address")),
            ("[::1]x", Err("missing port in address")),
            ("[[::1]", Err("unexpected '[' in address")),
        ];
        for (input, want) in cases {
            match (strip_brackets(input), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, *want),
                (Err(got), Err(want)) => assert!(got.contains(want), "{got}"),
                (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn errors_explain() {
        let cases: &[(&str, &str)] = &[
            (
                "70000:80",
                "invalid hostPort: 70000 (port 70000 is out of range: ports must be 0-65535)",
            ),
            (
                "80-79",
                "invalid containerPort: 80-79 (the range 80-79 ends before it starts",
            ),
            (
                "80/http",
                "invalid proto: http (the protocol must be tcp, udp or sctp)",
            ),
            (
                "[::1:80:80",
                "invalid IP address [::1: address [::1:: missing ']' in address",
            ),
            ("a:80", "invalid hostPort: a (\"a\" is not a port number)"),
        ];
        for (input, want) in cases {
            let err = parse_port(input).unwrap_err();
            assert!(err.starts_with(want), "{input:?}: {err}");
        }
    }

    #[test]
    fn long_syntax_deserializes_with_defaults() {
        let p: PortSpec =
            serde_json::from_value(serde_json::json!({"target": 80, "published": 8080})).unwrap();
        assert_eq!(p.target, 80);
        assert_eq!(p.published.as_deref(), Some("8080"));
        assert_eq!(p.protocol, "tcp");
        assert_eq!(p.mode, "ingress");
        let p: PortSpec = serde_json::from_value(
            serde_json::json!({"target": "80", "published": "8000-8010", "protocol": "udp", "mode": "host"}),
        )
        .unwrap();
        assert_eq!(p.target, 80);
        assert_eq!(p.published.as_deref(), Some("8000-8010"));
        assert_eq!(p.mode, "host");
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"mode": "host", "target": 80, "published": "8000-8010", "protocol": "udp"})
        );
    }
}
