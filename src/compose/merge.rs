//! Multi-file merge of raw compose trees, the way compose-go's `override.Merge` and
//! `override.EnforceUnicity` do it: two spanned [`Node`] trees (after interpolation,
//! before canonicalisation) are merged with compose's per-path rules (a table keyed by
//! path pattern, [`MERGE_RULES`]), the YAML tags `!reset` / `!override` are honoured,
//! and sequences with a unique key ([`UNIQUE_RULES`]) are de-duplicated. The same rules
//! serve `extends` ([`merge_service`]). Short syntax stays short here: this module never
//! canonicalises, validates against the schema, reads files or resolves `extends`
//! chains; it only combines the trees it is given. Result nodes keep the span of the
//! node they came from, so later stages report errors in the right file.
//!
//! Deliberate differences from compose-go, all on inputs the reference mishandles:
//! paths are matched segment by segment (compose-go joins keys with `.`, so a service
//! named `a.b` silently escapes every rule there); Go panics on ill-typed values become
//! a [`MergeError`] or a neutral result; sequence entries that compose-go's unicity
//! indexers reject (for example a volume spec with too many colons) are kept as they
//! are and left for the canonicalisation stage to report.

use crate::compose::node::{go_float, Key, Node, Tag, Value};
use crate::diag::Diagnostic;
use crate::source::Span;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// What compose rejects while merging (e.g. a mapping overridden by a sequence).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeError {
    /// The overriding node that could not be merged.
    pub span: Span,
    pub message: String,
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MergeError {}

impl From<MergeError> for Diagnostic {
    fn from(e: MergeError) -> Self {
        Diagnostic::error(e.message).at(e.span).help(
            "an override file must keep the shape of the value it overrides; \
             tag it `!override` to replace the value instead of merging",
        )
    }
}

/// Merge two whole compose file trees (`base` first, then `over`), then enforce
/// unicity on the result. This is compose-go `override.Merge` followed by
/// `override.EnforceUnicity`, with the `!reset` / `!override` tags of both trees
/// applied (compose-go's `ResetProcessor`): a key tagged `!reset` in `over` is removed
/// from the result, a key tagged `!override` replaces the base value wholesale. Tags
/// are cleared in the result.
pub fn merge(base: Node, over: Node) -> Result<Node, MergeError> {
    merge_rooted(base, over, &[])
}

/// Merge a service definition `over` onto the service it extends (`base`), with the
/// same rules as [`merge`] applied at path `services.x` (compose-go
/// `override.ExtendService`), unicity included.
pub fn merge_service(base: Node, over: Node) -> Result<Node, MergeError> {
    merge_rooted(base, over, &["services", "x"])
}

/// Remove duplicate sequence entries using each attribute's unique key (compose-go
/// `override.EnforceUnicity`): a later entry with the same key replaces the earlier
/// one in place. `node` is a whole compose file tree.
pub fn enforce_unicity(node: &mut Node) {
    unicity_at(node, &[]);
}

/// Apply the `!reset` / `!override` tags of a tree that is not merged onto anything
/// (a lone compose file): keys tagged `!reset` are removed, every tag is cleared.
pub fn resolve_tags(node: &mut Node) {
    take_tags(node, &mut Vec::new(), None);
}

fn merge_rooted(mut base: Node, mut over: Node, root: &[&str]) -> Result<Node, MergeError> {
    let mut path: Vec<String> = Vec::new();
    take_tags(&mut base, &mut path, None);
    let mut resets = ResetTrie::default();
    take_tags(&mut over, &mut path, Some(&mut resets));
    apply_resets(&mut base, &resets);
    let mut path: Vec<String> = root.iter().map(|s| s.to_string()).collect();
    let mut ctx = Ctx {
        root_len: root.len(),
    };
    let mut merged = ctx.merge_value(base, over, &mut path)?;
    unicity_at(&mut merged, &path);
    Ok(merged)
}

// ---------------------------------------------------------------------------------
// Path patterns
// ---------------------------------------------------------------------------------

/// Does `path` match a dotted `pattern` where `*` stands for any one key?
fn matches(path: &[String], pattern: &str) -> bool {
    let mut n = 0;
    for (i, seg) in pattern.split('.').enumerate() {
        match path.get(i) {
            Some(p) if seg == "*" || seg == p => n = i + 1,
            _ => return false,
        }
    }
    n == path.len()
}

/// Can a path that starts with `path` still reach `pattern` further down? (The
/// unicity walk tracks this per rule instead, see `unicity_in`.)
#[cfg(test)]
fn is_strict_prefix(path: &[String], pattern: &str) -> bool {
    let mut n = 0;
    for (i, seg) in pattern.split('.').enumerate() {
        if i == path.len() {
            return true;
        }
        if seg != "*" && seg != path[i] {
            return false;
        }
        n = i + 1;
    }
    n > path.len()
}

