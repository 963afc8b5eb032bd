//! Short syntax -> canonical long syntax, as compose-go's `transform.Canonical` does,
//! on the spanned tree (so every converted entry keeps the span of what the user
//! wrote). After this pass each service deserialises straight into
//! [`super::model::Service`]. Parse errors in short forms (ports, volumes, extra_hosts
//! ...) become diagnostics at the offending item. Pure.

use super::node::{Key, Node, Value};
use super::{ports, units, volumes};
use crate::diag::Diagnostic;

/// Canonicalise every service of a merged, validated root tree in place.
pub fn canonical(root: &mut Node, diags: &mut Vec<Diagnostic>) {
    if let Some(services) = root.get_mut("services").and_then(Node::as_map_mut) {
        if services.len() < PARALLEL_FROM {
            for (k, svc) in services.iter_mut() {
                service(&k.name, svc, diags);
            }
            return;
        }
        // Services are canonicalised independently: the second half on another
        // thread, its diagnostics appended after the first half's (service order).
        let mid = services.len() / 2;
        let (first, second) = services.split_at_mut(mid);
        let rest = std::thread::scope(|s| {
            let rest = s.spawn(|| {
                let mut ds = Vec::new();
                for (k, svc) in second.iter_mut() {
                    service(&k.name, svc, &mut ds);
                }
                ds
            });
            for (k, svc) in first.iter_mut() {
                service(&k.name, svc, diags);
            }
            rest.join()
        });
        match rest {
            Ok(ds) => diags.extend(ds),
            Err(e) => std::panic::resume_unwind(e),
        }
    }
}

/// From this many services on, [`canonical`] uses two threads.
const PARALLEL_FROM: usize = 64;

fn key(name: &str, span: crate::source::Span) -> Key {
    Key {
        name: name.to_string(),
        span,
    }
}

/// Scalar -> string node (keeps span); `None` for null/collections.
fn to_str_node(n: &Node) -> Option<Node> {
    n.scalar_string().map(|s| Node::str(s, n.span))
}

/// Duration-valued fields of a service (paths inside it).
const DURATIONS: &[&[&str]] = &[
    &["healthcheck", "interval"],
    &["healthcheck", "timeout"],
    &["healthcheck", "start_period"],
    &["healthcheck", "start_interval"],
    &["stop_grace_period"],
    &["deploy", "update_config", "delay"],
    &["deploy", "update_config", "monitor"],
    &["deploy", "rollback_config", "delay"],
    &["deploy", "rollback_config", "monitor"],
    &["deploy", "restart_policy", "delay"],
    &["deploy", "restart_policy", "window"],
];

/// Byte-size fields of a service.
const BYTE_SIZES: &[&[&str]] = &[
    &["mem_limit"],
    &["mem_reservation"],
    &["shm_size"],
    &["deploy", "resources", "limits", "memory"],
    &["deploy", "resources", "reservations", "memory"],
];

/// Durations and byte sizes are checked here, as compose-go checks them while decoding.
fn check_units(name: &str, svc: &Node, diags: &mut Vec<Diagnostic>) {
    for path in DURATIONS {
        if let Some(n) = svc.pointer(path) {
            if let Err(e) = units::duration_from_node(n) {
                diags.push(
                    Diagnostic::error(format!(
                        "invalid duration for `{}` of service `{name}`: {e}",
                        path.join(".")
                    ))
                    .at(n.span)
                    .help("write durations like 30s, 1m30s, 1h or 500ms"),
                );
            }
        }
    }
    for path in BYTE_SIZES {
        if let Some(n) = svc.pointer(path) {
            if let Err(e) = units::bytes_from_node(n) {
                diags.push(
                    Diagnostic::error(format!(
                        "invalid byte size for `{}` of service `{name}`: {e}",
                        path.join(".")
                    ))
                    .at(n.span)
                    .help("write sizes like 512m, 1g, 256M or a number of bytes"),
                );
            }
        }
    }
}

