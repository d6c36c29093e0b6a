//! The token benchmark's printout: Markdown tables (pasteable into docs/PERFORMANCE.md) of the
//! tool lists per configuration, per tool and per toolset, the parameters several tools repeat,
//! the answers of the list tools and the overview on both clusters, and the budgets with PASS or MISS.

use std::collections::BTreeMap;

use proxmox_mcp_bench::cluster::Shape;

use crate::answers::Answer;
use crate::count::Cost;
use crate::surface::{ParamCost, Surface};

/// The default toolsets' model-visible list, in o200k tokens.
const BUDGET_DEFAULT_LIST: usize = 2_500;
/// Every toolset's model-visible list, in o200k tokens.
const BUDGET_ALL_LIST: usize = 10_200;
/// A default `get_vms` answer on the large cluster, in o200k tokens.
const BUDGET_GET_VMS: usize = 8_000;
/// A `get_cluster_overview` answer on the large cluster ("a few hundred"), in o200k tokens.
const BUDGET_OVERVIEW: usize = 600;

/// One server configuration's tool list.
#[derive(Debug)]
pub struct Config {
    pub label: String,
    pub surface: Surface,
    /// The parameters several of its tools declare.
    pub shared: Vec<ParamCost>,
}

/// Everything measured.
#[derive(Debug, Default)]
pub struct Report {
    /// Default first, then `--toolsets all`, any extra selection, and the large-cluster server.
    pub configs: Vec<Config>,
    /// Toolset → its tools (from the OpenAPI tags of the `all` server).
    pub toolsets: BTreeMap<String, Vec<String>>,
    /// Toolset → the list served with `--toolsets <it>` alone.
    pub alone: BTreeMap<String, Surface>,
    pub instructions: Option<Cost>,
    pub demo_answers: Vec<Answer>,
    pub large_answers: Vec<Answer>,
    pub shape: Shape,
}

impl Report {
    pub fn print(&self) {
        println!();
        println!("## Model-visible tool lists");
        println!();
        println!(
            "Each tool as compact JSON `{{\"name\",\"description\",\"parameters\":<inputSchema>}}`; \
             the list as the JSON array of those objects (see bench/README.md)."
        );
        println!();
        println!("| configuration | tools | bytes | o200k | cl100k | o200k budget |");
        println!("|---|---:|---:|---:|---:|---|");
        for (i, c) in self.configs.iter().enumerate() {
            let t = c.surface.total;
            let budget = match i {
                0 => verdict(t.o200k, BUDGET_DEFAULT_LIST),
                1 => verdict(t.o200k, BUDGET_ALL_LIST),
                _ => String::new(),
            };
            println!(
                "| {} | {} | {} | {} | {} | {budget} |",
                c.label,
                c.surface.tools.len(),
                t.bytes,
                t.o200k,
                t.cl100k
            );
        }
        if let Some(i) = self.instructions {
            println!();
            println!(
                "Server instructions (`initialize`; some clients, e.g. Claude Desktop, put them in \
                 the prompt; n8n does not): {} bytes, {} o200k, {} cl100k tokens.",
                i.bytes, i.o200k, i.cl100k
            );
        }
        self.print_per_tool();
        self.print_toolsets();
        self.print_shared();
        println!();
        println!("## Answers of the list tools and the overview (arguments `{{}}`)");
        println!();
        println!(
            "| cluster | tool | rows | text bytes | text o200k | text cl100k | structured bytes | structured o200k | structured cl100k |"
        );
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        let large = format!("{}", self.shape);
        for (cluster, answers) in [
            ("demo", &self.demo_answers),
            (large.as_str(), &self.large_answers),
        ] {
            for a in answers {
                print_answer(cluster, a);
            }
        }
        self.print_budgets();
    }

