//! The parameters of every route, declared in a compact text form (one parameter a line, as
//! PVE's schema states them) and parsed once into [`ParamSpec`]s:
//!
//! ```text
//! [POST /nodes/{node}/qemu]        a route: the parameters that follow are its own
//! node str fmt=pve-node            name, `?` when optional, type, constraints
//! cores? int 1..                   ranges `MIN..MAX` (either side may be empty)
//! description? str len=..8192      string lengths `len=MIN..MAX`
//! ostype? str enum=l26|win11       an enumeration
//! net[n]? str props=qemu-net       a property string declared in a `[props ...]` block
//! force? bool requires=archive     another parameter this one needs
//! product? str re=[A-Za-z0-9]{,16} a pattern (takes the rest of the line)
//! @qemu-options                    every line of a `[group ...]` block (also in `[props]`)
//!
//! [props qemu-net]                 the keys of a property string; `key` marks the default
//! model str enum=virtio|e1000 key  key, `alias=` a synonym (`keyalias=` stores the name)
//! virtio alias=macaddr keyalias=model
//! ```
//!
//! A `[props NAME]` block named after one of PVE's named formats (`pve-qm-ide`) also checks
//! parameters declared with `fmt=NAME`; `[props NAME = OTHER]` gives a block a second name.

mod access;
mod backup;
mod cluster;
mod firewall;
mod ha;
mod lxc;
mod monitor;
mod node_admin;
mod nodes;
mod pools;
mod qemu;
mod qemu_props;
mod storage;

use std::collections::HashMap;
use std::sync::OnceLock;

use super::spec::{Format, ParamSpec, ParamType, Pattern, PropFormat, StrSpec, SubKey};
use crate::route::Method;

/// Every declaration text, parsed together (groups and property formats may be used across
/// texts).
/// Groups every area uses.
const COMMON: &str = r"
# The path parameters of most guest routes.
[group node-vmid]
node str fmt=pve-node
vmid int 100..999999999 fmt=pve-vmid
";

const SOURCES: &[&str] = &[
    COMMON,
    access::DECL,
    backup::DECL,
    cluster::DECL,
    firewall::DECL,
    ha::DECL,
    lxc::DECL,
    monitor::DECL,
    node_admin::DECL,
    nodes::DECL,
    pools::DECL,
    qemu::DECL,
    qemu_props::DECL,
    storage::DECL,
];

/// The parsed declarations.
#[derive(Debug, Default)]
pub(crate) struct Decls {
    routes: HashMap<(Method, &'static str), &'static [ParamSpec]>,
    props: HashMap<&'static str, &'static PropFormat>,
    /// What could not be parsed (a test keeps this empty).
    pub(crate) errors: Vec<String>,
}

/// The declarations, parsed on first use.
pub(crate) fn decls() -> &'static Decls {
    static DECLS: OnceLock<Decls> = OnceLock::new();
    DECLS.get_or_init(|| parse(SOURCES))
}

#[cfg(test)]
impl Decls {
    /// The parameters declared for a route.
    pub(crate) fn route(&self, method: Method, path: &str) -> Option<&'static [ParamSpec]> {
        self.routes.get(&(method, path)).copied()
    }
}

/// The parameters declared for a route (none when it has no declaration).
pub(crate) fn params_for(method: Method, path: &str) -> &'static [ParamSpec] {
    decls()
        .routes
        .get(&(method, path))
        .copied()
        .unwrap_or_default()
}

/// The property-string format declared under one of PVE's format names, if any.
pub(crate) fn named_props(name: &str) -> Option<&'static PropFormat> {
    decls().props.get(name).copied()
}

/// Every property-string format declared by name, in name order.
pub(crate) fn all_named_props() -> Vec<&'static PropFormat> {
    let mut all: Vec<&'static PropFormat> = decls().props.values().copied().collect();
    all.sort_by_key(|p| p.name);
    all
}

