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

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

/// The `DataType` enum value of a string tensor (`DT_STRING` in TensorFlow's `types.proto`).
pub const DT_STRING: i32 = 7;

/// The file version TensorBoard expects in the first record of an event file; version 2 tells it
/// to detect restarts from session logs rather than by purging data whenever a step goes back.
pub const FILE_VERSION: &str = "brain.Event:2";

/// How many equal-width buckets [`EventWriter::histogram`] uses; the same default as
/// TensorBoard's own histogram summary, enough detail for weight distributions.
pub const DEFAULT_HISTOGRAM_BUCKETS: usize = 30;

/// One record of an event file (TensorFlow's `Event`), reduced to the fields we write.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch when the event was written: TensorBoard's "relative" and
    /// "wall" time axes.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The training step the event belongs to: TensorBoard's step axis.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries (`oneof what`); `None` when it carries none of the kinds we model.
    #[prost(oneof = "EventWhat", tags = "3, 5")]
    pub what: Option<EventWhat>,
}

/// The payload of an [`Event`] (`oneof what` in `event.proto`), limited to what we write.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum EventWhat {
    /// The file version, only in the first record of a file (see [`FILE_VERSION`]).
    #[prost(string, tag = "3")]
    FileVersion(String),
    /// Summary values (scalars, text, histograms) logged at one step.
    #[prost(message, tag = "5")]
    Summary(Summary),
}

impl Event {
    /// The summary values of this event, or an empty slice for a non-summary event, so callers
    /// can scan a file's values without matching on [`EventWhat`].
    pub fn summary_values(&self) -> &[SummaryValue] {
        match &self.what {
            Some(EventWhat::Summary(summary)) => &summary.value,
            _ => &[],
        }
    }
}

/// A set of tagged values logged together (TensorFlow's `Summary`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values, one per tag.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<SummaryValue>,
}

/// One tagged value of a [`Summary`] (TensorFlow's `Summary.Value`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryValue {
    /// The tag, e.g. `train/loss`; TensorBoard groups charts by the part before the first `/`.
    #[prost(string, tag = "1")]
    pub tag: String,
    /// The value itself (`oneof value`); a oneof so that a scalar `0.0` is still encoded.
    #[prost(oneof = "ValueKind", tags = "2, 5, 8")]
    pub value: Option<ValueKind>,
    /// Which plugin owns the value; needed for tensors (the text plugin), absent otherwise.
    #[prost(message, optional, tag = "9")]
    pub metadata: Option<SummaryMetadata>,
}

/// The kinds of value a [`SummaryValue`] can hold (`oneof value` in `summary.proto`), limited to
/// what we write.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum ValueKind {
    /// A scalar, shown by the scalars dashboard.
    #[prost(float, tag = "2")]
    SimpleValue(f32),
    /// A histogram, shown by the histograms and distributions dashboards.
    #[prost(message, tag = "5")]
    Histo(HistogramProto),
    /// A tensor, interpreted by the plugin named in the value's metadata (text, for us).
    #[prost(message, tag = "8")]
    Tensor(TensorProto),
}

impl SummaryValue {
    /// The scalar of this value, if it is one, so tests and callers can read scalars directly.
    pub fn simple_value(&self) -> Option<f32> {
        match self.value {
            Some(ValueKind::SimpleValue(v)) => Some(v),
            _ => None,
        }
    }

    /// The histogram of this value, if it is one.
    pub fn histo(&self) -> Option<&HistogramProto> {
        match &self.value {
            Some(ValueKind::Histo(h)) => Some(h),
            _ => None,
        }
    }

    /// The text of a text-plugin value (a rank-0 string tensor), if it is one and valid UTF-8.
    pub fn text(&self) -> Option<&str> {
        let plugin = self.metadata.as_ref()?.plugin_data.as_ref()?;
        if plugin.plugin_name != "text" {
            return None;
        }
        match &self.value {
            Some(ValueKind::Tensor(t)) if t.dtype == DT_STRING => {
                std::str::from_utf8(t.string_val.first()?).ok()
            }
            _ => None,
        }
    }
}