// ---------------------------------------------------------------------------------
// Merge rules (compose-go override/merge.go `mergeSpecials`)
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MergeRule {
    /// The override value replaces the base value, even when it is null.
    Override,
    /// Both sides turned into a sequence (`KEY=VALUE` for mappings) and appended.
    ToSequence,
    /// Like `ToSequence`, but override entries already in the base are dropped.
    ExtraHosts,
    /// A string is `{context: string}`; then mappings are merged.
    Build,
    /// A list becomes a mapping of `{condition: service_started, required: true}`.
    DependsOn,
    /// A list becomes a mapping of keys to null (service networks, models).
    KeysToMapping,
    /// Options are merged when both sides use the same driver (or one has none).
    Logging,
    /// The override value wins (compose-go merges the override with itself).
    Ulimit,
    /// Entries matched by subnet and merged.
    IpamConfig,
}

/// compose-go's merge rule table, keyed by path pattern.
const MERGE_RULES: &[(&str, MergeRule)] = &[
    ("networks.*.ipam.config", MergeRule::IpamConfig),
    ("networks.*.labels", MergeRule::ToSequence),
    ("volumes.*.labels", MergeRule::ToSequence),
    ("services.*.annotations", MergeRule::ToSequence),
    ("services.*.build", MergeRule::Build),
    ("services.*.build.args", MergeRule::ToSequence),
    (
        "services.*.build.additional_contexts",
        MergeRule::ToSequence,
    ),
    ("services.*.build.extra_hosts", MergeRule::ExtraHosts),
    ("services.*.build.labels", MergeRule::ToSequence),
    ("services.*.command", MergeRule::Override),
    ("services.*.depends_on", MergeRule::DependsOn),
    ("services.*.deploy.labels", MergeRule::ToSequence),
    ("services.*.dns", MergeRule::ToSequence),
    ("services.*.dns_opt", MergeRule::ToSequence),
    ("services.*.dns_search", MergeRule::ToSequence),
    ("services.*.entrypoint", MergeRule::Override),
    ("services.*.env_file", MergeRule::ToSequence),
    ("services.*.label_file", MergeRule::ToSequence),
    ("services.*.environment", MergeRule::ToSequence),
    ("services.*.extra_hosts", MergeRule::ExtraHosts),
    ("services.*.healthcheck.test", MergeRule::Override),
    ("services.*.labels", MergeRule::ToSequence),
    ("services.*.volumes.*.volume.labels", MergeRule::ToSequence),
    ("services.*.logging", MergeRule::Logging),
    ("services.*.models", MergeRule::KeysToMapping),
    ("services.*.networks", MergeRule::KeysToMapping),
    ("services.*.sysctls", MergeRule::ToSequence),
    ("services.*.tmpfs", MergeRule::ToSequence),
    ("services.*.ulimits.*", MergeRule::Ulimit),
];

fn merge_rule(path: &[String]) -> Option<MergeRule> {
    if path.len() < 2 {
        return None;
    }
    MERGE_RULES
        .iter()
        .find(|(pattern, _)| matches(path, pattern))
        .map(|(_, rule)| *rule)
}

struct Ctx {
    /// Segments of the path that are a fixed prefix (`services.x` for extends), left
    /// out of messages.
    root_len: usize,
}

impl Ctx {
    fn display_path(&self, path: &[String]) -> String {
        let rel = path.get(self.root_len..).unwrap_or(&[]);
        if rel.is_empty() {
            "the top level".to_string()
        } else {
            rel.join(".")
        }
    }

    fn merge_value(
        &mut self,
        base: Node,
        over: Node,
        path: &mut Vec<String>,
    ) -> Result<Node, MergeError> {
        if let Some(rule) = merge_rule(path) {
            return self.apply_rule(rule, base, over, path);
        }
        if over.is_null() {
            return Ok(base);
        }
        match (&base.value, &over.value) {
            (Value::Map(_), Value::Map(_)) => self.merge_maps(base, over, path),
            (Value::Seq(_), Value::Seq(_)) => {
                let span = base.span;
                let mut items = into_seq(base);
                items.extend(into_seq(over));
                Ok(Node::new(Value::Seq(items), span))
            }
            (Value::Map(_), _) | (Value::Seq(_), _) => Err(MergeError {
                span: over.span,
                message: format!(
                    "cannot override {}: the base is a {}, the override a {}",
                    self.display_path(path),
                    base.type_name(),
                    over.type_name()
                ),
            }),
            _ => Ok(over),
        }
    }

