//! The layer check of the server crate: every `crate::` path in `src/` goes down the layer
//! table of ARCHITECTURE.md ("Layers of the server crate"), never up, and modules of one layer
//! do not import each other in a cycle.
//!
//! What counts: every `crate::` and `$crate::` path in code, grouped ones
//! (`use crate::{a, b::c}`) item by item, and `super::` paths that climb out of their top-level
//! module (read as if a file held no inline module, which only errs towards reporting).
//! Comments (doc comments and their intra-doc links included) and string literals do not count:
//! they make no dependency the compiler sees.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// One `crate::` path: where it is and which top-level module it names.
#[derive(Debug, Clone)]
struct Edge {
    file: String,
    line: usize,
    from: String,
    to: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The layer of each top-level module, read from ARCHITECTURE.md.
fn layer_table() -> BTreeMap<String, u32> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ARCHITECTURE.md");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let start = text
        .find("Layers of the server crate")
        .expect("ARCHITECTURE.md has a \"Layers of the server crate\" section");
    let mut table = BTreeMap::new();
    let mut in_table = false;
    for line in text[start..].lines().skip(1) {
        let line = line.trim();
        if !line.starts_with('|') {
            if in_table {
                break;
            }
            continue;
        }
        in_table = true;
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let Some(Ok(layer)) = cells.first().map(|c| c.parse::<u32>()) else {
            continue;
        };
        let modules = cells.get(1).copied().unwrap_or_default();
        for name in modules.split('`').skip(1).step_by(2) {
            let old = table.insert(name.to_string(), layer);
            assert!(old.is_none(), "ARCHITECTURE.md lists `{name}` twice");
        }
    }
    assert!(!table.is_empty(), "no layer table in ARCHITECTURE.md");
    table
}

