//! A small TensorBoard event writer and reader, plus Embedding Projector files.
//!
//! # Why our own writer
//!
//! `tensorboard-rs` 0.5.9 was considered and rejected: it is unmaintained (last release
//! 2022-03), it depends on `protobuf` 2.28, which has a security advisory (RUSTSEC-2024-0437),
//! and its `add_text`, `add_histogram` and `add_embedding` are `unimplemented!()`. What we need
//! is small: a handful of protobuf messages (hand-written `prost` structs below, so no `protoc`
//! and no build script) inside TFRecord framing (length, masked CRC32C, data, masked CRC32C).
//!
//! # What is written
//!
//! [`EventWriter`] writes one `events.out.tfevents.*` file per run: a first record carrying the
//! file version `brain.Event:2`, then one record per scalar, text or histogram. The messages
//! carry only the fields we use, with the field numbers of TensorFlow's `event.proto`,
//! `summary.proto`, `tensor.proto`, `tensor_shape.proto` and `histogram.proto` (checked against
//! the descriptors shipped in the `tensorboard` 2.21.0 pip package). [`read_events`] reads such a
//! file back, verifying both CRCs of every record. [`write_projector`] writes the TSV files and
//! `projector_config.pbtxt` of the Embedding Projector.
//!
//! # Format pitfalls handled here
//!
//! - `Summary.Value.simple_value`, `histo` and `tensor` form a protobuf `oneof`, so they are
//!   modelled as [`ValueKind`]: a scalar of `0.0` is still encoded on the wire. As a plain proto3
//!   `float` it would be skipped as a default value, and TensorBoard drops a value whose `oneof`
//!   is unset.
//! - The text plugin expects exactly what `tensorboard.plugins.text.summary_v2.text_pb` writes: a
//!   rank-0 `DT_STRING` tensor whose (empty) `tensor_shape` is present, and `plugin_name: "text"`
//!   with empty content. A unit test compares our bytes with that function's output.
//! - TensorBoard only loads files whose name contains `tfevents`.
//! - Without the `brain.Event:2` file version, TensorBoard falls back to purging "orphaned" data
//!   whenever a step goes backwards.
//! - The Embedding Projector skips blank lines in `metadata.tsv`, and treats the first line as a
//!   header when it contains a tab; labels are escaped so that neither shifts the rows.
//!
//! # Golden file
//!
//! `tests/data/golden.tfevents` holds the bytes of a fixed event sequence (see the tests); the
//! `golden_file_matches` test compares against it, and `scripts/check-tensorboard.sh` checks that
//! TensorBoard itself reads it. After an intended format change, regenerate it with
//! `REGENERATE_GOLDEN=1 cargo test -p train golden_file_matches`, then
//! run the tests again (the file is embedded at compile time) and the check script.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

mod projector;
mod proto;
#[cfg(test)]
mod tests;

pub use projector::write_projector;
pub use proto::*;

/// The `DataType` enum value of a string tensor (`DT_STRING` in TensorFlow's `types.proto`).
pub const DT_STRING: i32 = 7;

/// The file version TensorBoard expects in the first record of an event file; version 2 tells it
/// to detect restarts from session logs rather than by purging data whenever a step goes back.
pub const FILE_VERSION: &str = "brain.Event:2";

/// How many equal-width buckets [`EventWriter::histogram`] uses; the same default as
/// TensorBoard's own histogram summary, enough detail for weight distributions.
pub const DEFAULT_HISTOGRAM_BUCKETS: usize = 30;

/// Writes one TensorBoard event file: scalars, text and histograms, framed as TFRecords.
///
/// Writes are buffered; call [`EventWriter::flush`] (e.g. once per logging interval) so a
/// running TensorBoard sees them. The buffer is also flushed on drop, silently; call
/// [`EventWriter::close`] to see an error from that last flush.
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
    clock: Box<dyn FnMut() -> f64 + Send>,
}

