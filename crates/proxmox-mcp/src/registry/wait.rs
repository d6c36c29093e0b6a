//! `wait_seconds`: how long a call waits for the Proxmox VE tasks it starts before answering
//! with their UPID. Declared once per tool ([`ToolSpec::waits`], with its own wording and
//! default), added to the input schema here, taken out of the arguments by `Registry::call` and
//! handed to the tool as `ToolCtx::wait`, bounded by [`MAX_WAIT_SECONDS`].

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{ToolSpec, lenient};
use crate::error::ToolError;

/// The argument bounding a call's wait.
pub(crate) const WAIT_SECONDS: &str = "wait_seconds";
/// Longest wait accepted (n8n gives up on a call after 60 s).
pub(crate) const MAX_WAIT_SECONDS: u32 = 50;
/// The usual default wait.
pub(crate) const DEFAULT_WAIT_SECONDS: u32 = 20;

/// How a tool waits for its tasks: the default, and the parameter's description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TaskWait {
    /// Seconds waited when the call does not say.
    pub(crate) default_seconds: u32,
    /// The parameter's description (it names the default and [`MAX_WAIT_SECONDS`]).
    pub(crate) description: &'static str,
}

impl ToolSpec {
    /// This tool waits for the tasks it starts, as `wait` says: its input schema gains the
    /// optional `wait_seconds`.
    pub(crate) fn waits(mut self, wait: TaskWait) -> Self {
        let schema = std::sync::Arc::make_mut(&mut self.input_schema);
        augment_input(wait, schema);
        self.wait = Some(wait);
        self
    }
}

/// Adds `wait_seconds` to an input schema.
fn augment_input(wait: TaskWait, schema: &mut Map<String, Value>) {
    let props = schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(props) = props.as_object_mut() {
        props.insert(
            WAIT_SECONDS.into(),
            json!({
                "type": "integer",
                "description": wait.description,
            }),
        );
    }
}

/// The wait a call asks for (taken out of `args`): its `wait_seconds` (a number or a string of
/// digits; absent or `null` is the default), at most [`MAX_WAIT_SECONDS`].
pub(super) fn take(wait: TaskWait, args: &mut Value) -> Result<Duration, ToolError> {
    let given = match args.as_object_mut().and_then(|m| m.remove(WAIT_SECONDS)) {
        None => None,
        Some(v) => lenient::opt_int::<_, u32>(v)
            .map_err(|e| ToolError::invalid(WAIT_SECONDS, e.to_string()))?,
    };
    let secs = given.unwrap_or(wait.default_seconds);
    if secs > MAX_WAIT_SECONDS {
        return Err(ToolError::invalid(
            WAIT_SECONDS,
            format!(
                "must be at most {MAX_WAIT_SECONDS} (clients give up after 60 s); \
                 a longer task keeps running and get_task follows it"
            ),
        ));
    }
    Ok(Duration::from_secs(u64::from(secs)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const WAIT: TaskWait = TaskWait {
        default_seconds: 20,
        description: "Seconds to wait.",
    };

    #[test]
    fn wait_seconds_is_taken_out_and_bounded() {
        let mut args = json!({"vmid": 1, "wait_seconds": "10"});
        assert_eq!(take(WAIT, &mut args).unwrap(), Duration::from_secs(10));
        assert_eq!(args, json!({"vmid": 1}));
        assert_eq!(take(WAIT, &mut json!({})).unwrap(), Duration::from_secs(20));
        assert_eq!(
            take(WAIT, &mut json!({"wait_seconds": null})).unwrap(),
            Duration::from_secs(20)
        );
        assert_eq!(
            take(WAIT, &mut json!({"wait_seconds": 0})).unwrap(),
            Duration::ZERO
        );
        assert_eq!(
            take(WAIT, &mut json!({"wait_seconds": 50})).unwrap(),
            Duration::from_secs(50)
        );
        for bad in [json!(51), json!("soon"), json!(-1)] {
            match take(WAIT, &mut json!({ "wait_seconds": bad })) {
                Err(ToolError::InvalidParams { param, .. }) => {
                    assert_eq!(param.as_deref(), Some(WAIT_SECONDS));
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