    /// Per tool, from the `all` list, marking the default tools; a default tool whose entry
    /// differs from its `all` entry gets its own line.
    fn print_per_tool(&self) {
        let (Some(default), Some(all)) = (self.configs.first(), self.configs.get(1)) else {
            return;
        };
        let in_default: BTreeMap<&str, Cost> = default
            .surface
            .tools
            .iter()
            .map(|t| (t.name.as_str(), t.entry))
            .collect();
        let toolset_of = |name: &str| -> String {
            let sets: Vec<&str> = self
                .toolsets
                .iter()
                .filter(|(_, tools)| tools.iter().any(|t| t == name))
                .map(|(s, _)| s.as_str())
                .collect();
            sets.join(",")
        };
        println!();
        println!("### Per tool ({})", all.label);
        println!();
        println!(
            "| tool | toolset | default | bytes | o200k | cl100k | description o200k | inputSchema o200k |"
        );
        println!("|---|---|---|---:|---:|---:|---:|---:|");
        for t in &all.surface.tools {
            let mark = match in_default.get(t.name.as_str()) {
                Some(c) if *c == t.entry => "yes".to_string(),
                Some(c) => format!("yes ({} bytes, {} o200k there)", c.bytes, c.o200k),
                None => String::new(),
            };
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                t.name,
                toolset_of(&t.name),
                mark,
                t.entry.bytes,
                t.entry.o200k,
                t.entry.cl100k,
                t.description.o200k,
                t.schema.o200k
            );
        }
        let all_names: Vec<&str> = all.surface.names().collect();
        for t in &default.surface.tools {
            if !all_names.contains(&t.name.as_str()) {
                println!(
                    "| {} | (default only) | yes | {} | {} | {} | {} | {} |",
                    t.name,
                    t.entry.bytes,
                    t.entry.o200k,
                    t.entry.cl100k,
                    t.description.o200k,
                    t.schema.o200k
                );
            }
        }
    }

    fn print_toolsets(&self) {
        if self.toolsets.is_empty() {
            println!();
            println!(
                "(no toolset tags in the REST door's /openapi.json: per-toolset figures skipped)"
            );
            return;
        }
        let Some(all) = self.configs.get(1) else {
            return;
        };
        let default: Vec<&str> = self
            .configs
            .first()
            .map(|c| c.surface.names().collect())
            .unwrap_or_default();
        println!();
        println!("### Per toolset");
        println!();
        println!(
            "\"served alone\": the list of `--toolsets <name>`; \"its entries\": the sum of its \
             tools' entries in the `all` list (what enabling it adds)."
        );
        println!();
        println!(
            "| toolset | tools | default | served alone: tools | bytes | o200k | cl100k | its entries: bytes | o200k | cl100k |"
        );
        println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        for (set, tools) in &self.toolsets {
            let mut sum = Cost::default();
            for t in all.surface.tools.iter().filter(|t| tools.contains(&t.name)) {
                sum += t.entry;
            }
            let on = tools.iter().all(|t| default.contains(&t.as_str()));
            let alone = self.alone.get(set);
            let (n, a) = alone.map_or((0, Cost::default()), |s| (s.tools.len(), s.total));
            println!(
                "| {set} | {} | {} | {n} | {} | {} | {} | {} | {} | {} |",
                tools.len(),
                if on { "yes" } else { "" },
                a.bytes,
                a.o200k,
                a.cl100k,
                sum.bytes,
                sum.o200k,
                sum.cl100k
            );
        }
    }

    /// The shared parameters of the `all` list, with their cost in the default list beside.
    fn print_shared(&self) {
        let (Some(default), Some(all)) = (self.configs.first(), self.configs.get(1)) else {
            return;
        };
        println!();
        println!("### Parameters declared by several tools");
        println!();
        println!(
            "The sum of each `\"name\":{{schema}}` member across the tools that declare it, in the \
             {} list and in the {} list.",
            default.label, all.label
        );
        println!();
        println!(
            "| parameter | {0}: tools | bytes | o200k | {1}: tools | bytes | o200k | cl100k |",
            default.label, all.label
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for p in &all.shared {
            let d = default.shared.iter().find(|d| d.name == p.name);
            let (n, c) = d.map_or((0, Cost::default()), |d| (d.tools, d.cost));
            println!(
                "| {} | {n} | {} | {} | {} | {} | {} | {} |",
                p.name, c.bytes, c.o200k, p.tools, p.cost.bytes, p.cost.o200k, p.cost.cl100k
            );
        }
    }

    fn print_budgets(&self) {
        let mut rows: Vec<(String, Option<usize>, usize)> = Vec::new();
        if let Some(c) = self.configs.first() {
            rows.push((
                format!("{} tool list, o200k", c.label),
                Some(c.surface.total.o200k),
                BUDGET_DEFAULT_LIST,
            ));
        }
        if let Some(c) = self.configs.get(1) {
            rows.push((
                format!("{} tool list, o200k", c.label),
                Some(c.surface.total.o200k),
                BUDGET_ALL_LIST,
            ));
        }
        if let Some(a) = self.large_answers.iter().find(|a| a.tool == "get_vms") {
            let guests = self.shape.guests();
            rows.push((
                format!("get_vms {{}} on {guests} guests, text content, o200k"),
                Some(a.text.o200k),
                BUDGET_GET_VMS,
            ));
            rows.push((
                format!("get_vms {{}} on {guests} guests, structuredContent, o200k"),
                a.structured.map(|s| s.o200k),
                BUDGET_GET_VMS,
            ));
        }
        if let Some(a) = self
            .large_answers
            .iter()
            .find(|a| a.tool == "get_cluster_overview")
        {
            let guests = self.shape.guests();
            rows.push((
                format!("get_cluster_overview on {guests} guests, text content, o200k"),
                Some(a.text.o200k),
                BUDGET_OVERVIEW,
            ));
        }
        println!();
        println!("## Budgets");
        println!();
        println!("| figure | measured | budget and verdict |");
        println!("|---|---:|---|");
        for (name, value, budget) in rows {
            let (shown, v) = match value {
                Some(v) => (v.to_string(), v),
                None => ("none".to_string(), 0),
            };
            let verdict = verdict(v, budget);
            println!("| {name} | {shown} | {verdict} |");
        }
    }
}

/// `≤ budget: PASS`, or `≤ budget: MISS (+N%)`.
fn verdict(value: usize, budget: usize) -> String {
    if value <= budget {
        format!("≤ {budget}: PASS")
    } else {
        let over = (value as f64 / budget as f64 - 1.0) * 100.0;
        format!("≤ {budget}: MISS (+{over:.0}%)")
    }
}

fn print_answer(cluster: &str, a: &Answer) {
    if let Some(e) = &a.error {
        println!("| {cluster} | {} | tool error: {e} | | | | | | |", a.tool);
        return;
    }
    let rows = a.rows.map_or(String::new(), |r| r.to_string());
    let s = a.structured.unwrap_or_default();
    println!(
        "| {cluster} | {} | {rows} | {} | {} | {} | {} | {} | {} |",
        a.tool, a.text.bytes, a.text.o200k, a.text.cl100k, s.bytes, s.o200k, s.cl100k
    );
}
