//! The resolved project as `compose2k8s config` prints it (like `docker compose
//! config`): canonical long syntax, interpolated, environment resolved (variables
//! declared but unset are dropped), profiles applied; `name` first, then sections in compose order, keys inside
//! them sorted. Pure.

use crate::compose::model::Project;
use serde_json::{Map, Value as Json};

/// The printable form of a project.
pub fn project_json(p: &Project) -> Json {
    let mut root = Map::new();
    root.insert("name".into(), Json::String(p.name.clone()));
    let mut services = Map::new();
    for (name, svc) in &p.services {
        let mut j = svc.node.to_json();
        if let Json::Object(m) = &mut j {
            let env: Map<String, Json> = svc
                .environment
                .iter()
                .filter_map(|(k, v)| v.as_ref().map(|v| (k.clone(), Json::String(v.clone()))))
                .collect();
            if m.contains_key("environment") || !env.is_empty() {
                m.insert("environment".into(), Json::Object(env));
            }
            // Labels include those read from `label_file`.
            if !svc.labels.is_empty() {
                let labels: Map<String, Json> = svc
                    .labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect();
                m.insert("labels".into(), Json::Object(labels));
            }
        }
        services.insert(name.clone(), sort_keys(j));
    }
    root.insert("services".into(), Json::Object(services));
    for section in ["networks", "volumes", "configs", "secrets", "models"] {
        if let Some(v) = p.tree.get(section) {
            root.insert(section.into(), sort_keys(v.to_json()));
        }
    }
    for (k, v) in &p.extensions {
        root.insert(k.clone(), sort_keys(v.clone()));
    }
    Json::Object(root)
}

/// Sort object keys recursively (bytewise), so output is stable and diffable.
pub fn sort_keys(v: Json) -> Json {
    match v {
        Json::Object(m) => {
            let mut entries: Vec<(String, Json)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Json::Array(a) => Json::Array(a.into_iter().map(sort_keys).collect()),
        other => other,
    }
}
