//! What the built binary needs from the machine, as `docs/install.md` states it: the shared
//! libraries it links (read from its ELF dynamic section), the newest glibc symbol version it
//! asks for, and a run in an empty root holding only the binary and those libraries.

use crate::cli::serve_demo_answers_then_drains;
use crate::support::process::BIN;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The line of `docs/install.md` that lists the libraries, each in backquotes.
const LIBRARIES_LINE: &str = "Shared libraries it links:";
/// The phrase of `docs/install.md` followed by the oldest glibc the binary runs on.
const GLIBC_PHRASE: &str = "it needs glibc ";

fn install_doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/install.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The libraries `docs/install.md` says the binary links.
fn documented_libraries() -> BTreeSet<String> {
    let doc = install_doc();
    let line = doc
        .lines()
        .find(|l| l.contains(LIBRARIES_LINE))
        .unwrap_or_else(|| panic!("docs/install.md has no line with {LIBRARIES_LINE:?}"));
    let after = &line[line.find(LIBRARIES_LINE).unwrap_or(0) + LIBRARIES_LINE.len()..];
    after
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The glibc version `docs/install.md` gives as the oldest the binary runs on, as (major, minor).
fn documented_glibc() -> (u32, u32) {
    let doc = install_doc().replace('\n', " ");
    let at = doc
        .find(GLIBC_PHRASE)
        .unwrap_or_else(|| panic!("docs/install.md has no {GLIBC_PHRASE:?}"));
    let version: String = doc[at + GLIBC_PHRASE.len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    parse_version(version.trim_end_matches('.'))
        .unwrap_or_else(|| panic!("no glibc version after {GLIBC_PHRASE:?}: {version:?}"))
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `readelf` with `args` on the binary; its standard output.
fn readelf(args: &[&str]) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(BIN)
        .output()
        .unwrap_or_else(|e| panic!("readelf (binutils): {e}"));
    assert!(out.status.success(), "readelf {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `NEEDED` entries of the binary's dynamic section.
fn needed_libraries() -> BTreeSet<String> {
    readelf(&["--dynamic", "--wide"])
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l.rfind(']')?;
            Some(l[start..end].to_string())
        })
        .collect()
}

/// Every `GLIBC_x.y` version the binary's symbols ask for.
fn glibc_versions() -> Vec<(u32, u32)> {
    readelf(&["--version-info", "--wide"])
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter_map(parse_version)
        .collect()
}

#[test]
fn the_binary_links_only_the_documented_libraries() {
    let needed = needed_libraries();
    assert!(needed.contains("libc.so.6"), "{needed:?}");
    assert_eq!(
        needed,
        documented_libraries(),
        "the binary's NEEDED entries against docs/install.md"
    );
}

#[test]
fn the_binary_asks_for_no_glibc_newer_than_documented() {
    let versions = glibc_versions();
    let newest = versions.iter().max().copied();
    let documented = documented_glibc();
    assert!(newest.is_some(), "no GLIBC_ version found: {versions:?}");
    assert!(
        newest <= Some(documented),
        "the binary asks for glibc {newest:?}, docs/install.md says {documented:?}"
    );
}

/// The files `ldd` says the binary loads (absolute paths; the vDSO has none).
fn loaded_files() -> Vec<PathBuf> {
    let out = Command::new("ldd").arg(BIN).output().unwrap();
    assert!(out.status.success(), "ldd: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// An empty directory holding only the binary (as `/proxmox-mcp`) and the files `ldd` lists,
/// at their own paths: no `/etc`, no `/proc`, no `/dev`, no certificates.
fn empty_root() -> PathBuf {
    let root = std::env::temp_dir().join(format!("proxmox-mcp-root-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(BIN, root.join("proxmox-mcp")).unwrap();
    let files = loaded_files();
    assert!(
        files.iter().any(|f| f.ends_with("libc.so.6")),
        "ldd listed {files:?}"
    );
    for file in files {
        let inside = root.join(file.strip_prefix("/").unwrap());
        std::fs::create_dir_all(inside.parent().unwrap()).unwrap();
        std::fs::copy(&file, &inside).unwrap();
    }
    root
}

/// `chroot ROOT /proxmox-mcp`: as root directly, otherwise in a user namespace where the
/// caller is root (`unshare -r`).
fn chrooted(root: &Path) -> Command {
    let uid = Command::new("id").arg("-u").output().unwrap();
    let is_root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let mut cmd = if is_root {
        Command::new("chroot")
    } else {
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-root-user", "chroot"]);
        c
    };
    cmd.arg(root).arg("/proxmox-mcp");
    cmd
}

/// The binary serves the demo, reaching its cluster over TLS, with nothing of the build machine
/// but the C library beside it.
#[test]
fn the_binary_serves_in_an_empty_root_with_only_its_libraries() {
    let root = empty_root();
    let entries: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !entries
            .iter()
            .any(|e| e == "etc" || e == "proc" || e == "dev"),
        "{entries:?}"
    );
    serve_demo_answers_then_drains(chrooted(&root), &[]);
    std::fs::remove_dir_all(&root).unwrap();
}
