//! Contract check: every request the client made (as the simulator logged it) must exist in
//! the official PVE schema (`tests/fixtures/pve-api/apidoc.json`, read at test time): the path
//! maps to a schema template, the method exists there, every parameter is declared (numbered
//! ones like `net0` as `net[n]`), has the declared type (booleans as 1/0), is not repeated
//! unless an array, and every required parameter is present.

use std::collections::HashMap;
use std::sync::LazyLock;

use percent_encoding::percent_decode_str;
use pve_sim::RequestRecord;
use regex::Regex;
use serde_json::Value;

/// One parameter of a schema method.
#[derive(Debug, Clone)]
struct ParamSchema {
    ty: String,
    optional: bool,
    min: Option<f64>,
    max: Option<f64>,
    values: Option<Vec<String>>,
    max_length: Option<usize>,
    pattern: Option<Regex>,
}

#[derive(Debug)]
struct Template {
    path: String,
    segments: Vec<String>,
    /// method → parameters by name.
    methods: HashMap<String, HashMap<String, ParamSchema>>,
}

static SCHEMA: LazyLock<Vec<Template>> = LazyLock::new(load);

fn load() -> Vec<Template> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/pve-api/apidoc.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let tree: Value = serde_json::from_str(&text).expect("apidoc.json is JSON");
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = tree.as_array().expect("top-level array").iter().collect();
    while let Some(node) = stack.pop() {
        if let Some(children) = node["children"].as_array() {
            stack.extend(children.iter());
        }
        let Some(info) = node["info"].as_object() else {
            continue;
        };
        let path = node["path"].as_str().unwrap_or_default().to_owned();
        let methods = info
            .iter()
            .map(|(m, def)| {
                let props = def["parameters"]["properties"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let params = props
                    .iter()
                    .map(|(k, v)| (k.clone(), param_schema(v)))
                    .collect();
                (m.clone(), params)
            })
            .collect();
        out.push(Template {
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            path,
            methods,
        });
    }
    out
}

fn param_schema(v: &Value) -> ParamSchema {
    let num = |k: &str| {
        v[k].as_f64()
            .or_else(|| v[k].as_str().and_then(|s| s.parse().ok()))
    };
    ParamSchema {
        ty: v["type"].as_str().unwrap_or("string").to_owned(),
        optional: v["optional"].as_i64() == Some(1) || v["optional"].as_bool() == Some(true),
        min: num("minimum"),
        max: num("maximum"),
        values: v["enum"].as_array().map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect()
        }),
        max_length: v["maxLength"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok()),
        pattern: v["pattern"]
            .as_str()
            .and_then(|p| Regex::new(&format!("^(?:{p})$")).ok()),
    }
}

/// The schema template a concrete path (as sent, percent-encoded) maps to, with its path
/// parameters decoded.
pub fn template_for(path: &str) -> Option<(String, HashMap<String, String>)> {
    let t = find(path)?;
    Some((t.0.path.clone(), t.1))
}

fn find(path: &str) -> Option<(&'static Template, HashMap<String, String>)> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let mut best: Option<(&Template, usize)> = None;
    for t in SCHEMA.iter().filter(|t| t.segments.len() == segs.len()) {
        let mut literal = 0;
        let fits = t.segments.iter().zip(&segs).all(|(ts, s)| {
            if ts.starts_with('{') {
                true
            } else {
                literal += 1;
                ts == s
            }
        });
        if fits && best.is_none_or(|(_, l)| literal > l) {
            best = Some((t, literal));
        }
    }
    let (t, _) = best?;
    let bound = t
        .segments
        .iter()
        .zip(&segs)
        .filter_map(|(ts, s)| {
            ts.strip_prefix('{')
                .and_then(|n| n.strip_suffix('}'))
                .map(|n| (n.to_owned(), s.clone()))
        })
        .collect();
    Some((t, bound))
}

/// Violations of one request, as readable lines.
pub fn check_record(r: &RequestRecord) -> Vec<String> {
    let head = format!("{} {}", r.method, r.path);
    let Some((t, bound)) = find(&r.path) else {
        return vec![format!("{head}: no such path in the schema")];
    };
    let Some(params) = t.methods.get(&r.method) else {
        return vec![format!(
            "{head}: {} has no {} in the schema",
            t.path, r.method
        )];
    };
    let mut out = Vec::new();
    for (name, value) in &bound {
        match params.get(name) {
            Some(p) => out.extend(
                check_value(p, value)
                    .err()
                    .map(|e| format!("{head}: path {name}={value:?}: {e}")),
            ),
            None => out.push(format!("{head}: path parameter {name} not in the schema")),
        }
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (name, value) in &r.params {
        *seen.entry(name.as_str()).or_default() += 1;
        let Some(p) = lookup(params, name) else {
            out.push(format!(
                "{head}: parameter {name} not in the schema of {} {}",
                r.method, t.path
            ));
            continue;
        };
        if bound.contains_key(name) {
            out.push(format!(
                "{head}: path parameter {name} also sent as a parameter"
            ));
        }
        let items_ok = if p.ty == "array" {
            Ok(())
        } else {
            check_value(p, value)
        };
        if let Err(e) = items_ok {
            out.push(format!("{head}: {name}={value:?}: {e}"));
        }
    }
    for (name, n) in seen {
        if n > 1 && lookup(params, name).is_some_and(|p| p.ty != "array") {
            out.push(format!("{head}: {name} sent {n} times but is not an array"));
        }
    }
    for (name, p) in params {
        if !p.optional
            && !bound.contains_key(name)
            && !name.contains("[n]")
            && !r.params.iter().any(|(k, _)| k == name)
        {
            out.push(format!("{head}: required parameter {name} missing"));
        }
    }
    out
}

/// Violations of all requests (deduplicated).
pub fn check_records(records: &[RequestRecord]) -> Vec<String> {
    let mut v: Vec<String> = records.iter().flat_map(check_record).collect();
    v.sort();
    v.dedup();
    v
}

fn lookup<'a>(params: &'a HashMap<String, ParamSchema>, name: &str) -> Option<&'a ParamSchema> {
    if let Some(p) = params.get(name) {
        return Some(p);
    }
    let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if prefix.len() == name.len() {
        return None;
    }
    params.get(&format!("{prefix}[n]"))
}

