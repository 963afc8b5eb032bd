//! The typed, resolved compose project: what `lower` consumes and `config` prints.
//! Built from the canonical (long-syntax) tree by serde, so every compose key of the
//! specification has a field here (unknown keys were rejected earlier by the schema).
//! Keys that no stage interprets structurally are kept as raw JSON values so they can
//! be named in "not mapped" warnings. Each service keeps its canonical [`Node`] tree,
//! which gives the `file:line` of any field ([`Service::span_of`]).

use super::node::Node;
use super::ports::PortSpec;
use super::volumes::VolumeSpec;
use crate::source::Span;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

type Map<V> = BTreeMap<String, V>;

/// A whole project after loading, merging, interpolation, profiles and env resolution.
#[derive(Clone, Debug, Default)]
pub struct Project {
    pub name: String,
    pub services: Map<Box<Service>>,
    pub networks: Map<Network>,
    pub volumes: Map<Volume>,
    pub configs: Map<ConfigObj>,
    pub secrets: Map<SecretObj>,
    pub models: Map<Json>,
    /// Top-level `x-*` extensions.
    pub extensions: Map<Json>,
    /// Host files and directories the project refers to (bind mounts, `file:` of
    /// configs and secrets), read by the front-end so that lowering stays pure.
    /// Keyed by the path as written after normalisation (see [`HostPath`]).
    pub host_paths: Map<HostPath>,
    /// The canonical root tree (spans of top-level keys). The trees of active services
    /// are not copied here: they moved to [`Service::node`], and `services` keeps only
    /// their keys (with null values).
    pub tree: Node,
    /// Positions of the entries of `tree`'s sections, built on the first
    /// [`Project::span_at`] (see there).
    pub tree_index: TreeIndex,
}

/// `section -> key -> position` in [`Project::tree`], so that looking up one volume
/// among thousands is not a linear scan. Built lazily; a stale position (the tree was
/// changed after the first lookup) is detected and falls back to a scan.
#[derive(Clone, Debug, Default)]
pub struct TreeIndex(OnceLock<HashMap<String, HashMap<String, usize>>>);

impl Project {
    /// `self.tree.span_at(path)`, with the entry under a top-level section (the second
    /// segment: a volume, network, config ... name) found through [`TreeIndex`].
    pub fn span_at(&self, path: &[&str]) -> Span {
        let [section, key, rest @ ..] = path else {
            return self.tree.span_at(path);
        };
        let Some((skey, snode)) = self.tree.get_entry(section) else {
            return self.tree.span_at(path);
        };
        let Some(entries) = snode.as_map() else {
            return self.tree.span_at(path);
        };
        let index = self.tree_index.0.get_or_init(|| {
            let mut ix: HashMap<String, HashMap<String, usize>> = HashMap::new();
            for (s, n) in self.tree.as_map().into_iter().flatten() {
                let Some(m) = n.as_map() else { continue };
                if ix.contains_key(&s.name) {
                    continue; // the first section of a name is the one `get_entry` finds
                }
                let at = ix.entry(s.name.clone()).or_default();
                for (i, (k, _)) in m.iter().enumerate() {
                    at.entry(k.name.clone()).or_insert(i);
                }
            }
            ix
        });
        let hit = index
            .get(*section)
            .and_then(|m| m.get(*key))
            .and_then(|&i| entries.get(i))
            .filter(|(k, _)| k.name == *key);
        let entry = match hit {
            Some(e) => Some(e),
            None => entries.iter().find(|(k, _)| k.name == *key),
        };
        match entry {
            Some((k, v)) => v.span_below(k.span, rest),
            None => skey.span,
        }
    }
}

/// What the front-end found at a host path.
#[derive(Clone, Debug, PartialEq)]
pub enum HostPath {
    /// Inside the project directory: a regular file and its bytes.
    File(Vec<u8>),
    /// Inside the project directory: a directory with its regular files (name, bytes),
    /// sorted by name; `other` counts entries that are not regular files.
    Dir {
        files: Vec<(String, Vec<u8>)>,
        other: usize,
    },
    /// Inside the project directory but absent.
    Missing,
    /// Outside the project directory (absolute, `~`, or `..` escaping it).
    Outside,
    /// Larger than what a ConfigMap can hold; not read.
    TooLarge(u64),
}

