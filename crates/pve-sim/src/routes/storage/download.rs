//! `POST /nodes/{node}/storage/{storage}/download-url`: a `download` task fetching an ISO, a
//! container template or a disk image to import onto a storage that holds that content. The
//! simulator makes the file's size from its URL; a given checksum is taken as matching.

use serde_json::Value;

use crate::Sim;
use crate::auth;
use crate::guest;
use crate::route::{ApiError, Call, Method, Perm, Route};
use crate::state::Volume;
use crate::tasks::TaskSpec;

/// The routes of this module.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        Method::Post,
        "/nodes/{node}/storage/{storage}/download-url",
        Perm::Storage(&["Datastore.AllocateTemplate"]),
        download,
    )]
}

/// Where each content type lives on a storage, and the extensions PVE takes for it.
fn place(content: &str) -> (&'static str, &'static [&'static str]) {
    match content {
        "iso" => ("iso", &[".iso", ".img"]),
        "vztmpl" => (
            "vztmpl",
            &[".tar.gz", ".tar.xz", ".tar.zst", ".tgz", ".tar.bz2"],
        ),
        _ => ("import", &[".ova", ".qcow2", ".raw", ".vmdk", ".img"]),
    }
}

fn download(sim: &mut Sim, call: &Call) -> Result<Value, ApiError> {
    let node = call.node()?.to_string();
    let storage = call.req_str("storage")?.to_string();
    let content = call.req_str("content")?.to_string();
    let url = call.req_str("url")?.to_string();
    let filename = call.req_str("filename")?.to_string();
    let allowed = auth::allowed(
        &call.identity,
        "/",
        &["Sys.Audit", "Sys.Modify"],
        &sim.cluster,
    ) || auth::allowed(
        &call.identity,
        &format!("/nodes/{node}"),
        &["Sys.AccessNetwork"],
        &sim.cluster,
    );
    if !allowed {
        return Err(ApiError::forbidden(
            &format!("/nodes/{node}"),
            "Sys.AccessNetwork",
        ));
    }
    let (dir, exts) = place(&content);
    if filename.contains('/') || !exts.iter().any(|e| filename.ends_with(e)) {
        return Err(ApiError::param(
            "filename",
            format!("wrong file extension for '{content}': {filename}"),
        ));
    }
    guest::check_storage(&sim.cluster, &storage, &node, &content).map_err(ApiError::internal)?;
    let volid = format!("{storage}:{dir}/{filename}");
    if sim.cluster.volumes.iter().any(|v| v.volid == volid) {
        return Err(ApiError::internal(format!(
            "refusing to override existing file '{filename}'"
        )));
    }
    let seed = guest::seeded_bytes(&url);
    let size = (64 + u64::from(seed[0]) * 8 + u64::from(seed[1])) << 20;
    let checked = call.str("checksum-algorithm").map(str::to_string);
    let mut log = vec![format!(
        "downloading {url} to /var/lib/vz/template/{dir}/{filename}.tmp"
    )];
    log.push(format!(
        "--{}--  {url}",
        crate::clock::syslog_stamp(sim.now as i64)
    ));
    let upid = sim.spawn_task(TaskSpec {
        node: node.clone(),
        kind: "download".into(),
        id: storage.clone(),
        user: guest::task_user(call),
        duration: 2.0 + size as f64 / f64::from(50u32 << 20),
        log,
        lock_vmid: None,
        finish: Box::new(move |cluster, t| {
            let mut log = guest::alloc_space(cluster, &node, &storage, &filename, size)?;
            log.push(format!("{} bytes downloaded", size));
            if let Some(algo) = checked {
                log.push(format!("calculating checksum of file with {algo}..."));
                log.push("checksum verified".into());
            }
            log.push(format!("download of '{url}' to '{volid}' finished"));
            cluster.volumes.push(Volume {
                volid: volid.clone(),
                storage: storage.clone(),
                node: node.clone(),
                content: content.clone(),
                format: filename.rsplit('.').next().unwrap_or("raw").to_string(),
                size,
                ctime: t as i64,
                vmid: None,
                notes: None,
                protected: false,
            });
            Ok(log)
        }),
    });
    Ok(Value::String(upid))
}
