//! The output stage: finished [`Manifest`]s -> bytes. It owns the text formats (a YAML
//! multi-document stream, a JSON `v1` List, one file per object, a kustomize directory)
//! and the file layout of directory output; [`write`] is the only place that touches
//! the file system. It must not change objects (no defaulting, renaming or reordering:
//! manifests are written in the order given, callers sort with
//! [`crate::k8s::sort_manifests`]) and rendering is deterministic: the same manifests
//! give the same bytes on every machine.

pub mod write;
pub mod yaml;

use crate::k8s::{Manifest, Object};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Kustomize,
}

/// Name of the kustomization file written by [`Format::Kustomize`].
pub const KUSTOMIZATION_FILE: &str = "kustomization.yaml";

/// Why rendering failed. Objects built by `lower` always render; this reports a
/// `Serialize` impl that refused (e.g. a map with non-string keys).
pub use yaml::Error;

/// One multi-document YAML stream: documents separated by `---` lines, ending with a
/// newline; no manifests give the empty string.
pub fn render_stream(ms: &[Manifest]) -> Result<String, Error> {
    Ok(render_stream_parts(ms)?.concat())
}

/// [`render_stream`] as consecutive parts whose concatenation is the stream, for
/// writers that can take them one after the other: a large stream is never copied
/// into one buffer, and no buffer outgrows its content by more than one part.
pub fn render_stream_parts(ms: &[Manifest]) -> Result<Vec<String>, Error> {
    // Large streams are rendered in two halves at once (documents are independent);
    // the bytes are the same as rendering them in one go.
    if ms.len() >= PARALLEL_FROM {
        let (first, second) = ms.split_at(ms.len() / 2);
        let (out, rest) = std::thread::scope(|s| {
            let rest = s.spawn(|| render_parts(second, true));
            (render_parts(first, false), rest.join())
        });
        return match rest {
            Ok(rest) => {
                let mut out = out?;
                out.extend(rest?);
                Ok(out)
            }
            Err(e) => std::panic::resume_unwind(e),
        };
    }
    render_parts(ms, false)
}

/// Bytes per part: a part is closed once it holds more than `PART - SLACK` bytes, so
/// parts are few and a part's unused capacity is small (a document larger than what
/// is left grows its part, rarely).
const PART: usize = 64 * 1024;
const SLACK: usize = 4 * 1024;

/// Below this many manifests a second thread costs more than it saves.
const PARALLEL_FROM: usize = 256;

/// `ms` rendered in parts of at most about [`PART`] bytes; `after` says whether a
/// document precedes these (so the first needs a `---` separator too).
fn render_parts(ms: &[Manifest], after: bool) -> Result<Vec<String>, Error> {
    let mut parts = Vec::new();
    let mut out = String::new();
    for (i, m) in ms.iter().enumerate() {
        if out.len() > PART - SLACK {
            parts.push(std::mem::take(&mut out));
        }
        if out.capacity() == 0 {
            out.reserve_exact(PART);
        }
        if after || i > 0 {
            out.push_str("---\n");
        }
        yaml::write_document(&mut out, &m.body)?;
    }
    if !out.is_empty() {
        parts.push(out);
    }
    Ok(parts)
}

/// All manifests as one pretty-printed (2-space) JSON `v1` List, ending with a newline.
pub fn render_json_list(ms: &[Manifest]) -> Result<String, Error> {
    #[derive(Serialize)]
    struct List<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        kind: &'static str,
        items: Vec<&'a Object>,
    }
    let list = List {
        api_version: "v1",
        kind: "List",
        items: ms.iter().map(|m| &m.body).collect(),
    };
    pretty_json(&list)
}

fn pretty_json<T: Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    let mut out = serde_json::to_string_pretty(v).map_err(serde::ser::Error::custom)?;
    out.push('\n');
    Ok(out)
}

