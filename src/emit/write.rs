//! The only I/O of the output stage: putting rendered `(relative path, content)` files
//! on stdout, into one file, or into a directory, so that a failure never leaves
//! half-written output; and `--check`, which compares instead of writing. It never
//! renders anything itself and never touches paths outside the target (and, for the
//! atomic dance, temporary siblings of the target in the same parent directory).
//!
//! File target: the content is written to a temporary file in the same directory,
//! synced, then renamed over the target (so readers see the old or the new file, never
//! a mix). A symlink target is resolved first; the permissions of an existing target
//! are kept, a new file gets `0644` (a new directory `0755`, files in it the process
//! default).
//!
//! Directory target: the complete new directory is first written as a temporary
//! sibling `.<dir>.new-XXXX`. Then the old directory is renamed away into a temporary
//! sibling `.<dir>.old-XXXX/`, entries that are *not ours* are moved from it into the new
//! directory, the new directory is renamed into place and the old one deleted. If any
//! step fails before the final rename, everything moved is put back and the old
//! directory is restored untouched; the temporaries are removed.
//!
//! Which files are "ours" (from a previous run, so replaced or removed when stale): a
//! regular file (not a symlink) directly in the directory whose name ends in `.yaml`,
//! `.yml` or `.json` and whose content starts with `apiVersion:` (every object and
//! `kustomization.yaml` we write does) or with `{` and then, after whitespace,
//! `"apiVersion"` (our JSON). Everything else (subdirectories such as `.git`, READMEs,
//! other files) is carried over as is, except that a file we are about to write
//! replaces any entry of the same name.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

/// Where `-o` points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Stdout,
    File(PathBuf),
    Dir(PathBuf),
}

/// Write `files` to `target`. `Stdout` and `File` receive the contents concatenated in
/// order (paths ignored); `Dir` receives each file at its relative path. A file or
/// directory that already holds exactly this output is left untouched (no temporary,
/// no sync, no rename, same modification time): the usual case in a pre-commit hook.
pub fn write_atomic(target: &Target, files: &[(String, String)]) -> io::Result<()> {
    if up_to_date(target, files) {
        return Ok(());
    }
    match target {
        Target::Stdout => {
            let mut out = io::stdout().lock();
            for (_, content) in files {
                out.write_all(content.as_bytes())?;
            }
            out.flush()
        }
        Target::File(path) => write_file_atomic(path, files),
        Target::Dir(dir) => write_dir_atomic(dir, files),
    }
}

/// Result of `--check`: what a write would change. Paths are relative to the target
/// directory, or the target file's path as given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckOutcome {
    /// Exist with different content.
    pub stale: Vec<String>,
    /// Would be created.
    pub missing: Vec<String>,
    /// Ours (see the module doc) but no longer produced: would be removed.
    pub extra: Vec<String>,
    /// Unified diff (`a/` = on disk, `b/` = would be written) of all of the above.
    pub diff: String,
}

