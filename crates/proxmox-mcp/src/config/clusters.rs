//! Which clusters the configuration names: `[[clusters]]` entries of the file (each with a
//! `name` and the keys of `[cluster]`), or the single `[cluster]` section and `PROXMOX_*`
//! variables (a cluster named `default`, or `name` / `PROXMOX_CLUSTER_NAME`), or, in demo mode,
//! the simulator (named `demo`). Names are unique, first is the default.

use std::collections::HashMap;

use super::{ClusterChoice, ClusterSection, ConfigError, FileConfig};
use crate::clusters::{DEFAULT_NAME, DEMO_NAME};

/// Environment variable naming the single cluster of `[cluster]` / `PROXMOX_*`.
pub(crate) const CLUSTER_NAME_ENV: &str = "PROXMOX_CLUSTER_NAME";

/// The cluster variables of pve-client, with the file key each one stands for.
const CLUSTER_VARS: &[(&str, &str)] = &[
    ("PROXMOX_TOKEN_VALUE_FILE", "token_value_file"),
    ("PROXMOX_PASSWORD_FILE", "password_file"),
    ("PROXMOX_TOKEN_VALUE", "token_value"),
    ("PROXMOX_TOKEN_NAME", "token_name"),
    ("PROXMOX_PASSWORD", "password"),
    ("PROXMOX_VERIFY_SSL", "verify_ssl"),
    ("PROXMOX_FINGERPRINT", "fingerprint"),
    ("PROXMOX_CA_FILE", "ca_file"),
    ("PROXMOX_CONNECT_TIMEOUT", "connect_timeout"),
    ("PROXMOX_TIMEOUT", "timeout"),
    ("PROXMOX_HOST", "host"),
    ("PROXMOX_PORT", "port"),
    ("PROXMOX_USER", "user"),
    (CLUSTER_NAME_ENV, "name"),
];

/// One configured cluster.
#[derive(Debug, Clone)]
pub struct NamedCluster {
    /// Unique name (letters, digits, `-`, `_`, `.`; at most 64 characters).
    pub name: String,
    pub(crate) choice: ClusterChoice,
    /// SSH to its nodes, when configured (`[cluster.ssh]`, `PROXMOX_SSH_*`).
    pub(crate) ssh: Option<pve_client::ssh::SshConfig>,
}

/// Every configured cluster, in order (never empty).
pub(super) fn resolve(
    demo: bool,
    file: &FileConfig,
    env: &HashMap<String, String>,
) -> Result<Vec<NamedCluster>, ConfigError> {
    let env_get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    if demo {
        return Ok(vec![NamedCluster {
            name: DEMO_NAME.into(),
            choice: ClusterChoice::Demo,
            ssh: None,
        }]);
    }
    if file.clusters.is_empty() {
        let name = env_get(CLUSTER_NAME_ENV)
            .map(str::to_string)
            .or_else(|| file.cluster.name.clone())
            .unwrap_or_else(|| DEFAULT_NAME.to_string());
        check_name(&name, "name")?;
        let cfg = single(file, env)?;
        let from_env = env
            .iter()
            .any(|(k, v)| k.starts_with("PROXMOX_SSH_") && !v.trim().is_empty());
        let ssh = super::ssh::resolve(
            &super::ssh::merged(file.cluster.ssh.as_ref(), env),
            if from_env {
                "SSH settings (PROXMOX_SSH_* over [cluster.ssh])"
            } else {
                "[cluster.ssh]"
            },
            !from_env,
        )?;
        return Ok(vec![NamedCluster {
            name,
            choice: ClusterChoice::Remote(Box::new(cfg)),
            ssh,
        }]);
    }
    if file.cluster != ClusterSection::default() {
        return Err(ConfigError::Invalid(
            "the config file has both [cluster] and [[clusters]]: move [cluster] into a \
             [[clusters]] entry with a name"
                .into(),
        ));
    }
    if let Some((var, _)) = CLUSTER_VARS.iter().find(|(v, _)| env_get(v).is_some()) {
        return Err(ConfigError::Invalid(format!(
            "{var} is set but the config file lists [[clusters]]: give each cluster its \
             settings in its [[clusters]] entry (secrets as token_value_file) and unset {var}"
        )));
    }
    if let Some((var, _)) = env
        .iter()
        .find(|(k, v)| k.starts_with("PROXMOX_SSH_") && !v.trim().is_empty())
    {
        return Err(ConfigError::Invalid(format!(
            "{var} is set but the config file lists [[clusters]]: give each cluster its SSH \
             settings in a [clusters.ssh] table under its entry and unset {var}"
        )));
    }
    let mut out: Vec<NamedCluster> = Vec::with_capacity(file.clusters.len());
    for (i, section) in file.clusters.iter().enumerate() {
        let at = format!("[[clusters]] entry {}", i + 1);
        let Some(name) = section.name.clone() else {
            return Err(ConfigError::Invalid(format!("{at}: missing key `name`")));
        };
        check_name(&name, &format!("{at}: name"))?;
        if out.iter().any(|c| c.name == name) {
            return Err(ConfigError::Invalid(format!(
                "{at}: duplicate cluster name {name:?} (each [[clusters]] name must be unique)"
            )));
        }
        let at = format!("[[clusters]] {name:?}");
        if section.host.is_none() {
            return Err(ConfigError::Invalid(format!("{at}: missing key `host`")));
        }
        let cfg = pve_client::ClientConfig::from_env_map(&section.as_env())
            .map_err(|e| ConfigError::Invalid(format!("{at}: {}", as_file_keys(&e.to_string()))))?;
        let ssh = match &section.ssh {
            Some(s) => super::ssh::resolve(&s.as_env(), &format!("{at} [clusters.ssh]"), true)?,
            None => None,
        };
        out.push(NamedCluster {
            name,
            choice: ClusterChoice::Remote(Box::new(cfg)),
            ssh,
        });
    }
    Ok(out)
}