/// Directory output: `(relative path, content)` pairs, one file per object in the
/// order given. [`Format::Yaml`] and [`Format::Kustomize`] write `<name>-<kind>.yaml`,
/// [`Format::Json`] `<name>-<kind>.json` (see [`file_names`] for the exact rule);
/// kustomize adds [`KUSTOMIZATION_FILE`] listing the resources in order, with
/// `namespace:` when [`shared_namespace`] finds one.
pub fn render_files(ms: &[Manifest], format: Format) -> Result<Vec<(String, String)>, Error> {
    let ext = if format == Format::Json {
        "json"
    } else {
        "yaml"
    };
    let names = file_names(ms, ext);
    let mut files: Vec<(String, String)> = Vec::with_capacity(ms.len() + 1);
    for (m, name) in ms.iter().zip(&names) {
        let content = match format {
            Format::Json => pretty_json(&m.body)?,
            Format::Yaml | Format::Kustomize => yaml::to_string(&m.body)?,
        };
        files.push((name.clone(), content));
    }
    if format == Format::Kustomize {
        #[derive(Serialize)]
        struct Kustomization<'a> {
            #[serde(rename = "apiVersion")]
            api_version: &'static str,
            kind: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            namespace: Option<&'a str>,
            resources: &'a [String],
        }
        let k = Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            namespace: shared_namespace(ms),
            resources: &names,
        };
        files.push((KUSTOMIZATION_FILE.to_string(), yaml::to_string(&k)?));
    }
    Ok(files)
}

/// Kinds that have no namespace and that kustomize's namespace transformer leaves
/// alone (`Namespace` is cluster-scoped too, but the transformer *renames* it).
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// The namespace to put in `kustomization.yaml`, if setting it changes nothing: at
/// least one object has a namespace, all namespaced objects have that same one, and
/// every object without a namespace is either a known cluster-scoped kind (which
/// kustomize skips) or the `Namespace` object of that very name (which kustomize's
/// transformer would otherwise rename to it). Unknown kinds without a namespace veto
/// it, since kustomize would add the namespace to them.
pub fn shared_namespace(ms: &[Manifest]) -> Option<&str> {
    let ns = ms.iter().find_map(|m| m.namespace.as_deref())?;
    let ok = ms.iter().all(|m| match m.namespace.as_deref() {
        Some(other) => other == ns,
        None if m.kind == "Namespace" => m.name == ns,
        None => CLUSTER_SCOPED.contains(&m.kind.as_str()),
    });
    ok.then_some(ns)
}

/// Longest file stem we produce before shortening (names can be 253 characters and
/// namespaces 63; most file systems allow 255 bytes per name).
const MAX_STEM: usize = 200;