impl CheckOutcome {
    pub fn is_up_to_date(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Whether `target` already holds exactly `files` (and, for a directory, no stale
/// files of ours). Cheap: no diff is computed, and reading stops at the first
/// difference in size. Any error reading says "no" (the write then reports it).
fn up_to_date(target: &Target, files: &[(String, String)]) -> bool {
    // Whether the file at `path` holds exactly `parts`, concatenated.
    let same = |path: &Path, parts: &[&str]| -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        match fs::metadata(path) {
            Ok(md) if md.is_file() && md.len() == len as u64 => {}
            _ => return false,
        }
        let Ok(old) = fs::read(path) else {
            return false;
        };
        let mut rest = old.as_slice();
        parts.iter().all(|p| match rest.split_at_checked(p.len()) {
            Some((head, tail)) if head == p.as_bytes() => {
                rest = tail;
                true
            }
            _ => false,
        })
    };
    match target {
        Target::Stdout => false,
        Target::File(path) => {
            let parts: Vec<&str> = files.iter().map(|(_, c)| c.as_str()).collect();
            same(path, &parts)
        }
        Target::Dir(dir) => {
            if validate(files).is_err() || !files.iter().all(|(rel, c)| same(&dir.join(rel), &[c]))
            {
                return false;
            }
            let Ok(entries) = fs::read_dir(dir) else {
                return false;
            };
            let wanted: HashSet<&str> = files.iter().map(|(r, _)| r.as_str()).collect();
            entries.into_iter().all(|e| {
                e.is_ok_and(|e| {
                    wanted.contains(e.file_name().to_string_lossy().as_ref())
                        || is_ours(&e.path()).is_ok_and(|ours| !ours)
                })
            })
        }
    }
}

/// Compare `files` with what is at `target`; writes nothing. `Stdout` is an
/// `InvalidInput` error (there is nothing to compare with).
pub fn check(target: &Target, files: &[(String, String)]) -> io::Result<CheckOutcome> {
    let mut outcome = CheckOutcome::default();
    match target {
        Target::Stdout => {
            return Err(invalid_input("--check needs an output file or directory"));
        }
        Target::File(path) => {
            let label = path.to_string_lossy();
            let old = read_optional(path)?;
            compare(&mut outcome, &label, old.as_deref(), &concat(files));
        }
        Target::Dir(dir) => {
            validate(files)?;
            let exists = match fs::metadata(dir) {
                Ok(md) if md.is_dir() => true,
                Ok(_) => return Err(not_a_dir(dir)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => false,
                Err(e) => return Err(e),
            };
            for (rel, content) in files {
                let old = if exists {
                    read_optional(&dir.join(rel))?
                } else {
                    None
                };
                compare(&mut outcome, rel, old.as_deref(), content);
            }
            if exists {
                let wanted: HashSet<&str> = files.iter().map(|(r, _)| r.as_str()).collect();
                let mut extra: Vec<(String, PathBuf)> = Vec::new();
                for entry in fs::read_dir(dir)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !wanted.contains(name.as_str()) && is_ours(&entry.path())? {
                        extra.push((name, entry.path()));
                    }
                }
                extra.sort();
                for (name, path) in extra {
                    let old = String::from_utf8_lossy(&fs::read(&path)?).into_owned();
                    push_diff(
                        &mut outcome.diff,
                        &old,
                        "",
                        &format!("a/{name}"),
                        "/dev/null",
                    );
                    outcome.extra.push(name);
                }
            }
        }
    }
    Ok(outcome)
}

fn compare(outcome: &mut CheckOutcome, label: &str, old: Option<&str>, new: &str) {
    match old {
        None => {
            push_diff(
                &mut outcome.diff,
                "",
                new,
                "/dev/null",
                &format!("b/{label}"),
            );
            outcome.missing.push(label.to_string());
        }
        Some(old) if old != new => {
            push_diff(
                &mut outcome.diff,
                old,
                new,
                &format!("a/{label}"),
                &format!("b/{label}"),
            );
            outcome.stale.push(label.to_string());
        }
        Some(_) => {}
    }
}

fn push_diff(out: &mut String, old: &str, new: &str, a: &str, b: &str) {
    let diff = similar::TextDiff::from_lines(old, new);
    out.push_str(
        &diff
            .unified_diff()
            .context_radius(3)
            .header(a, b)
            .to_string(),
    );
}

/// The file's content (lossily decoded), or `None` when it does not exist.
fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn concat(files: &[(String, String)]) -> String {
    let mut s = String::with_capacity(files.iter().map(|(_, c)| c.len()).sum());
    for (_, c) in files {
        s.push_str(c);
    }
    s
}

fn invalid_input(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.into())
}

fn not_a_dir(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{} exists and is not a directory", path.display()),
    )
}

/// Follow a symlink at `path` (so we replace what it points to, not the link), and
/// make `.`-like paths (no last component) absolute so they have a name.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_symlink() => fs::canonicalize(path),
        _ if path.file_name().is_none() => fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn file_name_of(path: &Path) -> io::Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| invalid_input(format!("{} has no file name", path.display())))
}

#[cfg(unix)]
fn set_mode(path: &Path, existing: Option<fs::Permissions>, default: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let perms = existing.unwrap_or_else(|| fs::Permissions::from_mode(default));
    fs::set_permissions(path, perms)
}