fn service(name: &str, svc: &mut Node, diags: &mut Vec<Diagnostic>) {
    check_units(name, svc, diags);
    let Some(entries) = svc.as_map_mut() else {
        return;
    };
    for (k, v) in entries.iter_mut() {
        match k.name.as_str() {
            "build" => {
                if let Value::Str(s) = &v.value {
                    let span = v.span;
                    *v = Node::map(
                        vec![(key("context", span), Node::str(s.clone(), span))],
                        span,
                    );
                }
                if let Some(args) = v.get_mut("args") {
                    to_mapping(args, '=');
                }
                if let Some(labels) = v.get_mut("labels") {
                    to_mapping(labels, '=');
                }
            }
            "command" | "entrypoint" => shell_split(v, &k.name, name, diags),
            "environment" | "labels" | "annotations" | "sysctls" => to_mapping(v, '='),
            "extra_hosts" => extra_hosts(v, diags),
            "env_file" => env_file(v),
            "label_file" | "tmpfs" | "dns" | "dns_search" | "dns_opt" | "cap_add" | "cap_drop"
            | "external_links" | "links" | "security_opt" | "volumes_from" | "profiles" => {
                to_list_of_strings(v)
            }
            "expose" => to_list_of_strings(v),
            "ports" => ports_(v, diags),
            "volumes" => volumes_(v, diags),
            "depends_on" => depends_on(v),
            "networks" => {
                if let Value::Seq(items) = &v.value {
                    let span = v.span;
                    let m = items
                        .iter()
                        .filter_map(|i| {
                            i.scalar_string()
                                .map(|s| (key(&s, i.span), Node::null(i.span)))
                        })
                        .collect();
                    *v = Node::map(m, span);
                }
            }
            "secrets" | "configs" => file_refs(v),
            "healthcheck" => {
                if let Some(test) = v.get_mut("test") {
                    if let Value::Str(s) = &test.value {
                        let span = test.span;
                        *test = Node::new(
                            Value::Seq(vec![
                                Node::str("CMD-SHELL", span),
                                Node::str(s.clone(), span),
                            ]),
                            span,
                        );
                    }
                }
                for d in ["interval", "timeout", "start_period", "start_interval"] {
                    if let Some(n) = v.get_mut(d) {
                        if let Some(s) = to_str_node(n) {
                            *n = s;
                        }
                    }
                }
            }
            "ulimits" => {
                if let Some(m) = v.as_map_mut() {
                    for (_, l) in m.iter_mut() {
                        if let Value::Int(i) = l.value {
                            let span = l.span;
                            *l = Node::map(
                                vec![
                                    (key("soft", span), Node::new(Value::Int(i), span)),
                                    (key("hard", span), Node::new(Value::Int(i), span)),
                                ],
                                span,
                            );
                        }
                    }
                }
            }
            "user" | "stop_grace_period" | "platform" | "image" | "hostname" | "working_dir"
            | "restart" | "pull_policy" | "cgroup_parent" | "domainname" | "cpuset"
            | "mac_address" | "stop_signal" => {
                if let Some(s) = to_str_node(v) {
                    *v = s;
                }
            }
            _ => {}
        }
    }
}

/// `[K=V, K]` -> `{K: V, K: null}`; mapping values -> strings (null stays null).
fn to_mapping(v: &mut Node, sep: char) {
    let span = v.span;
    match &mut v.value {
        Value::Seq(items) => {
            let mut out: Vec<(Key, Node)> = Vec::with_capacity(items.len());
            let mut index: std::collections::HashMap<String, usize> = Default::default();
            for i in items.iter() {
                let Some(s) = i.scalar_string() else { continue };
                let (k, val) = match s.split_once(sep) {
                    Some((k, val)) => (k.to_string(), Node::str(val, i.span)),
                    None => (s.clone(), Node::null(i.span)),
                };
                match index.get(&k) {
                    Some(&at) => out[at].1 = val,
                    None => {
                        index.insert(k.clone(), out.len());
                        out.push((key(&k, i.span), val));
                    }
                }
            }
            *v = Node::map(out, span);
        }
        Value::Map(m) => {
            for (_, val) in m.iter_mut() {
                if let Some(s) = to_str_node(val) {
                    *val = s;
                }
            }
        }
        _ => {}
    }
}

fn to_list_of_strings(v: &mut Node) {
    match &mut v.value {
        Value::Seq(items) => {
            for i in items.iter_mut() {
                if let Some(s) = to_str_node(i) {
                    *i = s;
                }
            }
        }
        Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
            let span = v.span;
            if let Some(s) = to_str_node(v) {
                *v = Node::new(Value::Seq(vec![s]), span);
            }
        }
        _ => {}
    }
}