    /// Merge two mappings key by key: new keys are appended in override order, keys in
    /// both are merged recursively. Non-mappings count as empty mappings.
    fn merge_maps(
        &mut self,
        base: Node,
        over: Node,
        path: &mut Vec<String>,
    ) -> Result<Node, MergeError> {
        let span = base.span;
        let mut entries = into_map(base);
        let over_entries = into_map(over);
        if over_entries.is_empty() {
            return Ok(Node::map(entries, span));
        }
        let mut index: HashMap<String, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.name.clone(), i))
            .collect();
        for (k, v) in over_entries {
            match index.get(&k.name) {
                Some(&i) => {
                    let old = std::mem::replace(&mut entries[i].1, Node::null(span));
                    path.push(k.name);
                    let merged = self.merge_value(old, v, path);
                    path.pop();
                    entries[i].1 = merged?;
                }
                None => {
                    index.insert(k.name.clone(), entries.len());
                    entries.push((k, v));
                }
            }
        }
        Ok(Node::map(entries, span))
    }

    fn apply_rule(
        &mut self,
        rule: MergeRule,
        base: Node,
        over: Node,
        path: &mut Vec<String>,
    ) -> Result<Node, MergeError> {
        let span = if base.is_null() { over.span } else { base.span };
        match rule {
            MergeRule::Override | MergeRule::Ulimit => Ok(over),
            MergeRule::ToSequence => {
                let mut items = to_sequence(base);
                items.extend(to_sequence(over));
                Ok(Node::new(Value::Seq(items), span))
            }
            MergeRule::ExtraHosts => {
                let mut items = to_sequence(base);
                let seen: HashSet<String> = items.iter().map(value_key).collect();
                items.extend(
                    to_sequence(over)
                        .into_iter()
                        .filter(|n| !seen.contains(&value_key(n))),
                );
                Ok(Node::new(Value::Seq(items), span))
            }
            MergeRule::Build => {
                let base = build_to_mapping(base);
                let over = build_to_mapping(over);
                self.merge_maps(base, over, path)
            }
            MergeRule::DependsOn => {
                let base = self.to_mapping(base, true, path)?;
                let over = self.to_mapping(over, true, path)?;
                self.merge_maps(base, over, path)
            }
            MergeRule::KeysToMapping => {
                let base = self.to_mapping(base, false, path)?;
                let over = self.to_mapping(over, false, path)?;
                self.merge_maps(base, over, path)
            }
            MergeRule::Logging => {
                if !matches!(base.value, Value::Map(_)) {
                    return Ok(over);
                }
                if !matches!(over.value, Value::Map(_)) {
                    return Ok(base);
                }
                let same_driver = match (over.get("driver"), base.get("driver")) {
                    (Some(d), Some(o)) => value_key(d) == value_key(o),
                    _ => true,
                };
                if same_driver {
                    self.merge_maps(base, over, path)
                } else {
                    Ok(over)
                }
            }
            MergeRule::IpamConfig => self.merge_ipam_config(base, over, path),
        }
    }

    /// compose-go `mergeIPAMConfig`, faithfully: every base entry is visited against
    /// every override entry; an override entry with another subnet is added once, one
    /// with the same subnet is merged into the base entry. A base entry no override
    /// entry shares a subnet with is dropped, as compose-go does. IPAM config lists
    /// hold a handful of entries, so the base × override walk stays small.
    fn merge_ipam_config(
        &mut self,
        base: Node,
        over: Node,
        path: &mut Vec<String>,
    ) -> Result<Node, MergeError> {
        for n in [&base, &over] {
            if !matches!(n.value, Value::Seq(_)) {
                return Err(MergeError {
                    span: n.span,
                    message: format!(
                        "{}: unexpected type {}",
                        self.display_path(path),
                        n.type_name()
                    ),
                });
            }
        }
        let span = base.span;
        let overrides: Vec<Node> = into_seq(over)
            .into_iter()
            .map(|n| self.to_mapping(n, false, path))
            .collect::<Result<_, _>>()?;
        let subnet = |n: &Node| n.get("subnet").map(value_key);
        let mut out: Vec<Node> = Vec::new();
        let mut by_subnet: HashMap<Option<String>, usize> = HashMap::new();
        for original in into_seq(base) {
            let mut right = self.to_mapping(original, false, path)?;
            for left in &overrides {
                let left_subnet = subnet(left);
                if left_subnet != subnet(&right) {
                    if let std::collections::hash_map::Entry::Vacant(slot) =
                        by_subnet.entry(left_subnet)
                    {
                        slot.insert(out.len());
                        out.push(left.clone());
                    }
                    continue;
                }
                right = self.merge_maps(right, left.clone(), path)?;
                match by_subnet.get(&subnet(&right)) {
                    Some(&i) => out[i] = right.clone(),
                    None => {
                        by_subnet.insert(subnet(&right), out.len());
                        out.push(right.clone());
                    }
                }
            }
        }
        Ok(Node::new(Value::Seq(out), span))
    }

    /// compose-go `convertIntoMapping`: a list of names becomes a mapping (each name
    /// to a fresh default value, or to null); a mapping stays; anything else is an
    /// empty mapping.
    fn to_mapping(
        &self,
        node: Node,
        depends_on_default: bool,
        path: &[String],
    ) -> Result<Node, MergeError> {
        let span = node.span;
        match node.value {
            Value::Map(_) => Ok(node),
            Value::Seq(items) => {
                let mut entries: Vec<(Key, Node)> = Vec::with_capacity(items.len());
                let mut index: HashMap<String, usize> = HashMap::new();
                for item in items {
                    let Some(name) = item.scalar_string() else {
                        return Err(MergeError {
                            span: item.span,
                            message: format!(
                                "{}: a list entry must be a name, not a {}",
                                self.display_path(path),
                                item.type_name()
                            ),
                        });
                    };
                    let value = if depends_on_default {
                        depends_on_default_value(item.span)
                    } else {
                        Node::null(item.span)
                    };
                    let key = Key {
                        name: name.clone(),
                        span: item.span,
                    };
                    match index.get(&name) {
                        Some(&i) => entries[i] = (key, value),
                        None => {
                            index.insert(name, entries.len());
                            entries.push((key, value));
                        }
                    }
                }
                Ok(Node::map(entries, span))
            }
            _ => Ok(Node::map(Vec::new(), span)),
        }
    }
}

