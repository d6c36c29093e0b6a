//! `download_to_storage`: puts an ISO, a container template or a disk image on a storage, from
//! a URL (`POST .../storage/{storage}/download-url`, with an optional checksum) or by name from
//! the appliance index (`POST /nodes/{node}/aplinfo`), and waits for the `download` task.
//! A URL makes a node fetch whatever address the caller names, inside the operator's network
//! too: such a call is destructive (an admin key and `confirm`); a template from the index is a
//! plain write.

use pve_client::api::disks::DownloadUrl;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::TOOLSET;
use crate::error::ToolError;
use crate::handler;
use crate::registry::{Access, ToolCtx, ToolDef, ToolSpec};
use crate::tools::backups::storage_node;
use crate::tools::common::{TaskOutcome, WAIT_FOR_TASK, mib, wait_task};

/// `download_to_storage`.
pub(crate) fn download_to_storage() -> ToolSpec {
    ToolSpec::new(
        ToolDef::new(
            TOOLSET,
            "download_to_storage",
            "Download to a storage",
            "Download an ISO, cloud image or container template onto a storage, from a url (needs confirm) or by template name (use list_available_templates to find one).",
            Access::Destructive,
            false,
        ),
        handler!(download_to_storage_handler),
    )
    .waits(WAIT_FOR_TASK)
    .access_by_args(Access::Write, access_of, template_only)
}

/// One call's access: a URL (any address, fetched by the node) is destructive.
fn access_of(args: &Value) -> Option<Access> {
    let by_url = match args.get("url") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    };
    Some(if by_url {
        Access::Destructive
    } else {
        Access::Write
    })
}

/// The input schema of the mildest view: by template name only.
fn template_only(schema: &mut Map<String, Value>) {
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        for p in ["url", "checksum", "checksum_algorithm"] {
            props.remove(p);
        }
    }
}

/// What the file is, hence where it goes on the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Content {
    Iso,
    Vztmpl,
    Import,
}

impl Content {
    fn as_str(self) -> &'static str {
        match self {
            Content::Iso => "iso",
            Content::Vztmpl => "vztmpl",
            Content::Import => "import",
        }
    }

    /// The content a file name implies.
    fn of(filename: &str) -> Option<Content> {
        let f = filename.to_ascii_lowercase();
        if f.ends_with(".iso") || f.ends_with(".img") {
            Some(Content::Iso)
        } else if [".tar.gz", ".tar.xz", ".tar.zst", ".tgz", ".tar.bz2"]
            .iter()
            .any(|e| f.ends_with(e))
        {
            Some(Content::Vztmpl)
        } else if [".qcow2", ".raw", ".vmdk", ".ova"]
            .iter()
            .any(|e| f.ends_with(e))
        {
            Some(Content::Import)
        } else {
            None
        }
    }
}

/// Checksum algorithms PVE verifies a download with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Hex digits of a digest.
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }
}

/// Parameters of `download_to_storage`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DownloadParams {
    /// Storage id.
    pub(crate) storage: String,
    /// http(s) or ftp URL.
    #[serde(default)]
    pub(crate) url: Option<String>,
    /// Template name (instead of url).
    #[serde(default)]
    pub(crate) template: Option<String>,
    /// Default: from the file name (.iso/.img iso, .tar.* vztmpl, .qcow2 import).
    #[serde(default)]
    pub(crate) content: Option<Content>,
    /// Default: the URL's last part.
    #[serde(default)]
    pub(crate) filename: Option<String>,
    /// Expected checksum (hex).
    #[serde(default)]
    pub(crate) checksum: Option<String>,
    /// Its algorithm.
    #[serde(default)]
    pub(crate) checksum_algorithm: Option<Algorithm>,
    /// Default: the first node with the storage.
    #[serde(default)]
    pub(crate) node: Option<String>,
}

/// Output of `download_to_storage`.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DownloadOutput {
    pub(crate) storage: String,
    pub(crate) node: String,
    /// The volume id the file gets (for create_vm, create_container).
    pub(crate) volid: String,
    /// iso, vztmpl or import.
    pub(crate) content: String,
    /// Once done: the file's size in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) size_mb: Option<u64>,
    #[serde(flatten)]
    pub(crate) task: TaskOutcome,
}

/// The URL, checked: http, https or ftp, no spaces.
fn checked_url(url: &str) -> Result<String, ToolError> {
    let url = url.trim();
    let scheme_ok = ["http://", "https://", "ftp://"].iter().any(|s| {
        url.len() > s.len()
            && url
                .get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
    });
    if !scheme_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ToolError::invalid(
            "url",
            "must be an http://, https:// or ftp:// URL without spaces",
        ));
    }
    Ok(url.to_string())
}

/// The file name: `filename`, or the URL's last path part.
fn file_name(filename: Option<String>, url: &str) -> Result<String, ToolError> {
    let name = match filename
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
    {
        Some(f) => f,
        None => {
            let path = url.split(['?', '#']).next().unwrap_or(url);
            let after_host = path.split_once("://").map_or(path, |(_, r)| r);
            match after_host.split_once('/') {
                Some((_, p)) => p.rsplit('/').next().unwrap_or("").to_string(),
                None => String::new(),
            }
        }
    };
    if name.is_empty() {
        return Err(ToolError::invalid(
            "filename",
            "the URL ends without a file name: give filename",
        ));
    }
    if name.contains(['/', '\\']) || name.starts_with('.') || name.chars().any(char::is_control) {
        return Err(ToolError::invalid(
            "filename",
            format!("{name:?} is not a plain file name"),
        ));
    }
    Ok(name)
}

