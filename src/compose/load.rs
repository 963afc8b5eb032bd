//! The loader: compose files on disk -> one resolved [`Project`], as Docker Compose
//! loads them. It is the only code that reads files (compose files, `.env`,
//! `env_file`s, bind-mount sources and config/secret files); the process environment
//! arrives as data in [`LoadOptions`]. Order of work, after compose-go: find files ->
//! parse each (all documents merged) -> interpolate -> `include` -> `extends` -> merge
//! the files -> schema -> canonical long syntax -> profiles -> environment
//! resolution -> typed model. Every problem found on the way is collected so that one
//! run reports as many as possible.

use super::model::{ConfigObj, HostPath, Network, Project, SecretObj, Service, Volume};
use super::node::{Node, Value};
use super::{canon, dotenv, environment, interpolate, merge, schema, yaml};
use crate::diag::Diagnostic;
use crate::source::{FileId, SourceKind, Sources, Span};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// Largest compose or env file we read (Docker Compose has no limit; a file this size is
/// a mistake, and reading it would stall a pre-commit hook).
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// A ConfigMap holds at most 1 MiB; larger host files are not read.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Default file names, in lookup order.
pub const DEFAULT_FILES: &[&str] = &[
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
const OVERRIDE_FILES: &[&str] = &[
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
    "docker-compose.override.yml",
];

/// What the caller (the CLI) tells the loader.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// `-f` files as given (`-` = stdin).
    pub files: Vec<String>,
    pub project_name: Option<String>,
    pub project_directory: Option<String>,
    pub env_files: Vec<String>,
    pub profiles: Vec<String>,
    /// `false` with `--no-interpolate`.
    pub interpolate: bool,
    /// The working directory.
    pub cwd: PathBuf,
    /// The process environment.
    pub env: BTreeMap<String, String>,
    /// Standard input, when a file is `-`.
    pub stdin: Option<String>,
}

/// The loader's result: the project (absent when errors stopped it), every file read,
/// and all diagnostics.
pub struct Loaded {
    pub project: Option<Project>,
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

struct Loader<'a> {
    opts: &'a LoadOptions,
    sources: Sources,
    diags: Vec<Diagnostic>,
    /// Project environment: `.env` files overlaid by the process environment.
    env: BTreeMap<String, String>,
    /// Absolute project directory.
    project_dir: PathBuf,
    /// Services whose `extends` chain already failed (reported once).
    extends_failed: BTreeSet<(PathBuf, String)>,
    /// Parsed + interpolated trees by absolute path (for `extends` of other files).
    parsed: BTreeMap<PathBuf, Parsed>,
}

/// A compose file in the parse cache.
enum Parsed {
    /// Reading or parsing it failed (already reported).
    Failed,
    /// Shared by `include` and `extends` (cloned only by `include`, which edits it).
    Tree(FileId, Rc<Node>),
    /// A file given on the command line: its tree went to [`Loader::run`] without a
    /// copy. Should another file `include` or `extend` it, its text is parsed again.
    Taken(FileId),
}

pub fn load(opts: &LoadOptions) -> Loaded {
    let mut l = Loader {
        opts,
        sources: Sources::new(),
        diags: Vec::new(),
        env: BTreeMap::new(),
        project_dir: opts.cwd.clone(),
        extends_failed: BTreeSet::new(),
        parsed: BTreeMap::new(),
    };
    let project = l.run();
    Loaded {
        project,
        sources: l.sources,
        diagnostics: l.diags,
    }
}