fn depends_on_default_value(span: Span) -> Node {
    Node::map(
        vec![
            (
                Key {
                    name: "condition".into(),
                    span,
                },
                Node::str("service_started", span),
            ),
            (
                Key {
                    name: "required".into(),
                    span,
                },
                Node::new(Value::Bool(true), span),
            ),
        ],
        span,
    )
}

/// `build: ./dir` is `build: {context: ./dir}`; a non-mapping is an empty mapping.
fn build_to_mapping(node: Node) -> Node {
    let span = node.span;
    match node.value {
        Value::Map(_) => node,
        Value::Str(_) => Node::map(
            vec![(
                Key {
                    name: "context".into(),
                    span,
                },
                node,
            )],
            span,
        ),
        _ => Node::map(Vec::new(), span),
    }
}

/// compose-go `convertIntoSequence`: a mapping becomes bytewise-sorted `KEY=VALUE`
/// strings (`KEY` alone for null, one entry per item for a list value, values
/// formatted like Go's `%v`); a sequence stays; a string is a one-entry sequence;
/// anything else is empty.
fn to_sequence(node: Node) -> Vec<Node> {
    match node.value {
        Value::Map(entries) => {
            let mut seq: Vec<Node> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                match &v.value {
                    Value::Null => seq.push(Node::str(k.name, k.span)),
                    Value::Seq(items) => {
                        for item in items {
                            let text = format!("{}={}", k.name, go_fmt(item, 'v'));
                            seq.push(Node::str(text, item.span));
                        }
                    }
                    _ => {
                        let text = format!("{}={}", k.name, go_fmt(&v, 'v'));
                        seq.push(Node::str(text, v.span));
                    }
                }
            }
            seq.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            seq
        }
        Value::Seq(items) => items,
        Value::Str(_) => vec![node],
        _ => Vec::new(),
    }
}

fn into_map(node: Node) -> Vec<(Key, Node)> {
    match node.value {
        Value::Map(entries) => entries,
        _ => Vec::new(),
    }
}

fn into_seq(node: Node) -> Vec<Node> {
    match node.value {
        Value::Seq(items) => items,
        _ => Vec::new(),
    }
}

/// A string identifying a value regardless of spans, distinguishing types (Go `==`
/// on `any`): `"1"` and `1` differ.
fn value_key(n: &Node) -> String {
    n.to_json().to_string()
}