/// File names for directory output, parallel to `ms`, all distinct, never
/// [`KUSTOMIZATION_FILE`], each a single safe path component:
///
/// 1. stem `<name>-<kind>` after lowercasing and replacing every character outside
///    `[a-z0-9.-]` by `_` (and a leading `.` by `_`, an empty part by `_`), so no
///    name can escape the directory or differ only in case;
/// 2. when several objects share that stem, those with a namespace become
///    `<namespace>_<name>-<kind>` (`_` never occurs in valid Kubernetes names);
/// 3. stems over 200 bytes are cut to 191 and get `-` plus 8 hex digits of the
///    SHA-256 of the full stem;
/// 4. if stems still collide, the first keeps it and later ones (in input order) get
///    `-2`, `-3`, ... (skipping any stem that is taken).
pub fn file_names(ms: &[Manifest], ext: &str) -> Vec<String> {
    let base: Vec<String> = ms
        .iter()
        .map(|m| format!("{}-{}", sanitize(&m.name), sanitize(&m.kind)))
        .collect();
    let mut count: HashMap<&str, usize> = HashMap::with_capacity(ms.len());
    for b in &base {
        *count.entry(b.as_str()).or_default() += 1;
    }
    let stems: Vec<String> = ms
        .iter()
        .zip(&base)
        .map(|(m, b)| {
            let stem = match &m.namespace {
                Some(ns) if count.get(b.as_str()).copied().unwrap_or(0) > 1 => {
                    format!("{}_{}", sanitize(ns), b)
                }
                _ => b.clone(),
            };
            shorten(stem)
        })
        .collect();

    let reserved = format!(".{ext}");
    let kustomization_stem = KUSTOMIZATION_FILE.strip_suffix(reserved.as_str());
    let mut count: HashMap<&str, usize> = HashMap::with_capacity(ms.len());
    for s in &stems {
        *count.entry(s.as_str()).or_default() += 1;
    }
    let mut used: HashSet<String> = HashSet::with_capacity(ms.len() + 1);
    if let Some(k) = kustomization_stem {
        used.insert(k.to_string());
    }
    for s in &stems {
        if count.get(s.as_str()) == Some(&1) {
            used.insert(s.clone());
        }
    }
    let mut next: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(ms.len());
    for s in &stems {
        let unique = count.get(s.as_str()) == Some(&1) && Some(s.as_str()) != kustomization_stem;
        let stem = if unique || used.insert(s.clone()) {
            s.clone()
        } else {
            let n = next.entry(s.as_str()).or_insert(2);
            loop {
                let candidate = format!("{s}-{n}");
                *n += 1;
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            }
        };
        out.push(format!("{stem}.{ext}"));
    }
    out
}

fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .enumerate()
        .map(|(i, c)| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            '.' if i > 0 => '.',
            _ => '_',
        })
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    out
}

