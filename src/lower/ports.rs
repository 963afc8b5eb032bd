//! Container/Service port naming: one [`NamedPort`] per distinct (container port,
//! protocol) of a service, from `ports` (already long syntax) and `expose` (`"80"`,
//! `"8000-8010"`, `"53/udp"`), in order of first appearance. Names follow mapping.md
//! "Port names": the compose long-syntax `name` when it is a valid IANA_SVC_NAME; else
//! a protocol name, from `app_protocol` or the [`WELL_KNOWN`] table, given to one port
//! per pod only; else `<proto>-<port>`; a name already taken gets `-2`, `-3` ...,
//! shortened to fit 15 characters. Linear in the number of ports. This module names
//! ports only: the container (`workload`) and the Service (`service`) read the result.

use super::Ctx;
use crate::compose::model::Service;
use crate::diag::Diagnostic;
use crate::k8s::names::{is_valid_iana_svc_name, is_valid_qualified_name, IANA_SVC_NAME_MAX};
use crate::source::Span;
use std::collections::{HashMap, HashSet};

/// One distinct container port of a service with its IANA_SVC_NAME.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedPort {
    pub name: String,
    pub container_port: i32,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    /// Published host port, if the compose file published one.
    pub published: Option<i32>,
    pub app_protocol: Option<String>,
    pub span: Span,
}

/// Well-known TCP ports that get a protocol name (when no `name` / `app_protocol` says
/// otherwise). Deliberately small: a name must be right for every image using the port.
pub const WELL_KNOWN: &[(i32, &str)] = &[
    (80, "http"),
    (443, "https"),
    (8080, "http"),
    (8443, "https"),
];

/// A port as written in compose, before dedup and naming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawPort {
    pub target: i32,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    pub published: Option<i32>,
    pub name: Option<String>,
    pub app_protocol: Option<String>,
    pub span: Span,
}

pub fn name_ports(ctx: &mut Ctx, svc: &Service) -> Vec<NamedPort> {
    let (raw, mut diags) = collect(svc);
    let (named, more) = assign_names(raw);
    diags.extend(more);
    ctx.diags.extend(diags);
    named
}

/// `tcp` / `udp` / `sctp` (any case) -> Kubernetes protocol.
pub fn k8s_protocol(p: &str) -> Option<&'static str> {
    match p.to_ascii_lowercase().as_str() {
        "" | "tcp" => Some("TCP"),
        "udp" => Some("UDP"),
        "sctp" => Some("SCTP"),
        _ => None,
    }
}

/// A published host port as compose keeps it (`"8080"`, a range `"8000-8010"` of which
/// Docker picks one: the first is used here, `"0"` or empty = random: none).
pub fn parse_published(p: &str) -> Option<i32> {
    let first = p.split('-').next().unwrap_or("").trim();
    match first.parse::<i32>() {
        Ok(n) if (1..=65535).contains(&n) => Some(n),
        _ => None,
    }
}

/// Parse one `expose` entry: `PORT`, `START-END`, optionally `/PROTO`.
pub fn parse_expose(s: &str) -> Result<(i32, i32, &'static str), String> {
    let (ports, proto) = match s.split_once('/') {
        Some((p, pr)) => (p, pr),
        None => (s, "tcp"),
    };
    let protocol = k8s_protocol(proto).ok_or_else(|| format!("unknown protocol `{proto}`"))?;
    let num = |x: &str| -> Result<i32, String> {
        match x.trim().parse::<i32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n),
            _ => Err(format!("`{x}` is not a port number (1-65535)")),
        }
    };
    let (start, end) = match ports.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let n = num(ports)?;
            (n, n)
        }
    };
    if end < start {
        return Err(format!("port range `{ports}` ends before it starts"));
    }
    Ok((start, end, protocol))
}

