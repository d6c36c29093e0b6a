//! Commands over SSH through a client view's request hook ([`crate::dry_run::RequestHook`]):
//! the hook sees the exact command line first and may refuse it (a policy) or record it
//! instead of running it (a dry run), as it does for the API's writes.

use super::{RunOptions, RunOutput, SshClient, command_line, pct_exec_argv};
use crate::client::PveClient;
use crate::dry_run::SshRequest;
use crate::error::{Error, ErrorKind};

impl SshClient {
    /// [`SshClient::pct_exec`] after `api`'s hook has seen the command. When the hook answers
    /// it (a dry run), nothing runs and the output is empty with exit status 0.
    pub async fn pct_exec_checked<S: AsRef<str>>(
        &self,
        api: &PveClient,
        node: &str,
        vmid: u32,
        argv: &[S],
        opts: &RunOptions,
    ) -> Result<RunOutput, Error> {
        if argv.is_empty() {
            return Err(Error::new(ErrorKind::Params, "the command is empty"));
        }
        let full = pct_exec_argv(vmid, argv);
        self.gated(api, node, Some(vmid), &full, opts).await
    }

    /// [`SshClient::run`] after `api`'s hook has seen the command (see
    /// [`SshClient::pct_exec_checked`]).
    pub async fn run_checked<S: AsRef<str>>(
        &self,
        api: &PveClient,
        node: &str,
        argv: &[S],
        opts: &RunOptions,
    ) -> Result<RunOutput, Error> {
        self.gated(api, node, None, argv, opts).await
    }

    async fn gated<S: AsRef<str>>(
        &self,
        api: &PveClient,
        node: &str,
        vmid: Option<u32>,
        argv: &[S],
        opts: &RunOptions,
    ) -> Result<RunOutput, Error> {
        let request = SshRequest {
            node: node.to_owned(),
            user: self.config().user.clone(),
            vmid,
            command_line: command_line(argv)?,
        };
        if api.check_ssh(&request).await? {
            self.run(node, argv, opts).await
        } else {
            Ok(RunOutput {
                command_line: request.command_line,
                exit_code: Some(0),
                ..RunOutput::default()
            })
        }
    }
}