fn shorten(stem: String) -> String {
    if stem.len() <= MAX_STEM {
        return stem;
    }
    let digest = Sha256::digest(stem.as_bytes());
    let mut out = String::with_capacity(MAX_STEM);
    // The stem is ASCII after sanitising, so any byte index is a char boundary; be
    // safe anyway.
    let mut cut = MAX_STEM - 9;
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push_str(&stem[..cut]);
    out.push('-');
    for b in digest.iter().take(4) {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// A manifest of `kind`; kinds we never emit (cluster-scoped ones, made-up ones)
    /// carry a ConfigMap body, since only their `kind` and names matter here.
    fn m(kind: &str, name: &str, ns: Option<&str>) -> Manifest {
        let mut meta = json!({ "name": name });
        if let Some(ns) = ns {
            meta["namespace"] = json!(ns);
        }
        let api = match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
            "Ingress" | "NetworkPolicy" => "networking.k8s.io/v1",
            _ => "v1",
        };
        let body = json!({ "apiVersion": api, "kind": kind, "metadata": meta });
        Manifest::from_json(body, None).unwrap_or_else(|_| {
            let cm = json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta });
            let mut m = Manifest::from_json(cm, None).unwrap();
            m.kind = kind.into();
            m
        })
    }

    #[test]
    fn stream_in_halves_and_parts_is_the_same() {
        for n in [
            1,
            2,
            PARALLEL_FROM - 1,
            PARALLEL_FROM,
            PARALLEL_FROM + 1,
            3 * PARALLEL_FROM,
            3000,
        ] {
            let ms: Vec<Manifest> = (0..n)
                .map(|i| m("ConfigMap", &format!("c{i}"), (i % 3 == 0).then_some("ns")))
                .collect();
            let one_by_one: Vec<String> = ms
                .iter()
                .map(|m| yaml::to_string(&m.body).unwrap())
                .collect();
            let parts = render_stream_parts(&ms).unwrap();
            assert_eq!(parts.concat(), one_by_one.join("---\n"), "{n}");
            assert_eq!(render_stream(&ms).unwrap(), parts.concat(), "{n}");
            // Parts stay near PART bytes (these documents are small); each but the
            // first starts with a separator.
            for (i, p) in parts.iter().enumerate() {
                assert!(p.len() <= PART, "{n}: {}", p.len());
                assert!(p.capacity() <= PART, "{n}: {}", p.capacity());
                assert_eq!(p.starts_with("---\n"), i > 0, "{n}");
            }
            if n == 3000 {
                assert!(parts.len() > 2, "{n}: {} parts", parts.len());
            }
        }
    }

    #[test]
    fn stream() {
        assert_eq!(render_stream(&[]).unwrap(), "");
        let ms = [m("ConfigMap", "a", None), m("Service", "yes", Some("on"))];
        assert_eq!(
            render_stream(&ms).unwrap(),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n\
             apiVersion: v1\nkind: Service\nmetadata:\n  name: 'yes'\n  namespace: 'on'\n"
        );
    }

    #[test]
    fn json_list() {
        assert_eq!(
            render_json_list(&[]).unwrap(),
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": []\n}\n"
        );
        let out = render_json_list(&[m("ConfigMap", "a", None)]).unwrap();
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["items"][0]["metadata"]["name"], "a");
        assert!(out.ends_with("}\n"));
    }

    #[test]
    fn file_name_table() {
        type Case<'a> = (&'a [(&'a str, &'a str, Option<&'a str>)], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[("Service", "web", None)], &["web-service.yaml"]),
            (
                &[("Service", "web", None), ("Deployment", "web", None)],
                &["web-service.yaml", "web-deployment.yaml"],
            ),
            // same name+kind in two namespaces
            (
                &[("Service", "web", Some("a")), ("Service", "web", Some("b"))],
                &["a_web-service.yaml", "b_web-service.yaml"],
            ),
            (
                &[("Service", "web", None), ("Service", "web", Some("b"))],
                &["web-service.yaml", "b_web-service.yaml"],
            ),
            // exact duplicates, and a name that looks like a generated one
            (
                &[
                    ("Service", "web", None),
                    ("Service", "web", None),
                    ("Service", "web-service-2", None),
                ],
                &[
                    "web-service.yaml",
                    "web-service-2.yaml",
                    "web-service-2-service.yaml",
                ],
            ),
            (
                &[
                    ("Service", "web", None),
                    ("Service", "web", None),
                    ("Service-2", "web", None),
                ],
                &[
                    "web-service.yaml",
                    "web-service-3.yaml",
                    "web-service-2.yaml",
                ],
            ),
            // path tricks and case
            (
                &[
                    ("ConfigMap", "../../etc/passwd", None),
                    ("ConfigMap", "Web", None),
                    ("ConfigMap", "web", None),
                    ("ConfigMap", "", None),
                    ("ConfigMap", "a/b\\c", None),
                ],
                &[
                    "_._.._etc_passwd-configmap.yaml",
                    "web-configmap.yaml",
                    "web-configmap-2.yaml",
                    "_-configmap.yaml",
                    "a_b_c-configmap.yaml",
                ],
            ),
        ];
        for (input, want) in cases {
            let ms: Vec<Manifest> = input.iter().map(|(k, n, ns)| m(k, n, *ns)).collect();
            assert_eq!(file_names(&ms, "yaml"), *want, "{input:?}");
        }
    }

    #[test]
    fn duplicates_exercise_rename() {
        // The `-2` suffix must not collide with an existing stem.
        let ms = [
            m("X", "a", None),
            m("X", "a", None),
            m("X", "a-x-2", None), // stem "a-x-2-x", no clash
            m("Y", "a-x", None),   // stem "a-x-y"
        ];
        let names = file_names(&ms, "yaml");
        assert_eq!(
            names,
            ["a-x.yaml", "a-x-2.yaml", "a-x-2-x.yaml", "a-x-y.yaml"]
        );
        // never the kustomization file
        let k = [m("", "kustomization", None)];
        assert_eq!(file_names(&k, "yaml"), ["kustomization-_.yaml"]);
    }

    #[test]
    fn long_names_are_shortened() {
        let long = "a".repeat(253);
        let names = file_names(&[m("ConfigMap", &long, Some(&"n".repeat(63)))], "yaml");
        assert!(names[0].len() <= MAX_STEM + 5, "{}", names[0]);
        assert!(names[0].starts_with("aaaa"));
        let two = file_names(
            &[
                m("ConfigMap", &long, Some("x")),
                m("ConfigMap", &long, Some("y")),
            ],
            "yaml",
        );
        assert_ne!(two[0], two[1]);
    }

    #[test]
    fn many_duplicates_are_linear_enough() {
        let ms: Vec<Manifest> = (0..5000).map(|_| m("ConfigMap", "same", None)).collect();
        let names = file_names(&ms, "yaml");
        let set: HashSet<&String> = names.iter().collect();
        assert_eq!(set.len(), 5000);
    }

    #[test]
    fn yaml_and_json_files() {
        let ms = [m("ConfigMap", "a", None), m("Service", "b", Some("ns"))];
        let files = render_files(&ms, Format::Yaml).unwrap();
        assert_eq!(
            files,
            vec![
                (
                    "a-configmap.yaml".to_string(),
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n".to_string()
                ),
                (
                    "b-service.yaml".to_string(),
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: ns\n"
                        .to_string()
                ),
            ]
        );
        let files = render_files(&ms, Format::Json).unwrap();
        assert_eq!(files[0].0, "a-configmap.json");
        assert!(files[0].1.starts_with("{\n  \"apiVersion\": \"v1\",\n"));
        assert!(files[0].1.ends_with("}\n"));
    }

    #[test]
    fn kustomization() {
        let ms = [
            m("Namespace", "shop", None),
            m("ConfigMap", "cfg", Some("shop")),
            m("Service", "web", Some("shop")),
            m("ClusterRole", "reader", None),
        ];
        let files = render_files(&ms, Format::Kustomize).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "shop-namespace.yaml",
                "cfg-configmap.yaml",
                "web-service.yaml",
                "reader-clusterrole.yaml",
                "kustomization.yaml"
            ]
        );
        assert_eq!(
            files[4].1,
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
             namespace: shop\nresources:\n- shop-namespace.yaml\n- cfg-configmap.yaml\n\
             - web-service.yaml\n- reader-clusterrole.yaml\n"
        );
        let empty = render_files(&[], Format::Kustomize).unwrap();
        assert_eq!(
            empty,
            vec![(
                "kustomization.yaml".to_string(),
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n"
                    .to_string()
            )]
        );
    }

    #[test]
    fn shared_namespace_table() {
        type Case<'a> = (&'a [(&'a str, &'a str, Option<&'a str>)], Option<&'a str>);
        let cases: &[Case] = &[
            (&[], None),
            (&[("ConfigMap", "a", None)], None),
            (&[("ConfigMap", "a", Some("x"))], Some("x")),
            (
                &[("ConfigMap", "a", Some("x")), ("Service", "b", Some("y"))],
                None,
            ),
            (
                &[("ConfigMap", "a", Some("x")), ("Service", "b", None)],
                None,
            ),
            (
                &[("ConfigMap", "a", Some("x")), ("Namespace", "x", None)],
                Some("x"),
            ),
            (
                &[("ConfigMap", "a", Some("x")), ("Namespace", "z", None)],
                None,
            ),
            (
                &[("ConfigMap", "a", Some("x")), ("StorageClass", "s", None)],
                Some("x"),
            ),
            (
                &[("ConfigMap", "a", Some("x")), ("Widget", "w", None)],
                None,
            ),
        ];
        for (input, want) in cases {
            let ms: Vec<Manifest> = input.iter().map(|(k, n, ns)| m(k, n, *ns)).collect();
            assert_eq!(shared_namespace(&ms), *want, "{input:?}");
        }
    }
}