fn shell_split(v: &mut Node, field: &str, svc: &str, diags: &mut Vec<Diagnostic>) {
    match &v.value {
        Value::Str(s) => match shell_words::split(s) {
            Ok(words) => {
                let span = v.span;
                *v = Node::new(
                    Value::Seq(words.into_iter().map(|w| Node::str(w, span)).collect()),
                    span,
                );
            }
            Err(e) => diags.push(
                Diagnostic::error(format!("cannot split `{field}` of service `{svc}`: {e}"))
                    .at(v.span)
                    .help("check the quotes; or write the command as a list"),
            ),
        },
        Value::Seq(_) => to_list_of_strings(v),
        _ => {}
    }
}

fn extra_hosts(v: &mut Node, diags: &mut Vec<Diagnostic>) {
    let span = v.span;
    let mut out: Vec<(Key, Node)> = Vec::new();
    let mut push = |host: &str, ip: Node, kspan| {
        if let Some((
            _,
            Node {
                value: Value::Seq(list),
                ..
            },
        )) = out.iter_mut().find(|(k, _)| k.name == host)
        {
            list.push(ip);
        } else {
            let ispan = ip.span;
            out.push((key(host, kspan), Node::new(Value::Seq(vec![ip]), ispan)));
        }
    };
    match &v.value {
        Value::Seq(items) => {
            for i in items {
                let Some(s) = i.scalar_string() else { continue };
                // `host=ip` (preferred) or `host:ip` (ip may itself contain `:`).
                let split = s.split_once('=').or_else(|| s.split_once(':'));
                match split {
                    Some((h, ip)) => push(
                        h,
                        Node::str(ip.trim_start_matches('[').trim_end_matches(']'), i.span),
                        i.span,
                    ),
                    None => diags.push(
                        Diagnostic::error(format!("invalid extra_hosts entry \"{s}\""))
                            .at(i.span)
                            .help("write it as HOST=IP or HOST:IP"),
                    ),
                }
            }
        }
        Value::Map(m) => {
            for (k, val) in m {
                match &val.value {
                    Value::Seq(ips) => {
                        for ip in ips {
                            if let Some(s) = to_str_node(ip) {
                                push(&k.name, s, k.span);
                            }
                        }
                    }
                    _ => {
                        if let Some(s) = to_str_node(val) {
                            push(&k.name, s, k.span);
                        }
                    }
                }
            }
        }
        _ => return,
    }
    *v = Node::map(out, span);
}

fn env_file(v: &mut Node) {
    let span = v.span;
    let items: Vec<Node> = match &v.value {
        Value::Str(_) => vec![v.clone()],
        Value::Seq(items) => items.clone(),
        _ => return,
    };
    let out = items
        .into_iter()
        .map(|i| match i.value {
            Value::Str(s) => Node::map(
                vec![
                    (key("path", i.span), Node::str(s, i.span)),
                    (
                        key("required", i.span),
                        Node::new(Value::Bool(true), i.span),
                    ),
                ],
                i.span,
            ),
            _ => i,
        })
        .collect();
    *v = Node::new(Value::Seq(out), span);
}

fn ports_(v: &mut Node, diags: &mut Vec<Diagnostic>) {
    let Value::Seq(items) = &v.value else { return };
    let span = v.span;
    let mut out = Vec::new();
    for i in items {
        match &i.value {
            Value::Map(_) => {
                let mut m = i.clone();
                for f in [
                    "published",
                    "host_ip",
                    "name",
                    "app_protocol",
                    "mode",
                    "protocol",
                ] {
                    if let Some(n) = m.get_mut(f) {
                        if let Some(s) = to_str_node(n) {
                            *n = s;
                        }
                    }
                }
                if m.get("protocol").is_none() {
                    m.set("protocol", Node::str("tcp", i.span));
                }
                if m.get("mode").is_none() {
                    m.set("mode", Node::str("ingress", i.span));
                }
                out.push(m);
            }
            _ => {
                let Some(spec) = i.scalar_string() else {
                    continue;
                };
                match ports::parse_port(&spec) {
                    Ok(list) => {
                        for p in list {
                            let j = serde_json::to_value(&p).unwrap_or_default();
                            out.push(Node::from_json(&j, i.span));
                        }
                    }
                    Err(e) => diags.push(
                        Diagnostic::error(format!("invalid port \"{spec}\": {e}"))
                            .at(i.span)
                            .help("use [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. \"8080:80\" or \"53:53/udp\""),
                    ),
                }
            }
        }
    }
    *v = Node::new(Value::Seq(out), span);
}