#[cfg(not(unix))]
fn set_mode(path: &Path, existing: Option<fs::Permissions>, _default: u32) -> io::Result<()> {
    match existing {
        Some(perms) => fs::set_permissions(path, perms),
        None => Ok(()),
    }
}

/// Write the contents of `files`, concatenated, to the file at `path` (module doc).
fn write_file_atomic(path: &Path, files: &[(String, String)]) -> io::Result<()> {
    let path = resolve(path)?;
    let existing = match fs::metadata(&path) {
        Ok(md) if md.is_dir() => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} is a directory", path.display()),
            ))
        }
        Ok(md) => Some(md.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let parent = parent_of(&path);
    fs::create_dir_all(&parent)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", file_name_of(&path)?))
        .suffix(".tmp")
        .tempfile_in(&parent)?;
    for (_, content) in files {
        tmp.write_all(content.as_bytes())?;
    }
    tmp.as_file().sync_all()?;
    set_mode(tmp.path(), existing, 0o644)?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(())
}

/// Relative paths must be plain (no `..`, `.`, root or empty parts) and distinct.
fn validate(files: &[(String, String)]) -> io::Result<()> {
    let mut seen = HashSet::with_capacity(files.len());
    for (rel, _) in files {
        let p = Path::new(rel);
        let plain = rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..")
            && p.components().all(|c| matches!(c, Component::Normal(_)));
        if !plain {
            return Err(invalid_input(format!("unsafe output path {rel:?}")));
        }
        if !seen.insert(rel.as_str()) {
            return Err(invalid_input(format!("output path {rel:?} given twice")));
        }
    }
    Ok(())
}