impl fmt::Debug for EventWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl EventWriter {
    /// Creates `logdir` if needed and a new event file in it, named like TensorFlow's:
    /// `events.out.tfevents.<unix seconds>.<hostname>.<pid>`, so TensorBoard finds it and
    /// several writers (machines, processes) can share a run folder. If that name is taken (two
    /// writers in one second), `.1`, `.2`, ... is appended rather than overwriting a file.
    /// Wall times come from the system clock.
    pub fn create(logdir: &Path) -> io::Result<Self> {
        fs::create_dir_all(logdir)?;
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let base = format!(
            "events.out.tfevents.{seconds}.{}.{}",
            hostname(),
            std::process::id()
        );
        for attempt in 0..1000u32 {
            let name = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}.{attempt}")
            };
            let path = logdir.join(name);
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => return Self::start(path, file, Box::new(system_clock)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(with_path(e, "cannot create event file", &path)),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("no free event file name {base}.* in {}", logdir.display()),
        ))
    }

    /// Creates `logdir` if needed and the event file `logdir/file_name` (replacing any file of
    /// that name), taking every wall time from `clock`. With a constant clock the output is
    /// byte-for-byte reproducible, which the golden-file test relies on. `file_name` must
    /// contain `tfevents` (TensorBoard ignores other files) and no path separator.
    pub fn create_with_clock(
        logdir: &Path,
        file_name: &str,
        clock: impl FnMut() -> f64 + Send + 'static,
    ) -> io::Result<Self> {
        if !file_name.contains("tfevents") || file_name.contains(['/', '\\']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "event file name {file_name:?} must contain \"tfevents\" (TensorBoard \
                     ignores other files) and no path separator"
                ),
            ));
        }
        fs::create_dir_all(logdir)?;
        let path = logdir.join(file_name);
        let file =
            File::create(&path).map_err(|e| with_path(e, "cannot create event file", &path))?;
        Self::start(path, file, Box::new(clock))
    }

    /// Wraps the open file and writes the file-version record TensorBoard expects first.
    fn start(path: PathBuf, file: File, clock: Box<dyn FnMut() -> f64 + Send>) -> io::Result<Self> {
        let mut writer = Self {
            path,
            out: BufWriter::new(file),
            clock,
        };
        writer.write_event(0, EventWhat::FileVersion(FILE_VERSION.to_owned()))?;
        Ok(writer)
    }

    /// The path of the event file, e.g. to tell the user where the run is logged.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs a scalar (loss, learning rate, ...) under `tag` at `step`. TensorBoard stores
    /// scalars as `f32`, so `value` is rounded to `f32`.
    pub fn scalar(&mut self, tag: &str, step: u64, value: f64) -> io::Result<()> {
        // Rounding to f32 is the format's precision, documented above.
        let value = value as f32;
        self.write_value(step, tag, ValueKind::SimpleValue(value), None)
    }

    /// Logs `text` (rendered as Markdown by the text dashboard) under `tag` at `step`, e.g. the
    /// run's configuration. Written like TensorBoard's own `text_pb`: a rank-0 string tensor
    /// owned by the `text` plugin.
    pub fn text(&mut self, tag: &str, step: u64, text: &str) -> io::Result<()> {
        let tensor = TensorProto {
            dtype: DT_STRING,
            tensor_shape: Some(TensorShapeProto { dim: Vec::new() }),
            string_val: vec![text.as_bytes().to_vec()],
        };
        let metadata = SummaryMetadata {
            plugin_data: Some(PluginData {
                plugin_name: "text".to_owned(),
                content: Vec::new(),
            }),
        };
        self.write_value(step, tag, ValueKind::Tensor(tensor), Some(metadata))
    }

    /// Logs a histogram of `values` (e.g. a weight matrix) under `tag` at `step`, in
    /// [`DEFAULT_HISTOGRAM_BUCKETS`] equal-width buckets; see [`HistogramProto::from_values`].
    /// Fails with `InvalidInput` when no value is finite, as there is nothing to draw.
    pub fn histogram(&mut self, tag: &str, step: u64, values: &[f32]) -> io::Result<()> {
        let histo =
            HistogramProto::from_values(values, DEFAULT_HISTOGRAM_BUCKETS).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("histogram {tag:?} at step {step} has no finite value"),
                )
            })?;
        self.write_value(step, tag, ValueKind::Histo(histo), None)
    }

    /// Writes buffered events to the file, so that TensorBoard (or [`read_events`]) sees them.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and closes the file, reporting an error that dropping the writer would hide.
    pub fn close(mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Writes one summary event holding a single value.
    fn write_value(
        &mut self,
        step: u64,
        tag: &str,
        value: ValueKind,
        metadata: Option<SummaryMetadata>,
    ) -> io::Result<()> {
        let step = i64::try_from(step).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("step {step} of {tag:?} does not fit TensorBoard's int64 step"),
            )
        })?;
        let summary = Summary {
            value: vec![SummaryValue {
                tag: tag.to_owned(),
                value: Some(value),
                metadata,
            }],
        };
        self.write_event(step, EventWhat::Summary(summary))
    }

    /// Encodes an event stamped with the clock's wall time and writes it as one record.
    fn write_event(&mut self, step: i64, what: EventWhat) -> io::Result<()> {
        let event = Event {
            wall_time: (self.clock)(),
            step,
            what: Some(what),
        };
        write_record(&mut self.out, &event.encode_to_vec())
    }
}

impl Drop for EventWriter {
    fn drop(&mut self) {
        // Best effort: an error here cannot be reported; `close` exists for callers who care.
        let _ = self.out.flush();
    }
}

/// The current time in seconds since the Unix epoch, as TensorBoard's wall time.
fn system_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The host name for event file names, from `/proc/sys/kernel/hostname` or `$HOSTNAME`;
/// `localhost` when neither gives a name that is safe in a file name.
fn hostname() -> String {
    let from_proc = fs::read_to_string("/proc/sys/kernel/hostname").ok();
    let from_env = std::env::var("HOSTNAME").ok();
    from_proc
        .into_iter()
        .chain(from_env)
        .map(|h| h.trim().to_owned())
        .find(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        })
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Adds what was being done and to which file to an I/O error.
fn with_path(e: io::Error, doing: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{doing} {}: {e}", path.display()))
}

