//! The output self-check, run on every fixture and corpus output: the manifests of one
//! `build` must be consistent among themselves, whatever a schema validator says.
//! - every reference resolves (envFrom, configMapKeyRef, secretKeyRef, volumes ->
//!   ConfigMap / Secret / PVC or claim template, volumeMounts -> volumes), except to
//!   objects that stderr names as external ("... create them before deploying: ...");
//! - every Service selector matches the pod labels of some workload;
//! - every string targetPort names a container port of the selected pods;
//! - port names are valid IANA_SVC_NAMEs, unique per pod and per Service; no two
//!   Service ports share port and protocol;
//! - every name is valid for its kind;
//! - no variable with a sensitive-looking name has a literal value in a pod spec or a
//!   ConfigMap;
//! - no exec probe holds a shell string without a shell.

use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};

fn s<'a>(v: &'a Json, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn arr<'a>(v: &'a Json, key: &str) -> &'a [Json] {
    v.get(key)
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn is_dns1123_label(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !n.starts_with('-')
        && !n.ends_with('-')
}

fn is_dns1123_subdomain(n: &str) -> bool {
    n.len() <= 253 && n.split('.').all(is_dns1123_label)
}

fn is_dns1035_label(n: &str) -> bool {
    is_dns1123_label(n) && n.as_bytes()[0].is_ascii_lowercase()
}

fn is_iana_svc_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 15
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && n.bytes().any(|b| b.is_ascii_lowercase())
        && !n.starts_with('-')
        && !n.ends_with('-')
        && !n.contains("--")
}

fn looks_sensitive(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    if n.ends_with("_FILE") {
        return false;
    }
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "CREDENTIAL",
        "PRIVATE",
    ]
    .iter()
    .any(|p| n.contains(p))
        || n.ends_with("_PASS")
        || n.ends_with("_KEY")
}

const SHELLS: &[&str] = &[
    "sh",
    "bash",
    "ash",
    "dash",
    "zsh",
    "/bin/sh",
    "/bin/bash",
    "/bin/ash",
    "/usr/bin/env",
    "/bin/dash",
    "/usr/bin/bash",
];

fn shell_string_without_shell(cmd: &[Json]) -> bool {
    let words: Vec<&str> = cmd.iter().filter_map(Json::as_str).collect();
    let Some(first) = words.first() else {
        return false;
    };
    if SHELLS.contains(first) {
        return false;
    }
    if words.len() == 1 && first.contains(' ') {
        return true;
    }
    words.iter().any(|w| {
        ["||", "&&", "|", ";", ">", "<", "$("]
            .iter()
            .any(|op| *w == *op || w.contains("$("))
    })
}

/// External objects named in the warnings on stderr.
fn external(stderr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in stderr.lines() {
        if let Some((_, list)) = line.split_once("create them before deploying: ") {
            for item in list.split(", ") {
                out.insert(item.trim().to_string());
            }
        }
    }
    out
}

struct Pod<'a> {
    owner: String,
    labels: BTreeMap<String, String>,
    spec: &'a Json,
    claim_templates: BTreeSet<String>,
}