/// The crate's top-level modules (`lib.rs`, the crate root, aside; `main` is the binary).
fn top_level_modules() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in fs::read_dir(src()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if path.is_dir() {
            out.insert(name);
        } else if let Some(stem) = name.strip_suffix(".rs")
            && stem != "lib"
        {
            out.insert(stem.to_string());
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `text` with comments and the contents of string and char literals blanked out (newlines
/// kept, so that line numbers hold).
fn code_only(text: &str) -> String {
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&b, i) {
            // A raw string: r"...", r#"..."#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let rest: String = b[j + 1..].iter().collect();
            let len = rest.find(&close).map_or(rest.len(), |n| n + close.len());
            for ch in b[i..(j + 1 + rest[..len].chars().count()).min(b.len())].iter() {
                out.push(blank(*ch));
            }
            i = j + 1 + rest[..len].chars().count();
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\''), or a lifetime ('a), which is kept.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                out.extend(std::iter::repeat_n(' ', j + 1 - i));
                i = j + 1;
            } else if b.get(i + 2) == Some(&'\'') {
                out.push_str("   ");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn ident_before(b: &[char], i: usize) -> bool {
    i > 0 && is_ident(b[i - 1])
}

fn line_of(b: &[char], i: usize) -> usize {
    b[..i].iter().filter(|c| **c == '\n').count() + 1
}

fn skip_ws(b: &[char], mut i: usize) -> usize {
    while i < b.len() && b[i].is_whitespace() {
        i += 1;
    }
    i
}

fn ident_at(b: &[char], i: usize) -> String {
    b[i..].iter().take_while(|c| is_ident(**c)).collect()
}

/// The first segments named after a `crate::` (or a root-reaching `super::`) at `i`: one, or
/// one per item of a `{...}` group, each with its position.
fn segments(b: &[char], i: usize) -> Vec<(usize, String)> {
    let i = skip_ws(b, i);
    if b.get(i) != Some(&'{') {
        return vec![(i, ident_at(b, i))];
    }
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect_item = true;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            '{' => {
                depth += 1;
                if depth == 1 {
                    expect_item = true;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect_item = true,
            c if depth == 1 && expect_item && is_ident(c) => {
                let name = ident_at(b, j);
                j += name.chars().count();
                expect_item = false;
                if name != "self" {
                    out.push((j - name.chars().count(), name));
                }
                continue;
            }
            _ => {}
        }
        j += 1;
    }
    out
}

/// Every path of `file` (below `src/`) that names a top-level module.
fn edges_of(file: &Path) -> Vec<Edge> {
    let rel = file.strip_prefix(src()).unwrap();
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().to_string())
        .collect();
    let from = parts[0].trim_end_matches(".rs").to_string();
    if from == "lib" {
        return Vec::new();
    }
    let depth = parts.len() - usize::from(parts.last().is_some_and(|p| p == "mod.rs"));
    let text = code_only(&fs::read_to_string(file).unwrap());
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut push = |at: usize, to: String| {
        if !to.is_empty() && to != from {
            out.push(Edge {
                file: format!("src/{}", rel.display()),
                line: line_of(&b, at),
                from: from.clone(),
                to,
            });
        }
    };
    let mut i = 0;
    while i < b.len() {
        let starts = !ident_before(&b, i);
        if starts && b[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
            for (at, seg) in segments(&b, i + 7) {
                push(at, seg);
            }
            i += 7;
        } else if starts && b[i..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
            let mut j = i;
            let mut ups = 0;
            while b[j..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                ups += 1;
                j = skip_ws(&b, j + 7);
            }
            if ups >= depth {
                for (at, seg) in segments(&b, j) {
                    push(at, seg);
                }
            }
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// Every module-to-module path of the crate.
fn all_edges() -> Vec<Edge> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    files.iter().flat_map(|f| edges_of(f)).collect()
}

#[test]
fn the_layer_table_names_every_module_once() {
    let table = layer_table();
    let modules = top_level_modules();
    let missing: Vec<&String> = modules.iter().filter(|m| !table.contains_key(*m)).collect();
    let stale: Vec<&String> = table.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "ARCHITECTURE.md's layer table is out of date: modules without a layer {missing:?}; \
         names that are no module of src/ {stale:?}"
    );
}

#[test]
fn crate_paths_go_down_the_layers() {
    let table = layer_table();
    let layer = |m: &str| table.get(m).copied();
    let mut upward = Vec::new();
    for e in all_edges() {
        let (Some(lf), Some(lt)) = (layer(&e.from), layer(&e.to)) else {
            continue;
        };
        if lt > lf {
            upward.push(format!(
                "{}:{}: `{}` (layer {lf}) uses `crate::{}` (layer {lt})",
                e.file, e.line, e.from, e.to
            ));
        }
    }
    assert!(
        upward.is_empty(),
        "{} path(s) go up the layers of ARCHITECTURE.md:\n{}",
        upward.len(),
        upward.join("\n")
    );
}

#[test]
fn modules_of_one_layer_form_no_cycle() {
    let table = layer_table();
    let mut graph: BTreeMap<String, BTreeMap<String, Edge>> = BTreeMap::new();
    for e in all_edges() {
        if table.contains_key(&e.from) && table.get(&e.from) == table.get(&e.to) {
            graph
                .entry(e.from.clone())
                .or_default()
                .entry(e.to.clone())
                .or_insert(e);
        }
    }
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeMap<String, Edge>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if !done.insert(m.to_string()) {
            return None;
        }
        path.push(m.to_string());
        for next in graph.get(m).into_iter().flat_map(|n| n.keys()) {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            let hops: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let e = &graph[&w[0]][&w[1]];
                    format!("{}:{}: `{}` uses `crate::{}`", e.file, e.line, e.from, e.to)
                })
                .collect();
            panic!(
                "modules of one layer import each other in a cycle ({}):\n{}",
                cycle.join(" -> "),
                hops.join("\n")
            );
        }
    }
}

#[test]
fn the_path_reader_sees_grouped_and_climbing_paths() {
    let text = "use crate::{a::X, b::{c, d}, self};\n// crate::e\nlet s = \"crate::f\";\n\
                let c = '\"'; crate::g::h(); $crate::i::J; x::crate_y::z;\nuse super::super::k;\n";
    let b: Vec<char> = code_only(text).chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !ident_before(&b, i) && b[i..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':']) {
            found.extend(
                segments(&b, i + 7)
                    .into_iter()
                    .map(|(at, s)| (line_of(&b, at), s)),
            );
        }
        i += 1;
    }
    let want: Vec<(usize, String)> = [(1, "a"), (1, "b"), (4, "g"), (4, "i")]
        .iter()
        .map(|(l, s)| (*l, s.to_string()))
        .collect();
    assert_eq!(found, want);
}