/// What the declarations could not parse: empty when they are well formed.
pub(crate) fn errors() -> &'static [String] {
    &decls().errors
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Route(Method, &'static str),
    Group(&'static str),
    Props(&'static str),
    /// `[props NAME = OTHER]`: the same keys under another name.
    PropsAlias(&'static str, &'static str),
}

/// A block: its header and its lines.
type Block = (Kind, Vec<&'static str>);

pub(crate) fn parse(sources: &[&'static str]) -> Decls {
    let mut d = Decls::default();
    let mut blocks: Vec<Block> = Vec::new();
    for text in sources {
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(head) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                match header(head) {
                    Some(k) => blocks.push((k, Vec::new())),
                    None => d.errors.push(format!("bad block header: {line}")),
                }
                continue;
            }
            match blocks.last_mut() {
                Some((_, lines)) => lines.push(line),
                None => d.errors.push(format!("line outside a block: {line}")),
            }
        }
    }
    let groups: HashMap<&str, &Vec<&'static str>> = blocks
        .iter()
        .filter_map(|(k, lines)| match k {
            Kind::Group(n) => Some((*n, lines)),
            _ => None,
        })
        .collect();
    // Property formats first: parameters refer to them by name.
    for (kind, lines) in &blocks {
        if let Kind::Props(name) = kind {
            let mut keys = Vec::new();
            let mut flat = Vec::new();
            flatten(&groups, lines, &mut flat, &mut d.errors, 0);
            for line in &flat {
                match sub_key(line) {
                    Ok(k) => keys.push(k),
                    Err(e) => d.errors.push(format!("[props {name}] {line}: {e}")),
                }
            }
            if d.props
                .insert(name, Box::leak(Box::new(PropFormat { name, keys })))
                .is_some()
            {
                d.errors.push(format!("[props {name}] declared twice"));
            }
        }
    }
    for (kind, _) in &blocks {
        if let Kind::PropsAlias(name, other) = *kind {
            match d.props.get(other).copied() {
                Some(p) => {
                    d.props.insert(name, p);
                }
                None => d
                    .errors
                    .push(format!("[props {name}] aliases unknown '{other}'")),
            }
        }
    }
    for (kind, lines) in &blocks {
        let Kind::Route(method, path) = *kind else {
            continue;
        };
        let mut specs = Vec::new();
        expand(&d.props, &groups, lines, &mut specs, &mut d.errors);
        specs.sort_by_key(|s| s.name);
        if specs.windows(2).any(|w| w[0].name == w[1].name) {
            d.errors.push(format!(
                "[{} {path}] declares a name twice",
                method.as_str()
            ));
        }
        if d.routes
            .insert((method, path), Box::leak(specs.into_boxed_slice()))
            .is_some()
        {
            d.errors
                .push(format!("[{} {path}] declared twice", method.as_str()));
        }
    }
    d
}

fn header(head: &'static str) -> Option<Kind> {
    let (word, rest) = head.split_once(' ')?;
    let rest = rest.trim();
    Some(match word {
        "group" => Kind::Group(rest),
        "props" => match rest.split_once(" = ") {
            Some((name, other)) => Kind::PropsAlias(name.trim(), other.trim()),
            None => Kind::Props(rest),
        },
        "GET" => Kind::Route(Method::Get, rest),
        "POST" => Kind::Route(Method::Post, rest),
        "PUT" => Kind::Route(Method::Put, rest),
        "DELETE" => Kind::Route(Method::Delete, rest),
        _ => return None,
    })
}

/// The lines of a block with each `@group` replaced by the group's lines.
fn flatten(
    groups: &HashMap<&str, &Vec<&'static str>>,
    lines: &[&'static str],
    out: &mut Vec<&'static str>,
    errors: &mut Vec<String>,
    depth: usize,
) {
    for line in lines {
        match line.strip_prefix('@') {
            Some(name) => match groups.get(name.trim()) {
                Some(g) if depth < 8 => flatten(groups, g, out, errors, depth + 1),
                _ => errors.push(format!("unknown group in: {line}")),
            },
            None => out.push(line),
        }
    }
}

fn expand(
    props: &HashMap<&'static str, &'static PropFormat>,
    groups: &HashMap<&str, &Vec<&'static str>>,
    lines: &[&'static str],
    out: &mut Vec<ParamSpec>,
    errors: &mut Vec<String>,
) {
    let mut flat = Vec::new();
    flatten(groups, lines, &mut flat, errors, 0);
    for line in flat {
        match param(line, props) {
            Ok(p) => out.push(p),
            Err(e) => errors.push(format!("{line}: {e}")),
        }
    }
}

/// The words of a line; `re=` takes the rest of it.
fn words(line: &'static str) -> (Vec<&'static str>, Option<&'static str>) {
    let (head, re) = match line.find(" re=") {
        Some(i) => (&line[..i], Some(&line[i + 4..])),
        None => (line, None),
    };
    (head.split_whitespace().collect(), re)
}

fn name_of(word: &'static str) -> (&'static str, bool) {
    match word.strip_suffix('?') {
        Some(n) => (n, true),
        None => (word, false),
    }
}

/// Attributes a parameter line may carry besides its type.
#[derive(Default)]
struct Attrs {
    requires: Option<&'static str>,
    default_key: bool,
}

fn param(
    line: &'static str,
    props: &HashMap<&'static str, &'static PropFormat>,
) -> Result<ParamSpec, String> {
    let (w, re) = words(line);
    let [name, ty, rest @ ..] = w.as_slice() else {
        return Err("expected a name and a type".into());
    };
    let (name, optional) = name_of(name);
    let mut attrs = Attrs::default();
    let ty = typed(ty, rest, re, Some(props), &mut attrs)?;
    Ok(ParamSpec {
        name,
        optional,
        ty,
        requires: attrs.requires,
    })
}

fn sub_key(line: &'static str) -> Result<SubKey, String> {
    let (w, re) = words(line);
    let [name, second, rest @ ..] = w.as_slice() else {
        return Err("expected a name and a type".into());
    };
    let (name, optional) = name_of(name);
    if let Some(alias) = second.strip_prefix("alias=") {
        let key_alias = rest.iter().find_map(|w| w.strip_prefix("keyalias="));
        return Ok(SubKey {
            name,
            optional: true,
            ty: ParamType::String(StrSpec::default()),
            default_key: false,
            alias: Some(alias),
            key_alias,
        });
    }
    let mut attrs = Attrs::default();
    let ty = typed(second, rest, re, None, &mut attrs)?;
    Ok(SubKey {
        name,
        optional,
        ty,
        default_key: attrs.default_key,
        alias: None,
        key_alias: None,
    })
}

fn typed(
    ty: &str,
    rest: &[&'static str],
    re: Option<&'static str>,
    props: Option<&HashMap<&'static str, &'static PropFormat>>,
    attrs: &mut Attrs,
) -> Result<ParamType, String> {
    let mut range: (Option<&str>, Option<&str>) = (None, None);
    let mut s = StrSpec {
        pattern: re.map(|r| &*Box::leak(Box::new(Pattern::new(r)))),
        ..StrSpec::default()
    };
    for w in rest {
        if let Some(v) = w.strip_prefix("len=") {
            let (lo, hi) = v.split_once("..").ok_or("len needs MIN..MAX")?;
            s.min_len = opt_num(lo)?;
            s.max_len = opt_num(hi)?;
        } else if let Some(v) = w.strip_prefix("enum=") {
            let values: Vec<&'static str> = v.split('|').collect();
            s.values = Some(Box::leak(values.into_boxed_slice()));
        } else if let Some(v) = w.strip_prefix("fmt=") {
            s.format = Some(Format::Named(v));
        } else if let Some(v) = w.strip_prefix("props=") {
            let p = props
                .and_then(|p| p.get(v))
                .ok_or_else(|| format!("unknown props '{v}'"))?;
            s.format = Some(Format::Props(p));
        } else if let Some(v) = w.strip_prefix("requires=") {
            attrs.requires = Some(v);
        } else if *w == "key" {
            attrs.default_key = true;
        } else if let Some((lo, hi)) = w.split_once("..") {
            range = (
                Some(lo).filter(|x| !x.is_empty()),
                Some(hi).filter(|x| !x.is_empty()),
            );
        } else {
            return Err(format!("unknown attribute '{w}'"));
        }
    }
    Ok(match ty {
        "int" => ParamType::Integer {
            min: opt_num(range.0.unwrap_or(""))?,
            max: opt_num(range.1.unwrap_or(""))?,
            text: s,
        },
        "num" => ParamType::Number {
            min: opt_num(range.0.unwrap_or(""))?,
            max: opt_num(range.1.unwrap_or(""))?,
        },
        "bool" => ParamType::Boolean,
        "str" => ParamType::String(s),
        "array" => ParamType::Array(s),
        other => return Err(format!("unknown type '{other}'")),
    })
}

fn opt_num<T: std::str::FromStr>(s: &str) -> Result<Option<T>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse()
        .map(Some)
        .map_err(|_| format!("not a number: '{s}'"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const TEXT: &str = "
[props t-net]
model str enum=virtio|e1000 key
virtio alias=macaddr keyalias=model
macaddr? str fmt=mac-addr
tag? int 1..4094

[group t-opts]
cores? int 1..
name? str fmt=dns-name

[POST /t/{node}]
node str fmt=pve-node
net[n]? str props=t-net
force? bool requires=archive
archive? str len=..255
product? str re=[A-Za-z0-9\\-_\\s]{,16}
@t-opts
";

    #[test]
    fn parses_and_renders_back() {
        let d = parse(&[TEXT]);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let specs = d.routes[&(Method::Post, "/t/{node}")];
        let lines: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "archive? str len=..255",
                "cores? int 1..",
                "force? bool requires=archive",
                "name? str fmt=dns-name",
                "net[n]? str props=t-net",
                "node str fmt=pve-node",
                "product? str re=[A-Za-z0-9\\-_\\s]{,16}",
            ]
        );
        let net = d.props["t-net"];
        let keys: Vec<String> = net.keys.iter().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            [
                "model str enum=virtio|e1000 key",
                "virtio alias=macaddr keyalias=model",
                "macaddr? str fmt=mac-addr",
                "tag? int 1..4094",
            ]
        );
        let product = specs.iter().find(|s| s.name == "product").unwrap();
        let re = product.ty.str_spec().unwrap().pattern.unwrap();
        assert!(re.is_match("ABC_12 x") && !re.is_match("waytoolongforsixteen"));
    }

    #[test]
    fn reports_what_it_cannot_parse() {
        let d = parse(&["[POST /x]\na? int 1..\nb? wat\n@nope\nc? str props=none\n[bogus]"]);
        assert_eq!(d.errors.len(), 4, "{:?}", d.errors);
    }

    #[test]
    fn the_declarations_parse() {
        assert!(errors().is_empty(), "{:#?}", errors());
    }

    #[test]
    fn every_declared_pattern_compiles() {
        let d = decls();
        let mut bad = Vec::new();
        let mut check = |ty: &ParamType| {
            if let Some(p) = ty.str_spec().and_then(|s| s.pattern)
                && p.regex.is_none()
            {
                bad.push(p.source);
            }
        };
        for specs in d.routes.values() {
            for s in specs.iter() {
                check(&s.ty);
            }
        }
        for p in d.props.values() {
            for k in &p.keys {
                check(&k.ty);
            }
        }
        assert!(bad.is_empty(), "patterns Rust's regex cannot take: {bad:?}");
    }
}