fn check_value(p: &ParamSchema, v: &str) -> Result<(), String> {
    match p.ty.as_str() {
        "integer" => {
            let n: i64 = v.parse().map_err(|_| "not an integer".to_owned())?;
            #[allow(clippy::cast_precision_loss)]
            range(p, n as f64)
        }
        "number" => range(p, v.parse::<f64>().map_err(|_| "not a number".to_owned())?),
        "boolean" => match v {
            "0" | "1" => Ok(()),
            _ => Err("boolean not sent as 0/1".to_owned()),
        },
        "string" => {
            if let Some(values) = &p.values
                && !values.iter().any(|x| x == v)
            {
                return Err(format!("not one of {values:?}"));
            }
            if p.max_length.is_some_and(|m| v.len() > m) {
                return Err("too long".to_owned());
            }
            if p.pattern.as_ref().is_some_and(|re| !re.is_match(v)) {
                return Err("does not match the schema pattern".to_owned());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn range(p: &ParamSchema, n: f64) -> Result<(), String> {
    if p.min.is_some_and(|m| n < m) || p.max.is_some_and(|m| n > m) {
        return Err(format!("out of range {:?}..{:?}", p.min, p.max));
    }
    Ok(())
}

fn rec(method: &str, path: &str, params: &[(&str, &str)]) -> RequestRecord {
    RequestRecord {
        method: method.to_owned(),
        path: path.to_owned(),
        route: None,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        status: 200,
        userid: None,
    }
}

#[test]
fn maps_concrete_paths_to_schema_templates() {
    let cases = [
        (
            "/nodes/pve1/qemu/100/status/current",
            "/nodes/{node}/qemu/{vmid}/status/current",
        ),
        (
            "/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B05BE88%3Aqmstart%3A101%3Aroot%40pam%21ci%3A/status",
            "/nodes/{node}/tasks/{upid}/status",
        ),
        (
            "/nodes/pve1/storage/local/content/local%3Abackup%2Fvzdump-qemu-100.vma.zst",
            "/nodes/{node}/storage/{storage}/content/{volume}",
        ),
        ("/cluster/resources", "/cluster/resources"),
        (
            "/nodes/pve1/qemu/100/agent/exec-status",
            "/nodes/{node}/qemu/{vmid}/agent/exec-status",
        ),
    ];
    crate::support::check(&cases, |(path, want)| {
        let (got, _) = template_for(path).ok_or("no template")?;
        if got == *want {
            Ok(())
        } else {
            Err(format!("mapped to {got}"))
        }
    });
    let (_, bound) = template_for("/nodes/pve1/tasks/UPID%3Apve1%3A0%3A/log").unwrap();
    assert_eq!(bound["upid"], "UPID:pve1:0:");
}

#[test]
fn accepts_well_formed_requests() {
    let ok = [
        rec("GET", "/cluster/resources", &[("type", "vm")]),
        rec(
            "POST",
            "/nodes/pve1/qemu",
            &[
                ("vmid", "120"),
                ("net0", "virtio,bridge=vmbr0"),
                ("scsi0", "local-lvm:8"),
                ("start", "0"),
            ],
        ),
        rec(
            "POST",
            "/nodes/pve1/qemu/100/agent/exec",
            &[("command", "ls"), ("command", "-l")],
        ),
        rec("DELETE", "/nodes/pve1/qemu/100", &[("purge", "1")]),
    ];
    crate::support::check(&ok, |r| {
        let v = check_record(r);
        if v.is_empty() {
            Ok(())
        } else {
            Err(v.join("; "))
        }
    });
}

#[test]
fn catches_requests_outside_the_schema() {
    let bad = [
        (rec("GET", "/nodes/pve1/bogus", &[]), "no such path"),
        (rec("PUT", "/version", &[]), "has no PUT"),
        (
            rec("GET", "/cluster/resources", &[("type", "everything")]),
            "not one of",
        ),
        (
            rec("GET", "/cluster/resources", &[("kind", "vm")]),
            "not in the schema",
        ),
        (
            rec(
                "POST",
                "/nodes/pve1/qemu/100/status/start",
                &[("skiplock", "true")],
            ),
            "0/1",
        ),
        (
            rec("POST", "/nodes/pve1/qemu/100/snapshot", &[]),
            "required parameter snapname",
        ),
        (
            rec("GET", "/nodes/pve1/qemu/abc/status/current", &[]),
            "not an integer",
        ),
        (
            rec("GET", "/cluster/nextid", &[("vmid", "5")]),
            "out of range",
        ),
        (
            rec(
                "GET",
                "/cluster/resources",
                &[("type", "vm"), ("type", "node")],
            ),
            "not an array",
        ),
    ];
    crate::support::check(&bad, |(r, needle)| {
        let v = check_record(r).join("; ");
        if v.contains(needle) {
            Ok(())
        } else {
            Err(format!("violations {v:?} lack {needle:?}"))
        }
    });
}