/// Gather `ports` and `expose` of a service as [`RawPort`]s (invalid entries warn and are
/// skipped).
pub fn collect(svc: &Service) -> (Vec<RawPort>, Vec<Diagnostic>) {
    let mut raw = Vec::new();
    let mut diags = Vec::new();
    for (i, p) in svc.ports.iter().enumerate() {
        let idx = i.to_string();
        let span = svc.span_of(&["ports", &idx]);
        let Some(protocol) = k8s_protocol(&p.protocol) else {
            diags.push(
                Diagnostic::warning(format!(
                    "port {}/{} is left out: Kubernetes supports tcp, udp and sctp",
                    p.target, p.protocol
                ))
                .at(span),
            );
            continue;
        };
        if !(1..=65535).contains(&p.target) {
            diags.push(
                Diagnostic::warning(format!(
                    "container port {} is left out: it is not a port number (1-65535)",
                    p.target
                ))
                .at(span),
            );
            continue;
        }
        raw.push(RawPort {
            target: p.target as i32,
            protocol: protocol.to_string(),
            published: p.published.as_deref().and_then(parse_published),
            name: p.name.clone(),
            app_protocol: p.app_protocol.clone(),
            span,
        });
    }
    for (i, e) in svc.expose.iter().enumerate() {
        let idx = i.to_string();
        let span = svc.span_of(&["expose", &idx]);
        match parse_expose(e) {
            Ok((start, end, protocol)) => {
                for target in start..=end {
                    raw.push(RawPort {
                        target,
                        protocol: protocol.to_string(),
                        published: None,
                        name: None,
                        app_protocol: None,
                        span,
                    });
                }
            }
            Err(msg) => diags.push(
                Diagnostic::warning(format!("expose entry `{e}` is left out: {msg}")).at(span),
            ),
        }
    }
    (raw, diags)
}

/// The protocol name `app_protocol` suggests: its last `/` segment, lower-cased
/// (`kubernetes.io/h2c` -> `h2c`), when that is a valid IANA_SVC_NAME.
fn app_protocol_name(ap: &str) -> Option<String> {
    let last = ap.rsplit('/').next().unwrap_or(ap).to_ascii_lowercase();
    is_valid_iana_svc_name(&last).then_some(last)
}

fn well_known(port: i32, protocol: &str) -> Option<&'static str> {
    if protocol != "TCP" {
        return None;
    }
    WELL_KNOWN.iter().find(|(p, _)| *p == port).map(|(_, n)| *n)
}

/// `base` with `-N`, cut so that the result fits 15 characters.
fn with_suffix(base: &str, n: u32) -> String {
    let suffix = format!("-{n}");
    let keep = IANA_SVC_NAME_MAX.saturating_sub(suffix.len());
    let mut b: String = base.chars().take(keep).collect();
    while b.ends_with('-') {
        b.pop();
    }
    format!("{b}{suffix}")
}

/// Names already used in one pod, with a counter per base so that suffixing stays linear.
#[derive(Default)]
struct Taken {
    used: HashSet<String>,
    next: HashMap<String, u32>,
}

impl Taken {
    fn try_take(&mut self, name: &str) -> bool {
        self.used.insert(name.to_string())
    }

    /// `base` if free, else the first free valid `base-N` (falling back to
    /// `fallback-N` if cutting `base` made it invalid).
    fn take_unique(&mut self, base: &str, fallback: &str) -> String {
        if self.try_take(base) {
            return base.to_string();
        }
        let mut base = base;
        loop {
            let n = self.next.entry(base.to_string()).or_insert(2);
            let cand = with_suffix(base, *n);
            *n += 1;
            if !is_valid_iana_svc_name(&cand) && base != fallback {
                // Cutting `base` lost its letters: continue from the fallback name.
                base = fallback;
                if self.try_take(base) {
                    return base.to_string();
                }
                continue;
            }
            // `fallback` starts with `tcp`/`udp`/`sctp`, which the cut always keeps.
            if self.try_take(&cand) {
                return cand;
            }
        }
    }
}