fn volumes_(v: &mut Node, diags: &mut Vec<Diagnostic>) {
    let Value::Seq(items) = &mut v.value else {
        return;
    };
    for i in items.iter_mut() {
        match &i.value {
            Value::Str(spec) => match volumes::parse_volume(spec) {
                Ok(vs) => {
                    let j = serde_json::to_value(&vs).unwrap_or_default();
                    *i = Node::from_json(&j, i.span);
                }
                Err(e) => diags.push(
                    Diagnostic::error(format!("invalid volume \"{spec}\": {e}"))
                        .at(i.span)
                        .help("use SOURCE:TARGET[:MODE], e.g. \"data:/var/lib/data\" or \"./conf:/etc/app:ro\""),
                ),
            },
            Value::Map(_) => {
                if let Some(size) = i.get("tmpfs").and_then(|t| t.get("size")).cloned() {
                    match units::bytes_from_node(&size) {
                        Ok(b) => {
                            if let Some(t) = i.get_mut("tmpfs") {
                                t.set("size", Node::new(Value::Int(b as i64), size.span));
                            }
                        }
                        Err(e) => diags.push(
                            Diagnostic::error(format!("invalid tmpfs size: {e}")).at(size.span),
                        ),
                    }
                }
            }
            _ => {}
        }
    }
}

fn depends_on(v: &mut Node) {
    let span = v.span;
    match &mut v.value {
        Value::Seq(items) => {
            let m = items
                .iter()
                .filter_map(|i| {
                    let s = i.scalar_string()?;
                    Some((
                        key(&s, i.span),
                        Node::map(
                            vec![
                                (
                                    key("condition", i.span),
                                    Node::str("service_started", i.span),
                                ),
                                (
                                    key("required", i.span),
                                    Node::new(Value::Bool(true), i.span),
                                ),
                            ],
                            i.span,
                        ),
                    ))
                })
                .collect();
            *v = Node::map(m, span);
        }
        Value::Map(m) => {
            for (_, d) in m.iter_mut() {
                if d.is_null() {
                    *d = Node::map(Vec::new(), d.span);
                }
                if d.get("condition").is_none() {
                    d.set("condition", Node::str("service_started", d.span));
                }
                if d.get("required").is_none() {
                    d.set("required", Node::new(Value::Bool(true), d.span));
                }
            }
        }
        _ => {}
    }
}

fn file_refs(v: &mut Node) {
    let Value::Seq(items) = &mut v.value else {
        return;
    };
    for i in items.iter_mut() {
        if let Value::Str(s) = &i.value {
            let span = i.span;
            *i = Node::map(
                vec![(key("source", span), Node::str(s.clone(), span))],
                span,
            );
        } else if let Some(m) = i.as_map_mut() {
            for (k, val) in m.iter_mut() {
                if matches!(k.name.as_str(), "uid" | "gid" | "target") {
                    if let Some(s) = to_str_node(val) {
                        *val = s;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::yaml;
    use crate::source::FileId;

    /// Many services are canonicalised on two threads with the one-thread result:
    /// same trees, same diagnostics in the same order.
    #[test]
    fn two_threads_same_as_one() {
        let mut text = String::from("services:\n");
        for i in 0..(2 * PARALLEL_FROM + 3) {
            text.push_str(&format!(
                "  s{i}:\n    image: x\n    ports: [\"80{}:80\", \"{}\"]\n    volumes: [\"./d{i}:/d\"]\n    healthcheck:\n      interval: {}\n",
                i % 10,
                if i % 9 == 0 { "bad:port:x:y" } else { "9000/udp" },
                if i % 11 == 0 { "10 parsecs" } else { "5s" },
            ));
        }
        let root = yaml::parse(&text, FileId(0)).unwrap().remove(0);
        let mut two = root.clone();
        let mut two_diags = Vec::new();
        canonical(&mut two, &mut two_diags);
        let mut one = root;
        let mut one_diags = Vec::new();
        if let Some(services) = one.get_mut("services").and_then(Node::as_map_mut) {
            for (k, svc) in services.iter_mut() {
                service(&k.name, svc, &mut one_diags);
            }
        }
        assert_eq!(one, two);
        assert_eq!(one_diags, two_diags);
        assert!(one_diags.len() > 10);
    }
}
