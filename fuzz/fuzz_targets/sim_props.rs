//! pve-sim's property strings (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`), `-list`
//! splitting and named formats checked by code. Literal inputs are a format's name, a newline
//! and the value; generated ones pick a declared format and build a value from its keys.
//! Properties: no panic; what parses has only declared keys (aliases resolved) and, written back
//! as `key=value` pairs, parses to the same keys and values; a split list's items are non-empty
//! and split the same when joined again with commas; every named format check returns.

#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use proxmox_mcp_fuzz::pve_values::{NAMED_FORMATS, property_text};
use proxmox_mcp_fuzz::{Input, input};
use pve_sim::fuzzing::{
    named_format, property_format, property_formats, property_string, split_list,
};
use pve_sim::route::PropFormat;

fuzz_target!(|data: &[u8]| {
    let (format, value) = match input(data) {
        Input::Literal(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let Some((name, value)) = text.split_once('\n') else {
                return;
            };
            (property_format(name), value.to_owned())
        }
        Input::Generated(mut u) => match generated(&mut u) {
            Ok(v) => v,
            Err(_) => return,
        },
    };
    if let Some(format) = format {
        check_props(format, &value);
    }
    check_list(&value);
    for name in NAMED_FORMATS {
        let _ = named_format(name, &value);
    }
});

fn generated(u: &mut Unstructured<'_>) -> arbitrary::Result<(Option<&'static PropFormat>, String)> {
    let formats = property_formats();
    let format = *u.choose(&formats)?;
    Ok((Some(format), property_text(u, format, 0)?))
}

fn check_props(format: &PropFormat, value: &str) {
    let Ok(parsed) = property_string(format, value, "p") else {
        return;
    };
    for key in parsed.keys() {
        assert!(
            format
                .keys
                .iter()
                .any(|k| k.name == key && k.alias.is_none()),
            "{}: {key} is not a key of the format ({value:?})",
            format.name
        );
    }
    let written: Vec<String> = parsed.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let written = written.join(",");
    match property_string(format, &written, "p") {
        Ok(again) => assert_eq!(
            again, parsed,
            "{}: {value:?} written as {written:?}",
            format.name
        ),
        Err(e) => panic!(
            "{}: {value:?} written as {written:?} is refused: {e}",
            format.name
        ),
    }
}

fn check_list(value: &str) {
    let items = split_list(value);
    if value.contains('\0') {
        assert_eq!(items.join("\0"), value);
        return;
    }
    assert!(
        items.iter().all(|i| !i.is_empty()),
        "{value:?} gave {items:?}"
    );
    assert_eq!(split_list(&items.join(",")), items, "{value:?}");
}