/// A value formatted like Go's `fmt` with verb `%v`, `%s` or `%d` (including Go's
/// `%!s(int=1)` for a verb that does not fit the type). Used for `KEY=VALUE` strings
/// and for compose-go's unicity keys, so that the same entries collide.
fn go_fmt(n: &Node, verb: char) -> String {
    match (&n.value, verb) {
        (Value::Null, 'v') => "<nil>".to_string(),
        (Value::Null, _) => format!("%!{verb}(<nil>)"),
        (Value::Str(s), 'v' | 's') => s.clone(),
        (Value::Str(s), _) => format!("%!{verb}(string={s})"),
        (Value::Int(i), 'v' | 'd') => i.to_string(),
        (Value::Int(i), _) => format!("%!{verb}(int={i})"),
        (Value::Bool(b), 'v') => b.to_string(),
        (Value::Bool(b), _) => format!("%!{verb}(bool={b})"),
        (Value::Float(f), 'v') => go_float(*f),
        (Value::Float(f), _) => format!("%!{verb}(float64={})", go_float(*f)),
        (Value::Seq(items), _) => {
            let parts: Vec<String> = items.iter().map(|i| go_fmt(i, verb)).collect();
            format!("[{}]", parts.join(" "))
        }
        (Value::Map(entries), _) => {
            let mut parts: Vec<(&str, String)> = entries
                .iter()
                .map(|(k, v)| (k.name.as_str(), go_fmt(v, verb)))
                .collect();
            parts.sort();
            let parts: Vec<String> = parts.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

// ---------------------------------------------------------------------------------
// Tags (compose-go loader/reset.go `ResetProcessor`)
// ---------------------------------------------------------------------------------

/// The map-key paths an override file tags `!reset` or `!override`.
#[derive(Default, Debug)]
struct ResetTrie {
    here: bool,
    children: HashMap<String, ResetTrie>,
}

impl ResetTrie {
    fn insert(&mut self, path: &[String]) {
        let mut cur = self;
        for seg in path {
            cur = cur.children.entry(seg.clone()).or_default();
        }
        cur.here = true;
    }
}

/// Remove map entries tagged `!reset`, clear every tag, and record in `resets` the
/// path of each `!reset` / `!override` key. As in compose-go, tags inside sequences
/// are honoured locally but never recorded (their paths never match the base), and
/// the content of an `!override` value is taken as is.
fn take_tags(node: &mut Node, path: &mut Vec<String>, mut resets: Option<&mut ResetTrie>) {
    node.tag = Tag::None;
    match &mut node.value {
        Value::Map(entries) => {
            entries.retain_mut(|(k, v)| match v.tag {
                Tag::Reset | Tag::Override => {
                    if let Some(r) = resets.as_deref_mut() {
                        path.push(k.name.clone());
                        r.insert(path);
                        path.pop();
                    }
                    let keep = v.tag == Tag::Override;
                    clear_tags(v);
                    keep
                }
                Tag::None => {
                    if resets.is_some() {
                        path.push(k.name.clone());
                    }
                    take_tags(v, path, resets.as_deref_mut());
                    if resets.is_some() {
                        path.pop();
                    }
                    true
                }
            });
        }
        Value::Seq(items) => {
            for item in items {
                if item.tag == Tag::None {
                    take_tags(item, path, None);
                } else {
                    clear_tags(item);
                }
            }
        }
        _ => {}
    }
}

fn clear_tags(node: &mut Node) {
    node.tag = Tag::None;
    match &mut node.value {
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| clear_tags(v)),
        Value::Seq(items) => items.iter_mut().for_each(clear_tags),
        _ => {}
    }
}

/// Delete from `node` every map entry whose path is recorded in `trie`.
fn apply_resets(node: &mut Node, trie: &ResetTrie) {
    if trie.children.is_empty() {
        return;
    }
    if let Value::Map(entries) = &mut node.value {
        entries.retain_mut(|(k, v)| match trie.children.get(&k.name) {
            Some(child) if child.here => false,
            Some(child) => {
                apply_resets(v, child);
                true
            }
            None => true,
        });
    }
}

// ---------------------------------------------------------------------------------
// Unicity (compose-go override/uncity.go `unique`)
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Indexer {
    /// The text before the first `=` (the whole string without one).
    KeyValue,
    /// The mount target (short syntax parsed like compose-go `format.ParseVolume`).
    Volume,
    /// The container path of a device mapping.
    Device,
    /// The port as a string (`3000` and `"3000"` collide).
    Expose,
    /// `<default dir>/<name>` for short syntax, the target for long syntax.
    Mount(&'static str),
    /// The raw string for short syntax, `host:published:target/protocol` for long.
    Port,
    /// The path of the env file.
    EnvFile,
}

/// compose-go's unicity table, keyed by path pattern.
const UNIQUE_RULES: &[(&str, Indexer)] = &[
    ("networks.*.labels", Indexer::KeyValue),
    ("networks.*.ipam.options", Indexer::KeyValue),
    ("services.*.annotations", Indexer::KeyValue),
    ("services.*.build.args", Indexer::KeyValue),
    ("services.*.build.additional_contexts", Indexer::KeyValue),
    ("services.*.build.platform", Indexer::KeyValue),
    ("services.*.build.tags", Indexer::KeyValue),
    ("services.*.build.labels", Indexer::KeyValue),
    ("services.*.cap_add", Indexer::KeyValue),
    ("services.*.cap_drop", Indexer::KeyValue),
    ("services.*.configs", Indexer::Mount("")),
    ("services.*.deploy.labels", Indexer::KeyValue),
    ("services.*.devices", Indexer::Device),
    ("services.*.dns", Indexer::KeyValue),
    ("services.*.dns_opt", Indexer::KeyValue),
    ("services.*.dns_search", Indexer::KeyValue),
    ("services.*.environment", Indexer::KeyValue),
    ("services.*.env_file", Indexer::EnvFile),
    ("services.*.expose", Indexer::Expose),
    ("services.*.labels", Indexer::KeyValue),
    ("services.*.links", Indexer::KeyValue),
    ("services.*.networks.*.aliases", Indexer::KeyValue),
    ("services.*.networks.*.link_local_ips", Indexer::KeyValue),
    ("services.*.ports", Indexer::Port),
    ("services.*.profiles", Indexer::KeyValue),
    ("services.*.secrets", Indexer::Mount("/run/secrets")),
    ("services.*.sysctls", Indexer::KeyValue),
    ("services.*.tmpfs", Indexer::KeyValue),
    ("services.*.volumes", Indexer::Volume),
];

fn unicity_at(node: &mut Node, path: &[String]) {
    let segs = unique_rule_segments();
    let mut set: RuleSet = 0;
    for (i, rule) in segs.iter().enumerate() {
        let prefix = rule.len() >= path.len()
            && path
                .iter()
                .zip(rule)
                .all(|(p, seg)| *seg == "*" || seg == p);
        if prefix {
            set |= 1 << i;
        }
    }
    unicity_in(node, path.len(), set, segs);
}

/// Bit `i` set: the path so far matches the first segments of `UNIQUE_RULES[i]`.
type RuleSet = u64;
const _: () = assert!(UNIQUE_RULES.len() <= RuleSet::BITS as usize);

/// [`UNIQUE_RULES`] patterns split at `.`, once.
fn unique_rule_segments() -> &'static [Vec<&'static str>] {
    static SEGS: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    SEGS.get_or_init(|| {
        UNIQUE_RULES
            .iter()
            .map(|(pattern, _)| pattern.split('.').collect())
            .collect()
    })
}

fn rules_in(set: RuleSet) -> impl Iterator<Item = usize> {
    (0..UNIQUE_RULES.len()).filter(move |i| set & (1 << i) != 0)
}

/// [`unicity_at`] at a node `depth` keys down, `set` holding the rules whose patterns
/// match the path so far (the path itself is not kept: only the rules' state is).
fn unicity_in(node: &mut Node, depth: usize, set: RuleSet, segs: &[Vec<&str>]) {
    match &mut node.value {
        Value::Map(entries) => {
            if !rules_in(set).any(|i| segs[i].len() > depth) {
                return;
            }
            for (k, v) in entries.iter_mut() {
                if matches!(v.value, Value::Map(_) | Value::Seq(_)) {
                    let child = rules_in(set)
                        .filter(|&i| {
                            segs[i].len() > depth
                                && (segs[i][depth] == "*" || segs[i][depth] == k.name)
                        })
                        .fold(0, |m, i| m | 1 << i);
                    if child != 0 {
                        unicity_in(v, depth + 1, child, segs);
                    }
                }
            }
        }
        Value::Seq(items) => {
            let Some(indexer) = rules_in(set)
                .find(|&i| segs[i].len() == depth)
                .map(|i| UNIQUE_RULES[i].1)
            else {
                return;
            };
            let mut out: Vec<Node> = Vec::with_capacity(items.len());
            let mut keys: HashMap<String, usize> = HashMap::new();
            for item in items.drain(..) {
                match unique_key(&item, indexer) {
                    Some(key) => match keys.get(&key) {
                        Some(&j) => out[j] = item,
                        None => {
                            keys.insert(key, out.len());
                            out.push(item);
                        }
                    },
                    None => out.push(item),
                }
            }
            *items = out;
        }
        _ => {}
    }
}

/// The unique key of a sequence entry; `None` where compose-go's indexer fails (the
/// entry is then kept as is).
fn unique_key(n: &Node, indexer: Indexer) -> Option<String> {
    match indexer {
        Indexer::KeyValue => {
            let s = n.as_str()?;
            Some(s.split_once('=').map_or(s, |(k, _)| k).to_string())
        }
        Indexer::Volume => match &n.value {
            Value::Map(_) => n.get("target")?.as_str().map(str::to_string),
            Value::Str(s) => volume_target(s),
            _ => Some(String::new()),
        },
        Indexer::Device => match &n.value {
            Value::Map(_) => n.get("target")?.as_str().map(str::to_string),
            Value::Str(s) => {
                let mut parts = s.split(':');
                let first = parts.next().unwrap_or("");
                Some(parts.next().unwrap_or(first).to_string())
            }
            _ => Some(String::new()),
        },
        Indexer::Expose => match &n.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            _ => None,
        },
        Indexer::Mount(dir) => match &n.value {
            Value::Str(s) => Some(format!("{dir}/{s}")),
            Value::Map(_) => match n.get("target") {
                Some(t) => t.as_str().map(str::to_string),
                None => Some(match n.get("source") {
                    Some(s) => format!("{dir}/{}", go_fmt(s, 's')),
                    None => format!("{dir}/%!s(<nil>)"),
                }),
            },
            _ => None,
        },
        Indexer::Port => match &n.value {
            Value::Int(i) => Some(i.to_string()),
            Value::Str(s) => Some(s.clone()),
            Value::Map(_) => {
                let target = n.get("target")?;
                let published = n
                    .get("published")
                    .map_or_else(|| "%!s(<nil>)".to_string(), |p| go_fmt(p, 's'));
                let host = n
                    .get("host_ip")
                    .map_or_else(|| "0.0.0.0".to_string(), |h| go_fmt(h, 's'));
                let protocol = n
                    .get("protocol")
                    .map_or_else(|| "tcp".to_string(), |p| go_fmt(p, 's'));
                Some(format!(
                    "{host}:{published}:{}/{protocol}",
                    go_fmt(target, 'd')
                ))
            }
            _ => Some(String::new()),
        },
        Indexer::EnvFile => match &n.value {
            Value::Str(s) => Some(s.clone()),
            Value::Map(_) => n.get("path")?.as_str().map(str::to_string),
            _ => Some(String::new()),
        },
    }
}

/// The target of a short-syntax volume spec (compose-go uses `format.ParseVolume`
/// here too); `None` where the spec is invalid.
fn volume_target(spec: &str) -> Option<String> {
    super::volumes::parse_volume(spec).ok().map(|v| v.target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use serde_json::json;

    fn node(j: serde_json::Value, file: u32) -> Node {
        Node::from_json(&j, Span::new(FileId(file), 1, 1, 1))
    }

    #[test]
    fn path_patterns() {
        let p = |s: &str| -> Vec<String> { s.split('.').map(str::to_string).collect() };
        for (path, pattern, want) in [
            ("services.web.environment", "services.*.environment", true),
            ("services.a.b.environment", "services.*.environment", false),
            ("services.web", "services.*.environment", false),
            ("services.web.ulimits.nofile", "services.*.ulimits.*", true),
            ("networks.n.ipam.config", "networks.*.ipam.config", true),
        ] {
            assert_eq!(matches(&p(path), pattern), want, "{path} ~ {pattern}");
        }
        assert!(is_strict_prefix(&p("services.web"), "services.*.ports"));
        assert!(is_strict_prefix(&[], "services.*.ports"));
        assert!(!is_strict_prefix(
            &p("services.web.ports"),
            "services.*.ports"
        ));
        assert!(!is_strict_prefix(&p("x-foo"), "services.*.ports"));
        // A service whose name contains a dot is still one segment.
        assert_eq!(
            merge_rule(&["services".into(), "a.b".into(), "command".into()]),
            Some(MergeRule::Override)
        );
    }

    #[test]
    fn volume_targets() {
        for (spec, want) in [
            ("/data", Some("/data")),
            ("./a:/data", Some("/data")),
            ("./a:/data:ro", Some("/data")),
            ("named:/x", Some("/x")),
            ("C:\\dir:/x", Some("/x")),
            ("c:/x", Some("c:/x")),
            ("${HOME:-/h}:/x", Some("/x")),
            ("ab", Some("ab")),
            ("", None),
            ("a::b", Some("b")),
            ("./a::b", None),
            ("./a:/b:ro:extra", None),
        ] {
            assert_eq!(volume_target(spec).as_deref(), want, "{spec}");
        }
    }

    #[test]
    fn go_formatting() {
        let s = Span::default();
        for (value, verb, want) in [
            (Value::Str("x".into()), 'v', "x"),
            (Value::Int(3), 'v', "3"),
            (Value::Float(1e8), 'v', "1e+08"),
            (Value::Bool(true), 'v', "true"),
            (Value::Null, 'v', "<nil>"),
            (Value::Int(8080), 's', "%!s(int=8080)"),
            (Value::Str("80".into()), 'd', "%!d(string=80)"),
            (Value::Null, 's', "%!s(<nil>)"),
        ] {
            assert_eq!(go_fmt(&Node::new(value, s), verb), want);
        }
        assert_eq!(
            go_fmt(&node(json!({"b": 1, "a": [1, "x"]}), 0), 'v'),
            "map[a:[1 x] b:1]"
        );
    }

    #[test]
    fn unique_keys() {
        for (entry, indexer, want) in [
            (json!("A=1"), Indexer::KeyValue, Some("A")),
            (json!("A"), Indexer::KeyValue, Some("A")),
            (json!(1), Indexer::KeyValue, None),
            (json!(3000), Indexer::Expose, Some("3000")),
            (
                json!("db"),
                Indexer::Mount("/run/secrets"),
                Some("/run/secrets/db"),
            ),
            (json!({"source": "db"}), Indexer::Mount(""), Some("/db")),
            (json!({"target": "/t"}), Indexer::Mount(""), Some("/t")),
            (json!("/dev/a:/dev/b:rwm"), Indexer::Device, Some("/dev/b")),
            (json!("/dev/a"), Indexer::Device, Some("/dev/a")),
            (
                json!({"target": 80}),
                Indexer::Port,
                Some("0.0.0.0:%!s(<nil>):80/tcp"),
            ),
            (
                json!({"target": 80, "published": "8080", "host_ip": "::1", "protocol": "udp"}),
                Indexer::Port,
                Some("::1:8080:80/udp"),
            ),
            (json!({"path": "a.env"}), Indexer::EnvFile, Some("a.env")),
            (json!({"required": true}), Indexer::EnvFile, None),
            (json!({"target": "/x"}), Indexer::Volume, Some("/x")),
        ] {
            assert_eq!(
                unique_key(&node(entry.clone(), 0), indexer).as_deref(),
                want,
                "{entry} {indexer:?}"
            );
        }
    }

    fn tagged(mut n: Node, path: &[&str], tag: Tag) -> Node {
        let mut cur = &mut n;
        for seg in path {
            cur = cur.get_mut(seg).expect("path");
        }
        cur.tag = tag;
        n
    }

    #[test]
    fn reset_and_override_tags() {
        let base = node(
            json!({"services": {"web": {"image": "a", "ports": ["80:80"],
                "environment": {"A": "1", "B": "2"}, "build": {"context": "."}}}}),
            1,
        );
        let over = node(
            json!({"services": {"web": {"ports": ["81:81"], "environment": {"A": null},
                "build": {"dockerfile": "D"}}, "new": {"x": {"y": 1}}}}),
            2,
        );
        let over = tagged(over, &["services", "web", "ports"], Tag::Reset);
        let over = tagged(over, &["services", "web", "environment", "A"], Tag::Reset);
        let over = tagged(over, &["services", "web", "build"], Tag::Override);
        let over = tagged(over, &["services", "new", "x", "y"], Tag::Reset);
        let merged = merge(base, over).expect("merge");
        assert_eq!(
            merged.to_json(),
            json!({"services": {
                "web": {"image": "a", "environment": ["B=2"], "build": {"dockerfile": "D"}},
                "new": {"x": {}}}})
        );
        fn no_tags(n: &Node) -> bool {
            n.tag == Tag::None
                && match &n.value {
                    Value::Map(m) => m.iter().all(|(_, v)| no_tags(v)),
                    Value::Seq(s) => s.iter().all(no_tags),
                    _ => true,
                }
        }
        assert!(no_tags(&merged));
    }

    #[test]
    fn override_tag_on_service_for_extends() {
        let base = node(json!({"image": "a", "depends_on": ["c"]}), 1);
        let over = tagged(
            node(json!({"depends_on": ["a"]}), 2),
            &["depends_on"],
            Tag::Override,
        );
        let merged = merge_service(base, over).expect("merge");
        assert_eq!(merged.to_json(), json!({"image": "a", "depends_on": ["a"]}));
    }

    #[test]
    fn spans_follow_the_source() {
        let base = node(
            json!({"services": {"web": {"image": "a", "restart": "no"}}}),
            1,
        );
        let over = node(json!({"services": {"web": {"image": "b", "user": "u"}}}), 2);
        let merged = merge(base, over).expect("merge");
        let file = |p: &[&str]| merged.pointer(p).map(|n| n.span.file.0);
        assert_eq!(file(&["services", "web", "image"]), Some(2));
        assert_eq!(file(&["services", "web", "restart"]), Some(1));
        assert_eq!(file(&["services", "web", "user"]), Some(2));
        assert_eq!(file(&["services", "web"]), Some(1));
    }

    #[test]
    fn type_mismatch_points_at_the_override() {
        let base = node(json!({"services": {"web": {"cap_add": ["A"]}}}), 1);
        let over = node(json!({"services": {"web": {"cap_add": {"x": 1}}}}), 2);
        let err = merge(base, over).expect_err("mismatch");
        assert_eq!(err.span.file.0, 2);
        assert!(err
            .message
            .starts_with("cannot override services.web.cap_add"));
        let err = merge_service(
            node(json!({"x-a": {"k": 1}}), 1),
            node(json!({"x-a": "s"}), 2),
        )
        .expect_err("mismatch");
        assert!(
            err.message.starts_with("cannot override x-a"),
            "{}",
            err.message
        );
    }

    #[test]
    fn many_services_merge_fast() {
        let n = 10_000;
        let mut services = serde_json::Map::new();
        let mut overrides = serde_json::Map::new();
        for i in 0..n {
            services.insert(
                format!("s{i}"),
                json!({"image": "a", "environment": {"A": "1"}, "ports": ["80:80"]}),
            );
            overrides.insert(
                format!("s{i}"),
                json!({"environment": {"B": "2"}, "ports": ["80:80", "81:81"]}),
            );
        }
        let base = node(json!({ "services": services }), 1);
        let over = node(json!({ "services": overrides }), 2);
        let over = tagged(over, &["services", "s5", "environment"], Tag::Reset);
        let start = std::time::Instant::now();
        let merged = merge(base, over).expect("merge");
        assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
        let s = merged
            .get("services")
            .and_then(Node::as_map)
            .expect("services");
        assert_eq!(s.len(), n);
        assert_eq!(
            merged.pointer(&["services", "s9999"]).map(Node::to_json),
            Some(json!({"image": "a", "environment": ["A=1", "B=2"], "ports": ["80:80", "81:81"]}))
        );
        assert!(merged.pointer(&["services", "s5", "environment"]).is_none());
    }
}
