//! The end of an existing audit log, read when it is opened: a torn last line (bytes after the
//! last newline, left by a crash in the middle of a write) is moved to a file of its own so the
//! chain can go on; the last whole line gives the next line's `prev` and `seq`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{GENESIS, Record, sha256_hex};

/// Torn bytes moved aside.
#[derive(Debug)]
pub(super) struct Torn {
    pub(crate) bytes: u64,
    pub(crate) moved_to: PathBuf,
}

/// The last whole line of a log: its hash (the next `prev`), its `seq`, and its text.
#[derive(Debug)]
pub(super) struct End {
    pub(crate) hash: String,
    pub(crate) seq: u64,
    pub(crate) line: Option<String>,
}

impl Default for End {
    fn default() -> Self {
        Self {
            hash: GENESIS.to_string(),
            seq: 0,
            line: None,
        }
    }
}

/// Moves the bytes after the last newline of `path` (if any) to `<path>.torn-<unix time>` and
/// cuts them off the log.
pub(super) fn move_torn_tail(path: &Path) -> std::io::Result<Option<Torn>> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let keep = whole_lines_len(&mut file, len)?;
    if keep == len {
        return Ok(None);
    }
    let mut torn = Vec::new();
    file.seek(SeekFrom::Start(keep))?;
    file.read_to_end(&mut torn)?;
    let moved_to = aside_name(path)?;
    let mut aside = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&moved_to)?;
    aside.write_all(&torn)?;
    aside.sync_all()?;
    file.set_len(keep)?;
    file.sync_all()?;
    Ok(Some(Torn {
        bytes: len - keep,
        moved_to,
    }))
}

/// Length of `file` up to and including its last newline (0 when it has none).
fn whole_lines_len(file: &mut File, len: u64) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut end = len;
    let mut buf = vec![0u8; CHUNK as usize];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        let n = usize::try_from(end - start).unwrap_or(0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// `<path>.torn-<unix time>`, with `-N` added if that exists already.
fn aside_name(path: &Path) -> std::io::Result<PathBuf> {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("{}.torn-{secs}", path.display());
    for n in 0..1000 {
        let candidate = if n == 0 {
            PathBuf::from(&base)
        } else {
            PathBuf::from(format!("{base}-{n}"))
        };
        if !candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!("{base}: too many torn tails set aside"),
    ))
}

/// The last whole, non-empty line of `f`, cut at `\n` only and hashed as its bytes, the way
/// `audit verify` reads a line: a line that is not UTF-8 (a damaged log) is still a link, so
/// the server starts and goes on, and `audit verify` reports the damage.
pub(super) fn last_link(f: File) -> std::io::Result<End> {
    let mut last: Option<Vec<u8>> = None;
    for line in BufReader::new(f).split(b'\n') {
        let line = line?;
        if !line.is_empty() {
            last = Some(line);
        }
    }
    Ok(match last {
        None => End::default(),
        Some(line) => End {
            hash: sha256_hex(&line),
            seq: serde_json::from_slice::<Record>(&line)
                .map(|r| r.seq)
                .unwrap_or(0),
            line: Some(String::from_utf8_lossy(&line).into_owned()),
        },
    })
}