pub fn check_stream(stdout: &str, stderr: &str) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let mut docs: Vec<Json> = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(stdout) {
        match <Json as serde::Deserialize>::deserialize(doc) {
            Ok(Json::Null) => {}
            Ok(v) => docs.push(v),
            Err(e) => problems.push(format!("output is not valid YAML: {e}")),
        }
    }
    let ext = external(stderr);
    let mut objects: BTreeSet<String> = BTreeSet::new();
    let mut cm_keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut secret_keys: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for d in &docs {
        let kind = s(d, &["kind"]).unwrap_or("");
        let name = s(d, &["metadata", "name"]).unwrap_or("");
        objects.insert(format!("{kind}/{name}"));
        let valid = match kind {
            "Service" => is_dns1035_label(name),
            "Namespace" => is_dns1123_label(name),
            _ => is_dns1123_subdomain(name),
        };
        if !valid {
            problems.push(format!("{kind} name `{name}` is not valid for its kind"));
        }
        let keys = |field: &str| -> BTreeSet<String> {
            d.get(field)
                .and_then(Json::as_object)
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default()
        };
        match kind {
            "ConfigMap" => {
                let mut k = keys("data");
                k.extend(keys("binaryData"));
                // Environment ConfigMaps (`<service>-env`, maybe hash-suffixed) must not
                // hold sensitive-looking variables; other ConfigMaps are file contents.
                let env_cm = name.ends_with("-env")
                    || name
                        .rsplit_once('-')
                        .is_some_and(|(base, _)| base.ends_with("-env"));
                for key in keys("data").into_iter().filter(|_| env_cm) {
                    if looks_sensitive(&key) {
                        problems.push(format!("ConfigMap/{name} holds sensitive-looking `{key}`"));
                    }
                }
                cm_keys.insert(name.to_string(), k);
            }
            "Secret" => {
                if d.get("stringData").is_some() {
                    problems.push(format!("Secret/{name} uses stringData"));
                }
                secret_keys.insert(name.to_string(), keys("data"));
            }
            _ => {}
        }
    }
    let exists = |kind: &str, name: &str| {
        let id = format!("{kind}/{name}");
        objects.contains(&id) || ext.contains(&id)
    };

    // Pods.
    let mut pods: Vec<Pod> = Vec::new();
    for d in &docs {
        let kind = s(d, &["kind"]).unwrap_or("");
        let name = s(d, &["metadata", "name"]).unwrap_or("");
        let template = match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" => d.pointer("/spec/template"),
            "CronJob" => d.pointer("/spec/jobTemplate/spec/template"),
            _ => None,
        };
        let Some(t) = template else { continue };
        let labels = t
            .pointer("/metadata/labels")
            .and_then(Json::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let claim_templates = arr(d.get("spec").unwrap_or(&Json::Null), "volumeClaimTemplates")
            .iter()
            .filter_map(|c| s(c, &["metadata", "name"]).map(String::from))
            .collect();
        if let Some(spec) = t.get("spec") {
            pods.push(Pod {
                owner: format!("{kind}/{name}"),
                labels,
                spec,
                claim_templates,
            });
        }
    }
    for pod in &pods {
        let o = &pod.owner;
        let mut vol_names = BTreeSet::new();
        for v in arr(pod.spec, "volumes") {
            let vn = s(v, &["name"]).unwrap_or("");
            if !is_dns1123_label(vn) {
                problems.push(format!("{o}: volume name `{vn}` is not a DNS-1123 label"));
            }
            if !vol_names.insert(vn.to_string()) {
                problems.push(format!("{o}: duplicate volume `{vn}`"));
            }
            if let Some(cm) = s(v, &["configMap", "name"]) {
                if !exists("ConfigMap", cm) {
                    problems.push(format!(
                        "{o}: volume `{vn}` refers to missing ConfigMap/{cm}"
                    ));
                }
            }
            if let Some(sec) = s(v, &["secret", "secretName"]) {
                if !exists("Secret", sec) {
                    problems.push(format!("{o}: volume `{vn}` refers to missing Secret/{sec}"));
                }
            }
            if let Some(c) = s(v, &["persistentVolumeClaim", "claimName"]) {
                if !exists("PersistentVolumeClaim", c) {
                    problems.push(format!(
                        "{o}: volume `{vn}` refers to missing PersistentVolumeClaim/{c}"
                    ));
                }
            }
        }
        vol_names.extend(pod.claim_templates.iter().cloned());
        let mut port_names = BTreeSet::new();
        let containers: Vec<&Json> = arr(pod.spec, "containers")
            .iter()
            .chain(arr(pod.spec, "initContainers"))
            .collect();
        for c in containers {
            let cn = s(c, &["name"]).unwrap_or("");
            if !is_dns1123_label(cn) {
                problems.push(format!(
                    "{o}: container name `{cn}` is not a DNS-1123 label"
                ));
            }
            for m in arr(c, "volumeMounts") {
                let mn = s(m, &["name"]).unwrap_or("");
                if !vol_names.contains(mn) {
                    problems.push(format!("{o}: volumeMount `{mn}` has no volume"));
                }
            }
            for p in arr(c, "ports") {
                if let Some(pn) = s(p, &["name"]) {
                    if !is_iana_svc_name(pn) {
                        problems.push(format!(
                            "{o}: port name `{pn}` is not a valid IANA_SVC_NAME"
                        ));
                    }
                    if !port_names.insert(pn.to_string()) {
                        problems.push(format!("{o}: port name `{pn}` is used twice in the pod"));
                    }
                }
            }
            for ef in arr(c, "envFrom") {
                if let Some(n) = s(ef, &["configMapRef", "name"]) {
                    if !exists("ConfigMap", n) {
                        problems.push(format!("{o}: envFrom refers to missing ConfigMap/{n}"));
                    }
                }
                if let Some(n) = s(ef, &["secretRef", "name"]) {
                    if !exists("Secret", n) {
                        problems.push(format!("{o}: envFrom refers to missing Secret/{n}"));
                    }
                }
            }
            for e in arr(c, "env") {
                let en = s(e, &["name"]).unwrap_or("");
                if e.get("value").is_some() && looks_sensitive(en) {
                    problems.push(format!("{o}: sensitive-looking `{en}` has a literal value"));
                }
                for (kind, field, keys) in [
                    ("ConfigMap", "configMapKeyRef", &cm_keys),
                    ("Secret", "secretKeyRef", &secret_keys),
                ] {
                    if let Some(r) = e.pointer(&format!("/valueFrom/{field}")) {
                        let n = s(r, &["name"]).unwrap_or("");
                        let k = s(r, &["key"]).unwrap_or("");
                        let id = format!("{kind}/{n}");
                        if ext.contains(&id) {
                            continue;
                        }
                        match keys.get(n) {
                            None => {
                                problems.push(format!("{o}: env `{en}` refers to missing {id}"))
                            }
                            Some(ks) if !ks.contains(k) => problems.push(format!(
                                "{o}: env `{en}` refers to missing key `{k}` of {id}"
                            )),
                            _ => {}
                        }
                    }
                }
            }
            for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
                if let Some(cmd) = c
                    .pointer(&format!("/{probe}/exec/command"))
                    .and_then(Json::as_array)
                {
                    if shell_string_without_shell(cmd) {
                        problems.push(format!(
                            "{o}: {probe} runs a shell string without a shell: {cmd:?}"
                        ));
                    }
                }
            }
        }
    }
    // Services.
    for d in &docs {
        if s(d, &["kind"]) != Some("Service") {
            continue;
        }
        let name = s(d, &["metadata", "name"]).unwrap_or("");
        let o = format!("Service/{name}");
        let selector: BTreeMap<String, String> = d
            .pointer("/spec/selector")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let selected: Vec<&Pod> = pods
            .iter()
            .filter(|p| {
                !selector.is_empty() && selector.iter().all(|(k, v)| p.labels.get(k) == Some(v))
            })
            .collect();
        if !selector.is_empty() && selected.is_empty() {
            problems.push(format!("{o}: selector matches no workload's pods"));
        }
        let mut names = BTreeSet::new();
        let mut port_proto = BTreeSet::new();
        for p in arr(d.get("spec").unwrap_or(&Json::Null), "ports") {
            let pn = s(p, &["name"]).unwrap_or("");
            if !pn.is_empty() && !is_iana_svc_name(pn) {
                problems.push(format!(
                    "{o}: port name `{pn}` is not a valid IANA_SVC_NAME"
                ));
            }
            if !names.insert(pn.to_string()) {
                problems.push(format!("{o}: port name `{pn}` is used twice"));
            }
            let port = p.get("port").and_then(Json::as_i64).unwrap_or(0);
            let proto = s(p, &["protocol"]).unwrap_or("TCP").to_string();
            if !port_proto.insert((port, proto.clone())) {
                problems.push(format!("{o}: two ports share {port}/{proto}"));
            }
            if let Some(tp) = p.get("targetPort").and_then(Json::as_str) {
                let found = selected.iter().any(|pod| {
                    arr(pod.spec, "containers").iter().any(|c| {
                        arr(c, "ports")
                            .iter()
                            .any(|cp| s(cp, &["name"]) == Some(tp))
                    })
                });
                if !found {
                    problems.push(format!("{o}: targetPort `{tp}` names no container port"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