/// One service, canonical long syntax.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Service {
    /// The service's key in `services:` (filled in by the loader).
    #[serde(skip)]
    pub name: String,
    /// The canonical tree of this service, for spans.
    #[serde(skip)]
    pub node: Node,
    /// Span of the service's key in `services:`.
    #[serde(skip)]
    pub key_span: Span,
    /// `x-*` keys of this service.
    #[serde(skip)]
    pub extensions: Map<Json>,

    pub annotations: Map<String>,
    pub attach: Option<bool>,
    pub blkio_config: Option<Box<Json>>,
    pub build: Option<Box<Json>>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub cgroup: Option<String>,
    pub cgroup_parent: Option<String>,
    pub command: Option<Vec<String>>,
    pub configs: Vec<FileRef>,
    pub container_name: Option<String>,
    pub cpu_count: Option<Box<Json>>,
    pub cpu_percent: Option<Box<Json>>,
    pub cpu_period: Option<Box<Json>>,
    pub cpu_quota: Option<Box<Json>>,
    pub cpu_rt_period: Option<Box<Json>>,
    pub cpu_rt_runtime: Option<Box<Json>>,
    pub cpu_shares: Option<Box<Json>>,
    pub cpus: Option<Box<Json>>,
    pub cpuset: Option<String>,
    pub credential_spec: Option<Box<Json>>,
    pub depends_on: Map<DependsOn>,
    pub deploy: Option<Box<Deploy>>,
    pub develop: Option<Box<Json>>,
    pub device_cgroup_rules: Vec<String>,
    pub devices: Vec<Json>,
    pub dns: Vec<String>,
    pub dns_opt: Vec<String>,
    pub dns_search: Vec<String>,
    pub domainname: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub env_file: Vec<EnvFileRef>,
    /// Effective environment (env_file then environment); `None` = declared, unset.
    pub environment: Map<Option<String>>,
    pub expose: Vec<String>,
    pub extends: Option<Box<Json>>,
    pub external_links: Vec<String>,
    pub extra_hosts: Map<Vec<String>>,
    pub gpus: Option<Box<Json>>,
    pub group_add: Vec<Json>,
    pub healthcheck: Option<Box<Healthcheck>>,
    pub hostname: Option<String>,
    pub image: Option<String>,
    pub init: Option<bool>,
    pub ipc: Option<String>,
    pub isolation: Option<String>,
    pub label_file: Vec<String>,
    pub labels: Map<String>,
    pub links: Vec<String>,
    pub logging: Option<Box<Json>>,
    pub mac_address: Option<String>,
    pub mem_limit: Option<Box<Json>>,
    pub mem_reservation: Option<Box<Json>>,
    pub mem_swappiness: Option<Box<Json>>,
    pub memswap_limit: Option<Box<Json>>,
    pub models: Option<Box<Json>>,
    pub network_mode: Option<String>,
    /// Networks the service joins (`None` value = joined with no options).
    pub networks: Map<Option<Box<Json>>>,
    pub oom_kill_disable: Option<bool>,
    pub oom_score_adj: Option<Box<Json>>,
    pub pid: Option<String>,
    pub pids_limit: Option<Box<Json>>,
    pub platform: Option<String>,
    pub ports: Vec<PortSpec>,
    pub post_start: Vec<Json>,
    pub pre_start: Vec<Json>,
    pub pre_stop: Vec<Json>,
    pub privileged: Option<bool>,
    pub profiles: Vec<String>,
    pub provider: Option<Box<Json>>,
    pub pull_policy: Option<String>,
    pub pull_refresh_after: Option<String>,
    pub read_only: Option<bool>,
    pub restart: Option<String>,
    pub runtime: Option<String>,
    pub scale: Option<Box<Json>>,
    pub secrets: Vec<FileRef>,
    pub security_opt: Vec<String>,
    pub shm_size: Option<Box<Json>>,
    pub stdin_open: Option<bool>,
    pub stop_grace_period: Option<String>,
    pub stop_signal: Option<String>,
    pub storage_opt: Option<Box<Json>>,
    pub sysctls: Map<String>,
    pub tmpfs: Vec<String>,
    pub tty: Option<bool>,
    pub ulimits: Map<Json>,
    pub use_api_socket: Option<bool>,
    pub user: Option<String>,
    pub userns_mode: Option<String>,
    pub uts: Option<String>,
    pub volumes: Vec<VolumeSpec>,
    pub volumes_from: Vec<String>,
    pub working_dir: Option<String>,
}

impl Service {
    /// Span of a field path inside this service (`["ports", "0"]`), falling back to the
    /// service itself.
    pub fn span_of(&self, path: &[&str]) -> Span {
        self.node.span_at(path)
    }

    /// Span of the service's key (`web:` under `services:`).
    pub fn span(&self) -> Span {
        self.key_span
    }

    /// The keys this service sets, in source order (for "not mapped" warnings).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.node
            .as_map()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.name.as_str())
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DependsOn {
    pub condition: Option<String>,
    pub restart: Option<bool>,
    pub required: Option<bool>,
}