impl Loader<'_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }

    /// Name shown to users for a path: relative to the working directory if inside it.
    fn display(&self, p: &Path) -> String {
        match p.strip_prefix(&self.opts.cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
            _ => p.to_string_lossy().into_owned(),
        }
    }

    fn run(&mut self) -> Option<Project> {
        let files = self.find_files()?;
        // Project directory: --project-directory, else the first file's folder.
        self.project_dir = match &self.opts.project_directory {
            Some(d) => normalize(&self.opts.cwd.join(d)),
            None => files
                .first()
                .and_then(|f| f.as_ref().and_then(|p| p.parent().map(Path::to_path_buf)))
                .unwrap_or_else(|| self.opts.cwd.clone()),
        };
        self.load_env();
        let mut trees: Vec<Node> = Vec::new();
        for f in &files {
            let loaded = match f {
                Some(path) => self.parse_root(path),
                None => self.parse_stdin(),
            };
            if let Some((_, tree)) = loaded {
                trees.push(tree);
            }
        }
        if self.has_errors() {
            return None;
        }
        // include + extends per file.
        let mut resolved = Vec::new();
        for (i, mut tree) in trees.into_iter().enumerate() {
            let base = files[i]
                .as_ref()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .unwrap_or_else(|| self.opts.cwd.clone());
            let here = files[i].clone().unwrap_or_else(|| self.opts.cwd.join("-"));
            self.includes(&mut tree, &base, &mut vec![here.clone()]);
            self.extends_all(&mut tree, &here);
            resolved.push(tree);
        }
        let mut root: Option<Node> = None;
        for tree in resolved {
            root = Some(match root {
                None => tree,
                Some(base) => match merge::merge(base, tree) {
                    Ok(n) => n,
                    Err(e) => {
                        self.err(Diagnostic::error(e.message).at(e.span));
                        return None;
                    }
                },
            });
        }
        let mut root = root?;
        merge::resolve_tags(&mut root);
        merge::enforce_unicity(&mut root);
        if self.has_errors() {
            return None;
        }

        if let Some((k, _)) = root.get_entry("version") {
            self.diags.push(
                Diagnostic::warning("the attribute `version` is obsolete, it will be ignored")
                    .at(k.span)
                    .help("remove it to avoid potential confusion (Docker Compose says the same)"),
            );
        }
        schema::validate(&root, &mut self.diags);
        // Short-syntax errors (ports, volumes, durations...) are reported even when the
        // schema found problems, so one run shows as many as possible.
        canon::canonical(&mut root, &mut self.diags);
        if self.has_errors() {
            return None;
        }
        let project = self.model(root);
        if self.has_errors() {
            return None;
        }
        project
    }

    /// `-f` files, `COMPOSE_FILE`, or the default lookup. `None` entries are stdin.
    fn find_files(&mut self) -> Option<Vec<Option<PathBuf>>> {
        let cwd = &self.opts.cwd;
        let given: Vec<String> = if !self.opts.files.is_empty() {
            self.opts.files.clone()
        } else if let Some(cf) = self.opts.env.get("COMPOSE_FILE").filter(|s| !s.is_empty()) {
            let sep = self
                .opts
                .env
                .get("COMPOSE_PATH_SEPARATOR")
                .and_then(|s| s.chars().next())
                .unwrap_or(':');
            cf.split(sep)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        } else {
            // The default lookup starts in --project-directory when given, as Compose does.
            let start = match &self.opts.project_directory {
                Some(d) => normalize(&cwd.join(d)),
                None => cwd.clone(),
            };
            let mut dir = Some(start.as_path());
            while let Some(d) = dir {
                if let Some(found) = DEFAULT_FILES
                    .iter()
                    .map(|f| d.join(f))
                    .find(|p| p.is_file())
                {
                    let mut v = vec![Some(found)];
                    if let Some(o) = OVERRIDE_FILES
                        .iter()
                        .map(|f| d.join(f))
                        .find(|p| p.is_file())
                    {
                        v.push(Some(o));
                    }
                    return Some(v);
                }
                dir = d.parent();
            }
            self.err(
                Diagnostic::error(
                    "no compose file found in this directory or any parent directory",
                )
                .help(format!(
                    "create {} or name a file with -f FILE",
                    DEFAULT_FILES[0]
                )),
            );
            return None;
        };
        Some(
            given
                .into_iter()
                .map(|f| {
                    if f == "-" {
                        None
                    } else {
                        Some(normalize(&cwd.join(f)))
                    }
                })
                .collect(),
        )
    }

    /// Read a text file with the checks every input file gets.
    fn read_text(&mut self, path: &Path, what: &str, at: Option<Span>) -> Option<String> {
        let shown = self.display(path);
        let fail =
            |msg: String, help: &str| Diagnostic::error(msg).at_opt(at).help(help.to_string());
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.err(fail(
                    format!("{what} `{shown}` does not exist"),
                    "check the path; relative paths are resolved from the working directory (-f) or the project directory",
                ));
                return None;
            }
            Err(e) => {
                self.err(fail(
                    format!("cannot read {what} `{shown}`: {e}"),
                    "check that the path names a readable file",
                ));
                return None;
            }
        };
        if meta.is_dir() {
            self.err(fail(
                format!("{what} `{shown}` is a directory"),
                "name a file, e.g. compose.yaml inside it",
            ));
            return None;
        }
        if meta.len() > MAX_FILE_BYTES {
            self.err(fail(
                format!(
                    "{what} `{shown}` is too large ({} bytes; the limit is {MAX_FILE_BYTES})",
                    meta.len()
                ),
                "compose files are configuration; split or generate smaller ones",
            ));
            return None;
        }
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                self.err(fail(
                    format!("cannot read {what} `{shown}`: {e}"),
                    "check that the path names a readable file",
                ));
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(s) => Some(s.strip_prefix('\u{feff}').map(String::from).unwrap_or(s)),
            Err(e) => {
                let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
                let col = upto.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
                let id = self.sources.add(
                    shown.clone(),
                    String::from_utf8_lossy(e.as_bytes()).into_owned(),
                );
                self.err(
                    Diagnostic::error(format!("{what} `{shown}` is not valid UTF-8"))
                        .at(Span::new(id, line as u32, col as u32, 1))
                        .help("save the file as UTF-8"),
                );
                None
            }
        }
    }

    fn parse_stdin(&mut self) -> Option<(FileId, Node)> {
        let text = self.opts.stdin.clone().unwrap_or_default();
        self.parse_text("-".to_string(), text)
    }

    /// Parse (and interpolate) a compose file given on the command line. Its tree is
    /// not copied into the cache (see [`Parsed::Taken`]).
    fn parse_root(&mut self, path: &Path) -> Option<(FileId, Node)> {
        if self.parsed.contains_key(path) {
            return self
                .parse_file(path, None)
                .map(|(id, t)| (id, Rc::unwrap_or_clone(t)));
        }
        let out = self.read_and_parse(path, None);
        let entry = match &out {
            Some((id, _)) => Parsed::Taken(*id),
            None => Parsed::Failed,
        };
        self.parsed.insert(path.to_path_buf(), entry);
        out
    }

    /// Parse (and interpolate) a compose file, once per path.
    fn parse_file(&mut self, path: &Path, at: Option<Span>) -> Option<(FileId, Rc<Node>)> {
        let out = match self.parsed.get(path) {
            Some(Parsed::Failed) => return None,
            Some(Parsed::Tree(id, t)) => return Some((*id, Rc::clone(t))),
            Some(Parsed::Taken(id)) => {
                // Same text, same FileId: the diagnostics were reported the first time.
                let id = *id;
                let reported = std::mem::take(&mut self.diags);
                let out = self.parse_source(id);
                self.diags = reported;
                out
            }
            None => self.read_and_parse(path, at),
        };
        let out = out.map(|(id, t)| (id, Rc::new(t)));
        let entry = match &out {
            Some((id, t)) => Parsed::Tree(*id, Rc::clone(t)),
            None => Parsed::Failed,
        };
        self.parsed.insert(path.to_path_buf(), entry);
        out
    }

    fn read_and_parse(&mut self, path: &Path, at: Option<Span>) -> Option<(FileId, Node)> {
        let text = self.read_text(path, "compose file", at)?;
        let shown = self.display(path);
        self.parse_text(shown, text)
    }

    fn parse_text(&mut self, shown: String, text: String) -> Option<(FileId, Node)> {
        let id = self.sources.add(shown, text);
        self.parse_source(id)
    }

    /// Parse (and interpolate) the text of source `id`, all documents merged.
    fn parse_source(&mut self, id: FileId) -> Option<(FileId, Node)> {
        let docs = match yaml::parse(self.sources.text(id), id) {
            Ok(d) => d,
            Err(d) => {
                self.err(d);
                return None;
            }
        };
        let docs: Vec<Node> = docs.into_iter().filter(|d| !d.is_null()).collect();
        if docs.is_empty() {
            let shown = self.sources.name(id).to_string();
            self.err(
                Diagnostic::error(format!("compose file `{shown}` is empty"))
                    .at(Span::file(id))
                    .help("a compose file needs at least a `services:` mapping"),
            );
            return None;
        }
        let mut tree: Option<Node> = None;
        for doc in docs {
            if doc.as_map().is_none() {
                self.err(
                    Diagnostic::error(format!(
                        "the top level of a compose file must be a mapping, found a {}",
                        doc.type_name()
                    ))
                    .at(doc.span)
                    .help("start the file with keys such as `services:`"),
                );
                return None;
            }
            tree = Some(match tree {
                None => doc,
                Some(base) => match merge::merge(base, doc) {
                    Ok(n) => n,
                    Err(e) => {
                        self.err(Diagnostic::error(e.message).at(e.span));
                        return None;
                    }
                },
            });
        }
        let mut tree = tree?;
        if self.opts.interpolate {
            let env = &self.env;
            let lookup = |k: &str| env.get(k).cloned();
            interpolate::interpolate_tree(&mut tree, &lookup, &mut self.diags);
        }
        collect_secrets(&tree, &mut self.sources);
        Some((id, tree))
    }

    /// `.env` / `--env-file`, overlaid by the process environment.
    fn load_env(&mut self) {
        let files: Vec<(PathBuf, bool)> = if self.opts.env_files.is_empty() {
            vec![(self.project_dir.join(".env"), false)]
        } else {
            self.opts
                .env_files
                .iter()
                .map(|f| (normalize(&self.opts.cwd.join(f)), true))
                .collect()
        };
        let mut texts: Vec<(FileId, String)> = Vec::new();
        for (path, required) in files {
            if !required && !path.is_file() {
                continue;
            }
            if let Some(t) = self.read_text(&path, "env file", None) {
                let id = self
                    .sources
                    .add_kind(self.display(&path), t.clone(), SourceKind::Env);
                texts.push((id, t));
            }
        }
        let process = &self.opts.env;
        let lookup = |k: &str| process.get(k).cloned();
        let refs: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
        match dotenv::load_files(&refs, Some(&lookup)) {
            Ok(vars) => {
                for (k, v) in vars {
                    self.env.insert(k, v);
                }
            }
            Err((i, e)) => {
                let id = texts.get(i).map(|(id, _)| *id).unwrap_or_default();
                self.err(
                    Diagnostic::error(format!(
                        "invalid env file: {}",
                        safe_dotenv_message(&e.message)
                    ))
                    .at(Span::new(id, e.line as u32, 1, 1))
                    .help("lines are KEY=VALUE; quote values with spaces"),
                );
            }
        }
        for (k, v) in &self.opts.env {
            self.env.insert(k.clone(), v.clone());
        }
        for (k, v) in &self.env {
            if crate::diag::looks_sensitive(k) {
                self.sources.add_secret(v);
            }
        }
    }

    /// Apply `include:` of a file tree: load each included project and add its
    /// resources. `stack` holds the files being included, for cycle detection.
    fn includes(&mut self, tree: &mut Node, base: &Path, stack: &mut Vec<PathBuf>) {
        let Some(inc) = tree.remove("include") else {
            return;
        };
        let items: Vec<Node> = match inc.value {
            Value::Seq(items) => items,
            _ => {
                self.err(Diagnostic::error("`include` must be a list").at(inc.span));
                return;
            }
        };
        for item in items {
            let (paths, proj_dir, span): (Vec<Node>, Option<String>, Span) = match &item.value {
                Value::Str(_) => (vec![item.clone()], None, item.span),
                Value::Map(_) => {
                    let paths = match item.get("path") {
                        Some(Node {
                            value: Value::Seq(p),
                            ..
                        }) => p.clone(),
                        Some(p) => vec![p.clone()],
                        None => {
                            self.err(
                                Diagnostic::error("`include` entry needs a `path`").at(item.span),
                            );
                            continue;
                        }
                    };
                    let pd = item
                        .get("project_directory")
                        .and_then(|n| n.scalar_string());
                    (paths, pd, item.span)
                }
                _ => {
                    self.err(
                        Diagnostic::error("`include` entries are paths or mappings with `path`")
                            .at(item.span),
                    );
                    continue;
                }
            };
            let mut sub: Option<Node> = None;
            let mut first_dir: Option<PathBuf> = None;
            for p in paths {
                let Some(rel) = p.scalar_string() else {
                    continue;
                };
                let path = normalize(&base.join(&rel));
                if stack.contains(&path) {
                    let chain: Vec<String> = stack.iter().map(|p| self.display(p)).collect();
                    self.err(
                        Diagnostic::error(format!(
                            "include cycle: {} -> {}",
                            chain.join(" -> "),
                            self.display(&path)
                        ))
                        .at(p.span)
                        .help("a file cannot include itself, directly or through other files"),
                    );
                    continue;
                }
                let Some((_, t)) = self.parse_file(&path, Some(p.span)) else {
                    continue;
                };
                let mut t = Rc::unwrap_or_clone(t);
                let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                first_dir.get_or_insert(dir.clone());
                stack.push(path.clone());
                self.includes(&mut t, &dir, stack);
                self.extends_all(&mut t, &path);
                stack.pop();
                sub = match sub {
                    None => Some(t),
                    Some(b) => match merge::merge(b, t) {
                        Ok(n) => Some(n),
                        Err(e) => {
                            self.err(Diagnostic::error(e.message).at(e.span));
                            None
                        }
                    },
                };
            }
            let Some(mut sub) = sub else { continue };
            let sub_dir = match proj_dir {
                Some(d) => normalize(&base.join(d)),
                None => first_dir.unwrap_or_else(|| base.to_path_buf()),
            };
            rebase(&mut sub, &sub_dir, &self.project_dir);
            for section in [
                "services", "volumes", "networks", "configs", "secrets", "models",
            ] {
                let Some(Node {
                    value: Value::Map(entries),
                    ..
                }) = sub.remove(section)
                else {
                    continue;
                };
                if tree.get(section).is_none() {
                    tree.set(section, Node::map(Vec::new(), span));
                }
                let Some(target) = tree.get_mut(section).and_then(Node::as_map_mut) else {
                    continue;
                };
                let existing: BTreeMap<String, Span> = target
                    .iter()
                    .map(|(k, _)| (k.name.clone(), k.span))
                    .collect();
                let mut clashes = Vec::new();
                for (k, v) in entries {
                    if let Some(first) = existing.get(&k.name) {
                        clashes.push((k, *first));
                    } else {
                        target.push((k, v));
                    }
                }
                for (k, first) in clashes {
                    if section == "services" {
                        self.err(
                            Diagnostic::error(format!(
                                "service `{}` is defined both here and in an included file",
                                k.name
                            ))
                            .at(first)
                            .note(k.span, "included definition")
                            .help("rename one of them; included resources cannot be overridden by redefinition"),
                        );
                    }
                }
            }
        }
    }

    /// Resolve `extends` of every service in a file tree.
    /// Only services with `extends` change; names are looked up through an index so
    /// that thousands of services stay linear.
    fn extends_all(&mut self, tree: &mut Node, file: &Path) {
        let Some(services) = tree.get("services").and_then(Node::as_map) else {
            return;
        };
        let names: Vec<String> = services
            .iter()
            .filter(|(_, v)| v.get("extends").is_some())
            .map(|(k, _)| k.name.clone())
            .collect();
        if names.is_empty() {
            return;
        }
        // First entry of a name wins, as with `Node::get`.
        let mut index: HashMap<String, usize> = HashMap::with_capacity(services.len());
        for (i, (k, _)) in services.iter().enumerate() {
            index.entry(k.name.clone()).or_insert(i);
        }
        for name in names {
            let mut stack = Vec::new();
            if let Some(svc) = self.resolve_extends(tree, file, &name, &mut stack, Some(&index)) {
                let slot = index.get(&name).and_then(|&i| {
                    tree.get_mut("services")
                        .and_then(Node::as_map_mut)
                        .and_then(|m| m.get_mut(i))
                });
                if let Some((_, slot)) = slot {
                    *slot = svc;
                }
            }
        }
    }

    /// The service `name` of `tree` (from `file`) with its `extends` chain applied.
    fn resolve_extends(
        &mut self,
        tree: &Node,
        file: &Path,
        name: &str,
        stack: &mut Vec<(PathBuf, String)>,
        index: Option<&HashMap<String, usize>>,
    ) -> Option<Node> {
        let svc = service_in(tree, name, index)?.clone();
        let Some(ext) = svc.get("extends").cloned() else {
            return Some(svc);
        };
        let key = (file.to_path_buf(), name.to_string());
        if self.extends_failed.contains(&key) {
            return None;
        }
        if stack.contains(&key) {
            self.extends_failed.extend(stack.iter().cloned());
            let chain: Vec<String> = stack.iter().map(|(_, s)| s.clone()).collect();
            self.err(
                Diagnostic::error(format!("extends cycle: {} -> {name}", chain.join(" -> ")))
                    .at(ext.span)
                    .help("a service cannot extend itself, directly or through other services"),
            );
            return None;
        }
        stack.push(key);
        let (base_name, base_file) = match &ext.value {
            Value::Str(s) => (s.clone(), None),
            Value::Map(_) => (
                ext.get("service")
                    .and_then(|n| n.scalar_string())
                    .unwrap_or_default(),
                ext.get("file").and_then(|n| n.scalar_string()),
            ),
            _ => {
                self.err(
                    Diagnostic::error("`extends` must be a service name or a mapping").at(ext.span),
                );
                stack.pop();
                return None;
            }
        };
        let result = match base_file {
            None => {
                if service_in(tree, &base_name, index).is_none() {
                    self.err(
                        Diagnostic::error(format!(
                            "service `{name}` extends `{base_name}`, which is not defined"
                        ))
                        .at(ext.span),
                    );
                    None
                } else {
                    self.resolve_extends(tree, file, &base_name, stack, index)
                }
            }
            Some(f) => {
                let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                let path = normalize(&dir.join(&f));
                match self.parse_file(&path, Some(ext.span)) {
                    Some((_, other)) => {
                        if other
                            .get("services")
                            .and_then(|s| s.get(&base_name))
                            .is_none()
                        {
                            self.err(
                                Diagnostic::error(format!(
                                    "service `{name}` extends `{base_name}`, which is not defined in `{f}`"
                                ))
                                .at(ext.span),
                            );
                            None
                        } else {
                            let base = self.resolve_extends(&other, &path, &base_name, stack, None);
                            base.map(|mut b| {
                                let bdir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                                let mut wrapper = Node::map(Vec::new(), b.span);
                                let mut services = Node::map(Vec::new(), b.span);
                                b.remove("extends");
                                services.set("x", b);
                                wrapper.set("services", services);
                                rebase(&mut wrapper, &bdir, &dir);
                                wrapper
                                    .remove("services")
                                    .and_then(|mut s| s.remove("x"))
                                    .unwrap_or_default()
                            })
                        }
                    }
                    None => None,
                }
            }
        };
        stack.pop();
        let mut base = result?;
        base.remove("extends");
        let mut over = svc;
        over.remove("extends");
        match merge::merge_service(base, over) {
            Ok(n) => Some(n),
            Err(e) => {
                self.err(Diagnostic::error(e.message).at(e.span));
                None
            }
        }
    }

    /// The typed project from the canonical root tree.
    fn model(&mut self, mut root: Node) -> Option<Project> {
        let mut p = Project::default();
        // Name.
        let top_name = root.get("name").and_then(|n| n.scalar_string());
        let dir_name = self
            .project_dir
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let raw = self
            .opts
            .project_name
            .clone()
            .or_else(|| {
                self.env
                    .get("COMPOSE_PROJECT_NAME")
                    .cloned()
                    .filter(|s| !s.is_empty())
            })
            .or(top_name)
            .unwrap_or(dir_name);
        p.name = normalize_project_name(&raw);
        if p.name.is_empty() {
            self.err(
                Diagnostic::error(format!("project name \"{raw}\" has no usable characters"))
                    .at_opt(root.get_entry("name").map(|(k, _)| k.span))
                    .help("set one with -p NAME: lower-case letters, digits, `-` and `_`"),
            );
            return None;
        }
        // Profiles.
        let mut active: BTreeSet<String> = self.opts.profiles.iter().cloned().collect();
        if active.is_empty() {
            if let Some(cp) = self.env.get("COMPOSE_PROFILES") {
                active.extend(
                    cp.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty()),
                );
            }
        }
        let all = active.contains("*");

        let mut disabled: BTreeSet<String> = BTreeSet::new();
        // Active services' trees move into `Service::node`; their keys stay in the root.
        if let Some(services) = root.get_mut("services").and_then(Node::as_map_mut) {
            for (k, node) in services.iter_mut() {
                let profiles: Vec<String> = node
                    .get("profiles")
                    .and_then(Node::as_seq)
                    .map(|s| s.iter().filter_map(|n| n.scalar_string()).collect())
                    .unwrap_or_default();
                if !profiles.is_empty() && !all && !profiles.iter().any(|pr| active.contains(pr)) {
                    disabled.insert(k.name.clone());
                    continue;
                }
                let node = std::mem::replace(node, Node::null(node.span));
                if let Some(mut svc) = self.service(&k.name, node) {
                    svc.key_span = k.span;
                    p.services.insert(k.name.clone(), Box::new(svc));
                }
            }
        }
        // Top-level resources.
        fn section<T: serde::de::DeserializeOwned + Default>(
            l: &mut Loader,
            root: &Node,
            name: &str,
            set_span: impl Fn(&mut T, Span),
        ) -> BTreeMap<String, T> {
            let mut out = BTreeMap::new();
            if let Some(m) = root.get(name).and_then(Node::as_map) {
                for (k, v) in m {
                    let val = if v.is_null() {
                        Ok(T::default())
                    } else {
                        super::de::from_node::<T>(v)
                    };
                    match val {
                        Ok(mut t) => {
                            set_span(&mut t, k.span);
                            out.insert(k.name.clone(), t);
                        }
                        Err(e) => l.err(
                            Diagnostic::error(format!("invalid {name} entry `{}`: {e}", k.name))
                                .at(k.span),
                        ),
                    }
                }
            }
            out
        }
        p.volumes = section::<Volume>(self, &root, "volumes", |t, s| t.span = s);
        p.networks = section::<Network>(self, &root, "networks", |t, s| t.span = s);
        p.configs = section::<ConfigObj>(self, &root, "configs", |t, s| t.span = s);
        p.secrets = section::<SecretObj>(self, &root, "secrets", |t, s| t.span = s);
        if let Some(m) = root.get("models").and_then(Node::as_map) {
            p.models = m
                .iter()
                .map(|(k, v)| (k.name.clone(), v.to_json()))
                .collect();
        }
        if let Some(m) = root.as_map() {
            p.extensions = m
                .iter()
                .filter(|(k, _)| k.name.starts_with("x-"))
                .map(|(k, v)| (k.name.clone(), v.to_json()))
                .collect();
        }
        // `environment:` sources of configs and secrets.
        for (name, c) in p.configs.iter_mut() {
            if let Some(var) = &c.environment {
                match self.env.get(var) {
                    Some(v) => c.content = Some(v.clone()),
                    None => self.diags.push(
                        Diagnostic::error(format!(
                            "config `{name}` reads variable {var}, which is not set"
                        ))
                        .at(c.span)
                        .help(format!("set {var} in the environment or in .env")),
                    ),
                }
            }
        }
        for (name, s) in p.secrets.iter_mut() {
            if let Some(var) = &s.environment {
                match self.env.get(var) {
                    Some(v) => s.env_value = Some(v.clone()),
                    None => self.diags.push(
                        Diagnostic::error(format!(
                            "secret `{name}` reads variable {var}, which is not set"
                        ))
                        .at(s.span)
                        .help(format!("set {var} in the environment or in .env")),
                    ),
                }
            }
        }
        self.check_references(&p, &disabled);
        self.read_host_paths(&mut p);
        for sec in p.secrets.values() {
            if let Some(v) = &sec.env_value {
                self.sources.add_secret(v);
            }
            if let Some(HostPath::File(bytes)) = sec.file.as_ref().and_then(|f| p.host_paths.get(f))
            {
                if let Ok(text) = std::str::from_utf8(bytes) {
                    self.sources.add_secret(text);
                }
            }
        }
        p.tree = root;
        Some(p)
    }

    /// One service: extensions split off, typed, environment resolved.
    fn service(&mut self, name: &str, node: Node) -> Option<Service> {
        // `x-*` keys are kept apart (as JSON); the rest is read straight from the tree.
        let extensions: BTreeMap<String, Json> = node
            .as_map()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.name.starts_with("x-"))
            .map(|(k, v)| (k.name.clone(), v.to_json()))
            .collect();
        let mut svc: Service = match super::de::from_node_without_extensions(&node) {
            Ok(s) => s,
            Err(e) => {
                self.err(Diagnostic::error(format!("invalid service `{name}`: {e}")).at(node.span));
                return None;
            }
        };
        svc.name = name.to_string();
        svc.node = node;
        let node = &svc.node;
        svc.extensions = extensions;
        // label_file: KEY=VALUE files; `labels` win over them (as in Compose).
        for (i, lf) in svc.label_file.clone().iter().enumerate() {
            let path = normalize(&self.project_dir.join(lf));
            let span = node.span_at(&["label_file", &i.to_string()]);
            let Some(t) = self.read_text(&path, "label_file", Some(span)) else {
                continue;
            };
            let id = self
                .sources
                .add_kind(self.display(&path), t.clone(), SourceKind::Env);
            match dotenv::parse(&t, None) {
                Ok(pairs) => {
                    for (k, v) in pairs {
                        svc.labels.entry(k).or_insert(v);
                    }
                }
                Err(e) => self.diags.push(
                    Diagnostic::error(format!(
                        "invalid label_file: {}",
                        safe_dotenv_message(&e.message)
                    ))
                    .at(Span::new(id, e.line.max(1) as u32, 1, 1))
                    .help("lines are KEY=VALUE"),
                ),
            }
        }
        // Environment: env_file then environment.
        let mut texts = Vec::new();
        for (i, ef) in svc.env_file.clone().iter().enumerate() {
            let path = normalize(&self.project_dir.join(&ef.path));
            let span = node.span_at(&["env_file", &i.to_string()]);
            if ef.required == Some(false) && !path.exists() {
                continue;
            }
            if let Some(t) = self.read_text(&path, "env_file", Some(span)) {
                let id = self
                    .sources
                    .add_kind(self.display(&path), t.clone(), SourceKind::Env);
                texts.push((id, t));
            }
        }
        // Syntax errors of env files point into the env file itself.
        let mut bad_file = false;
        for (id, t) in &texts {
            if let Err(e) = dotenv::parse(t, None) {
                bad_file = true;
                let shown = self.sources.name(*id).to_string();
                self.diags.push(
                    Diagnostic::error(format!(
                        "invalid env_file `{shown}`: {}",
                        safe_dotenv_message(&e.message)
                    ))
                    .at(Span::new(*id, e.line.max(1) as u32, 1, 1))
                    .help("lines are KEY=VALUE; quote values with spaces"),
                );
            }
        }
        if bad_file {
            return Some(svc);
        }
        let entries = match node.get("environment") {
            Some(n) => match environment::try_environment_entries(
                n,
                &format!("services.{name}.environment"),
            ) {
                Ok(e) => e,
                Err(d) => {
                    self.err(d);
                    return Some(svc);
                }
            },
            None => Vec::new(),
        };
        let env = &self.env;
        let lookup = |k: &str| env.get(k).cloned();
        let plain: Vec<String> = texts.iter().map(|(_, t)| t.clone()).collect();
        match environment::resolve(&lookup, &plain, &entries) {
            Ok(resolved) => {
                for (k, v) in &resolved {
                    if let (true, Some(v)) = (crate::diag::looks_sensitive(k), v) {
                        self.sources.add_secret(v);
                    }
                }
                svc.environment = resolved
            }
            Err(msg) => self.err(
                Diagnostic::error(format!("invalid env_file of service `{name}`: {msg}"))
                    .at(node.span_at(&["env_file"])),
            ),
        }
        Some(svc)
    }

    /// Services may only refer to resources that exist.
    fn check_references(&mut self, p: &Project, disabled: &BTreeSet<String>) {
        let mut ds = Vec::new();
        for svc in p.services.values() {
            for dep in svc.depends_on.keys() {
                if p.services.contains_key(dep) {
                    continue;
                }
                let span = svc.span_of(&["depends_on", dep]);
                if disabled.contains(dep) {
                    ds.push(
                        Diagnostic::warning(format!(
                            "service `{}` depends on `{dep}`, which is not in an active profile",
                            svc.name
                        ))
                        .at(span)
                        .help(format!(
                            "activate its profile with --profile, or `{dep}` will be missing"
                        )),
                    );
                } else {
                    ds.push(
                        Diagnostic::error(format!(
                            "service `{}` depends on undefined service `{dep}`",
                            svc.name
                        ))
                        .at(span),
                    );
                }
            }
            for (i, v) in svc.volumes.iter().enumerate() {
                if v.r#type == "volume" {
                    if let Some(src) = &v.source {
                        if !p.volumes.contains_key(src) {
                            ds.push(
                                Diagnostic::error(format!(
                                    "service `{}` refers to undefined volume `{src}`",
                                    svc.name
                                ))
                                .at(svc.span_of(&["volumes", &i.to_string()]))
                                .help(format!("declare it under the top-level `volumes:` key, or use `./{src}` for a bind mount")),
                            );
                        }
                    }
                }
            }
            for net in svc.networks.keys() {
                if net != "default" && !p.networks.contains_key(net) {
                    ds.push(
                        Diagnostic::error(format!(
                            "service `{}` refers to undefined network `{net}`",
                            svc.name
                        ))
                        .at(svc.span_of(&["networks", net])),
                    );
                }
            }
            for (kind, refs, defined) in [
                (
                    "config",
                    &svc.configs,
                    p.configs.keys().collect::<BTreeSet<_>>(),
                ),
                (
                    "secret",
                    &svc.secrets,
                    p.secrets.keys().collect::<BTreeSet<_>>(),
                ),
            ] {
                for (i, r) in refs.iter().enumerate() {
                    if !defined.contains(&r.source) {
                        ds.push(
                            Diagnostic::error(format!(
                                "service `{}` refers to undefined {kind} `{}`",
                                svc.name, r.source
                            ))
                            .at(svc.span_of(&[&format!("{kind}s"), &i.to_string()]))
                            .help(format!("declare it under the top-level `{kind}s:` key")),
                        );
                    }
                }
            }
        }
        self.diags.extend(ds);
    }

    /// Read every host path the project refers to, so that lowering stays pure.
    fn read_host_paths(&mut self, p: &mut Project) {
        let mut wanted: BTreeSet<String> = BTreeSet::new();
        for svc in p.services.values() {
            for v in &svc.volumes {
                if v.r#type == "bind" {
                    if let Some(s) = &v.source {
                        wanted.insert(s.clone());
                    }
                }
            }
        }
        for c in p.configs.values() {
            if let Some(f) = &c.file {
                wanted.insert(f.clone());
            }
        }
        for s in p.secrets.values() {
            if let Some(f) = &s.file {
                wanted.insert(f.clone());
            }
        }
        for w in wanted {
            let hp = self.host_path(&w);
            p.host_paths.insert(w, hp);
        }
    }

    fn host_path(&self, written: &str) -> HostPath {
        if written.starts_with('~') {
            return HostPath::Outside;
        }
        let abs = normalize(&self.project_dir.join(written));
        if !abs.starts_with(&self.project_dir) {
            return HostPath::Outside;
        }
        let Ok(meta) = std::fs::metadata(&abs) else {
            return HostPath::Missing;
        };
        if meta.is_file() {
            if meta.len() > MAX_CONFIG_BYTES {
                return HostPath::TooLarge(meta.len());
            }
            return match std::fs::read(&abs) {
                Ok(b) => HostPath::File(b),
                Err(_) => HostPath::Missing,
            };
        }
        if meta.is_dir() {
            let mut files = Vec::new();
            let mut other = 0;
            let mut total = 0u64;
            if let Ok(rd) = std::fs::read_dir(&abs) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    match e.file_type() {
                        Ok(t) if t.is_file() => {
                            let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                            total += len;
                            if total > MAX_CONFIG_BYTES {
                                return HostPath::TooLarge(total);
                            }
                            match std::fs::read(e.path()) {
                                Ok(b) => files.push((name, b)),
                                Err(_) => other += 1,
                            }
                        }
                        _ => other += 1,
                    }
                }
            }
            files.sort();
            return HostPath::Dir { files, other };
        }
        HostPath::Missing
    }
}

