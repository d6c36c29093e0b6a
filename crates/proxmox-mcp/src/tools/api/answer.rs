//! What `proxmox_api` answers with Proxmox VE's `data`: list rows projected to `fields`, then
//! everything cut to the byte budget of `[guard.api] max_answer_bytes`, saying so
//! (`truncated`, the total count, a hint to narrow the call).

use serde_json::{Map, Value};

/// `data` once projected and cut.
#[derive(Debug, Default)]
pub(super) struct Fitted {
    pub(super) data: Value,
    pub(super) truncated: bool,
    /// Rows (list) or keys (object) Proxmox VE returned, when cut.
    pub(super) total: Option<usize>,
    /// Rows or keys kept, when cut.
    pub(super) returned: Option<usize>,
    pub(super) hint: Option<String>,
}

/// Keeps only `fields` of each row of a list (rows that are not objects stay as they are).
pub(super) fn project(data: Value, fields: &[String]) -> Value {
    if fields.is_empty() {
        return data;
    }
    let keep = |row: Value| match row {
        Value::Object(mut m) => Value::Object(
            fields
                .iter()
                .filter_map(|f| m.remove(f).map(|v| (f.clone(), v)))
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    };
    match data {
        Value::Array(rows) => Value::Array(rows.into_iter().map(keep).collect()),
        other => other,
    }
}

/// `data` within `budget` bytes of compact JSON: the first rows of a list, the first keys of
/// an object, the start of a text, with what was left out said.
pub(super) fn fit(data: Value, budget: usize) -> Fitted {
    let size = |v: &Value| serde_json::to_string(v).map_or(usize::MAX, |s| s.len());
    if size(&data) <= budget {
        return Fitted {
            data,
            ..Fitted::default()
        };
    }
    let hint = |what: &str| {
        Some(format!(
            "the answer was cut to {budget} bytes: {what}. Narrow the call: the endpoint's \
             filter parameters (type, node, vmid, limit, start, since...), a more specific \
             path, or `fields` to keep only the keys you need of each row"
        ))
    };
    match data {
        Value::Array(rows) => {
            let total = rows.len();
            let mut used = 2;
            let mut kept = Vec::new();
            for row in rows {
                let n = size(&row).saturating_add(1);
                if used + n > budget {
                    break;
                }
                used += n;
                kept.push(row);
            }
            let returned = kept.len();
            Fitted {
                data: Value::Array(kept),
                truncated: true,
                total: Some(total),
                returned: Some(returned),
                hint: hint(&format!("{returned} of {total} rows")),
            }
        }
        Value::Object(map) => {
            let total = map.len();
            let mut used = 2;
            let mut kept = Map::new();
            for (k, v) in map {
                let n = size(&v).saturating_add(k.len() + 4);
                if used + n > budget {
                    continue;
                }
                used += n;
                kept.insert(k, v);
            }
            let returned = kept.len();
            Fitted {
                data: Value::Object(kept),
                truncated: true,
                total: Some(total),
                returned: Some(returned),
                hint: hint(&format!(
                    "{returned} of {total} keys (those too large to fit were left out)"
                )),
            }
        }
        Value::String(s) => {
            let mut end = budget.min(s.len());
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            Fitted {
                data: Value::String(s[..end].to_string()),
                truncated: true,
                total: Some(s.len()),
                returned: Some(end),
                hint: hint(&format!("the first {end} of {} bytes of text", s.len())),
            }
        }
        other => Fitted {
            data: other,
            ..Fitted::default()
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_are_projected_then_cut_to_the_budget() {
        let rows: Vec<Value> = (0..100)
            .map(|i| json!({"vmid": i, "name": format!("guest-{i}"), "config": "x".repeat(50)}))
            .collect();
        let data = project(Value::Array(rows), &["vmid".into(), "name".into()]);
        assert_eq!(data[3], json!({"vmid": 3, "name": "guest-3"}));
        let f = fit(data.clone(), 1024);
        assert!(f.truncated && f.total == Some(100));
        let kept = f.data.as_array().unwrap().len();
        assert_eq!(f.returned, Some(kept));
        assert!(kept > 10 && kept < 100);
        assert!(serde_json::to_string(&f.data).unwrap().len() <= 1024);
        let f = fit(data, 1 << 20);
        assert!(!f.truncated && f.total.is_none());
        let f = fit(Value::String("é".repeat(1000)), 1025);
        assert_eq!(f.data.as_str().unwrap().len(), 1024);
    }
}