fn checksum(
    sum: Option<String>,
    algo: Option<Algorithm>,
) -> Result<Option<(String, Algorithm)>, ToolError> {
    match (
        sum.map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty()),
        algo,
    ) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(ToolError::invalid(
            "checksum_algorithm",
            "say which algorithm the checksum is (sha256, sha512...)",
        )),
        (None, Some(_)) => Err(ToolError::invalid(
            "checksum",
            "checksum_algorithm needs the checksum itself",
        )),
        (Some(s), Some(a)) => {
            if s.len() != a.hex_len() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ToolError::invalid(
                    "checksum",
                    format!("a {} checksum is {} hex digits", a.as_str(), a.hex_len()),
                ));
            }
            Ok(Some((s, a)))
        }
    }
}

async fn download_to_storage_handler(
    ctx: &ToolCtx,
    p: DownloadParams,
) -> Result<DownloadOutput, ToolError> {
    let wait = ctx.wait;
    let storage = p.storage.trim().to_string();
    if storage.is_empty() {
        return Err(ToolError::invalid("storage", "must not be empty"));
    }
    let template = p
        .template
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let url = p.url.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let (upid_of, content, filename) = match (url, template) {
        (Some(_), Some(_)) => {
            return Err(ToolError::invalid(
                "template",
                "give url or template, not both",
            ));
        }
        (None, None) => {
            return Err(ToolError::invalid(
                "url",
                "give the URL to download, or a template from list_available_templates",
            ));
        }
        (None, Some(t)) => {
            if p.content.is_some_and(|c| c != Content::Vztmpl)
                || p.checksum.is_some()
                || p.filename.is_some()
            {
                return Err(ToolError::invalid(
                    "template",
                    "a template from the index takes no content, filename or checksum (Proxmox \
                     VE checks its signature)",
                ));
            }
            (None, Content::Vztmpl, t)
        }
        (Some(u), None) => {
            let url = checked_url(u)?;
            let filename = file_name(p.filename, &url)?;
            let content = match p.content.or_else(|| Content::of(&filename)) {
                Some(c) => c,
                None => {
                    return Err(ToolError::invalid(
                        "content",
                        format!(
                            "cannot tell from {filename:?} what it is: give content (iso, \
                             vztmpl or import)"
                        ),
                    ));
                }
            };
            let sum = checksum(p.checksum, p.checksum_algorithm)?;
            let spec = DownloadUrl {
                url,
                content: content.as_str().to_string(),
                filename: filename.clone(),
                checksum: sum.as_ref().map(|(s, _)| s.clone()),
                checksum_algorithm: sum.map(|(_, a)| a.as_str().to_string()),
                ..DownloadUrl::default()
            };
            (Some(spec), content, filename)
        }
    };
    let node = storage_node(ctx, &storage, p.node).await?;
    let (upid, what) = match &upid_of {
        Some(spec) => (
            ctx.client.download_url(&node, &storage, spec).await?,
            format!("download of {} to {storage}", spec.url),
        ),
        None => (
            ctx.client
                .aplinfo_download(&node, &storage, &filename)
                .await?,
            format!("download of template {filename} to {storage}"),
        ),
    };
    let task = wait_task(ctx, &upid, wait, &what).await?;
    let dir = match content {
        Content::Iso => "iso",
        Content::Vztmpl => "vztmpl",
        Content::Import => "import",
    };
    let volid = format!("{storage}:{dir}/{filename}");
    let size_mb = if task.is_done() {
        ctx.client
            .storage_content(&node, &storage, Some(content.as_str()), None)
            .await
            .ok()
            .and_then(|list| list.into_iter().find(|v| v.volid == volid))
            .map(|v| mib(v.size))
    } else {
        None
    };
    Ok(DownloadOutput {
        storage,
        node,
        volid,
        content: content.as_str().to_string(),
        size_mb,
        task,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_names_and_checksums() {
        assert!(checked_url("https://example.org/a.iso").is_ok());
        for bad in [
            "file:///etc/passwd",
            "example.org/a.iso",
            "http://a b/c.iso",
            "https://",
        ] {
            assert!(checked_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            file_name(None, "https://cloud.example/img/noble.img?x=1").unwrap(),
            "noble.img"
        );
        assert!(file_name(None, "https://example.org/").is_err());
        assert!(file_name(None, "https://example.org").is_err());
        assert!(file_name(Some("../x.iso".into()), "https://e/x.iso").is_err());
        assert_eq!(Content::of("a.tar.zst"), Some(Content::Vztmpl));
        assert_eq!(Content::of("a.qcow2"), Some(Content::Import));
        assert_eq!(Content::of("a.exe"), None);
        assert!(checksum(Some("ab".into()), Some(Algorithm::Sha256)).is_err());
        assert!(checksum(Some("a".repeat(64)), Some(Algorithm::Sha256)).is_ok());
        assert!(checksum(Some("a".repeat(64)), None).is_err());
        assert!(checksum(None, Some(Algorithm::Md5)).is_err());
    }
}
