//! The route table's vocabulary: what a route declares (method, path, parameters, permission)
//! and what a handler gets (`Call`) and returns (`Value` or `ApiError`).
//!
//! Routes are data so that the contract test can check every one of them, and every parameter
//! it accepts, against the official schema. Handlers are plain synchronous functions run under
//! the simulator's lock; anything that takes time is a task (see `tasks.rs`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Sim;

/// HTTP methods the PVE API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// Whether PVE requires the CSRF token for this method when a ticket is used.
    pub fn is_write(self) -> bool {
        !matches!(self, Method::Get)
    }
}

pub use crate::params::spec::{Format, ParamSpec, ParamType, PropFormat, StrSpec, SubKey};

/// Who may call a route, mirroring the schema's `permissions`.
#[derive(Debug, Clone, Copy)]
pub enum Perm {
    /// `"world"`: no authentication needed (`POST /access/ticket`).
    World,
    /// `"all"`: any authenticated identity; the handler filters what it shows.
    All,
    /// `["perm", "/vms/{vmid}", [privs...]]` (any of the listed privileges).
    Vm(&'static [&'static str]),
    /// `["perm", "/nodes/{node}", [privs...]]`.
    Node(&'static [&'static str]),
    /// `["perm", "/storage/{storage}", [privs...]]`.
    Storage(&'static [&'static str]),
    /// `["perm", "/", [privs...]]` or `/storage` and other fixed paths.
    Root(&'static [&'static str]),
    /// `["perm", PATH, [privs...]]` for any other ACL path; `{param}` placeholders in PATH are
    /// filled from the call's parameters (`/storage/{storage}`, `/pool/{pool}`).
    Path(&'static str, &'static [&'static str]),
}

/// A handler: reads and changes the simulator under its lock, returns the `data` value.
pub type Handler = fn(&mut Sim, &Call) -> Result<Value, ApiError>;

/// One entry of the route table.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: Method,
    /// Path template below `/api2/json`, as the schema writes it: `/nodes/{node}/qemu/{vmid}`.
    pub path: &'static str,
    /// Every parameter accepted, path parameters included (as in the schema), from the
    /// declarations in `params/decl/`.
    pub params: &'static [ParamSpec],
    pub perm: Perm,
    /// `allowtoken` in the schema: `false` refuses API tokens (e.g. `POST /access/ticket`).
    pub allow_token: bool,
    pub handler: Handler,
}

/// What the parameter declarations could not parse (empty when they are well formed; the
/// contract test keeps it so).
pub fn declaration_errors() -> &'static [String] {
    crate::params::decl::errors()
}

impl Route {
    /// A route that API tokens may call; its parameters are filled in from the declarations
    /// when the table is built.
    pub(crate) const fn new(
        method: Method,
        path: &'static str,
        perm: Perm,
        handler: Handler,
    ) -> Self {
        Self {
            method,
            path,
            params: &[],
            perm,
            allow_token: true,
            handler,
        }
    }

    /// Refuses API tokens (`allowtoken: 0` in the schema).
    pub(crate) const fn no_token(mut self) -> Self {
        self.allow_token = false;
        self
    }
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Identity {
    /// `root@pam` or, for a token, `root@pam!ci`.
    pub userid: String,
    /// The privileges in effect.
    pub role: Role,
}

impl Identity {
    /// `root@pam` with every privilege: what tests use to call handlers through `dispatch`.
    pub fn root() -> Self {
        Self {
            userid: "root@pam".to_string(),
            role: Role::Admin,
        }
    }

    /// Whether this identity is an API token (`user@realm!name`).
    pub fn is_token(&self) -> bool {
        self.userid.contains('!')
    }
}

/// What an identity may do. Enough to test the 403 paths of the tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Every privilege on every path (`Administrator` on `/`).
    Admin,
    /// Read-only (`PVEAuditor` on `/`): `*.Audit` privileges only.
    Auditor,
    /// `PVEVMAdmin` on these VMIDs only (and `Sys.Audit`/`Datastore.Audit` on `/`).
    Vms(Vec<u32>),
    /// `PVEVMAdmin` on the guests of this pool only.
    Pool(String),
    /// Nothing at all (a token with privilege separation and no ACL).
    None,
}

/// A request as a handler sees it: path and body/query parameters merged, already validated
/// and coerced to their schema types (integers as `i64`, booleans as `bool`).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// The concrete path below `/api2/json` (percent-decoded).
    pub path: String,
    pub params: BTreeMap<String, Value>,
    pub identity: Identity,
}

impl Call {
    /// A string parameter (path parameters included).
    pub fn str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }

    /// A required string parameter; a missing one is a 400 naming it.
    pub fn req_str(&self, name: &str) -> Result<&str, ApiError> {
        self.str(name)
            .ok_or_else(|| ApiError::param(name, "property is missing and it is not optional"))
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.params.get(name).and_then(Value::as_i64)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.params.get(name).and_then(Value::as_bool)
    }

    /// `vmid` from the path, already validated as an integer in range.
    pub fn vmid(&self) -> Result<u32, ApiError> {
        self.int("vmid")
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| ApiError::param("vmid", "property is missing and it is not optional"))
    }

    /// `node` from the path.
    pub fn node(&self) -> Result<&str, ApiError> {
        self.req_str("node")
    }
}

/// An error answered the way PVE answers it: the message is the HTTP reason phrase and the
/// body's `message`; a 400 also carries the `errors` map.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub errors: Option<BTreeMap<String, String>>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: None,
        }
    }

    /// 400 `Parameter verification failed.` with one entry in `errors`.
    pub fn param(name: &str, why: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(name.to_string(), why.into());
        Self::params(errors)
    }

    /// 400 `Parameter verification failed.` with an `errors` map.
    pub fn params(errors: BTreeMap<String, String>) -> Self {
        Self {
            status: 400,
            message: "Parameter verification failed.".to_string(),
            errors: Some(errors),
        }
    }

    /// 500 with PVE's runtime message (`VM 100 is running - destroy failed`).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// 403 `Permission check failed (PATH, PRIV)`.
    pub fn forbidden(path: &str, privilege: &str) -> Self {
        Self::new(
            403,
            format!("Permission check failed ({path}, {privilege})"),
        )
    }

    /// 401 `permission denied - invalid PVE ticket` and friends.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}