/// Does this directory entry look like a file an earlier run wrote? (module doc)
fn is_ours(path: &Path) -> io::Result<bool> {
    let md = fs::symlink_metadata(path)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    if !md.is_file() || ![".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e)) {
        return Ok(false);
    }
    let mut head = [0u8; 64];
    let mut n = 0;
    let mut f = fs::File::open(path)?;
    while n < head.len() {
        match f.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    if head.starts_with(b"apiVersion:") {
        return Ok(true);
    }
    Ok(match head.strip_prefix(b"{") {
        Some(rest) => rest
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .is_some_and(|i| rest[i..].starts_with(b"\"apiVersion\"")),
        None => false,
    })
}

fn write_dir_atomic(dir: &Path, files: &[(String, String)]) -> io::Result<()> {
    validate(files)?;
    let dir = resolve(dir)?;
    let existing = match fs::symlink_metadata(&dir) {
        Ok(md) if md.is_dir() => Some(md.permissions()),
        Ok(_) => return Err(not_a_dir(&dir)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let parent = parent_of(&dir);
    let dir_name = file_name_of(&dir)?;
    fs::create_dir_all(&parent)?;

    // 1. The complete new directory, as a sibling (removed on drop unless kept).
    let new = tempfile::Builder::new()
        .prefix(&format!(".{dir_name}.new-"))
        .tempdir_in(&parent)?;
    for (rel, content) in files {
        let path = new.path().join(rel);
        if let Some(p) = path.parent() {
            fs::create_dir_all(p)?;
        }
        let mut f = fs::File::create(&path)?;
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
    }
    let has_old = existing.is_some();
    set_mode(new.path(), existing, 0o755)?;

    if !has_old {
        fs::rename(new.path(), &dir)?;
        let _ = new.keep();
        return Ok(());
    }

    // 2. Move the old directory away, inside a temporary holder (deleted on drop).
    let holder = tempfile::Builder::new()
        .prefix(&format!(".{dir_name}.old-"))
        .tempdir_in(&parent)?;
    let old = holder.path().join(&dir_name);
    fs::rename(&dir, &old)?;

    // 3. Carry over what is not ours, 4. swap in; on failure, undo and restore.
    let outcome = carry_over(&old, new.path(), files)
        .and_then(|moved| swap_in(new.path(), &dir).map_err(|e| (e, moved)));
    match outcome {
        Ok(()) => {
            let _ = new.keep();
            // Best effort: the new output is complete; a leftover `.<dir>.old-*` is
            // harmless.
            let _ = holder.close();
            Ok(())
        }
        Err((err, moved)) => {
            // Put carried-over entries back; anything that cannot go back stays in
            // the new directory, which is then kept rather than deleted.
            let stuck = moved
                .iter()
                .rev()
                .filter(|name| fs::rename(new.path().join(name), old.join(name)).is_err())
                .count();
            let new_path = new.path().to_path_buf();
            if stuck > 0 {
                let _ = new.keep();
            }
            if let Err(restore) = fs::rename(&old, &dir) {
                // Keep the old content where it is instead of deleting it with the holder.
                let _ = holder.keep();
                return Err(io::Error::new(
                    restore.kind(),
                    format!(
                        "{err}; restoring {} failed: {restore}; the old content is in {}",
                        dir.display(),
                        old.display()
                    ),
                ));
            }
            if stuck > 0 {
                return Err(io::Error::new(
                    err.kind(),
                    format!(
                        "{err}; {stuck} entries could not be moved back and are in {}",
                        new_path.display()
                    ),
                ));
            }
            Err(err)
        }
    }
}

#[cfg(test)]
thread_local! {
    /// Test hook: make the final rename of [`write_dir_atomic`] fail.
    static FAIL_SWAP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn swap_in(new: &Path, dir: &Path) -> io::Result<()> {
    #[cfg(test)]
    if FAIL_SWAP.with(|f| f.get()) {
        return Err(io::Error::other("injected failure"));
    }
    fs::rename(new, dir)
}

/// Move every entry of `old` that is not ours and not overwritten by `files` into
/// `new`. Returns the moved names; on error, the error and what was moved so far.
fn carry_over(
    old: &Path,
    new: &Path,
    files: &[(String, String)],
) -> Result<Vec<std::ffi::OsString>, (io::Error, Vec<std::ffi::OsString>)> {
    let ours_now: HashSet<&std::ffi::OsStr> = files
        .iter()
        .filter_map(|(rel, _)| Path::new(rel).components().next())
        .map(|c| c.as_os_str())
        .collect();
    let mut moved = Vec::new();
    let entries = fs::read_dir(old).map_err(|e| (e, Vec::new()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| (e, Vec::new()))?;
        let name = entry.file_name();
        if ours_now.contains(name.as_os_str()) {
            continue;
        }
        match is_ours(&entry.path()) {
            Ok(true) => {}
            Ok(false) => names.push(name),
            Err(e) => return Err((e, moved)),
        }
    }
    names.sort();
    for name in names {
        if let Err(e) = fs::rename(old.join(&name), new.join(&name)) {
            return Err((e, moved));
        }
        moved.push(name);
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn validate_table() {
        let ok = ["a.yaml", "sub/a.yaml", "..a", "a..b"];
        let bad = ["", "/abs", "../x", "a/../b", "./a", "a//b", "a/", "a/."];
        for p in ok {
            assert!(validate(&files(&[(p, "")])).is_ok(), "{p}");
        }
        for p in bad {
            assert!(validate(&files(&[(p, "")])).is_err(), "{p}");
        }
        assert!(validate(&files(&[("a", ""), ("a", "")])).is_err());
    }

    fn listing(dir: &Path) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let content = if e.path().is_dir() {
                    format!("<dir {:?}>", listing(&e.path()))
                } else {
                    fs::read_to_string(e.path()).unwrap()
                };
                (e.file_name().to_string_lossy().into_owned(), content)
            })
            .collect();
        v.sort();
        v
    }

    #[cfg(unix)]
    fn inode(p: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(p).unwrap().ino()
    }

    #[cfg(unix)]
    #[test]
    fn unchanged_output_is_not_rewritten() {
        let tmp = tempfile::tempdir().unwrap();
        // One file: same bytes keep the very same file; other bytes replace it.
        let f = tmp.path().join("out.yaml");
        let t = Target::File(f.clone());
        let two = files(&[("-", "apiVersion: v1\n"), ("-", "---\nkind: X\n")]);
        write_atomic(&t, &two).unwrap();
        let first = inode(&f);
        write_atomic(&t, &two).unwrap();
        assert_eq!(inode(&f), first);
        assert!(up_to_date(&t, &two));
        for other in [
            files(&[("-", "apiVersion: v1\n"), ("-", "---\nkind: Y\n")]),
            files(&[("-", "apiVersion: v1\n")]),
            files(&[("-", "apiVersion: v1\n---\nkind: X\n\n")]),
        ] {
            assert!(!up_to_date(&t, &other));
        }
        write_atomic(&t, &files(&[("-", "apiVersion: v2\n")])).unwrap();
        assert_ne!(inode(&f), first);
        assert_eq!(fs::read_to_string(&f).unwrap(), "apiVersion: v2\n");

        // A directory: untouched only if every file matches and no stale file of ours
        // is left; files that are not ours do not matter.
        let dir = tmp.path().join("out");
        let d = Target::Dir(dir.clone());
        let set = files(&[
            ("a.yaml", "apiVersion: v1\n"),
            ("b.yaml", "apiVersion: v1\nb: 1\n"),
        ]);
        write_atomic(&d, &set).unwrap();
        fs::write(dir.join("README.md"), "keep").unwrap();
        let a = inode(&dir.join("a.yaml"));
        write_atomic(&d, &set).unwrap();
        assert_eq!(inode(&dir.join("a.yaml")), a);
        fs::write(dir.join("stale.yaml"), "apiVersion: v1\n").unwrap();
        assert!(!up_to_date(&d, &set));
        write_atomic(&d, &set).unwrap();
        assert!(!dir.join("stale.yaml").exists());
        assert_eq!(fs::read_to_string(dir.join("README.md")).unwrap(), "keep");
        assert!(up_to_date(&d, &set));
        assert!(!up_to_date(&d, &set[..1]));
        assert!(!up_to_date(&Target::Stdout, &set));
    }

    #[test]
    fn failed_swap_restores_everything() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let old = files(&[
            ("a-service.yaml", "apiVersion: v1\nold: 1\n"),
            ("b-configmap.yaml", "apiVersion: v1\n"),
        ]);
        write_dir_atomic(&dir, &old).unwrap();
        fs::write(dir.join("README.md"), "keep").unwrap();
        fs::create_dir(dir.join(".git")).unwrap();
        fs::write(dir.join(".git").join("HEAD"), "ref").unwrap();
        let before = listing(&dir);

        FAIL_SWAP.with(|f| f.set(true));
        let res = write_dir_atomic(
            &dir,
            &files(&[("a-service.yaml", "apiVersion: v1\nnew: 1\n")]),
        );
        FAIL_SWAP.with(|f| f.set(false));
        assert_eq!(res.unwrap_err().to_string(), "injected failure");
        assert_eq!(listing(&dir), before);
        let names: Vec<String> = listing(tmp.path()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["out"], "temporaries left behind");

        // and the next run works
        write_dir_atomic(
            &dir,
            &files(&[("a-service.yaml", "apiVersion: v1\nnew: 1\n")]),
        )
        .unwrap();
        let names: Vec<String> = listing(&dir).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, [".git", "README.md", "a-service.yaml"]);
    }

    #[test]
    fn ours_rule() {
        let d = tempfile::tempdir().unwrap();
        let cases: &[(&str, &str, bool)] = &[
            ("a-service.yaml", "apiVersion: v1\nkind: Service\n", true),
            ("k.yml", "apiVersion: x\n", true),
            ("a.json", "{\n  \"apiVersion\": \"v1\"}", true),
            ("a2.json", "{\"apiVersion\":1}", true),
            ("hand.yaml", "# mine\napiVersion: v1\n", false),
            ("kind.yaml", "kind: Service\napiVersion: v1\n", false),
            ("README.md", "apiVersion: v1\n", false),
            ("b.json", "{\"kind\": \"x\"}", false),
            ("empty.yaml", "", false),
        ];
        for (name, content, want) in cases {
            fs::write(d.path().join(name), content).unwrap();
            assert_eq!(is_ours(&d.path().join(name)).unwrap(), *want, "{name}");
        }
        fs::create_dir(d.path().join("sub.yaml")).unwrap();
        assert!(!is_ours(&d.path().join("sub.yaml")).unwrap());
    }
}