/// TFRecord's masked CRC32C: the CRC rotated right by 15 bits plus a constant, so that a CRC
/// computed over data that itself contains CRCs stays well distributed.
fn masked_crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
        .rotate_right(15)
        .wrapping_add(0xa282_ead8)
}

/// Writes one TFRecord: length (u64 LE), its masked CRC (u32 LE), data, data's masked CRC.
fn write_record(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    let length = (data.len() as u64).to_le_bytes();
    out.write_all(&length)?;
    out.write_all(&masked_crc32c(&length).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc32c(data).to_le_bytes())
}

/// Which checksummed part of a record failed verification in [`ReadError::Crc`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPart {
    /// The 8-byte length header.
    Length,
    /// The record's data (the encoded event).
    Data,
}

impl fmt::Display for RecordPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Length => "length header",
            Self::Data => "data",
        })
    }
}

/// Why [`read_events`] could not read an event file; each variant names the file, and the
/// format errors name the byte offset of the record at fault, so a corrupt file can be located.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened or read.
    #[error("cannot read event file {}: {source}", .path.display())]
    Io {
        /// The event file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The file ends inside a record, e.g. because the writer was killed mid-write.
    #[error(
        "{}: truncated record at byte offset {offset}: it needs {expected} bytes, \
         only {found} remain",
        .path.display()
    )]
    Truncated {
        /// The event file.
        path: PathBuf,
        /// Byte offset of the start of the truncated record.
        offset: u64,
        /// Bytes the record needs (12 when even its header is incomplete).
        expected: u64,
        /// Bytes left in the file from `offset`.
        found: u64,
    },
    /// A stored checksum does not match the bytes it covers: the file is corrupt.
    #[error(
        "{}: CRC mismatch in the {part} of the record at byte offset {offset} \
         (stored {stored:#010x}, computed {computed:#010x})",
        .path.display()
    )]
    Crc {
        /// The event file.
        path: PathBuf,
        /// Byte offset of the start of the record.
        offset: u64,
        /// Which part of the record failed.
        part: RecordPart,
        /// The masked CRC stored in the file.
        stored: u32,
        /// The masked CRC of the bytes read.
        computed: u32,
    },
    /// A record passed its CRC checks but is not a valid `Event` message.
    #[error("{}: record at byte offset {offset} is not an Event: {source}", .path.display())]
    Decode {
        /// The event file.
        path: PathBuf,
        /// Byte offset of the start of the record.
        offset: u64,
        /// The protobuf decoding error.
        source: prost::DecodeError,
    },
}

/// Reads every event of an event file, verifying the framing and both CRCs of each record, so
/// tests (and users inspecting a run) get the logged values or a precise error.
pub fn read_events(path: &Path) -> Result<Vec<Event>, ReadError> {
    let io_error = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let mut reader = BufReader::new(File::open(path).map_err(io_error)?);
    let mut events = Vec::new();
    let mut offset = 0u64;
    loop {
        let mut header = [0u8; 12];
        let got = read_up_to(&mut reader, &mut header).map_err(io_error)?;
        if got == 0 {
            return Ok(events);
        }
        let truncated = |expected, found| ReadError::Truncated {
            path: path.to_owned(),
            offset,
            expected,
            found,
        };
        if got < header.len() {
            return Err(truncated(12, got as u64));
        }
        let (length, stored) = header.split_at(8);
        check_crc(path, offset, RecordPart::Length, length, stored)?;
        let mut length_bytes = [0u8; 8];
        length_bytes.copy_from_slice(length);
        let length = u64::from_le_bytes(length_bytes);
        let expected = length.saturating_add(16);
        // `take` grows the buffer as bytes arrive, so a bogus length cannot allocate much.
        let mut data = Vec::new();
        (&mut reader)
            .take(length)
            .read_to_end(&mut data)
            .map_err(io_error)?;
        let mut stored = [0u8; 4];
        let got = read_up_to(&mut reader, &mut stored).map_err(io_error)?;
        if (data.len() as u64) < length || got < stored.len() {
            return Err(truncated(expected, 12 + data.len() as u64 + got as u64));
        }
        check_crc(path, offset, RecordPart::Data, &data, &stored)?;
        let event = Event::decode(data.as_slice()).map_err(|source| ReadError::Decode {
            path: path.to_owned(),
            offset,
            source,
        })?;
        events.push(event);
        offset += expected;
    }
}

/// Fails with [`ReadError::Crc`] unless `stored` (u32 LE) is the masked CRC of `bytes`.
fn check_crc(
    path: &Path,
    offset: u64,
    part: RecordPart,
    bytes: &[u8],
    stored: &[u8],
) -> Result<(), ReadError> {
    let mut stored_bytes = [0u8; 4];
    stored_bytes.copy_from_slice(stored);
    let stored = u32::from_le_bytes(stored_bytes);
    let computed = masked_crc32c(bytes);
    if stored == computed {
        Ok(())
    } else {
        Err(ReadError::Crc {
            path: path.to_owned(),
            offset,
            part,
            stored,
            computed,
        })
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