/// Deduplicate by (port, protocol) and name every port (see the module doc).
pub fn assign_names(raw: Vec<RawPort>) -> (Vec<NamedPort>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut ports: Vec<RawPort> = Vec::new();
    let mut index: HashMap<(i32, String), usize> = HashMap::new();
    for r in raw {
        match index.get(&(r.target, r.protocol.clone())) {
            Some(&i) => {
                let first = &mut ports[i];
                match (first.published, r.published) {
                    (None, Some(p)) => first.published = Some(p),
                    (Some(a), Some(b)) if a != b => diags.push(
                        Diagnostic::warning(format!(
                            "container port {}/{} is published on host ports {a} and {b}; \
                             only {a} is used for a NodePort, LoadBalancer or Ingress",
                            r.target,
                            r.protocol.to_ascii_lowercase()
                        ))
                        .at(r.span),
                    ),
                    _ => {}
                }
                if first.name.is_none() {
                    first.name = r.name;
                }
                if first.app_protocol.is_none() {
                    first.app_protocol = r.app_protocol;
                }
            }
            None => {
                index.insert((r.target, r.protocol.clone()), ports.len());
                ports.push(r);
            }
        }
    }

    // Validate given names and app protocols.
    for p in &mut ports {
        if let Some(n) = &p.name {
            if !is_valid_iana_svc_name(n) {
                diags.push(
                    Diagnostic::warning(format!(
                        "port name `{n}` is not a valid Kubernetes port name; a generated name is used"
                    ))
                    .at(p.span)
                    .help(
                        "port names have at most 15 characters: lower-case letters, digits and \
                         single `-` between them, with at least one letter",
                    ),
                );
                p.name = None;
            }
        }
        if let Some(ap) = &p.app_protocol {
            if !is_valid_qualified_name(ap) {
                diags.push(
                    Diagnostic::warning(format!(
                        "app_protocol `{ap}` is left out: Kubernetes expects a name like `http`, \
                         `grpc` or `kubernetes.io/h2c`"
                    ))
                    .at(p.span),
                );
                p.app_protocol = None;
            }
        }
    }

    let fallback = |p: &RawPort| format!("{}-{}", p.protocol.to_ascii_lowercase(), p.target);
    let mut taken = Taken::default();
    let mut names: Vec<Option<String>> = vec![None; ports.len()];
    // 1. Names given in compose (a repeated name gets a suffix, with a warning).
    for (i, p) in ports.iter().enumerate() {
        if let Some(n) = &p.name {
            let got = taken.take_unique(n, &fallback(p));
            if &got != n {
                diags.push(
                    Diagnostic::warning(format!(
                        "port name `{n}` is used by several ports; port {}/{} is named `{got}`",
                        p.target,
                        p.protocol.to_ascii_lowercase()
                    ))
                    .at(p.span),
                );
            }
            names[i] = Some(got);
        }
    }
    // 2. Protocol names, once per pod.
    for (i, p) in ports.iter().enumerate() {
        if names[i].is_some() {
            continue;
        }
        let proto = p
            .app_protocol
            .as_deref()
            .and_then(app_protocol_name)
            .or_else(|| well_known(p.target, &p.protocol).map(str::to_string));
        if let Some(n) = proto {
            if taken.try_take(&n) {
                names[i] = Some(n);
            }
        }
    }
    // 3. `<proto>-<port>`.
    for (i, p) in ports.iter().enumerate() {
        if names[i].is_none() {
            let f = fallback(p);
            names[i] = Some(taken.take_unique(&f, &f));
        }
    }

    let named = ports
        .into_iter()
        .zip(names)
        .map(|(p, n)| NamedPort {
            name: n.unwrap_or_default(),
            container_port: p.target,
            protocol: p.protocol,
            published: p.published,
            app_protocol: p.app_protocol,
            span: p.span,
        })
        .collect();
    (named, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::ports::PortSpec;

    fn raw(target: i32, proto: &str) -> RawPort {
        RawPort {
            target,
            protocol: proto.into(),
            published: None,
            name: None,
            app_protocol: None,
            span: Span::default(),
        }
    }

    fn named(r: RawPort, name: &str) -> RawPort {
        RawPort {
            name: Some(name.into()),
            ..r
        }
    }

    fn app(r: RawPort, ap: &str) -> RawPort {
        RawPort {
            app_protocol: Some(ap.into()),
            ..r
        }
    }

    fn names_of(raw: Vec<RawPort>) -> (Vec<String>, usize) {
        let (n, d) = assign_names(raw);
        (n.into_iter().map(|p| p.name).collect(), d.len())
    }

    #[test]
    fn naming_table() {
        let cases: Vec<(Vec<RawPort>, Vec<&str>, usize)> = vec![
            (vec![raw(5432, "TCP")], vec!["tcp-5432"], 0),
            (
                vec![raw(53, "UDP"), raw(53, "TCP")],
                vec!["udp-53", "tcp-53"],
                0,
            ),
            (vec![raw(80, "TCP")], vec!["http"], 0),
            (vec![raw(80, "UDP")], vec!["udp-80"], 0),
            // Protocol names only once per pod.
            (
                vec![raw(80, "TCP"), raw(8080, "TCP")],
                vec!["http", "tcp-8080"],
                0,
            ),
            (
                vec![raw(443, "TCP"), raw(8443, "TCP")],
                vec!["https", "tcp-8443"],
                0,
            ),
            // Given names win, even over an earlier well-known port.
            (
                vec![raw(80, "TCP"), named(raw(8080, "TCP"), "http")],
                vec!["tcp-80", "http"],
                0,
            ),
            (vec![named(raw(3000, "TCP"), "web-ui")], vec!["web-ui"], 0),
            // Invalid given names fall back (with a warning).
            (vec![named(raw(3000, "TCP"), "Web_UI")], vec!["tcp-3000"], 1),
            (
                vec![named(raw(80, "TCP"), "a-very-long-port-name")],
                vec!["http"],
                1,
            ),
            (vec![named(raw(3000, "TCP"), "3000")], vec!["tcp-3000"], 1),
            // app_protocol.
            (vec![app(raw(9000, "TCP"), "grpc")], vec!["grpc"], 0),
            (
                vec![app(raw(9000, "TCP"), "kubernetes.io/h2c")],
                vec!["h2c"],
                0,
            ),
            (vec![app(raw(9000, "TCP"), "GRPC")], vec!["grpc"], 0),
            (
                vec![app(raw(9000, "TCP"), "grpc"), app(raw(9001, "TCP"), "grpc")],
                vec!["grpc", "tcp-9001"],
                0,
            ),
            (
                vec![app(raw(9000, "TCP"), "not valid!")],
                vec!["tcp-9000"],
                1,
            ),
            // Clashes with given names get suffixes.
            (
                vec![named(raw(1, "TCP"), "tcp-5432"), raw(5432, "TCP")],
                vec!["tcp-5432", "tcp-5432-2"],
                0,
            ),
            (
                vec![
                    named(raw(1, "TCP"), "web"),
                    named(raw(2, "TCP"), "web"),
                    named(raw(3, "TCP"), "web"),
                ],
                vec!["web", "web-2", "web-3"],
                2,
            ),
            (
                vec![
                    named(raw(1, "TCP"), "abcdefghijklmno"),
                    named(raw(2, "TCP"), "abcdefghijklmno"),
                ],
                vec!["abcdefghijklmno", "abcdefghijklm-2"],
                1,
            ),
            (
                vec![
                    named(raw(1, "TCP"), "abcdefghijklm-o"),
                    named(raw(2, "TCP"), "abcdefghijklm-o"),
                ],
                vec!["abcdefghijklm-o", "abcdefghijklm-2"],
                1,
            ),
            (
                vec![
                    named(raw(1, "TCP"), "1234567890123a"),
                    named(raw(2, "TCP"), "1234567890123a"),
                ],
                vec!["1234567890123a", "tcp-2"],
                1,
            ),
            // Limits.
            (vec![raw(65535, "SCTP")], vec!["sctp-65535"], 0),
            (vec![raw(1, "TCP")], vec!["tcp-1"], 0),
            // Duplicates merge; the name of a later duplicate is kept.
            (
                vec![raw(3000, "TCP"), named(raw(3000, "TCP"), "api")],
                vec!["api"],
                0,
            ),
        ];
        for (input, want, warns) in cases {
            let dbg = format!("{input:?}");
            let (got, w) = names_of(input);
            assert_eq!(got, want, "{dbg}");
            assert_eq!(w, warns, "{dbg}");
            for n in &got {
                assert!(is_valid_iana_svc_name(n), "{n}");
            }
        }
    }

    #[test]
    fn published_ports_merge() {
        let mut a = raw(80, "TCP");
        a.published = Some(8080);
        let mut b = raw(80, "TCP");
        b.published = Some(9090);
        let (n, d) = assign_names(vec![raw(80, "TCP"), a.clone()]);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].published, Some(8080));
        assert!(d.is_empty());
        let (n, d) = assign_names(vec![a, b]);
        assert_eq!(n[0].published, Some(8080));
        assert_eq!(d.len(), 1);
        assert!(d[0]
            .message
            .contains("published on host ports 8080 and 9090"));
    }

    #[test]
    fn expose_table() {
        for (input, want) in [
            ("80", Ok((80, 80, "TCP"))),
            ("80/tcp", Ok((80, 80, "TCP"))),
            ("53/udp", Ok((53, 53, "UDP"))),
            ("53/UDP", Ok((53, 53, "UDP"))),
            ("9/sctp", Ok((9, 9, "SCTP"))),
            ("8000-8010", Ok((8000, 8010, "TCP"))),
            ("65535", Ok((65535, 65535, "TCP"))),
            ("65536", Err(())),
            ("0", Err(())),
            ("80/http", Err(())),
            ("90-80", Err(())),
            ("abc", Err(())),
            ("", Err(())),
        ] {
            assert_eq!(parse_expose(input).map_err(|_| ()), want, "{input:?}");
        }
    }

    #[test]
    fn published_table() {
        for (input, want) in [
            ("8080", Some(8080)),
            ("8000-8010", Some(8000)),
            ("0", None),
            ("", None),
            ("65535", Some(65535)),
            ("65536", None),
            ("x", None),
        ] {
            assert_eq!(parse_published(input), want, "{input:?}");
        }
    }

    fn spec(target: u32, published: Option<&str>, protocol: &str) -> PortSpec {
        PortSpec {
            name: None,
            mode: "ingress".into(),
            host_ip: None,
            target,
            published: published.map(str::to_string),
            protocol: protocol.into(),
            app_protocol: None,
        }
    }

    #[test]
    fn collect_from_service() {
        let svc = Service {
            name: "web".into(),
            ports: vec![
                spec(80, Some("8080"), "tcp"),
                spec(53, None, "udp"),
                spec(0, None, "tcp"),
            ],
            expose: vec![
                "8000-8002".into(),
                "80".into(),
                "53/udp".into(),
                "nope".into(),
            ],
            ..Service::default()
        };
        let (raw, d) = collect(&svc);
        assert_eq!(d.len(), 2, "{d:?}");
        let (n, d) = assign_names(raw);
        assert!(d.is_empty());
        let got: Vec<(String, i32, String, Option<i32>)> = n
            .into_iter()
            .map(|p| (p.name, p.container_port, p.protocol, p.published))
            .collect();
        assert_eq!(
            got,
            vec![
                ("http".into(), 80, "TCP".into(), Some(8080)),
                ("udp-53".into(), 53, "UDP".into(), None),
                ("tcp-8000".into(), 8000, "TCP".into(), None),
                ("tcp-8001".into(), 8001, "TCP".into(), None),
                ("tcp-8002".into(), 8002, "TCP".into(), None),
            ]
        );
    }

    #[test]
    fn large_range_is_linear() {
        let raw: Vec<RawPort> = (1..=65535).map(|p| raw(p, "TCP")).collect();
        let mut with_names = raw.clone();
        for r in with_names.iter_mut().take(1000) {
            r.name = Some("same".into());
        }
        let (n, _) = assign_names(with_names);
        assert_eq!(n.len(), 65535);
        let unique: HashSet<&str> = n.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(unique.len(), 65535);
    }
}