/// Metadata of a summary value (TensorFlow's `SummaryMetadata`): which plugin reads it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryMetadata {
    /// The owning plugin and its private data.
    #[prost(message, optional, tag = "1")]
    pub plugin_data: Option<PluginData>,
}

/// A plugin's name and private data (TensorFlow's `SummaryMetadata.PluginData`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct PluginData {
    /// The plugin name, e.g. `text`; TensorBoard routes the value to that dashboard.
    #[prost(string, tag = "1")]
    pub plugin_name: String,
    /// Plugin-specific serialized data; empty for the text plugin (its version 0).
    #[prost(bytes = "vec", tag = "2")]
    pub content: Vec<u8>,
}

/// A tensor (TensorFlow's `TensorProto`), limited to string tensors, which carry text.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// The element type, a TensorFlow `DataType` value; we write only [`DT_STRING`].
    #[prost(int32, tag = "1")]
    pub dtype: i32,
    /// The shape; present and empty for a rank-0 (scalar) tensor.
    #[prost(message, optional, tag = "2")]
    pub tensor_shape: Option<TensorShapeProto>,
    /// The elements of a string tensor, as raw bytes (UTF-8 for text).
    #[prost(bytes = "vec", repeated, tag = "8")]
    pub string_val: Vec<Vec<u8>>,
}

/// A tensor shape (TensorFlow's `TensorShapeProto`); no dimensions means rank 0.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<TensorShapeDim>,
}

/// One dimension of a [`TensorShapeProto`] (TensorFlow's `TensorShapeProto.Dim`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeDim {
    /// The size of the dimension.
    #[prost(int64, tag = "1")]
    pub size: i64,
}

/// A histogram (TensorFlow's `HistogramProto`): summary statistics and bucket counts.
///
/// `bucket[i]` counts the values up to `bucket_limit[i]` and above `bucket_limit[i - 1]`;
/// TensorBoard draws the first bucket from `min` and the last one up to `max`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistogramProto {
    /// The smallest value.
    #[prost(double, tag = "1")]
    pub min: f64,
    /// The largest value.
    #[prost(double, tag = "2")]
    pub max: f64,
    /// How many values were counted.
    #[prost(double, tag = "3")]
    pub num: f64,
    /// The sum of the values.
    #[prost(double, tag = "4")]
    pub sum: f64,
    /// The sum of the squared values.
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    /// The right edge of each bucket, increasing.
    #[prost(double, repeated, packed = "true", tag = "6")]
    pub bucket_limit: Vec<f64>,
    /// The count of each bucket.
    #[prost(double, repeated, packed = "true", tag = "7")]
    pub bucket: Vec<f64>,
}

impl HistogramProto {
    /// A histogram of the finite `values` in `bucket_count` equal-width buckets over
    /// `[min, max]` (one bucket when all values are equal). Non-finite values (NaN, ±inf, as a
    /// diverging run produces) are left out, so one bad weight does not hide the distribution.
    /// `None` when no value is finite or `bucket_count` is 0.
    pub fn from_values(values: &[f32], bucket_count: usize) -> Option<Self> {
        let finite = || {
            values
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| f64::from(v))
        };
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        let (mut num, mut sum, mut sum_squares) = (0.0, 0.0, 0.0);
        for v in finite() {
            min = min.min(v);
            max = max.max(v);
            num += 1.0;
            sum += v;
            sum_squares += v * v;
        }
        if num == 0.0 || bucket_count == 0 {
            return None;
        }
        let buckets = if max > min { bucket_count } else { 1 };
        let width = (max - min) / buckets as f64;
        let mut bucket = vec![0.0; buckets];
        for v in finite() {
            // Truncation is the intent: the bucket index of v. `max` lands on `buckets`,
            // which belongs to the last bucket.
            let index = if width > 0.0 {
                ((v - min) / width) as usize
            } else {
                0
            };
            bucket[index.min(buckets - 1)] += 1.0;
        }
        let bucket_limit = (1..=buckets)
            .map(|i| {
                if i == buckets {
                    max
                } else {
                    min + width * i as f64
                }
            })
            .collect();
        Some(Self {
            min,
            max,
            num,
            sum,
            sum_squares,
            bucket_limit,
            bucket,
        })
    }
}

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