/// Long syntax of a service's `configs:` / `secrets:` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FileRef {
    pub source: String,
    pub target: Option<String>,
    pub uid: Option<String>,
    pub gid: Option<String>,
    pub mode: Option<Json>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EnvFileRef {
    pub path: String,
    pub required: Option<bool>,
    pub format: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Healthcheck {
    pub disable: Option<bool>,
    pub interval: Option<String>,
    pub retries: Option<Json>,
    pub start_interval: Option<String>,
    pub start_period: Option<String>,
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]` (strings canonicalised to
    /// `CMD-SHELL`).
    pub test: Option<Vec<String>>,
    pub timeout: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Deploy {
    pub mode: Option<String>,
    pub replicas: Option<Json>,
    pub labels: Map<String>,
    pub rollback_config: Option<Json>,
    pub update_config: Option<Json>,
    pub resources: Option<Resources>,
    pub restart_policy: Option<Json>,
    pub placement: Option<Placement>,
    pub endpoint_mode: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    pub limits: Option<ResourceSpec>,
    pub reservations: Option<ResourceSpec>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceSpec {
    pub cpus: Option<Json>,
    pub memory: Option<Json>,
    pub pids: Option<Json>,
    pub devices: Vec<Json>,
    pub generic_resources: Vec<Json>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Placement {
    pub constraints: Vec<String>,
    pub preferences: Vec<Json>,
    pub max_replicas_per_node: Option<Json>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Network {
    #[serde(skip)]
    pub span: Span,
    pub name: Option<String>,
    pub driver: Option<String>,
    pub driver_opts: Option<Json>,
    pub external: Option<Json>,
    pub internal: Option<bool>,
    pub attachable: Option<bool>,
    pub enable_ipv4: Option<bool>,
    pub enable_ipv6: Option<bool>,
    pub ipam: Option<Json>,
    pub labels: Option<Json>,
    #[serde(flatten)]
    pub extensions: Map<Json>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Volume {
    #[serde(skip)]
    pub span: Span,
    pub name: Option<String>,
    pub driver: Option<String>,
    pub driver_opts: Option<Json>,
    pub external: Option<Json>,
    pub labels: Option<Json>,
    #[serde(flatten)]
    pub extensions: Map<Json>,
}

/// Top-level `configs:` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ConfigObj {
    #[serde(skip)]
    pub span: Span,
    pub name: Option<String>,
    pub file: Option<String>,
    pub content: Option<String>,
    pub environment: Option<String>,
    pub external: Option<Json>,
    pub labels: Option<Json>,
    pub template_driver: Option<String>,
    #[serde(flatten)]
    pub extensions: Map<Json>,
}

/// Top-level `secrets:` entry.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct SecretObj {
    #[serde(skip)]
    pub span: Span,
    pub name: Option<String>,
    pub file: Option<String>,
    pub environment: Option<String>,
    /// Value of `environment` resolved by the front-end (sensitive; never printed).
    #[serde(skip)]
    pub env_value: Option<String>,
    pub external: Option<Json>,
    pub labels: Option<Json>,
    pub driver: Option<String>,
    pub driver_opts: Option<Json>,
    pub template_driver: Option<String>,
    #[serde(flatten)]
    pub extensions: Map<Json>,
}

/// `external:` is `true`, or the legacy `{name: ...}` form.
pub fn is_external(v: &Option<Json>) -> bool {
    match v {
        Some(Json::Bool(b)) => *b,
        Some(Json::Object(_)) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::Project;
    use crate::compose::yaml;
    use crate::source::FileId;

    #[test]
    fn indexed_span_at_matches_the_tree() {
        let text = "services:\n  web:\n    image: x\nvolumes:\n  a: {}\n  b:\n    x-kubernetes:\n      size: 1Gi\n    labels: [l]\nnetworks: [n]\n";
        let tree = yaml::parse(text, FileId(0)).unwrap().remove(0);
        let mut p = Project {
            tree,
            ..Project::default()
        };
        let paths: &[&[&str]] = &[
            &[],
            &["volumes"],
            &["volumes", "a"],
            &["volumes", "b", "x-kubernetes", "size"],
            &["volumes", "b", "x-kubernetes", "missing"],
            &["volumes", "b", "labels", "0"],
            &["volumes", "b", "labels", "9"],
            &["volumes", "missing", "x"],
            &["networks", "0"],
            &["services", "web", "image"],
            &["nothing", "here"],
        ];
        for path in paths {
            assert_eq!(p.span_at(path), p.tree.span_at(path), "{path:?}");
        }
        // A tree changed after the index was built still gives the tree's answer.
        if let Some(v) = p.tree.get_mut("volumes").and_then(|v| v.as_map_mut()) {
            v.swap(0, 1);
        }
        for path in paths {
            assert_eq!(
                p.span_at(path),
                p.tree.span_at(path),
                "{path:?} (stale index)"
            );
        }
    }
}