/// Service `name` of a file tree, through `index` (name -> position in `services`,
/// built from this very tree) when there is one.
fn service_in<'t>(
    tree: &'t Node,
    name: &str,
    index: Option<&HashMap<String, usize>>,
) -> Option<&'t Node> {
    let services = tree.get("services")?;
    match index {
        Some(ix) => services.as_map()?.get(*ix.get(name)?).map(|(_, v)| v),
        None => services.get(name),
    }
}

/// Make relative paths of a tree loaded from `from` relative to `to` instead
/// (build contexts, env files, bind-mount sources, config/secret files).
fn rebase(tree: &mut Node, from: &Path, to: &Path) {
    if from == to {
        return;
    }
    let Some(rel_dir) = relative(from, to) else {
        return;
    };
    let fix = |s: &str| -> Option<String> {
        if s.starts_with('/') || s.starts_with('~') || s.contains("://") {
            return None;
        }
        let joined = normalize(&to.join(&rel_dir).join(s));
        relative(&joined, to).map(|r| {
            let r = r.to_string_lossy().into_owned();
            if r.starts_with('.') {
                r
            } else {
                format!("./{r}")
            }
        })
    };
    let fix_node = |n: &mut Node| {
        if let Value::Str(s) = &n.value {
            if let Some(f) = fix(s) {
                n.value = Value::Str(f);
            }
        }
    };
    if let Some(services) = tree.get_mut("services").and_then(Node::as_map_mut) {
        for (_, svc) in services.iter_mut() {
            if let Some(b) = svc.get_mut("build") {
                if b.as_str().is_some() {
                    fix_node(b);
                } else if let Some(c) = b.get_mut("context") {
                    fix_node(c);
                }
            }
            if let Some(ef) = svc.get_mut("env_file") {
                match &mut ef.value {
                    Value::Str(_) => fix_node(ef),
                    Value::Seq(items) => {
                        for i in items.iter_mut() {
                            if i.as_str().is_some() {
                                fix_node(i);
                            } else if let Some(p) = i.get_mut("path") {
                                fix_node(p);
                            }
                        }
                    }
                    _ => {}
                }
            }
            if let Some(Node {
                value: Value::Seq(vols),
                ..
            }) = svc.get_mut("volumes")
            {
                for v in vols.iter_mut() {
                    match &v.value {
                        Value::Str(s) if s.starts_with('.') => {
                            if let Some((src, rest)) = s.split_once(':') {
                                if let Some(f) = fix(src) {
                                    v.value = Value::Str(format!("{f}:{rest}"));
                                }
                            }
                        }
                        Value::Map(_) if v.get("type").and_then(Node::as_str) == Some("bind") => {
                            if let Some(src) = v.get_mut("source") {
                                fix_node(src);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    for section in ["configs", "secrets"] {
        if let Some(m) = tree.get_mut(section).and_then(Node::as_map_mut) {
            for (_, c) in m.iter_mut() {
                if let Some(f) = c.get_mut("file") {
                    fix_node(f);
                }
            }
        }
    }
}

/// `path` relative to `base` (both absolute and normalised).
fn relative(path: &Path, base: &Path) -> Option<PathBuf> {
    let p: Vec<Component> = path.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    Some(out)
}

/// Lexically normalise a path (`.` and `..` removed), without touching the disk.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Compose's project name rule: lower-case, only `[a-z0-9_-]`, starting with a letter
/// or digit.
pub fn normalize_project_name(s: &str) -> String {
    let lowered: String = s
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-')
        .collect();
    lowered.trim_start_matches(['_', '-']).to_string()
}

/// Remember the values of sensitive-looking keys of a (interpolated) compose tree, so
/// no message shows them: `KEY: value` entries anywhere, and `KEY=value` list items.
fn collect_secrets(n: &Node, sources: &mut Sources) {
    match &n.value {
        Value::Map(m) => {
            for (k, v) in m {
                if crate::diag::looks_sensitive(&k.name) && k.name != "secrets" {
                    if let Some(s) = v.scalar_string() {
                        sources.add_secret(&s);
                    }
                }
                collect_secrets(v, sources);
            }
        }
        Value::Seq(items) => {
            for i in items {
                if let Some((k, v)) = i.as_str().and_then(|s| s.split_once('=')) {
                    if crate::diag::looks_sensitive(k) {
                        sources.add_secret(v);
                    }
                }
                collect_secrets(i, sources);
            }
        }
        _ => {}
    }
}

/// A dotenv parser message without the file's text: compose-go quotes the offending
/// line (`unterminated quoted value "s3cret...`), which may be a secret.
fn safe_dotenv_message(msg: &str) -> String {
    for cut in ["unterminated quoted value", "in variable name"] {
        if let Some(i) = msg.find(cut) {
            return msg[..i + cut.len()].to_string();
        }
    }
    msg.to_string()
}
