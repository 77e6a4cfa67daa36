//! The protobuf messages of event files, hand-written `prost` structs with the field numbers of
//! TensorFlow's `.proto` files (no `protoc`, no build script).

use super::DT_STRING;

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
