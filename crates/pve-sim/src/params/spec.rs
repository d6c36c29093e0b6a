//! What a route declares about each parameter, as PVE's schema states it: name (a numbered
//! family such as `net[n]` stands for `net0`, `net1`...), optional or not, type with its
//! range, length, enumeration, named format, property-string format or pattern, and the
//! parameter it requires. Built once from the declarations in `decl/`.

use std::fmt;

use regex::Regex;

/// One parameter a route accepts.
#[derive(Debug, Clone, Copy)]
pub struct ParamSpec {
    pub name: &'static str,
    pub optional: bool,
    pub ty: ParamType,
    /// Another parameter that must be given with this one (`force` requires `archive`).
    pub requires: Option<&'static str>,
}

/// The type of a parameter (or of a property-string key), with its constraints.
#[derive(Debug, Clone, Copy)]
pub enum ParamType {
    /// An integer; `text` holds what its text must also pass (a format such as `pve-vmid`,
    /// an enumeration).
    Integer {
        min: Option<i64>,
        max: Option<i64>,
        text: StrSpec,
    },
    Number {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    String(StrSpec),
    /// An array of strings (agent exec `command`), each checked against the spec.
    Array(StrSpec),
}

/// Constraints on a string.
#[derive(Debug, Clone, Copy, Default)]
pub struct StrSpec {
    /// The schema's `enum`.
    pub values: Option<&'static [&'static str]>,
    pub min_len: Option<usize>,
    pub max_len: Option<usize>,
    pub format: Option<Format>,
    pub pattern: Option<&'static Pattern>,
}

/// A string format: a named one (`pve-node`, `pve-vmid-list`, `pve-qm-ide`), or a property
/// string given inline (`net[n]`'s `model=...,bridge=...`).
#[derive(Debug, Clone, Copy)]
pub enum Format {
    Named(&'static str),
    Props(&'static PropFormat),
}

/// The keys of a property string (`virtio=BC:24:11:..,bridge=vmbr0,firewall=1`).
#[derive(Debug)]
pub struct PropFormat {
    pub name: &'static str,
    pub keys: Vec<SubKey>,
}

/// One key of a property string.
#[derive(Debug, Clone, Copy)]
pub struct SubKey {
    pub name: &'static str,
    pub optional: bool,
    pub ty: ParamType,
    /// The key a value without `key=` is for (`file` of a drive, `model` of a NIC).
    pub default_key: bool,
    /// This name stands for another key (`volume` for `file`).
    pub alias: Option<&'static str>,
    /// With `alias`: the name itself is stored under this key (`virtio=MAC` sets `model`).
    pub key_alias: Option<&'static str>,
}

/// A `pattern`, matched against the whole value as PVE does (`^(?:...)$`).
#[derive(Debug)]
pub struct Pattern {
    pub source: &'static str,
    pub regex: Option<Regex>,
}

impl Pattern {
    /// Compiles PVE's (Perl) pattern; one Rust's regex engine cannot take matches anything.
    pub(crate) fn new(source: &'static str) -> Self {
        let rust = source
            .replace("(?^:", "(?:")
            .replace("{,", "{0,")
            .replace("\\0", "\\x00");
        Self {
            source,
            regex: Regex::new(&format!("^(?:{rust})$")).ok(),
        }
    }

    pub(crate) fn is_match(&self, value: &str) -> bool {
        self.regex.as_ref().is_none_or(|r| r.is_match(value))
    }
}

impl ParamType {
    /// The schema's type word.
    pub fn type_name(&self) -> &'static str {
        match self {
            ParamType::Integer { .. } => "integer",
            ParamType::Number { .. } => "number",
            ParamType::Boolean => "boolean",
            ParamType::String(_) => "string",
            ParamType::Array(_) => "array",
        }
    }

    /// The string constraints, for strings and arrays of strings.
    pub fn str_spec(&self) -> Option<&StrSpec> {
        match self {
            ParamType::String(s) | ParamType::Array(s) => Some(s),
            _ => None,
        }
    }
}

/// The declaration syntax (`name? int 1..30`), so tests can compare declarations to the
/// schema line by line.
impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let range = |f: &mut fmt::Formatter<'_>, lo: Option<String>, hi: Option<String>| {
            if lo.is_some() || hi.is_some() {
                write!(f, " {}..{}", lo.unwrap_or_default(), hi.unwrap_or_default())?;
            }
            Ok(())
        };
        match self {
            ParamType::Integer { min, max, text } => {
                f.write_str("int")?;
                range(f, min.map(|v| v.to_string()), max.map(|v| v.to_string()))?;
                text.fmt(f)
            }
            ParamType::Number { min, max } => {
                f.write_str("num")?;
                range(f, min.map(|v| v.to_string()), max.map(|v| v.to_string()))
            }
            ParamType::Boolean => f.write_str("bool"),
            ParamType::String(s) => {
                f.write_str("str")?;
                s.fmt(f)
            }
            ParamType::Array(s) => {
                f.write_str("array")?;
                s.fmt(f)
            }
        }
    }
}

impl fmt::Display for StrSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.min_len.is_some() || self.max_len.is_some() {
            write!(
                f,
                " len={}..{}",
                self.min_len.map(|v| v.to_string()).unwrap_or_default(),
                self.max_len.map(|v| v.to_string()).unwrap_or_default()
            )?;
        }
        if let Some(values) = self.values {
            write!(f, " enum={}", values.join("|"))?;
        }
        match self.format {
            Some(Format::Named(n)) => write!(f, " fmt={n}")?,
            Some(Format::Props(p)) => write!(f, " props={}", p.name)?,
            None => {}
        }
        if let Some(p) = self.pattern {
            write!(f, " re={}", p.source)?;
        }
        Ok(())
    }
}

impl fmt::Display for ParamSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{} ", self.name, if self.optional { "?" } else { "" })?;
        // `re=` takes the rest of the line, so `requires` goes before the type's pattern.
        let ty = self.ty.to_string();
        match (self.requires, ty.split_once(" re=")) {
            (Some(r), Some((head, re))) => write!(f, "{head} requires={r} re={re}"),
            (Some(r), None) => write!(f, "{ty} requires={r}"),
            (None, _) => f.write_str(&ty),
        }
    }
}

impl fmt::Display for SubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(alias) = self.alias {
            write!(f, "{} alias={alias}", self.name)?;
            if let Some(k) = self.key_alias {
                write!(f, " keyalias={k}")?;
            }
            return Ok(());
        }
        let ty = self.ty.to_string();
        let name = format!("{}{}", self.name, if self.optional { "?" } else { "" });
        match (self.default_key, ty.split_once(" re=")) {
            (true, Some((head, re))) => write!(f, "{name} {head} key re={re}"),
            (true, None) => write!(f, "{name} {ty} key"),
            (false, _) => write!(f, "{name} {ty}"),
        }
    }
}