/// The single cluster of `[cluster]` under the `PROXMOX_*` variables.
fn single(
    file: &FileConfig,
    env: &HashMap<String, String>,
) -> Result<pve_client::ClientConfig, ConfigError> {
    let env_get = |k: &str| env.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut merged = file.cluster.as_env();
    // A secret set in the environment, directly or as `_FILE`, replaces the file's
    // (both forms at once would be refused as ambiguous).
    for name in ["PROXMOX_TOKEN_VALUE", "PROXMOX_PASSWORD"] {
        let file_var = format!("{name}_FILE");
        if env_get(name).is_some() || env_get(&file_var).is_some() {
            merged.remove(name);
            merged.remove(&file_var);
        }
    }
    for (k, v) in env {
        if k.starts_with("PROXMOX_") && !v.trim().is_empty() {
            merged.insert(k.clone(), v.clone());
        }
    }
    if !merged.contains_key("PROXMOX_HOST") {
        return Err(ConfigError::NoCluster);
    }
    pve_client::ClientConfig::from_env_map(&merged).map_err(|e| ConfigError::Cluster(e.to_string()))
}

/// A cluster name shows in schemas' calls, audit lines and metric labels: keep it plain.
fn check_name(name: &str, key: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "{key} {name:?} is not a cluster name: use 1 to 64 letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// pve-client's message with `PROXMOX_*` names replaced by the file keys they stand for.
fn as_file_keys(message: &str) -> String {
    let mut out = message.to_string();
    for (var, key) in CLUSTER_VARS {
        out = out.replace(var, key);
    }
    out
}

impl ClusterSection {
    /// This section as `PROXMOX_*` variables.
    pub(super) fn as_env(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        let mut put = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
        put("PROXMOX_HOST", self.host.clone());
        put("PROXMOX_PORT", self.port.map(|p| p.to_string()));
        put("PROXMOX_USER", self.user.clone());
        put("PROXMOX_TOKEN_NAME", self.token_name.clone());
        put("PROXMOX_TOKEN_VALUE", self.token_value.clone());
        put("PROXMOX_TOKEN_VALUE_FILE", path(&self.token_value_file));
        put("PROXMOX_PASSWORD", self.password.clone());
        put("PROXMOX_PASSWORD_FILE", path(&self.password_file));
        put("PROXMOX_VERIFY_SSL", self.verify_ssl.map(|b| b.to_string()));
        put("PROXMOX_FINGERPRINT", self.fingerprint.clone());
        put("PROXMOX_CA_FILE", path(&self.ca_file));
        put("PROXMOX_TIMEOUT", self.timeout.map(|t| t.to_string()));
        m
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> FileConfig {
        FileConfig::parse(text, Path::new("c.toml")).unwrap()
    }

    const TWO: &str = "[[clusters]]\nname = \"a\"\nhost = \"h1\"\nuser = \"root@pam\"\n\
                       token_name = \"t\"\ntoken_value = \"s\"\n\
                       [[clusters]]\nname = \"b\"\nhost = \"h2:8443\"\nuser = \"root@pam\"\n\
                       password = \"p\"\n";

    #[test]
    fn clusters_in_order_with_their_own_settings() {
        let got = resolve(false, &parse(TWO), &HashMap::new()).unwrap();
        let names: Vec<&str> = got.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let ClusterChoice::Remote(b) = &got[1].choice else {
            panic!("demo")
        };
        assert_eq!((b.host.as_str(), b.port), ("h2", 8443));
        let demo = resolve(true, &parse(TWO), &HashMap::new()).unwrap();
        assert_eq!(demo.len(), 1);
        assert_eq!(demo[0].name, "demo");
    }

    #[test]
    fn bad_cluster_lists_are_errors_naming_the_key() {
        let err = |text: &str, env: &[(&str, &str)]| {
            let env = env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            resolve(false, &parse(text), &env).unwrap_err().to_string()
        };
        let dup = TWO.replace("name = \"b\"", "name = \"a\"");
        assert!(err(&dup, &[]).contains("duplicate cluster name \"a\""));
        let no_host = TWO.replace("host = \"h2:8443\"\n", "");
        let e = err(&no_host, &[]);
        assert!(e.contains("\"b\"") && e.contains("`host`"), "{e}");
        let bad_user = TWO.replace("user = \"root@pam\"\npassword", "user = \"root\"\npassword");
        let e = err(&bad_user, &[]);
        assert!(e.contains("user must be USER@REALM"), "{e}");
        let e = err(TWO, &[("PROXMOX_HOST", "x")]);
        assert!(e.contains("PROXMOX_HOST"), "{e}");
        let e = err(&TWO.replace("name = \"a\"", "name = \"a b\""), &[]);
        assert!(e.contains("not a cluster name"), "{e}");
        let e = err(&format!("[cluster]\nhost = \"x\"\n{TWO}"), &[]);
        assert!(e.contains("both [cluster] and [[clusters]]"), "{e}");
        assert!(
            FileConfig::parse("[[clusters]]\nnmae = \"a\"\n", Path::new("c.toml"))
                .unwrap_err()
                .to_string()
                .contains("nmae")
        );
    }

    #[test]
    fn each_entry_has_its_own_ssh_table() {
        let text = TWO.replace(
            "[[clusters]]\nname = \"b\"",
            "[clusters.ssh]\nkey_file = \"/k/a\"\nuser = \"pmcp\"\n[[clusters]]\nname = \"b\"",
        );
        let got = resolve(false, &parse(&text), &HashMap::new()).unwrap();
        let a = got[0].ssh.as_ref().unwrap();
        assert_eq!(
            (a.user.as_str(), a.key_file.to_str()),
            ("pmcp", Some("/k/a"))
        );
        assert!(got[1].ssh.is_none(), "b has no SSH");
        let bad = text.replace("key_file = \"/k/a\"\n", "");
        let e = resolve(false, &parse(&bad), &HashMap::new())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"a\" [clusters.ssh]: key_file is not set"),
            "{e}"
        );
        let env: HashMap<String, String> = [("PROXMOX_SSH_USER".to_string(), "x".to_string())]
            .into_iter()
            .collect();
        let e = resolve(false, &parse(&text), &env).unwrap_err().to_string();
        assert!(e.contains("PROXMOX_SSH_USER is set"), "{e}");
    }

    #[test]
    fn an_entry_reads_its_secret_from_a_file() {
        let dir = std::env::temp_dir().join(format!("pmcp-clusters-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("b-password");
        std::fs::write(&secret, "from-file\n").unwrap();
        let text = TWO.replace(
            "password = \"p\"",
            &format!("password_file = \"{}\"", secret.display()),
        );
        let got = resolve(false, &parse(&text), &HashMap::new()).unwrap();
        let ClusterChoice::Remote(b) = &got[1].choice else {
            panic!("demo")
        };
        let pve_client::Credentials::Password(p) = &b.credentials else {
            panic!("password expected")
        };
        assert_eq!(p.expose(), "from-file");
        let both = text.replace("password_file", "password = \"x\"\npassword_file");
        let e = resolve(false, &parse(&both), &HashMap::new()).unwrap_err();
        assert!(e.to_string().contains("\"b\""), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_single_cluster_is_named_default_or_as_told() {
        let env: HashMap<String, String> = [
            ("PROXMOX_HOST", "h"),
            ("PROXMOX_USER", "root@pam"),
            ("PROXMOX_PASSWORD", "p"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let got = resolve(false, &FileConfig::default(), &env).unwrap();
        assert_eq!(got[0].name, "default");
        let mut named = env.clone();
        named.insert(CLUSTER_NAME_ENV.into(), "lab".into());
        assert_eq!(
            resolve(false, &FileConfig::default(), &named).unwrap()[0].name,
            "lab"
        );
        let got = resolve(false, &parse("[cluster]\nname = \"home\"\n"), &env).unwrap();
        assert_eq!(got[0].name, "home");
    }
}
