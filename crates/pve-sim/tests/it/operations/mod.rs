//! What the operations an admin runs every day find in the simulator: history and logs that
//! follow what happened (`monitoring`), the node's network, services and updates (`node`), the
//! datacenter's pools, users, backup jobs, HA and firewall (`datacenter`), and guest disk,
//! cloud-init and power operations (`guests`).

mod datacenter;
mod guests;
mod monitoring;
mod node;

use serde_json::Value;

use crate::support::TestSim;

/// Waits for a task to end (simulated time moves on) and returns its exit status.
pub(crate) async fn finish(sim: &TestSim, upid: &Value) -> String {
    let upid = upid.as_str().expect("a UPID");
    sim.server.advance(3600.0);
    let node = upid.split(':').nth(1).unwrap_or_default();
    let st = sim
        .get(&format!("/nodes/{node}/tasks/{upid}/status"), &[])
        .await;
    st.data()["exitstatus"].as_str().unwrap_or("").to_string()
}

/// The entries of a list answer.
pub(crate) fn list(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a list")
}