/// Writes `path` atomically: `f` writes into `.<file name>.tmp-<pid>` in the same directory,
/// which is then renamed over `path`. An interrupted run or a failing `f` therefore never leaves
/// a half-written `path`: readers see the old file or the complete new one. On error the
/// temporary file is removed. (No fsync: this guards against interruption, not power loss.
/// Two threads of one process must not write the same path at once.)
pub fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    let mut temp_name = OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = (|| {
        let mut out = BufWriter::new(File::create(&temp)?);
        f(&mut out)?;
        out.into_inner().map_err(io::IntoInnerError::into_error)?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        // The temporary file may not exist (creation failed); nothing more to do then.
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|e| with_path(e, "cannot write", path))
}

/// Writes an embedding for TensorBoard's Embedding Projector: `<logdir>/<name>/tensors.tsv` (one
/// row of `dim` tab-separated values per label, from the row-major `vectors`),
/// `<logdir>/<name>/metadata.tsv` (one label per line, no header as there is one column) and
/// `<logdir>/projector_config.pbtxt`. The config lists every embedding written into `logdir` so
/// far (each subfolder with a `tensors.tsv`), so input and output embeddings of one run can
/// both be shown. Every file is written with [`write_atomic`].
///
/// Labels are escaped for the projector: tab, newline and carriage return become `\t`, `\n`,
/// `\r`, and a blank label (which the projector would skip, shifting every later row) is
/// written quoted, e.g. `""`. `name` must be a plain folder name (ASCII letters, digits, `-`,
/// `_`, `.`, not starting with `.`).
pub fn write_projector(
    logdir: &Path,
    name: &str,
    labels: &[&str],
    vectors: &[f32],
    dim: usize,
) -> io::Result<()> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    if !is_embedding_name(name) {
        return Err(invalid(format!(
            "embedding name {name:?} must be ASCII letters, digits, '-', '_' or '.', \
             not starting with '.'"
        )));
    }
    if dim == 0 || labels.is_empty() {
        return Err(invalid(format!(
            "embedding {name:?} needs at least one label and dim > 0 (got {} labels, dim {dim})",
            labels.len()
        )));
    }
    if labels.len().checked_mul(dim) != Some(vectors.len()) {
        return Err(invalid(format!(
            "embedding {name:?}: {} values are not {} labels x dim {dim}",
            vectors.len(),
            labels.len()
        )));
    }
    let dir = logdir.join(name);
    fs::create_dir_all(&dir)?;
    write_atomic(&dir.join(TENSORS_FILE), |out| {
        for row in vectors.chunks_exact(dim) {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.write_all(b"\t")?;
                }
                write!(out, "{v}")?;
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    write_atomic(&dir.join(METADATA_FILE), |out| {
        for label in labels {
            writeln!(out, "{}", metadata_label(label))?;
        }
        Ok(())
    })?;
    let mut names = Vec::new();
    for entry in fs::read_dir(logdir)? {
        let entry = entry?;
        let entry_name = entry.file_name();
        if let Some(entry_name) = entry_name.to_str()
            && is_embedding_name(entry_name)
            && entry.path().join(TENSORS_FILE).is_file()
        {
            let has_metadata = entry.path().join(METADATA_FILE).is_file();
            names.push((entry_name.to_owned(), has_metadata));
        }
    }
    names.sort();
    write_atomic(&logdir.join(PROJECTOR_CONFIG_FILE), |out| {
        for (name, has_metadata) in &names {
            writeln!(out, "embeddings {{")?;
            writeln!(out, "  tensor_name: \"{name}\"")?;
            writeln!(out, "  tensor_path: \"{name}/{TENSORS_FILE}\"")?;
            if *has_metadata {
                writeln!(out, "  metadata_path: \"{name}/{METADATA_FILE}\"")?;
            }
            writeln!(out, "}}")?;
        }
        Ok(())
    })
}

/// The projector's vectors file inside an embedding folder.
const TENSORS_FILE: &str = "tensors.tsv";
/// The projector's labels file inside an embedding folder.
const METADATA_FILE: &str = "metadata.tsv";
/// The projector's config file, which it looks for in each run folder.
const PROJECTOR_CONFIG_FILE: &str = "projector_config.pbtxt";

/// Whether `name` is safe as an embedding folder and inside a pbtxt string without escaping.
fn is_embedding_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A label as one `metadata.tsv` line: see [`write_projector`] for the escaping.
fn metadata_label(label: &str) -> String {
    // JavaScript's trim() also removes the byte-order mark, which Rust does not count as space.
    if label.chars().all(|c| c.is_whitespace() || c == '\u{feff}') {
        return format!("{label:?}");
    }
    let mut line = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '\t' => line.push_str("\\t"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            c => line.push(c),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wall time of every event in the golden file.
    const GOLDEN_WALL_TIME: f64 = 1_700_000_000.25;
    /// The golden file, embedded at compile time.
    const GOLDEN: &[u8] = include_bytes!("../tests/data/golden.tfevents");
    /// The learning rates of the golden file, steps 0 to 3 (a warm-up starting at 0).
    const GOLDEN_LR: [f64; 4] = [0.0, 0.0005, 0.001, 0.001];
    /// The text logged under `config` in the golden file.
    const GOLDEN_TEXT: &str = "model = \"word2vec\"\ndim = 100\nname = \"café\"";

    /// The loss of the golden file at `step`.
    fn golden_loss(step: u64) -> f64 {
        2.5 / (step as f64 + 1.0)
    }

    /// The values of the golden histogram: deterministic arithmetic only (no libm), so the
    /// bytes are the same on every platform.
    fn golden_histogram_values() -> Vec<f32> {
        (0..100u16)
            .map(|i| f32::from(i * i) / 1000.0 - 2.0)
            .collect()
    }

    /// Writes the golden sequence: scalars train/loss and train/lr at steps 0..=3, the text
    /// `config` at step 0 and the histogram `weights` at step 3.
    fn write_golden_sequence(writer: &mut EventWriter) -> io::Result<()> {
        for step in 0..4u64 {
            writer.scalar("train/loss", step, golden_loss(step))?;
            writer.scalar("train/lr", step, GOLDEN_LR[step as usize])?;
            if step == 0 {
                writer.text("config", 0, GOLDEN_TEXT)?;
            }
        }
        writer.histogram("weights", 3, &golden_histogram_values())
    }

    /// The bytes of the golden sequence written with the fixed wall time.
    fn golden_bytes() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let mut writer =
            EventWriter::create_with_clock(dir.path(), "golden.tfevents", || GOLDEN_WALL_TIME)
                .unwrap();
        write_golden_sequence(&mut writer).unwrap();
        let path = writer.path().to_owned();
        writer.close().unwrap();
        fs::read(path).unwrap()
    }

    /// (tag, step, scalar) of every scalar value in `events`.
    fn scalars(events: &[Event]) -> Vec<(String, i64, f32)> {
        events
            .iter()
            .flat_map(|e| {
                e.summary_values()
                    .iter()
                    .filter_map(move |v| Some((v.tag.clone(), e.step, v.simple_value()?)))
            })
            .collect()
    }

    /// Byte offset where the second record of an event file starts.
    fn second_record_offset(bytes: &[u8]) -> usize {
        let mut length = [0u8; 8];
        length.copy_from_slice(&bytes[..8]);
        12 + usize::try_from(u64::from_le_bytes(length)).unwrap() + 4
    }

    #[test]
    fn masked_crc_matches_tensorboard() {
        // Values from tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c.
        assert_eq!(masked_crc32c(b""), 0xa282_ead8);
        assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(masked_crc32c(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn scalars_text_and_histogram_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        writer.scalar("train/loss", 0, 1.5).unwrap();
        writer.scalar("train/loss", 10, 0.25).unwrap();
        writer.scalar("train/lr", 10, 0.0).unwrap();
        writer.text("notes", 10, "**bold** é").unwrap();
        writer.histogram("w", 20, &[1.0, 2.0, 3.0, 4.0]).unwrap();
        let path = writer.path().to_owned();
        writer.close().unwrap();

        let events = read_events(&path).unwrap();
        assert_eq!(events.len(), 6);
        assert_eq!(
            events[0].what,
            Some(EventWhat::FileVersion("brain.Event:2".to_owned()))
        );
        let now = system_clock();
        assert!(events.iter().all(|e| (now - e.wall_time).abs() < 600.0));
        assert_eq!(
            scalars(&events),
            [
                ("train/loss".to_owned(), 0, 1.5),
                ("train/loss".to_owned(), 10, 0.25),
                ("train/lr".to_owned(), 10, 0.0),
            ]
        );
        let text = &events[4].summary_values()[0];
        assert_eq!((text.tag.as_str(), events[4].step), ("notes", 10));
        assert_eq!(text.text(), Some("**bold** é"));
        let histo = events[5].summary_values()[0].histo().unwrap();
        assert_eq!(events[5].step, 20);
        assert_eq!((histo.min, histo.max, histo.num), (1.0, 4.0, 4.0));
        assert_eq!((histo.sum, histo.sum_squares), (10.0, 30.0));
    }

    #[test]
    fn zero_scalar_is_encoded() {
        // As a plain proto3 float, 0.0 would be skipped and TensorBoard would drop the value.
        let value = SummaryValue {
            tag: "x".to_owned(),
            value: Some(ValueKind::SimpleValue(0.0)),
            metadata: None,
        };
        assert_eq!(value.encode_to_vec(), [0x0a, 1, b'x', 0x15, 0, 0, 0, 0]);
    }

    #[test]
    fn text_value_matches_tensorboard_text_pb() {
        // tensorboard 2.21.0: summary_v2.text_pb("config", "hello").value[0].SerializeToString()
        let expected = "0a06636f6e666967420b08071200420568656c6c6f4a080a060a0474657874";
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create_with_clock(dir.path(), "t.tfevents", || 0.0).unwrap();
        writer.text("config", 0, "hello").unwrap();
        let path = writer.path().to_owned();
        writer.close().unwrap();
        let events = read_events(&path).unwrap();
        let bytes = events[1].summary_values()[0].encode_to_vec();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn histogram_buckets_are_equal_width_and_count_every_value() {
        let values: Vec<f32> = (0..=100u8).map(|i| f32::from(i) / 10.0).collect();
        let h = HistogramProto::from_values(&values, 10).unwrap();
        assert_eq!((h.min, h.max, h.num), (0.0, 10.0, 101.0));
        assert_eq!(h.bucket_limit.len(), 10);
        assert_eq!(h.bucket.len(), 10);
        assert_eq!(h.bucket.iter().sum::<f64>(), 101.0);
        assert_eq!(h.bucket_limit[9], 10.0);
        assert!((h.bucket_limit[0] - 1.0).abs() < 1e-12);
        assert!(h.bucket_limit.windows(2).all(|w| w[0] < w[1]));
        // 0.0..0.9 in the first bucket; 10.0 (the max) joins the last one.
        assert_eq!(h.bucket[0], 10.0);
        assert_eq!(h.bucket[9], 11.0);
        let expected_sum: f64 = values.iter().map(|&v| f64::from(v)).sum();
        assert_eq!(h.sum, expected_sum);
    }

    #[test]
    fn histogram_edge_cases() {
        let same = HistogramProto::from_values(&[2.5; 7], 30).unwrap();
        assert_eq!((same.bucket_limit, same.bucket), (vec![2.5], vec![7.0]));
        let with_nan = HistogramProto::from_values(&[f32::NAN, 1.0, f32::INFINITY, 3.0], 2);
        let with_nan = with_nan.unwrap();
        assert_eq!((with_nan.num, with_nan.min, with_nan.max), (2.0, 1.0, 3.0));
        assert_eq!(with_nan.bucket, [1.0, 1.0]);
        assert_eq!(HistogramProto::from_values(&[], 30), None);
        assert_eq!(HistogramProto::from_values(&[f32::NAN], 30), None);
        assert_eq!(HistogramProto::from_values(&[1.0], 0), None);

        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        let err = writer.histogram("w", 0, &[f32::NAN]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = writer.scalar("x", u64::MAX, 1.0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let path = writer.path().to_owned();
        writer.close().unwrap();
        assert_eq!(
            read_events(&path).unwrap().len(),
            1,
            "only the file version"
        );
    }

    #[test]
    fn flipped_byte_is_a_crc_error_naming_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.tfevents");
        fs::write(&path, golden_bytes()).unwrap();
        let good = fs::read(&path).unwrap();
        let second = second_record_offset(&good);
        let cases = [
            (second + 3, RecordPart::Length),    // inside the length
            (second + 9, RecordPart::Length),    // inside the length's CRC
            (second + 14, RecordPart::Data),     // inside the data
            (second + 12 + 1, RecordPart::Data), // data's first bytes
        ];
        for (index, part) in cases {
            let mut bad = good.clone();
            bad[index] ^= 0x01;
            fs::write(&path, &bad).unwrap();
            let err = read_events(&path).unwrap_err();
            match &err {
                ReadError::Crc {
                    offset, part: p, ..
                } => assert_eq!((*offset, *p), (second as u64, part), "byte {index}"),
                other => panic!("byte {index}: expected a CRC error, got {other}"),
            }
            let message = err.to_string();
            assert!(
                message.contains(&format!("byte offset {second}")),
                "{message}"
            );
            assert!(message.contains("f.tfevents"), "{message}");
        }
        // The data CRC itself, at the end of the second record.
        let mut length = [0u8; 8];
        length.copy_from_slice(&good[second..second + 8]);
        let crc_at = second + 12 + usize::try_from(u64::from_le_bytes(length)).unwrap();
        let mut bad = good.clone();
        bad[crc_at] ^= 0x80;
        fs::write(&path, &bad).unwrap();
        assert!(matches!(
            read_events(&path),
            Err(ReadError::Crc { part: RecordPart::Data, offset, .. }) if offset == second as u64
        ));
    }

    #[test]
    fn truncated_file_is_an_error_naming_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tfevents");
        let good = golden_bytes();
        let second = second_record_offset(&good);
        for cut in [second + 5, second + 12, second + 20, good.len() - 1] {
            fs::write(&path, &good[..cut]).unwrap();
            let err = read_events(&path).unwrap_err();
            let ReadError::Truncated {
                offset,
                expected,
                found,
                ..
            } = &err
            else {
                panic!("cut at {cut}: expected truncation, got {err}");
            };
            assert!(*offset as usize <= cut && found < expected, "{err}");
            assert_eq!(*offset as usize + *found as usize, cut, "{err}");
            assert!(err.to_string().contains("byte offset"), "{err}");
        }
        fs::write(&path, b"").unwrap();
        assert!(read_events(&path).unwrap().is_empty());
        let missing = dir.path().join("missing.tfevents");
        let err = read_events(&missing).unwrap_err();
        assert!(matches!(err, ReadError::Io { .. }));
        assert!(err.to_string().contains("missing.tfevents"), "{err}");
    }

    #[test]
    fn create_names_the_file_like_tensorflow_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let logdir = dir.path().join("runs").join("a");
        let first = EventWriter::create(&logdir).unwrap();
        let second = EventWriter::create(&logdir).unwrap();
        assert_ne!(first.path(), second.path());
        let name = first
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let parts: Vec<&str> = name.splitn(4, '.').collect();
        assert_eq!(&parts[..3], ["events", "out", "tfevents"]);
        let (seconds, rest) = parts[3].split_once('.').unwrap();
        let seconds: f64 = seconds.parse().unwrap();
        assert!((system_clock() - seconds).abs() < 600.0, "{name}");
        let pid = format!(".{}", std::process::id());
        assert!(rest.ends_with(&pid), "{name}");
        assert_eq!(rest.strip_suffix(&pid).unwrap(), hostname());
        let (first_path, second_path) = (first.path().to_owned(), second.path().to_owned());
        drop((first, second));
        for path in [first_path, second_path] {
            assert_eq!(read_events(&path).unwrap().len(), 1, "{}", path.display());
        }
    }

    #[test]
    fn create_with_clock_rejects_names_tensorboard_ignores() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["events.log", "sub/x.tfevents"] {
            let err = EventWriter::create_with_clock(dir.path(), name, || 0.0).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn flush_makes_events_visible_while_writing() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create_with_clock(dir.path(), "x.tfevents", || 1.0).unwrap();
        writer.scalar("loss", 7, 3.0).unwrap();
        writer.flush().unwrap();
        let events = read_events(writer.path()).unwrap();
        assert_eq!(scalars(&events), [("loss".to_owned(), 7, 3.0)]);
        writer.scalar("loss", 8, 2.0).unwrap();
        let path = writer.path().to_owned();
        drop(writer);
        assert_eq!(read_events(&path).unwrap().len(), 3, "drop flushes");
    }

    #[test]
    fn projector_files_have_the_expected_content() {
        let dir = tempfile::tempdir().unwrap();
        let labels = ["the", "tab\there", "two\nlines", "", " ", "café"];
        let vectors: Vec<f32> = (0..12u8).map(|i| f32::from(i) * 0.5 - 1.0).collect();
        write_projector(dir.path(), "words", &labels, &vectors, 2).unwrap();
        let tensors = fs::read_to_string(dir.path().join("words/tensors.tsv")).unwrap();
        assert_eq!(
            tensors,
            "-1\t-0.5\n0\t0.5\n1\t1.5\n2\t2.5\n3\t3.5\n4\t4.5\n"
        );
        let metadata = fs::read_to_string(dir.path().join("words/metadata.tsv")).unwrap();
        assert_eq!(
            metadata,
            "the\ntab\\there\ntwo\\nlines\n\"\"\n\" \"\ncafé\n"
        );
        assert!(
            metadata
                .lines()
                .all(|l| !l.trim().is_empty() && !l.contains('\t'))
        );
        let config = fs::read_to_string(dir.path().join("projector_config.pbtxt")).unwrap();
        assert_eq!(
            config,
            "embeddings {\n  tensor_name: \"words\"\n  tensor_path: \"words/tensors.tsv\"\n  \
             metadata_path: \"words/metadata.tsv\"\n}\n"
        );
        let mut names: Vec<_> = fs::read_dir(dir.path().join("words"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["metadata.tsv", "tensors.tsv"],
            "no temporary files left"
        );
    }

    #[test]
    fn projector_config_lists_every_embedding() {
        let dir = tempfile::tempdir().unwrap();
        write_projector(dir.path(), "output", &["a"], &[1.0, 2.0], 2).unwrap();
        write_projector(dir.path(), "input", &["a", "b"], &[1.0, 2.0, 3.0, 4.0], 2).unwrap();
        fs::create_dir(dir.path().join("not-an-embedding")).unwrap();
        let config = fs::read_to_string(dir.path().join("projector_config.pbtxt")).unwrap();
        let names: Vec<&str> = config
            .lines()
            .filter_map(|l| l.trim().strip_prefix("tensor_name: "))
            .collect();
        assert_eq!(names, ["\"input\"", "\"output\""]);
    }

    #[test]
    fn projector_rejects_inconsistent_input() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, &[&str], &[f32], usize); 5] = [
            ("words", &["a", "b"], &[1.0, 2.0, 3.0], 2),
            ("words", &["a"], &[], 0),
            ("words", &[], &[], 2),
            ("../escape", &["a"], &[1.0], 1),
            (".hidden", &["a"], &[1.0], 1),
        ];
        for (name, labels, vectors, dim) in cases {
            let err = write_projector(dir.path(), name, labels, vectors, dim).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name} {dim}");
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn write_atomic_leaves_no_file_when_the_closure_fails() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.tsv");
        let err = write_atomic(&new, |out| {
            out.write_all(&[b'x'; 100_000])?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("interrupted"), "{err}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file, no temp"
        );

        let old = dir.path().join("old.tsv");
        fs::write(&old, "old content").unwrap();
        write_atomic(&old, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert_eq!(fs::read_to_string(&old).unwrap(), "old content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_atomic_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, |out| out.write_all(b"new content")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let err = write_atomic(Path::new("/"), |_| Ok(())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    /// Compares the golden sequence with `tests/data/golden.tfevents`; with
    /// `REGENERATE_GOLDEN=1` rewrites that file instead (then rerun the tests).
    #[test]
    fn golden_file_matches() {
        let bytes = golden_bytes();
        if std::env::var_os("REGENERATE_GOLDEN").is_some_and(|v| v == "1") {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden.tfevents");
            fs::write(&path, &bytes).unwrap();
            assert_eq!(fs::read(&path).unwrap(), bytes);
            eprintln!("rewrote {}; rerun the tests to compare", path.display());
            return;
        }
        assert!(
            GOLDEN == bytes.as_slice(),
            "the event file format changed; if intended, regenerate with REGENERATE_GOLDEN=1 \
             (see the module docs) and rerun scripts/check-tensorboard.sh"
        );
    }

    #[test]
    fn golden_file_decodes_to_the_expected_events() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("golden.tfevents");
        fs::write(&path, GOLDEN).unwrap();
        let events = read_events(&path).unwrap();
        assert_eq!(events.len(), 11);
        assert!(events.iter().all(|e| e.wall_time == GOLDEN_WALL_TIME));
        let mut expected = Vec::new();
        for step in 0..4u64 {
            let i = step as i64;
            expected.push(("train/loss".to_owned(), i, golden_loss(step) as f32));
            expected.push(("train/lr".to_owned(), i, GOLDEN_LR[step as usize] as f32));
        }
        assert_eq!(scalars(&events), expected);
        let texts: Vec<_> = events
            .iter()
            .flat_map(|e| e.summary_values().iter().map(move |v| (e.step, v)))
            .filter_map(|(step, v)| Some((step, v.tag.as_str(), v.text()?)))
            .collect();
        assert_eq!(texts, [(0, "config", GOLDEN_TEXT)]);
        let last = events.last().unwrap();
        let histo = last.summary_values()[0].histo().unwrap();
        assert_eq!(
            (last.step, last.summary_values()[0].tag.as_str()),
            (3, "weights")
        );
        assert_eq!((histo.num, histo.min), (100.0, -2.0));
        assert!((histo.max - 7.801).abs() < 1e-6);
        assert_eq!(histo.bucket.len(), DEFAULT_HISTOGRAM_BUCKETS);
        assert_eq!(histo.bucket.iter().sum::<f64>(), 100.0);
    }

    /// Writes a sample run (events and an embedding) into `$TB_SAMPLE_LOGDIR`, for
    /// `scripts/check-tensorboard.sh $TB_SAMPLE_LOGDIR`.
    #[test]
    #[ignore = "writes into $TB_SAMPLE_LOGDIR for scripts/check-tensorboard.sh"]
    fn write_sample_logdir() {
        let logdir = PathBuf::from(std::env::var_os("TB_SAMPLE_LOGDIR").unwrap());
        let mut writer = EventWriter::create(&logdir).unwrap();
        write_golden_sequence(&mut writer).unwrap();
        let path = writer.path().to_owned();
        writer.close().unwrap();
        let labels = ["the", "of", "tab\there", ""];
        let vectors: Vec<f32> = (0..12u8).map(|i| f32::from(i) / 4.0).collect();
        write_projector(&logdir, "words", &labels, &vectors, 3).unwrap();
        assert_eq!(read_events(&path).unwrap().len(), 11);
    }
}
